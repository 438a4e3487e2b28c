#!/usr/bin/env bash
# Sign and verify throughput for a ~10 KB statement (ECDSA P-256, Ed25519),
# and in the same run sigstore-go's verification of the same bundle as the
# baseline. Prints medians over COUNT runs and the Hallmark/sigstore-go ratio.
# Usage: bench/attest/run.sh [COUNT]   (default 8)
set -euo pipefail
cd "$(dirname "$0")/../.."
count="${1:-8}"
out=$(mktemp)
go test -run '^$' -bench '^Benchmark(Sign|Verify)$' -benchtime 300x -count "$count" ./attest | tee "$out" | grep '^Benchmark' >&2 || true
awk '
/^Benchmark/ {
  name=$1; sub(/-[0-9]+$/, "", name); v[name]=v[name] " " $3
}
function median(s,   a, n, i, j, t) {
  n=split(s, a, " ")
  for (i=1;i<=n;i++) for (j=i+1;j<=n;j++) if (a[j]+0 < a[i]+0) { t=a[i]; a[i]=a[j]; a[j]=t }
  return (n%2) ? a[(n+1)/2] : (a[n/2]+a[n/2+1])/2
}
END {
  printf "\n%-44s %12s %10s\n", "benchmark (median)", "ns/op", "ops/s"
  for (k in v) { m[k]=median(v[k]); printf "%-44s %12.0f %10.0f\n", k, m[k], 1e9/m[k] }
  for (alg in a) ;
  split("ecdsa-p256 ed25519", algs, " ")
  for (i in algs) {
    h="BenchmarkVerify/hallmark/" algs[i]; s="BenchmarkVerify/sigstore-go/" algs[i]
    if ((h in m) && (s in m)) printf "verify %-11s hallmark/sigstore-go time ratio: %.2f (below 1 means hallmark is faster)\n", algs[i], m[h]/m[s]
  }
}' "$out"
rm -f "$out"
