#!/usr/bin/env bash
# Throughput and latency (p50, p99) of sign+log+timestamp against a local
# rekor-tiles POSIX server and timestamp-server, and of offline verification
# of the resulting logged, timestamped bundle by Hallmark and by sigstore-go's
# verifier on the same bundle, in one run.
# Needs the servers from scripts/tools.sh (or scripts/ci/tlog.sh).
# Usage: bench/tlog/run.sh [N]   (N operations per benchmark, default 200)
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-200}"
go test -run '^$' -bench "^BenchmarkTlog$" -cpu 2 -benchtime "${n}x" -count 1 ./bench/tlog
