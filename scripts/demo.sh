#!/usr/bin/env bash
# The quickstart: Hallmark's main job end to end on its embedded defaults
# (SQLite store under demo-out/store, file keys): build the example program
# in a sandbox with signed SLSA provenance, inventory and scan it, have two
# independent rebuilders reproduce it, collect two approvals, and ask the
# gate whether it may go to prod. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=demo-out
rm -rf "$OUT"
mkdir -p "$OUT" bin
export HALLMARK_PASSWORD="${HALLMARK_PASSWORD:-demo-only-passphrase}"
export HALLMARK_STORE="$OUT/store"
export GOFLAGS=-buildvcs=false

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "build hallmark"
go build -o bin/hallmark ./cmd/hallmark
hm=bin/hallmark

# With the pinned rekor-tiles and timestamp-server built (scripts/tools.sh),
# every bundle below is logged and timestamped, and verified against the
# trusted root (docs/tlog.md). HALLMARK_DEMO_TLOG=off skips this.
tools="${HALLMARK_TOOLS_BIN:-$HOME/.cache/hallmark/tools/bin}"
if [ "${HALLMARK_DEMO_TLOG:-on}" != off ] && [ -x "$tools/rekor-server-posix" ] && [ -x "$tools/timestamp-server" ]; then
  step "transparency log (rekor-tiles) and timestamp authority (timestamp-server) on loopback"
  # Four consecutive loopback ports nothing listens on, below Linux's
  # ephemeral range (32768-60999) so an outgoing connection cannot hold one.
  port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 12000))
    port_free "$port" && port_free $((port + 1)) && port_free $((port + 2)) && port_free $((port + 3)) && break
  done
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$OUT/log.key"
  openssl ec -in "$OUT/log.key" -pubout -out "$OUT/log.pub" 2>/dev/null
  mkdir -p "$OUT/tiles"
  "$tools/rekor-server-posix" serve --hostname 127.0.0.1 --http-address 127.0.0.1 --http-port "$port" \
    --grpc-address 127.0.0.1 --grpc-port $((port + 1)) --http-metrics-port $((port + 2)) \
    --storage-dir "$OUT/tiles" --signer-filepath "$OUT/log.key" --log-level warn >"$OUT/rekor.log" 2>&1 &
  rekor_pid=$!
  "$tools/timestamp-server" serve --host 127.0.0.1 --port $((port + 3)) --timestamp-signer memory \
    --disable-ntp-monitoring >"$OUT/tsa.log" 2>&1 &
  tsa_pid=$!
  # On any failure from here on, show what the two servers said: a log that
  # died mid-demo otherwise surfaces only as "connection refused".
  trap 'rc=$?; kill $rekor_pid $tsa_pid 2>/dev/null || true
        if [ $rc -ne 0 ]; then
          for f in "$OUT/rekor.log" "$OUT/tsa.log"; do echo "--- $f" >&2; tail -n 40 "$f" >&2 || true; done
          kill -0 $rekor_pid 2>/dev/null || echo "rekor-server-posix is not running" >&2
        fi' EXIT
  # Up to 60 s: a loaded CI machine starts them slowly. Give up early if one exits.
  up=
  for _ in $(seq 300); do
    kill -0 $rekor_pid 2>/dev/null || { echo "rekor-server-posix exited at start" >&2; exit 1; }
    kill -0 $tsa_pid 2>/dev/null || { echo "timestamp-server exited at start" >&2; exit 1; }
    if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && curl -sf "http://127.0.0.1:$((port + 3))/ping" >/dev/null; then
      up=1; break
    fi
    sleep 0.2
  done
  [ -n "$up" ] || { echo "the log or the TSA did not answer within 60 s" >&2; exit 1; }
  curl -sf "http://127.0.0.1:$((port + 3))/api/v1/timestamp/certchain" >"$OUT/tsa-chain.pem"
  $hm tlog root --log "http://127.0.0.1:$port" --log-key "$OUT/log.pub" \
    --tsa "http://127.0.0.1:$((port + 3))/api/v1/timestamp" --tsa-chain "$OUT/tsa-chain.pem" --out "$OUT/trusted_root.json"
  export HALLMARK_TLOG="http://127.0.0.1:$port" HALLMARK_TSA="http://127.0.0.1:$((port + 3))/api/v1/timestamp"
  export HALLMARK_TRUSTED_ROOT="$OUT/trusted_root.json"
  echo "  log $HALLMARK_TLOG, TSA $HALLMARK_TSA, trusted root $HALLMARK_TRUSTED_ROOT"
fi

step "keys: a builder, a scanner, two rebuilders, two approvers and the gate"
for k in builder scanner rebuilder-a rebuilder-b alice bob gate; do
  $hm keygen "$OUT/$k" >/dev/null
  echo "  $OUT/$k.key  ($(grep -c . "$OUT/$k.pub") line public key)"
done
cat > "$OUT/trust.yaml" <<YAML
version: 1
keys:
  - {name: builder, publicKey: builder.pub, roles: [builder]}
  - {name: scanner, publicKey: scanner.pub, roles: [scanner]}
  - {name: rebuilder-a, publicKey: rebuilder-a.pub, roles: [rebuilder]}
  - {name: rebuilder-b, publicKey: rebuilder-b.pub, roles: [rebuilder]}
  - {name: alice, publicKey: alice.pub, roles: [approver]}
  - {name: bob, publicKey: bob.pub, roles: [approver]}
  - {name: gate, publicKey: gate.pub, roles: [gate]}
YAML
cat > "$OUT/policy.yaml" <<YAML
version: 1
environments:
  prod:
    rules: [slsa_l1, slsa_l2, reproducible, vulns, sbom, misconfig, approvals, freshness]
    reproducible: {minRebuilders: 2}
    vulns: {failAt: high, unknownSeverity: fail, maxScanAgeDays: 1, maxDBAgeDays: 3}
    misconfig: {failAt: high}
    approvals: {min: 2, maxAgeDays: 7}
    freshness:
      maxAgeDays: {provenance: 30, sbom: 30, vulns: 1, misconfig: 30, rebuilds: 30, approvals: 7}
      clockSkewSeconds: 300
YAML

step "build the example program in the sandbox, offline, with signed SLSA provenance"
gocache="$(go env GOCACHE)"
GOCACHE="$gocache" $hm build --key "$OUT/builder.key" --out "$OUT/build" --output-dir "$OUT/dist" \
  --sandbox auto --cache-dir "$gocache" --env GOCACHE \
  -- go build -trimpath -o "$OUT/dist/hello" ./examples/hello
art="$OUT/dist/hello"
"$art" demo
$hm provenance show --key "$OUT/builder.pub" "$OUT/build/provenance.bundle.json"

step "verify the provenance offline with the builder's public key; a tampered copy fails"
$hm verify --key "$OUT/builder.pub" --bundle "$OUT/build/provenance.bundle.json" "$art"
cp "$art" "$OUT/hello.tampered"; printf 'x' >> "$OUT/hello.tampered"
if $hm verify --key "$OUT/builder.pub" --bundle "$OUT/build/provenance.bundle.json" "$OUT/hello.tampered" 2>/dev/null; then
  echo "ERROR: a tampered artifact verified" >&2; exit 1
fi
echo "  tampered copy rejected"

step "SBOM of the binary, signed by the scanner"
$hm sbom "$art" --format cyclonedx --out "$OUT/hello.cdx.json"
$hm attest --key "$OUT/scanner.key" --predicate-type https://cyclonedx.org/bom \
  --predicate "$OUT/hello.cdx.json" --out "$OUT/sbom.bundle.json" "$art"

step "vulnerability scan (OSV records shipped as test data) and misconfiguration scan"
$hm db update --from vuln/testdata/osv/go
$hm scan --vulns "$art" --key "$OUT/scanner.key" --subject "$art"
$hm scan --misconfig examples --key "$OUT/scanner.key" --subject "$art"

step "two independent rebuilders reproduce the build from its provenance"
dirty=()
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then
  echo "  (this checkout has local changes: rebuilding anyway, as --allow-dirty-unsafe says)"
  dirty=(--allow-dirty-unsafe)
fi
for r in rebuilder-a rebuilder-b; do
  GOCACHE="$gocache" $hm rebuild --bundle "$OUT/build/provenance.bundle.json" --builder-key "$OUT/builder.pub" \
    --key "$OUT/$r.key" --rebuilder-id "https://rebuild.example/$r" --out "$OUT/$r" \
    --sandbox auto --cache-dir "$gocache" --env GOCACHE "${dirty[@]}"
done

step "two approvers sign off for prod"
$hm approve "$art" --env prod --key "$OUT/alice.key" --comment "release notes reviewed"
$hm approve "$art" --env prod --key "$OUT/bob.key" --comment "change ticket CHG-1"

if [ -n "${HALLMARK_TRUSTED_ROOT:-}" ]; then
  step "the log is consistent and includes every stored bundle's entry"
  $hm tlog verify --read "$OUT/tiles"
fi

step "the gate: may this binary go to prod?"
$hm gate "$art" --env prod --trust "$OUT/trust.yaml" --policy "$OUT/policy.yaml" --key "$OUT/gate.key" --requester quickstart

step "the gate refuses the tampered binary"
if $hm gate "$OUT/hello.tampered" --env prod --trust "$OUT/trust.yaml" --policy "$OUT/policy.yaml" --key "$OUT/gate.key"; then
  echo "ERROR: the gate allowed a tampered binary" >&2; exit 1
fi

step "the evidence store: everything above, signed"
$hm evidence ls

step "what was allowed or denied, where and when"
$hm deployments ls --env prod --trust "$OUT/trust.yaml"

step "the compliance report (SLSA, NIST SSDF, EU CRA) and an audit archive that verifies offline"
$hm report "$art" --env prod --trust "$OUT/trust.yaml" --policy "$OUT/policy.yaml"
$hm report "$art" --env prod --trust "$OUT/trust.yaml" --policy "$OUT/policy.yaml" --format html --out "$OUT/report.html"
$hm export "$art" --env prod --trust "$OUT/trust.yaml" --policy "$OUT/policy.yaml" --key "$OUT/gate.key" --out "$OUT/audit.tar"
$hm verify-export "$OUT/audit.tar" --key "$OUT/gate.pub"

printf '\nquickstart ok\n'
