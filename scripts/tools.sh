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
  # Not go-installable (see build_kube_apiserver); not in the default list:
  # it takes long to build. .ci/run builds it unless HALLMARK_KUBE=0.
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver@v1.37.2
)

# build_kube_apiserver PKG@VERSION OUT: k8s.io/kubernetes replaces its
# staging modules (k8s.io/api, k8s.io/apiserver...) by paths inside its own
# tree, so `go install` refuses it. Build it in a scratch module that
# requires it and replaces each staging module by its published version
# (v0.X.Y for kubernetes v1.X.Y).
build_kube_apiserver() {
  local pkg=${1%@*} v=${1#*@} out=$2 tmp gomod m
  tmp=$(mktemp -d)
  (
    cd "$tmp"
    go mod init hallmark-tools/kube-apiserver 2>/dev/null
    go mod edit -require="k8s.io/kubernetes@$v"
    gomod=$(go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
    for m in $(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$gomod"); do
      go mod edit -replace="$m=$m@v0.${v#v1.}"
    done
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" > tools.go
    go mod tidy
    nice -n 15 go build -trimpath -ldflags='-s -w' -o "$out" "$pkg"
  )
  rm -rf "$tmp"
}

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(opa gitleaks ggcr-registry timestamp-server rekor-server-posix cosign syft govulncheck fulcio)
for t in "${tools[@]}"; do
  m="${mods[$t]:-}"
  [ -n "$m" ] || { echo "tools.sh: unknown tool $t" >&2; exit 2; }
  stamp="$dir/stamp/$t"
  if [ -x "$dir/bin/$t" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$m" ]; then continue; fi
  echo "tools.sh: building $t ($m)" >&2
  if [ "$t" = kube-apiserver ]; then
    build_kube_apiserver "$m" "$dir/bin/$t"
  else
    tmp=$(mktemp -d)
    GOBIN="$tmp" go install "$m"
    bin=$(ls "$tmp" | head -1)
    mv "$tmp/$bin" "$dir/bin/$t"
    rmdir "$tmp"
  fi
  echo "$m" > "$stamp"
done
