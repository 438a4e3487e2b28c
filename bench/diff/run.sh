#!/bin/sh
# Benchmark: Hallmark's diff explainer against diffoscope on the same artifact
# pairs, including a pair of tar archives of at least 100 MiB that differ in
# five members. For each pair it reports wall-clock and CPU time of both
# tools, their ratio, and whether both name the same differing members.
#
# Usage: bench/diff/run.sh [WORKDIR]   (from the repository root)
# Needs: go, python3, diffoscope (apt-get install diffoscope-minimal).
set -eu
work=${1:-$(mktemp -d /tmp/hallmark-bench-diff.XXXXXX)}
mkdir -p "$work/pairs"
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v diffoscope >/dev/null || { echo "diffoscope not installed (apt-get install diffoscope-minimal)" >&2; exit 2; }

echo "building the explainer and generating pairs in $work" >&2
(cd "$root" && go build -o "$work/hallmark" ./cmd/hallmark && go run ./bench/diff/gen -out "$work/pairs" -mib 100)

# A Go binary built from two directories without -trimpath (build path leak).
for d in x y; do
	mkdir -p "$work/go-$d"
	cp "$root/repro/diff/testdata/fixtures/hello/main.go" "$work/go-$d/"
	printf 'module example.com/hello\n\ngo 1.26\n' >"$work/go-$d/go.mod"
	(cd "$work/go-$d" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOWORK=off go build -o "$work/pairs/hello-$d" .)
done

# timed LABEL OUTFILE CMD... : runs CMD, appending "LABEL wall user sys maxrss-KiB"
# to times. Both tools exit 1 when the inputs differ.
timed() {
	label=$1 out=$2
	shift 2
	/usr/bin/time -f "$label %e %U %S %M" -a -o "$work/times" "$@" >"$out" 2>"$out.err" || true
}

: >"$work/times"
set -- big-a.tar:big-b.tar small-a.tar.gz:small-b.tar.gz a.zip:b.zip hello-x:hello-y
for pair in "$@"; do
	a=${pair%%:*} b=${pair#*:}
	echo "comparing $a $b" >&2
	timed "hallmark:$a" "$work/$a.hallmark.json" "$work/hallmark" diff --format json "$work/pairs/$a" "$work/pairs/$b"
	timed "diffoscope:$a" "$work/$a.diffoscope.out" diffoscope --json "$work/$a.diffoscope.json" "$work/pairs/$a" "$work/pairs/$b"
done

python3 - "$work" "$@" <<'PY'
import json, os, re, sys

work, pairs = sys.argv[1], sys.argv[2:]
times = {}
for line in open(os.path.join(work, "times")):
    f = line.split()
    if len(f) == 5 and ":" in f[0]:
        times[f[0]] = tuple(float(x) for x in f[1:])

def hallmark_members(path, top):
    rep = json.load(open(path))
    out = set()
    compressed = top.endswith((".gz", ".xz", ".zst", ".bz2"))
    for d in rep.get("differences", []):
        p = d["path"]
        if not p or d["kind"] == "order":
            continue
        segs = p.split("!")
        if compressed:
            segs = segs[1:]
        if segs:
            out.add(segs[0])
    return out

def diffoscope_members(path):
    try:
        doc = json.load(open(path))
    except (OSError, ValueError):
        return set()
    out = set()
    def walk(n):
        kids = n.get("details", [])
        listing = lambda s: s == "file list" or s.startswith("zipinfo")
        if any(listing(k.get("source1", "")) for k in kids):
            for k in kids:
                s = k.get("source1", "")
                if listing(s):
                    # Changed listing lines ("-rw-r--r-- ... name") name members
                    # whose metadata differ.
                    for line in (k.get("unified_diff") or "").splitlines():
                        if line[:1] in "+-" and re.match(r"[-dlcbps][rwxsStT-]{9}", line[1:]):
                            out.add(line.split()[-1])
                elif " " not in s:
                    out.add(s)
            return
        for k in kids:
            walk(k)
    walk(doc)
    return out

print(f"{'pair':<32} {'hallmark s':>10} {'diffoscope s':>12} {'ratio':>7} {'cpu ratio':>9} {'RSS MiB h/d':>12}  same members")
ok = True
for pair in pairs:
    a, b = pair.split(":")
    h, d = times.get("hallmark:" + a), times.get("diffoscope:" + a)
    if not h or not d:
        print(f"{a}: missing timing"); ok = False; continue
    hm = hallmark_members(os.path.join(work, a + ".hallmark.json"), a)
    dm = diffoscope_members(os.path.join(work, a + ".diffoscope.json"))
    same = "n/a (no members)" if not hm and not dm else ("yes" if hm == dm else f"NO: hallmark {sorted(hm)} diffoscope {sorted(dm)}")
    if same.startswith("NO"):
        ok = False
    size = os.path.getsize(os.path.join(work, "pairs", a)) / 2**20
    print(f"{a+' vs '+b:<32} {h[0]:>10.2f} {d[0]:>12.2f} {d[0]/max(h[0],0.01):>6.1f}x {(d[1]+d[2])/max(h[1]+h[2],0.01):>8.1f}x {h[3]/1024:>5.0f}/{d[3]/1024:<6.0f}  {same}  ({size:.1f} MiB; {len(hm)} members)")
sys.exit(0 if ok else 1)
PY
