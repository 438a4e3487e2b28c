#!/usr/bin/env bash
# A new user's first hour, scripted: the README's "Start" section run on a
# real outside project, docker-credential-helpers v0.9.3 (fetched from the Go
# module proxy, made a fresh git repository with its real origin URL and
# default branch), from `hallmark init` through build, SBOM, scans, two
# rebuilds in the same checkout, two approvals, to the gate allowing the
# binary into prod under the default preset for that repository.
#
#   scripts/first-hour.sh            # work directory removed afterwards
#   KEEP=1 scripts/first-hour.sh     # keep it (printed at the end)
#
# Needs go and git; fetches the module through GOPROXY (it is vendored, so
# the build itself runs offline in the sandbox).
set -euo pipefail
cd "$(dirname "$0")/.."
hallmark_src=$PWD

export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
work=$(mktemp -d "${TMPDIR:-/tmp}/hallmark-first-hour.XXXXXX")
if [ "${KEEP:-}" = "" ]; then
  trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
fi

step() { printf '\n== %s\n' "$*"; }

step "build hallmark"
go build -o "$work/bin/hallmark" ./cmd/hallmark
export PATH="$work/bin:$PATH"

step "fetch docker-credential-helpers v0.9.3 and make it a fresh clone"
mod=github.com/docker/docker-credential-helpers@v0.9.3
dir=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { echo "go mod download $mod gave no directory" >&2; exit 1; }
cp -R "$dir" "$work/src"
chmod -R u+w "$work/src"
cd "$work/src"
git init -q -b master
git -c user.name=first-hour -c user.email=first-hour@example.invalid add -A
git -c user.name=first-hour -c user.email=first-hour@example.invalid commit -q -m "docker-credential-helpers v0.9.3"
git remote add origin https://github.com/docker/docker-credential-helpers
commit() { git -c user.name=first-hour -c user.email=first-hour@example.invalid commit -q "$@"; }

# A user's environment: keys go under XDG_CONFIG_HOME, outside the tree.
# Builds get no shared --cache-dir: a writable cache shared between builds
# caps them at SLSA Build L2 (docs/build.md), and prod asks for L3.
gocache=$(go env GOCACHE)
export GOCACHE="$gocache"
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config"
export HALLMARK_PASSWORD=first-hour-only-passphrase
mkdir -p "$HOME"

step "hallmark init"
hallmark init
git add hallmark.yaml hallmark-trust.yaml hallmark-policy.yaml .gitignore
commit -m "hallmark init"
keys="$XDG_CONFIG_HOME/hallmark/keys/docker-credential-helpers"

step "a colleague's keys: a second rebuilder and a second approver (prod needs two of each)"
hallmark keygen "$work/colleague-rebuilder" >/dev/null
hallmark keygen "$work/colleague-approver" >/dev/null
cat >> hallmark-trust.yaml <<YAML
  - {name: colleague-rebuilder, publicKey: $work/colleague-rebuilder.pub, roles: [rebuilder]}
  - {name: colleague-approver, publicKey: $work/colleague-approver.pub, roles: [approver]}
YAML
git add hallmark-trust.yaml
commit -m "trust a colleague's rebuilder and approver keys"

step "build, with signed provenance"
hallmark build --output-dir dist \
  -- go build -trimpath -o dist/docker-credential-pass ./pass/cmd
art=dist/docker-credential-pass
hallmark provenance show --key "$keys/builder.pub" .hallmark/build/provenance.bundle.json
if [ -n "$(git status --porcelain)" ]; then
  echo "ERROR: the build left the tree dirty:" >&2; git status --porcelain >&2; exit 1
fi

step "SBOM, vulnerability, misconfiguration and secret scans, signed by the scanner"
hallmark sbom "$art" --out .hallmark/app.cdx.json
hallmark db update --from "$hallmark_src/vuln/testdata/osv/go"
hallmark scan --vulns "$art" --subject "$art"
# The binary ships without a container image or manifests of its own: scan
# the directory it is built from. (The repository's Dockerfiles and
# workflows have real findings, which prod would rightly deny.)
hallmark scan --misconfig pass --subject "$art"
hallmark scan --secrets "$art" --subject "$art"

step "rebuild in the same checkout, twice (this user and the colleague)"
hallmark rebuild --bundle .hallmark/build/provenance.bundle.json
hallmark rebuild --bundle .hallmark/build/provenance.bundle.json \
  --key "$work/colleague-rebuilder.key" --out .hallmark/rebuild-colleague

step "two approvals"
hallmark approve "$art" --env prod --comment "CHG-1"
hallmark approve "$art" --env prod --key "$work/colleague-approver.key" --comment "CHG-1 second pair of eyes"

step "the gate: prod, the default preset for this repository"
hallmark gate "$art" --env prod
hallmark deployments ls --env prod

printf '\nfirst hour ok%s\n' "${KEEP:+ (work directory: $work)}"
