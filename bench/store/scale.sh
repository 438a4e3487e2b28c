#!/usr/bin/env bash
# The store's hot queries at 100,000 and 1,000,000 evidence records
# (docs/retention.md, "Queries at scale").
#
# For each store, store-bench scale fills it up to each of STEPS artifacts
# (10 signed records each: approval, provenance, CycloneDX SBOM, finding
# scan, two vulnerability scans, two admissions of a VSA and a decision;
# the SBOMs' packages indexed as stored), and at each step times SAMPLES
# calls of each query the gate, recheck and impact make (p50, p99, rows
# returned) and prints its plan (SQLite EXPLAIN QUERY PLAN, PostgreSQL
# EXPLAIN) and whether it reads the evidence table whole.
#
# Runtime: loading is ~300 records/s per store on a busy 2-core machine
# (generation signs every record; SQLite commits 1,000 records a
# transaction): 1,000,000 records take about an hour per store, and ~4 GB
# of disk for SQLite. Not part of `go test` (the conformance suite's
# HotQueriesUseIndexes checks the plans on a small store).
#
# Usage: bench/store/scale.sh [sqlite|postgres|all]   (default all)
# Environment: STEPS (10000,100000) SAMPLES (500) WORK (kept when set)
#   HALLMARK_TEST_POSTGRES (postgres://postgres@127.0.0.1:5432/test?sslmode=disable)
set -euo pipefail
cd "$(dirname "$0")/../.."
what="${1:-all}"
STEPS="${STEPS:-10000,100000}"
SAMPLES="${SAMPLES:-500}"
export PGOPTIONS="--client-min-messages=warning"
PGDSN="${HALLMARK_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
work="${WORK:-$(mktemp -d /tmp/hallmark-scale-bench.XXXXXX)}"
[ -n "${WORK:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
go build -o "$work/store-bench" ./bench/store
go list -m -json all > "$work/modules.json"
common=(-modules "$work/modules.json" -steps "$STEPS" -samples "$SAMPLES")
if [ "$what" = sqlite ] || [ "$what" = all ]; then
  echo "== sqlite: $STEPS artifacts"
  rm -f "$work/sqlite/evidence.db"*
  "$work/store-bench" scale -driver sqlite -path "$work/sqlite/evidence.db" "${common[@]}"
fi
if [ "$what" = postgres ] || [ "$what" = all ]; then
  echo "== postgres: $STEPS artifacts"
  psql "$PGDSN" -qc "DROP SCHEMA IF EXISTS hm_scale_bench CASCADE; CREATE SCHEMA hm_scale_bench" >/dev/null
  case "$PGDSN" in *\?*) dsn="$PGDSN&search_path=hm_scale_bench";; *) dsn="$PGDSN?search_path=hm_scale_bench";; esac
  "$work/store-bench" scale -driver postgres -dsn "$dsn" "${common[@]}"
  [ -n "${WORK:-}" ] || psql "$PGDSN" -qc "DROP SCHEMA hm_scale_bench CASCADE" >/dev/null
fi
