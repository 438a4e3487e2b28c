#!/usr/bin/env bash
# Scan throughput of the misconfiguration scanner on a generated tree of
# 10,000 mixed files (corpus Dockerfiles, manifests and workflows, plus one
# Go source file in five), compared in the same run with the baseline of
# walking and reading the same tree. Prints files/s, MB/s and the ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
count="${COUNT:-3}"
out="$(go test -run '^$' -bench '^BenchmarkScanTree$' -benchtime "${BENCHTIME:-3x}" -count "$count" ./misconfig/)"
echo "$out" | grep -E '^Benchmark'
echo "$out" | awk '
  /walk-and-read/ { b += $3; nb++ }
  /\/scan/        { s += $3; ns++; for (i = 1; i <= NF; i++) { if ($(i+1) == "files/s") f += $i; if ($(i+1) == "MB/s") m += $i } }
  END {
    if (nb == 0 || ns == 0) { print "no benchmark output"; exit 1 }
    printf "scan: %.0f files/s, %.2f MB/s (mean of %d runs)\n", f / ns, m / ns, ns
    printf "baseline walk-and-read: %.1f ms/op; scan: %.1f ms/op; scan/baseline = %.1fx\n", b / nb / 1e6, s / ns / 1e6, (s / ns) / (b / nb)
  }'
