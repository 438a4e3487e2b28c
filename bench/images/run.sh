#!/usr/bin/env bash
# Container image benchmarks (issue 13, item 8). Needs apt-get (this
# machine's Debian release and package lists), dpkg-deb, syft and
# ggcr-registry from scripts/tools.sh ($HALLMARK_TOOLS_BIN or
# ~/.cache/hallmark/tools/bin).
#
#   bench/images/run.sh [RUNS]      (default 3)
#
# 1. SBOM + vulnerability scan of a >= 200 MiB image read from an OCI layout
#    (real Debian 12 packages: a base layer and golang-1.19-go, whose
#    toolchain binaries are Go binaries), `hallmark sbom` and `hallmark scan
#    --vulns` against `syft scan oci-dir:` on the same layout, interleaved,
#    median wall time of RUNS runs each, and the ratio.
# 2. Attach and fetch of 20 bundles on one image in a local registry
#    (go-containerregistry's, with the referrers API): `hallmark push --oci`
#    of 20 stored attestations, then `hallmark evidence fetch`.
set -euo pipefail
runs=${1:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
tools=${HALLMARK_TOOLS_BIN:-$HOME/.cache/hallmark/tools/bin}
debs=${HALLMARK_DEB_CACHE:-$HOME/.cache/hallmark/debs}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
tmp=$(mktemp -d)
reg_pid=
cleanup() { [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
cd "$root"
for t in syft ggcr-registry; do
  [ -x "$tools/$t" ] || { echo "missing $tools/$t: run scripts/tools.sh" >&2; exit 4; }
done

base=base-files,libc6,libgcc-s1,gcc-12-base,zlib1g,tar,libacl1,libselinux1,libpcre2-8-0,libssl3,openssl,ca-certificates
big=golang-1.19-go,golang-1.19-src
mkdir -p "$debs"
(cd "$debs" && missing=$(for p in ${base//,/ } ${big//,/ }; do ls "${p}"_*_*.deb >/dev/null 2>&1 || echo "$p"; done) &&
  { [ -z "$missing" ] || apt-get download -q $missing >/dev/null; })

go build -o "$tmp/hallmark" ./cmd/hallmark
go build -o "$tmp/gen" ./bench/images/gen
layout="$tmp/layout"
digest=$("$tmp/gen" -debs "$debs" -out "$layout" -layer "$base" -layer "$big")
size=$(du -sm "$layout" | cut -f1)
usize=$(python3 - "$layout" "$digest" <<'PY'
import gzip, json, sys
d = sys.argv[1]
m = json.load(open(f"{d}/blobs/sha256/{sys.argv[2].split(':')[1]}"))
n = 0
for l in m["layers"]:
    with gzip.open(f"{d}/blobs/sha256/{l['digest'].split(':')[1]}") as f:
        while (b := f.read(1 << 20)):
            n += len(b)
print(n // (1 << 20))
PY
)
echo "== machine: $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== image $digest: $usize MiB uncompressed, $size MiB as an OCI layout"

export HALLMARK_STORE="$tmp/store" HALLMARK_PASSWORD=bench
# The test data's records of every ecosystem, so that every package of the
# image (Debian, Go, npm) is matched; the records are few, so the timing is
# that of unpacking, extraction and matching, not of a large database.
for d in vuln/testdata/osv/*/; do "$tmp/hallmark" db update --from "$d" >/dev/null 2>&1; done
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>"$tmp/err" || { tail -3 "$tmp/err" >&2; return 1; }; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
h_sbom= h_scan= s_sbom=
for i in $(seq "$runs"); do
  s_sbom="$s_sbom $(SYFT_CHECK_FOR_APP_UPDATE=false ms "$tools/syft" scan "oci-dir:$layout" -o cyclonedx-json -q)"
  h_sbom="$h_sbom $(ms "$tmp/hallmark" sbom "oci:$layout" --out "$tmp/h.cdx.json")"
  h_scan="$h_scan $(ms "$tmp/hallmark" scan --vulns "oci:$layout" --format json)"
done
hs=$(echo "$h_sbom" | median); hv=$(echo "$h_scan" | median); ss=$(echo "$s_sbom" | median)
syft_n=$(SYFT_CHECK_FOR_APP_UPDATE=false "$tools/syft" scan "oci-dir:$layout" -o syft-json -q | python3 -c 'import json,sys;print(len(json.load(sys.stdin)["artifacts"]))')
h_n=$(python3 -c 'import json,sys;print(len(json.load(open(sys.argv[1])).get("components",[])))' "$tmp/h.cdx.json")
printf '%-40s %8s ms  (runs: %s)  %s packages\n' "syft scan oci-dir: (SBOM)" "$ss" "$s_sbom" "$syft_n"
printf '%-40s %8s ms  (runs: %s)  %s packages\n' "hallmark sbom oci:" "$hs" "$h_sbom" "$h_n"
printf '%-40s %8s ms  (runs: %s)\n' "hallmark scan --vulns oci:" "$hv" "$h_scan"
awk -v h="$hs" -v v="$hv" -v s="$ss" 'BEGIN {
  printf "ratio hallmark sbom / syft:                      %.2f  (below 1: hallmark is faster)\n", h / s
  printf "ratio hallmark scan --vulns / syft (SBOM only):  %.2f  (the scan inventories the image itself)\n", v / s }'

echo "== attach + fetch of 20 bundles (go-containerregistry registry, referrers API)"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$tools/ggcr-registry" -port "$port" >"$tmp/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
ref="127.0.0.1:$port/bench/app:v1"
hm() { "$tmp/hallmark" --insecure-registry "127.0.0.1:$port" "$@"; }
echo bench > "$tmp/app.txt"
pushed=$(hm image --base "oci:$layout" --file "$tmp/app.txt=/app.txt" --push "$ref" 2>/dev/null)
hm keygen "$tmp/bench" >/dev/null 2>&1
for i in $(seq 20); do
  echo "{\"run\": $i}" > "$tmp/p$i.json"
  hm attest --key "$tmp/bench.key" --predicate-type "https://example.com/bench/v$i" --predicate "$tmp/p$i.json" "$ref" >/dev/null 2>&1
done
attach=$(ms hm push --oci "$ref")
n=$(hm evidence ls --registry "$ref" | grep -c 'example.com/bench')
fetch=$(ms hm evidence fetch "$ref" --out "$tmp/fetched")
got=$(ls "$tmp/fetched" | wc -l)
printf '%-40s %8s ms  (%s referrers listed after)\n' "push --oci (attach 20 bundles)" "$attach" "$n"
printf '%-40s %8s ms  (%s files)\n' "evidence fetch (20 bundles)" "$fetch" "$got"
echo "   image $pushed"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
