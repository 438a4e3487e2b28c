#!/bin/sh
# Evaluation latency of Hallmark's built-in prod policy on a realistic
# evidence set (provenance, SBOM of 500 packages, 50 findings, 3 approvals,
# 2 rebuilds) after compilation: p50/p99 over N evaluations in-process, and
# in the same run OPA's own CLI, built from the OPA version in go.mod, on the
# same policy, data and input:
#   - opa eval, OPA_RUNS processes (wall time, and OPA's own query-eval timer);
#   - opa bench, OPA's in-process evaluation loop (median and p99).
# Usage: bench/policy/run.sh   (N=10000 OPA_RUNS=30 by default)
# Nothing is written to the repository; the OPA binary lives in $TMP.
set -eu
# hallmark serve collects garbage only near a memory limit (512 MiB by
# default: internal/cli/serve.go); measure the gate the way it runs there.
# GOGC=100 GOMEMLIMIT=off bench/policy/run.sh measures Go's default instead.
export GOGC="${GOGC:-off}" GOMEMLIMIT="${GOMEMLIMIT:-512MiB}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-10000}
OPA_RUNS=${OPA_RUNS:-30}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

OPA_VERSION=$(cd "$ROOT" && go list -m -f '{{.Version}}' github.com/open-policy-agent/opa)
echo "building opa $OPA_VERSION into $TMP" >&2
# go install pkg@version builds OPA's main package with OPA's own go.mod, so
# its CLI-only dependencies never touch Hallmark's go.mod and go.sum.
GOBIN="$TMP" go install "github.com/open-policy-agent/opa@$OPA_VERSION"
"$TMP/opa" version | head -1 >&2

cd "$ROOT"
go build -o "$TMP/policybench" ./bench/policy
echo "machine: $(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg), GOGC=$GOGC GOMEMLIMIT=$GOMEMLIMIT" >&2
"$TMP/policybench" -n "$N" -out "$TMP/case" -opa "$TMP/opa" -opa-runs "$OPA_RUNS"
