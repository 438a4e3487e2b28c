#!/usr/bin/env bash
# The quickstart: Hallmark's main job end to end on its embedded defaults
# (SQLite store under demo-out/store, file keys). Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=demo-out
rm -rf "$OUT"
mkdir -p "$OUT" bin
export HALLMARK_PASSWORD="${HALLMARK_PASSWORD:-demo-only-passphrase}"
export HALLMARK_STORE="$OUT/store"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "build hallmark"
go build -o bin/hallmark ./cmd/hallmark
hm=bin/hallmark

step "generate a signing key (encrypted, mode 0600)"
$hm keygen "$OUT/release"

step "build the example program"
go build -trimpath -o "$OUT/hello" ./examples/hello
"$OUT/hello" demo

step "attest the build"
cat > "$OUT/predicate.json" <<JSON
{"builder": "quickstart", "command": "go build -trimpath ./examples/hello", "goVersion": "$(go env GOVERSION)"}
JSON
$hm attest --key "$OUT/release.key" --predicate-type https://hallmark.dev/attestation/demo/v1 \
  --predicate "$OUT/predicate.json" --out "$OUT/hello.bundle.json" "$OUT/hello"

step "verify it offline with the public key"
$hm verify --key "$OUT/release.pub" --bundle "$OUT/hello.bundle.json" "$OUT/hello"

step "a tampered artifact is rejected"
cp "$OUT/hello" "$OUT/hello.tampered"
printf 'x' >> "$OUT/hello.tampered"
if $hm verify --key "$OUT/release.pub" --bundle "$OUT/hello.bundle.json" "$OUT/hello.tampered"; then
  echo "ERROR: a tampered artifact verified" >&2; exit 1
fi

step "list the stored evidence"
$hm evidence ls

printf '\nquickstart ok\n'
