#!/usr/bin/env bash
# Admission latency and faults for `hallmark serve` (docs/server.md).
#
# 1. For SQLite and PostgreSQL: populate a store with ARTIFACTS artifacts and
#    RECORDS evidence records, start `hallmark serve` on 127.0.0.1 (TLS),
#    send admission reviews at RATE req/s for DURATION: first the baseline
#    (/admission/mutate on pinned images: TLS + decoding, nothing to resolve, no gate), then cache misses (each
#    review a distinct artifact, so the gate evaluates and records) over
#    evidence setup wrote into the store behind the server's back (cold:
#    every bundle verified and decoded during the review), then misses in a
#    server's steady state (warm: the next artifacts' evidence uploaded
#    again through POST /v1/bundles first, as CI does before it deploys, so
#    the server verified and read it at upload), then cache hits (a warmed
#    hot set). Prints p50/p90/p99, the ratio of each p99 to the baseline's,
#    and the server's CPU per review in each phase. The warm phase needs
#    ARTIFACTS >= 2 x RATE x DURATION (seconds); it is skipped otherwise,
#    and starts once the store has written back the upload burst (a
#    PostgreSQL CHECKPOINT, sync; SETTLE=0 starts it at once). Each phase's
#    generator opens its connections before its clock starts, as an API
#    server keeps its webhook connections open (serve-bench load -open-conns).
# 2. Faults (PostgreSQL): two serve processes share the database; during a
#    load run with concurrent uploads, PostgreSQL is restarted and one serve
#    process is killed with SIGKILL. Prints the per-second outcomes (the
#    gate must deny or fail, never allow, while the store is down) and
#    checks that every acknowledged upload is stored and every allowed
#    answer has a recorded allow decision.
#
# Usage: bench/serve/run.sh [sqlite|postgres|faults|all]   (default all)
# Environment: ARTIFACTS (10000) RECORDS (100000) RATE (500) DURATION (20s) PORT (18443)
#   HALLMARK_TEST_POSTGRES (postgres://postgres@127.0.0.1:5432/test?sslmode=disable)
# Loopback only. The PostgreSQL restart needs root or the postgres user.
set -euo pipefail
cd "$(dirname "$0")/../.."
what="${1:-all}"
ARTIFACTS="${ARTIFACTS:-10000}"
RECORDS="${RECORDS:-100000}"
RATE="${RATE:-500}"
DURATION="${DURATION:-20s}"
PGDSN="${HALLMARK_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
work="${WORK:-$(mktemp -d /tmp/hallmark-bench.XXXXXX)}"
export HALLMARK_BENCH_PASSWORD=hm-bench-canary-passphrase
bin="$work/bin"
mkdir -p "$bin"
go build -o "$bin/hallmark" ./cmd/hallmark
go build -o "$bin/serve-bench" ./bench/serve
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_healthy() { # URL CA
  for _ in $(seq 1 100); do
    curl -fsS --cacert "$2" "$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "server at $1 did not become healthy" >&2; return 1
}

pg_schema_dsn() { # SCHEMA -> DSN with search_path
  psql "$PGDSN" -qc "DROP SCHEMA IF EXISTS $1 CASCADE; CREATE SCHEMA $1" >/dev/null
  case "$PGDSN" in *\?*) echo "$PGDSN&search_path=$1";; *) echo "$PGDSN?search_path=$1";; esac
}

run_driver() { # DRIVER
  local d="$work/$1" port="${PORT:-18443}" dsn=""
  [ "$1" = postgres ] && dsn=$(pg_schema_dsn hm_bench)
  echo "== $1: populating $ARTIFACTS artifacts / $RECORDS records"
  "$bin/serve-bench" setup -dir "$d" -driver "$1" -dsn "$dsn" -artifacts "$ARTIFACTS" -records "$RECORDS" 2>/dev/null
  sync # the setup's writes reach the disk now, not during the first measured checkpoint
  "$bin/hallmark" serve --config "$d/hallmark.yaml" --listen "127.0.0.1:$port" 2>"$d/serve.log" &
  pids+=($!); local pid=$!
  wait_healthy "https://127.0.0.1:$port" "$d/tls.crt"
  local common=(-url "https://127.0.0.1:$port" -ca "$d/tls.crt" -rate "$RATE" -duration "$DURATION" -artifacts "$ARTIFACTS")
  # CPU time the server spends per review: steadier than latency on a
  # shared machine, and what bounds the rate one server can sustain.
  cpu() { awk '{print $14+$15}' "/proc/$pid/stat"; }
  local tick; tick=$(getconf CLK_TCK)
  phase() { # LABEL FILE ARGS...
    local label=$1 out=$2; shift 2
    echo "load average before $label: $(cut -d' ' -f1-3 /proc/loadavg)"
    local c0; c0=$(cpu)
    "$bin/serve-bench" load "${common[@]}" "$@" -label "$label" | tee "$out"
    awk -v c0="$c0" -v c1="$(cpu)" -v tick="$tick" -v l="$label" '{ for (i=1;i<=NF;i++) if ($i ~ /^sent=/) { split($i,a,"="); n=a[2] } }
      END { if (n > 0) printf "%-28s server CPU %.2f ms per review (%d reviews, %.1f CPU-s)\n", l, (c1-c0)/tick*1000/n, n, (c1-c0)/tick }' "$out" | tee -a "$out.cpu"
  }
  phase "$1 baseline (mutate)" "$d/baseline.txt" -mode hit -endpoint mutate
  phase "$1 cache misses" "$d/miss.txt" -mode miss
  local n=$((RATE * ${DURATION%s})) files=("$d/baseline.txt" "$d/miss.txt")
  if [ $((2 * n)) -le "$ARTIFACTS" ]; then
    "$bin/serve-bench" warm -dir "$d" -url "https://127.0.0.1:$port" -from "$n" -count "$n"
    # The upload burst (10 x n bundles in about a minute) leaves the store
    # writing its pages back; let it finish before the clock, or the warm
    # phase measures that write-back too (SETTLE=0 skips this).
    if [ "${SETTLE:-1}" = 1 ]; then
      [ "$1" = postgres ] && psql "$PGDSN" -qc CHECKPOINT
      sync; sleep 2
    fi
    phase "$1 warm misses" "$d/warm-miss.txt" -mode miss -offset "$n"
    files+=("$d/warm-miss.txt")
  else
    echo "skipping warm misses: ARTIFACTS=$ARTIFACTS < 2 x $n"
  fi
  phase "$1 cache hits" "$d/hit.txt" -mode hit
  kill -TERM "$pid"; wait "$pid" || true
  awk -v n="$1" '
    function ms(s) { if (s ~ /µs$/) return substr(s,1,length(s)-2)/1000; if (s ~ /ms$/) return substr(s,1,length(s)-2)+0; if (s ~ /s$/) return substr(s,1,length(s)-1)*1000; return s }
    /server CPU/ { next }
    { for (i=1;i<=NF;i++) if ($i ~ /^p99=/) { split($i,a,"="); p[FILENAME]=ms(a[2]) } }
    END { for (f in p) if (f ~ /baseline/) b=p[f]
          for (f in p) if (f !~ /baseline/) { k=f; sub(/.*\//,"",k); printf "%s %s p99 = %.2f ms = %.1fx the baseline p99 (%.2f ms)\n", n, k, p[f], p[f]/b, b } }
  ' "${files[@]}" "$d/hit.txt"
}

run_faults() {
  local d="$work/faults" dsn
  dsn=$(pg_schema_dsn hm_bench_faults)
  echo "== faults: two serve processes on one PostgreSQL, restart PostgreSQL, kill -9 one server"
  "$bin/serve-bench" setup -dir "$d" -driver postgres -dsn "$dsn" -artifacts 2000 -records 4000 2>/dev/null
  "$bin/hallmark" serve --config "$d/hallmark.yaml" --listen 127.0.0.1:18451 2>"$d/a.log" & pids+=($!); local a=$!
  "$bin/hallmark" serve --config "$d/hallmark.yaml" --listen 127.0.0.1:18452 2>"$d/b.log" & pids+=($!); local b=$!
  wait_healthy https://127.0.0.1:18451 "$d/tls.crt"; wait_healthy https://127.0.0.1:18452 "$d/tls.crt"
  local urls=https://127.0.0.1:18451,https://127.0.0.1:18452
  "$bin/serve-bench" load -url "$urls" -ca "$d/tls.crt" -rate 100 -duration 30s -artifacts 2000 -mode miss \
    -timeline -allowed-out "$d/allowed.txt" -label "faults admission" >"$d/load.txt" &
  local lp=$!
  "$bin/serve-bench" upload -dir "$d" -url "$urls" -rate 40 -duration 30s -acked "$d/acked.txt" >"$d/upload.txt" &
  local up=$!
  sleep 8;  echo "t=8s  restarting PostgreSQL"; pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main restart
  sleep 8;  echo "t=16s kill -9 the second server"; kill -9 "$b"
  wait "$lp" "$up" || true
  cat "$d/load.txt" "$d/upload.txt"
  "$bin/serve-bench" check -dir "$d" -acked "$d/acked.txt" -allowed "$d/allowed.txt"
  kill -TERM "$a"; wait "$a" || true
}

# Kernel memory monitoring that samples the machine's pages on a timer
# (DAMON, as some VM hosts run it) stalls every process briefly at each
# sample, which shows in the tail latencies: say so next to the figures.
for k in /sys/kernel/mm/damon/admin/kdamonds/*/; do
  if [ "$(cat "$k/state" 2>/dev/null)" = on ]; then
    echo "host: DAMON kdamond $(basename "$k") is on, sampling every $(( $(cat "$k"contexts/0/monitoring_attrs/intervals/sample_us 2>/dev/null || echo 0) / 1000 )) ms (docs/server.md, session 14)"
  fi
done
case "$what" in
  sqlite|postgres) run_driver "$what" ;;
  faults) run_faults ;;
  all) run_driver sqlite; run_driver postgres; run_faults ;;
  *) echo "usage: $0 [sqlite|postgres|faults|all]" >&2; exit 2 ;;
esac
echo "work directory: $work"
