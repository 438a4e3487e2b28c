#!/usr/bin/env bash
# recheck over many deployed artifacts after a vulnerability database
# update: time and peak memory of a full recheck and of recheck
# --incremental (docs/retention.md, "Recheck at scale").
#
# 1. bench/store's program fills a SQLite store with ARTIFACTS deployed
#    artifacts: per artifact an approval, a CycloneDX SBOM of PKGS real Go
#    modules (this module's `go list -m all`), a vulnerability scan, and an
#    admission allow with its VSA.
# 2. The Go vulnerability database (golang.org/x/vulndb data/osv, from the
#    module cache or the Go module proxy) without its NEWEST advisories is
#    imported: the database as it stood before they were published.
# 3. recheck (full) runs: it re-evaluates every deployed artifact.
# 4. The whole database is imported: the update.
# 5. recheck --incremental runs: it indexes the SBOMs' packages (once) and
#    re-evaluates only the artifacts whose modules the new advisories name.
# 6. recheck (full) again, and recheck --incremental --since (before the
#    update) with the index already built, for comparison.
# Each recheck is timed with /usr/bin/time (elapsed, peak RSS).
#
# Usage: bench/recheck/run.sh     Environment: ARTIFACTS (10000) PKGS (40) NEWEST (50)
set -euo pipefail
cd "$(dirname "$0")/../.."
ARTIFACTS="${ARTIFACTS:-10000}"
PKGS="${PKGS:-40}"
NEWEST="${NEWEST:-50}"
work="${WORK:-$(mktemp -d /tmp/hallmark-recheck-bench.XXXXXX)}"
mkdir -p "$work/keys"
go build -o "$work/hallmark" ./cmd/hallmark
go build -o "$work/store-bench" ./bench/store
go list -m -json all > "$work/modules.json"
osv=$(cd "$work" && go mod download -json golang.org/x/vulndb@latest | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')/data/osv
[ -d "$osv" ] || { echo "run.sh: no data/osv in the vulndb module" >&2; exit 2; }
"$work/store-bench" before -from "$osv" -to "$work/osv-before" -newest "$NEWEST"
cat > "$work/policy.rego" <<'REGO'
package hallmark.policy

approved if {
	some a in input.evidence.approvals
	a.environment == input.context.environment
	a.artifact == input.artifact.digest
}

violations contains {"ruleId": "approvals.missing", "message": "no approval"} if not approved

violations contains {"ruleId": "vulns.critical", "message": sprintf("critical vulnerability %s", [f.id])} if {
	some s in input.evidence.vulns
	some f in s.findings
	f.severity == "critical"
}

decision := {"allow": count(violations) == 0, "violations": violations}
REGO
export HALLMARK_STORE="$work/store" HALLMARK_PASSWORD=hm-bench-canary-passphrase
echo "== filling $ARTIFACTS deployed artifacts"
t0=$(date +%s)
"$work/store-bench" deployed -path "$work/store/evidence.db" -keys "$work/keys" -modules "$work/modules.json" -artifacts "$ARTIFACTS" -pkgs "$PKGS" | grep '^store'
echo "   ($(( $(date +%s) - t0 )) s)"
"$work/hallmark" db update --from "$work/osv-before" >/dev/null
recheck() { # LABEL ARGS...
  local label=$1; shift
  sync
  /usr/bin/time -f "$label: %e s elapsed, %U s user, %M KB peak RSS" -o "$work/time.txt" \
    "$work/hallmark" recheck --trust "$work/keys/trust.yaml" --key "$work/keys/gate.key" --env prod --policy "$work/policy.rego" --format json "$@" \
    >"$work/out.json" 2>"$work/err.txt" || true
  grep -E '^incremental|rechecked' "$work/err.txt" | sed 's/^/   /'
  cat "$work/time.txt"
}
recheck "full recheck, before the update"
update_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1
"$work/hallmark" db update --from "$osv" >/dev/null
echo "== database update: the $NEWEST newest advisories added"
recheck "incremental recheck (indexes the SBOMs first)" --incremental
recheck "full recheck, after the update"
recheck "incremental recheck, index built, changes since before the update" --incremental --since "$update_at"
ls -l "$work/store/evidence.db" | awk '{print "store file: " $5 " bytes"}'
[ -n "${WORK:-}" ] || rm -rf "$work"
