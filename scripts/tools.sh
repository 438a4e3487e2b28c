#!/usr/bin/env bash
# Installs the peer tools that Hallmark's interoperability tests and
# benchmarks run against, at pinned versions, into one cache directory
# outside the repository. Each tool is built from its Go module (nothing
# prebuilt is downloaded) and only when the pinned version is missing, so
# reruns cost nothing. Usage: scripts/tools.sh [tool...] (default: all).
# Prints nothing but progress on stderr; the bin directory is
# ${HALLMARK_TOOLS_DIR:-$HOME/.cache/hallmark/tools}/bin.
set -euo pipefail
dir="${HALLMARK_TOOLS_DIR:-$HOME/.cache/hallmark/tools}"
mkdir -p "$dir/bin" "$dir/stamp"
export GOBIN="$dir/bin" GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

# name  module@version  (the binary is named after the last path element,
# renamed to name when they differ)
declare -A mods=(
  [cosign]=github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5
  [rekor-server-posix]=github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix@v2.3.0
  [timestamp-server]=github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server@v2.1.3
  [ggcr-registry]=github.com/google/go-containerregistry/cmd/registry@v0.22.1
  [gitleaks]=github.com/zricethezav/gitleaks/v8@v8.30.1
  [syft]=github.com/anchore/syft/cmd/syft@v1.57.2
  [opa]=github.com/open-policy-agent/opa@v1.20.2
  [govulncheck]=golang.org/x/vuln/cmd/govulncheck@v1.10.0
  [fulcio]=github.com/sigstore/fulcio@v1.8.8
)

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(opa gitleaks ggcr-registry timestamp-server rekor-server-posix cosign syft govulncheck fulcio)
for t in "${tools[@]}"; do
  m="${mods[$t]:-}"
  [ -n "$m" ] || { echo "tools.sh: unknown tool $t" >&2; exit 2; }
  stamp="$dir/stamp/$t"
  if [ -x "$dir/bin/$t" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$m" ]; then continue; fi
  echo "tools.sh: building $t ($m)" >&2
  tmp=$(mktemp -d)
  GOBIN="$tmp" go install "$m"
  bin=$(ls "$tmp" | head -1)
  mv "$tmp/$bin" "$dir/bin/$t"
  rmdir "$tmp"
  echo "$m" > "$stamp"
done
