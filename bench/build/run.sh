#!/bin/sh
# Benchmarks for issue 3 (hallmark build). Run from anywhere; needs Linux
# with unprivileged or root user namespaces and the module cache filled
# (go mod download in the repository).
#
#   bench/build/run.sh [runs]
#
# 1. Overhead of build.Run (what `hallmark build` does: clean env, source
#    tree hash, lockfile materials, toolchain hashing, log capture, product
#    hashing) with the sandbox off and on, over the bare `go build` of
#    ./bench/build/driver (193 packages, 55 outside the standard library),
#    warm and cold build cache, median of $runs runs each, interleaved.
# 2. digest.Tree against sha256sum over the same ~1 GiB tree of mixed file
#    sizes, alternating, median of $runs runs each.
set -eu
runs=${1:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
go build -o "$tmp/driver" ./bench/build/driver
go build -o "$tmp/hashbench" ./bench/build/hashbench
echo "== machine: $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== build overhead"
"$tmp/driver" -src "$root" -runs "$runs" -modcache "$(go env GOMODCACHE)" -goroot "$(go env GOROOT)"
echo "== hashing"
"$tmp/hashbench" -dir "$tmp/tree" -runs "$runs"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
