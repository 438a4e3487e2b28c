#!/usr/bin/env bash
# Images end to end on a local registry (docs/images.md): build the example
# program in the sandbox with signed provenance, assemble it reproducibly
# into an image on a base pinned by digest, push it, inventory and scan the
# image by its registry reference, approve it, attach all that evidence to
# the image as OCI referrers, and let the gate and the admission webhook of
# `hallmark serve` decide from the registry's evidence alone: the approved
# image is allowed, an image without evidence is denied.
#
# Needs openssl and curl, and a registry: Debian's docker-registry
# (/usr/bin/docker-registry, `apt-get install docker-registry`) or
# go-containerregistry's (ggcr-registry from scripts/tools.sh in
# $HALLMARK_TOOLS_BIN, default ~/.cache/hallmark/tools/bin);
# HALLMARK_DEMO_REGISTRY=docker-registry|ggcr-registry picks one. Nothing is
# downloaded. Output in demo-image-out/, progress on stderr; everything the
# script starts is stopped when it ends. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=demo-image-out
export HALLMARK_PASSWORD="${HALLMARK_PASSWORD:-demo-only-passphrase}"
export HALLMARK_STORE="$OUT/store"
export GOFLAGS=-buildvcs=false
tools="${HALLMARK_TOOLS_BIN:-$HOME/.cache/hallmark/tools/bin}"

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
say() { printf '  %s\n' "$*" >&2; }
die() { printf 'demo-image: %s\n' "$*" >&2; exit 1; }

for t in go openssl curl; do
  command -v "$t" >/dev/null || die "$t is missing: install it (Debian: apt-get install $t)"
done

# The registry: Debian's docker-registry (distribution 2.8, no referrers
# API: Hallmark falls back to the OCI 1.1 referrers tag) listens on
# loopback only; go-containerregistry's (referrers API) on every interface.
docker_registry=$(command -v docker-registry || command -v registry || true)
ggcr_registry=""
[ -x "$tools/ggcr-registry" ] && ggcr_registry="$tools/ggcr-registry"
registry="${HALLMARK_DEMO_REGISTRY:-}"
case "$registry" in
  "") if [ -n "$docker_registry" ]; then registry=docker-registry
      elif [ -n "$ggcr_registry" ]; then registry=ggcr-registry
      else die "no registry: install Debian's docker-registry (apt-get install docker-registry) or build ggcr-registry (scripts/tools.sh ggcr-registry; looked in $tools)"
      fi ;;
  docker-registry) [ -n "$docker_registry" ] || die "docker-registry is missing: apt-get install docker-registry" ;;
  ggcr-registry) [ -n "$ggcr_registry" ] || die "ggcr-registry is missing from $tools: run scripts/tools.sh ggcr-registry" ;;
  *) die "HALLMARK_DEMO_REGISTRY=$registry: want docker-registry or ggcr-registry" ;;
esac

pids=()
stop_all() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop_all EXIT
trap 'exit 130' INT TERM   # so that the EXIT trap stops them on ^C too

# A loopback port nothing listens on.
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 12000))   # below the ephemeral range
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  die "no free loopback port found"
}
# wait_for URL NAME LOG [CURL ARGS...]: until URL answers, or fail with LOG.
wait_for() {
  local url=$1 name=$2 log=$3; shift 3
  for _ in $(seq 150); do
    curl -sf "$@" "$url" >/dev/null 2>&1 && return
    sleep 0.2
  done
  cat "$log" >&2
  die "$name did not answer on $url (log above, in $log)"
}

rm -rf "$OUT"
mkdir -p "$OUT" bin

step "build hallmark"
go build -o bin/hallmark ./cmd/hallmark
arch=$(go env GOARCH)

step "a local registry ($registry)"
port=$(free_port)
REG="127.0.0.1:$port"
if [ "$registry" = docker-registry ]; then
  cat > "$OUT/registry.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $PWD/$OUT/registry}, delete: {enabled: true}}
http: {addr: $REG}
YAML
  "$docker_registry" serve "$OUT/registry.yml" >"$OUT/registry.log" 2>&1 &
else
  "$ggcr_registry" -port "$port" >"$OUT/registry.log" 2>&1 &
fi
pids+=($!)
wait_for "http://$REG/v2/" "$registry" "$OUT/registry.log"
say "registry http://$REG/ (plain HTTP: every hallmark command below names it with --insecure-registry)"
hm() { bin/hallmark --insecure-registry "$REG" "$@"; }

step "keys: a builder, a scanner, an approver and the gate"
for k in builder scanner alice gate; do
  hm keygen "$OUT/$k" >/dev/null
  say "$OUT/$k.key, $OUT/$k.pub"
done
cat > "$OUT/trust.yaml" <<YAML
version: 1
keys:
  - {name: builder, publicKey: builder.pub, roles: [builder]}
  - {name: scanner, publicKey: scanner.pub, roles: [scanner]}
  - {name: alice, publicKey: alice.pub, roles: [approver]}
  - {name: gate, publicKey: gate.pub, roles: [gate]}
YAML
cat > "$OUT/policy.yaml" <<YAML
version: 1
environments:
  prod:
    rules: [slsa_l1, slsa_l2, sbom, vulns, secrets, approvals]
    vulns: {failAt: high, unknownSeverity: fail, maxScanAgeDays: 1, maxDBAgeDays: 3}
    secrets: {failAt: low}
    approvals: {min: 1, maxAgeDays: 7}
YAML

step "build the example program in the sandbox, offline, with signed SLSA provenance"
gocache="$(go env GOCACHE)"
GOCACHE="$gocache" CGO_ENABLED=0 hm build --key "$OUT/builder.key" --out "$OUT/build" --output-dir "$OUT/dist" \
  --sandbox auto --cache-dir "$gocache" --env GOCACHE --env CGO_ENABLED \
  -- go build -trimpath -o "$OUT/dist/hello" ./examples/hello
"$OUT/dist/hello" demo

step "a base image, made here and pinned by digest"
# A tiny base (an /etc/passwd and /etc/group naming a non-root user) on
# scratch: nothing is downloaded, and the same files give the same digest.
mkdir -p "$OUT/base"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$OUT/base/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$OUT/base/group"
base=$(hm image --file "$OUT/base/passwd=/etc/passwd" --file "$OUT/base/group=/etc/group" \
  --platform "linux/$arch" --push "$REG/demo/base:v1")
BASE="$REG/demo/base@$base"
say "base $BASE"

step "assemble the program onto the base (hallmark image): one deterministic layer, provenance naming the base and the build"
IMG="$REG/demo/hello"
digest=$(hm image --base "$BASE" --file "$OUT/dist/hello=/hello" --entrypoint /hello --cmd demo \
  --label org.opencontainers.image.source=https://github.com/hallmark-dev/hallmark \
  --out "oci:$OUT/hello-layout:v1" --push "$IMG:v1" \
  --key "$OUT/builder.key" --provenance "$OUT/hello.image.bundle.json")
say "image $IMG:v1 = $IMG@$digest"
hm provenance show --key "$OUT/builder.pub" "$OUT/hello.image.bundle.json"
hm verify --key "$OUT/builder.pub" --bundle "$OUT/hello.image.bundle.json" "$IMG:v1"

step "the assembly is reproducible: the same inputs from another directory give the same digest"
cp "$OUT/dist/hello" "$OUT/hello.copy"
again=$(hm image --base "$BASE" --file "$OUT/hello.copy=/hello" --entrypoint /hello --cmd demo \
  --label org.opencontainers.image.source=https://github.com/hallmark-dev/hallmark \
  --out "oci:$OUT/hello-again:v1")
[ "$again" = "$digest" ] || die "a second assembly gave $again, the first $digest"
hm diff "oci:$OUT/hello-layout:v1" "oci:$OUT/hello-again:v1"
say "both $digest"

step "SBOM of the image, from the registry, signed by the scanner"
hm sbom "$IMG:v1" --key "$OUT/scanner.key" --out "$OUT/hello.cdx.json"
say "$(grep -c '"purl"' "$OUT/hello.cdx.json") components with a purl in $OUT/hello.cdx.json"

step "vulnerability and secret scans of the image, signed by the scanner"
hm db update --from vuln/testdata/osv/go
hm scan --vulns "$IMG:v1" --key "$OUT/scanner.key"
hm scan --secrets "$IMG:v1" --key "$OUT/scanner.key"

step "approve the image for prod"
hm approve "$IMG:v1" --env prod --key "$OUT/alice.key" --comment "release notes reviewed"

step "attach the evidence to the image in the registry (OCI 1.1 referrers)"
hm push --oci "$IMG:v1"
hm evidence ls --registry "$IMG:v1" | tee "$OUT/referrers.txt"
hm evidence fetch "$IMG:v1" --out "$OUT/fetched"
say "$(ls "$OUT/fetched" | wc -l) bundles fetched into $OUT/fetched"

step "a second image with no evidence: the same program, another label"
unapproved=$(hm image --base "$BASE" --file "$OUT/dist/hello=/hello" --entrypoint /hello \
  --label org.opencontainers.image.description=unapproved --push "$IMG:unapproved")
say "image $IMG:unapproved = $IMG@$unapproved"

# The gate below starts from an empty store: everything it counts comes from
# the registry, verified against the trust file like stored evidence.
gate() { HALLMARK_STORE="$OUT/gate-store" hm gate "$1" --env prod --trust "$OUT/trust.yaml" \
  --policy "$OUT/policy.yaml" --key "$OUT/gate.key" --registry-evidence --requester demo-image; }

step "the gate, with nothing but the registry's evidence: the approved image may go to prod"
gate "$IMG:v1"

step "the gate denies the image without evidence"
if gate "$IMG:unapproved"; then
  die "the gate allowed an image without evidence"
fi
say "denied, as it should be"

step "hallmark serve: the admission webhook over mutual TLS, reading the registry's evidence"
tls="$OUT/tls"
mkdir -p "$tls"
ossl() { openssl "$@" 2>/dev/null; }
# A CA for the serving certificate, and one for the API server's client
# certificate (auth.admissionClientCA), as docs/server.md installs them.
for ca in serving-ca client-ca; do
  ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj "/CN=hallmark demo $ca" -keyout "$tls/$ca.key" -out "$tls/$ca.pem"
done
ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$tls/server.key" -out "$tls/server.csr"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$tls/server.ext"
ossl x509 -req -in "$tls/server.csr" -CA "$tls/serving-ca.pem" -CAkey "$tls/serving-ca.key" -CAcreateserial \
  -days 1 -extfile "$tls/server.ext" -out "$tls/server.pem"
ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=kube-apiserver" \
  -keyout "$tls/apiserver.key" -out "$tls/apiserver.csr"
printf 'extendedKeyUsage=clientAuth\n' > "$tls/client.ext"
ossl x509 -req -in "$tls/apiserver.csr" -CA "$tls/client-ca.pem" -CAkey "$tls/client-ca.key" -CAcreateserial \
  -days 1 -extfile "$tls/client.ext" -out "$tls/apiserver.pem"
[ -s "$tls/apiserver.pem" ] && [ -s "$tls/server.pem" ] || die "openssl could not make the demo certificates"

sport=$(free_port)
cat > "$OUT/server.yaml" <<YAML
tls: {cert: tls/server.pem, key: tls/server.key}
store: {driver: sqlite, path: server/evidence.db}
trust: trust.yaml
policies: {prod: policy.yaml}
gate: {key: gate.key}
auth: {admissionClientCA: tls/client-ca.pem}
admission:
  namespaces: {shop: prod}
  budget: 4s
  resolve: {enabled: true, timeout: 3s, insecureRegistries: ["$REG"]}
  registryEvidence: {enabled: true, timeout: 3s}
YAML
mkdir -p "$OUT/server"
bin/hallmark serve --config "$OUT/server.yaml" --listen "127.0.0.1:$sport" >"$OUT/serve.log" 2>&1 &
pids+=($!)
SERVER="https://127.0.0.1:$sport"
wait_for "$SERVER/healthz" "hallmark serve" "$OUT/serve.log" --cacert "$tls/serving-ca.pem"
say "hallmark serve at $SERVER (its own empty store: only the registry's evidence counts)"

# review NAME IMAGE: send an AdmissionReview creating Pod NAME in namespace
# shop (prod) as the API server would, and print what the webhook answered.
review() {
  local name=$1 image=$2 uid
  uid=$(printf '%08x-0000-4000-8000-%012x' "$RANDOM$RANDOM" "$RANDOM")
  cat > "$OUT/review-$name.json" <<JSON
{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
 "request": {"uid": "$uid", "kind": {"group": "", "version": "v1", "kind": "Pod"},
  "resource": {"group": "", "version": "v1", "resource": "pods"}, "namespace": "shop", "name": "$name",
  "operation": "CREATE", "userInfo": {"username": "demo-image"},
  "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "$name", "namespace": "shop"},
   "spec": {"containers": [{"name": "app", "image": "$image"}]}}}}
JSON
  curl -sS --fail-with-body --cacert "$tls/serving-ca.pem" --cert "$tls/apiserver.pem" --key "$tls/apiserver.key" \
    -H 'Content-Type: application/json' --data-binary "@$OUT/review-$name.json" \
    "$SERVER/admission/validate" > "$OUT/response-$name.json"
  if grep -q '"allowed":true' "$OUT/response-$name.json"; then
    say "Pod $name ($image): allowed"
    return 0
  fi
  # The denial's message, one violation a line (no jq needed).
  say "Pod $name ($image): denied"
  sed -nE 's/.*"message":"((\\.|[^"\\])*)".*/\1/p' "$OUT/response-$name.json" |
    sed -e 's/\\"/"/g' -e 's/: \[/:\n[/' -e 's/; \[/\n[/g' | sed 's/^/    /' >&2
  return 1
}

step "admission: a Pod running the approved image (by tag: the webhook resolves it to its digest)"
review approved "$IMG:v1" || die "the webhook denied the approved image ($OUT/response-approved.json)"

step "admission: a Pod running the image without evidence"
if review unapproved "$IMG@$unapproved"; then
  die "the webhook allowed an image without evidence ($OUT/response-unapproved.json)"
fi

step "admission: without a client certificate the webhook refuses to answer"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tls/serving-ca.pem" -H 'Content-Type: application/json' \
  --data-binary "@$OUT/review-approved.json" "$SERVER/admission/validate")
[ "$code" = 401 ] || die "an anonymous review got HTTP $code, want 401"
say "HTTP $code"

printf '\nimage demo ok: %s\n' "$IMG@$digest" >&2
