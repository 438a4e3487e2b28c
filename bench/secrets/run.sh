#!/usr/bin/env bash
# bench/secrets/run.sh: Hallmark's secret scanner against gitleaks v8.30.1
# (`gitleaks dir`, default rules and settings) on the same inputs, side by
# side in one run: wall and CPU time of each, their ratio, Hallmark's MB/s
# (also on one core, GOMAXPROCS=1) and the findings only one of them has.
#
#   bench/secrets/run.sh [INPUT...]        # default: osv osv.jsonl src mixed
#
# Inputs (prepared under $BENCH_DIR, default /tmp/hallmark-secrets-bench):
#   osv        the Go vulnerability database records (data/osv of the
#              golang.org/x/vulndb module, from the Go module proxy)
#   osv.jsonl  the same records as one JSONL file (one compact record a line)
#   src        a real source tree with vendored dependencies and testdata
#              (github.com/open-policy-agent/opa v1.20.2 + `go mod vendor`)
#   mixed      a generated 100 MiB tree of mixed files with planted secrets
#              (go run ./bench/secrets -generate-only)
# The gitleaks binary comes from scripts/tools.sh (or $HALLMARK_TOOLS_BIN).
set -euo pipefail
export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOFLAGS=${GOFLAGS:--buildvcs=false}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_DIR:-/tmp/hallmark-secrets-bench}
mkdir -p "$work"
inputs=("$@")
[ ${#inputs[@]} -gt 0 ] || inputs=(osv osv.jsonl src mixed)

bin=${HALLMARK_TOOLS_BIN:-$HOME/.cache/hallmark/tools/bin}
gitleaks=$bin/gitleaks
if [ ! -x "$gitleaks" ]; then
  bash "$repo/scripts/tools.sh" gitleaks
fi
# go install leaves gitleaks' version string unset: tools.sh's stamp names it.
grep -q '@v8.30.1$' "$bin/../stamp/gitleaks" 2>/dev/null || echo "run.sh: warning: cannot confirm $gitleaks is v8.30.1" >&2
(cd "$repo" && go build -o "$work/hallmark" ./cmd/hallmark && go build -o "$work/secrets-bench" ./bench/secrets)

prepare() {
  case $1 in
  osv|osv.jsonl)
    if [ ! -d "$work/osv" ]; then
      dir=$(cd "$work" && go mod download -json golang.org/x/vulndb@latest | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
      [ -d "$dir/data/osv" ] || { echo "run.sh: $dir has no data/osv" >&2; exit 2; }
      cp -r "$dir/data/osv" "$work/osv" && chmod -R u+w "$work/osv"
    fi
    [ -f "$work/osv.jsonl" ] || "$work/secrets-bench" -dir "$work/osv" -jsonl "$work/osv.jsonl" ;;
  src)
    if [ ! -d "$work/src/vendor" ]; then
      dir=$(cd "$work" && go mod download -json github.com/open-policy-agent/opa@v1.20.2 | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
      rm -rf "$work/src" && cp -r "$dir" "$work/src" && chmod -R u+w "$work/src"
      (cd "$work/src" && GOFLAGS=-mod=mod go mod vendor)
    fi ;;
  mixed)
    # ~4.2 KB a file on average: 25 000 files make about 100 MiB.
    [ -d "$work/mixed" ] || "$work/secrets-bench" -generate-only -dir "$work/mixed" -files 25000 ;;
  *) echo "run.sh: unknown input $1" >&2; exit 2 ;;
  esac
}

# timed NAME CMD...: runs CMD, sets $wall and $cpu (seconds, user+sys).
timed() {
  local t
  /usr/bin/time -o "$work/.time" -f '%e %U %S' "$@" >/dev/null 2>&1 || true
  t=$(tail -1 "$work/.time")
  wall=$(echo "$t" | awk '{print $1}')
  cpu=$(echo "$t" | awk '{printf "%.2f", $2 + $3}')
}

printf '%s, %s cores, load %s\n' "$(date -u +%FT%TZ)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
# MB/s: Hallmark's throughput by wall time; "1c" with GOMAXPROCS=1, by wall
# and by CPU time (the fairer figure on a loaded machine).
printf '%-10s %9s %8s | %-16s | %-16s | %-16s | %7s %7s | %7s %7s %7s\n' input files MB "gitleaks wall/cpu" "hallmark wall/cpu" "hm 1-core w/cpu" "x wall" "x cpu" "MB/s" "1c MB/s" "1c cpu"
summary=()
for in in "${inputs[@]}"; do
  prepare "$in"
  cd "$work"
  files=$(find "$in" -type f | wc -l)
  bytes=$(find "$in" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  mb=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b/1e6}')
  cat "$in" >/dev/null 2>&1 || find "$in" -type f -exec cat {} + >/dev/null
  timed "$gitleaks" dir "$in" --no-banner -l error -f json -r "$work/gitleaks-$in.json" --exit-code 0
  gw=$wall gc=$cpu
  # The store is not in these inputs; --format json for the diff.
  timed sh -c "exec '$work/hallmark' scan --secrets '$in' --format json > '$work/hallmark-$in.json'"
  hw=$wall hc=$cpu
  timed env GOMAXPROCS=1 "$work/hallmark" scan --secrets "$in" --format json
  ow=$wall oc=$cpu
  xw=$(awk -v a="$gw" -v b="$hw" 'BEGIN {printf "%.1f", a/b}')
  xc=$(awk -v a="$gc" -v b="$hc" 'BEGIN {printf "%.1f", a/b}')
  c1=$(awk -v b="$bytes" -v t="$oc" 'BEGIN {printf "%.1f", b/1e6/t}')
  printf '%-10s %9s %8s | %7ss %6ss | %7ss %6ss | %7ss %6ss | %6sx %6sx | %7.1f %7.1f %7s\n' "$in" "$files" "$mb" \
    "$gw" "$gc" "$hw" "$hc" "$ow" "$oc" "$xw" "$xc" \
    "$(awk -v b="$bytes" -v t="$hw" 'BEGIN {print b/1e6/t}')" "$(awk -v b="$bytes" -v t="$ow" 'BEGIN {print b/1e6/t}')" "$c1"
  summary+=("$(printf '%-10s %7sx %7sx %10s' "$in" "$xw" "$xc" "$c1")")
  prefix=$in
  [ -f "$in" ] && prefix=""
  "$work/secrets-bench" -diff "$work/gitleaks-$in.json,$work/hallmark-$in.json,$prefix"
done

# All inputs side by side: gitleaks' time over Hallmark's (higher is better).
printf '\n%-10s %8s %8s %10s\n' input "x wall" "x cpu" "1c MB/s cpu"
printf '%s\n' "${summary[@]}"
