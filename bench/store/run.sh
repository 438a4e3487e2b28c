#!/usr/bin/env bash
# Bytes per record on SQLite and PostgreSQL (docs/retention.md).
#
# For each store: ARTIFACTS artifacts each get an approval, a CycloneDX SBOM
# of PKGS real Go modules (this module's `go list -m all`) and a
# vulnerability scan; then the real gate (built-in prod preset) decides each
# as an admission review, recording a VSA and a decision. The store is
# compacted (VACUUM) before and after each phase and its size read
# (SQLite: pages in use; PostgreSQL: pg_total_relation_size of its tables);
# the growth divided by the records added is the bytes per record, indexes
# included. The average bundle size per predicate type is printed too: the
# rest is the store's overhead (subject and signer rows, indexes, pages).
#
# Usage: bench/store/run.sh [sqlite|postgres|all]   (default all)
# Environment: ARTIFACTS (2000) PKGS (40)
#   HALLMARK_TEST_POSTGRES (postgres://postgres@127.0.0.1:5432/test?sslmode=disable)
set -euo pipefail
cd "$(dirname "$0")/../.."
what="${1:-all}"
ARTIFACTS="${ARTIFACTS:-2000}"
PKGS="${PKGS:-40}"
export PGOPTIONS="--client-min-messages=warning"
PGDSN="${HALLMARK_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
work="$(mktemp -d /tmp/hallmark-store-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
go build -o "$work/store-bench" ./bench/store
go list -m -json all > "$work/modules.json"
common=(-modules "$work/modules.json" -artifacts "$ARTIFACTS" -pkgs "$PKGS")
if [ "$what" = sqlite ] || [ "$what" = all ]; then
  echo "== sqlite: $ARTIFACTS artifacts"
  "$work/store-bench" sizes -driver sqlite -path "$work/sqlite/evidence.db" "${common[@]}"
fi
if [ "$what" = postgres ] || [ "$what" = all ]; then
  echo "== postgres: $ARTIFACTS artifacts"
  psql "$PGDSN" -qc "DROP SCHEMA IF EXISTS hm_store_bench CASCADE; CREATE SCHEMA hm_store_bench" >/dev/null
  case "$PGDSN" in *\?*) dsn="$PGDSN&search_path=hm_store_bench";; *) dsn="$PGDSN?search_path=hm_store_bench";; esac
  "$work/store-bench" sizes -driver postgres -dsn "$dsn" "${common[@]}"
  psql "$PGDSN" -qc "DROP SCHEMA hm_store_bench CASCADE" >/dev/null
fi
