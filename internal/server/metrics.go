package server

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// metrics holds counters and histograms and writes them in the Prometheus
// text exposition format (version 0.0.4).
type metrics struct {
	mu         sync.Mutex
	counters   map[string]*family
	gauges     map[string]*family
	histograms map[string]*histFamily
}

type family struct {
	help   string
	values map[string]float64 // label string -> value
}

type histFamily struct {
	help    string
	buckets []float64
	series  map[string]*hist
}

type hist struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

// latencyBuckets are in seconds, fine below 50 ms where admission lives.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func newMetrics() *metrics {
	m := &metrics{counters: map[string]*family{}, gauges: map[string]*family{}, histograms: map[string]*histFamily{}}
	m.counters["hallmark_http_requests_total"] = &family{help: "HTTP requests by route and status code.", values: map[string]float64{}}
	m.counters["hallmark_uploads_total"] = &family{help: "Bundle uploads by result (stored, duplicate, rejected, too_large, error).", values: map[string]float64{}}
	m.counters["hallmark_admission_reviews_total"] = &family{help: "Admission reviews by result and whether the allow cache answered.", values: map[string]float64{}}
	m.counters["hallmark_admission_mutations_total"] = &family{help: "Mutating admission reviews by result (allowed: pinned; skipped: nothing to pin).", values: map[string]float64{}}
	m.counters["hallmark_admission_pinned_images_total"] = &family{help: "Images referenced by tag that mutating reviews pinned by digest.", values: map[string]float64{}}
	m.counters["hallmark_gate_decisions_total"] = &family{help: "Gate evaluations by source (api, admission, admission_dry_run, recheck) and verdict (allow, deny, error).", values: map[string]float64{}}
	m.counters["hallmark_tlog_monitor_failures_total"] = &family{help: "Transparency log checks that failed, by reason (checkpoint, inconsistent, not_included, state, store).", values: map[string]float64{}}
	m.gauges["hallmark_tlog_monitor_last_success_timestamp_seconds"] = &family{help: "Unix time of the last transparency log check that passed.", values: map[string]float64{}}
	m.gauges["hallmark_tlog_checkpoint_size"] = &family{help: "Entries in the log's checkpoint at the last check that passed.", values: map[string]float64{}}
	m.gauges["hallmark_tlog_monitor_included_entries"] = &family{help: "Stored bundles' log entries proved included at the last check that passed.", values: map[string]float64{}}
	m.gauges["hallmark_tlog_monitor_pending_entries"] = &family{help: "Stored bundles' log entries beyond that checkpoint, to be proved at the next check.", values: map[string]float64{}}
	m.histograms["hallmark_http_request_duration_seconds"] = &histFamily{help: "HTTP request latency by route.", buckets: latencyBuckets, series: map[string]*hist{}}
	m.histograms["hallmark_admission_review_duration_seconds"] = &histFamily{help: "Admission review latency by whether the allow cache answered.", buckets: latencyBuckets, series: map[string]*hist{}}
	return m
}

// labelEscaper escapes a label value of the text exposition format. It is
// built once: a strings.Replacer builds its tables on first use, and one
// built per call cost 28 KB of garbage per request.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// labels renders label pairs (name, value, name, value...) sorted by name.
func labels(kv ...string) string {
	type pair struct{ k, v string }
	var buf [4]pair
	ps := buf[:0]
	n := 0
	for i := 0; i+1 < len(kv); i += 2 {
		ps = append(ps, pair{kv[i], kv[i+1]})
		n += len(kv[i]) + len(kv[i+1]) + 4
	}
	slices.SortFunc(ps, func(a, b pair) int { return strings.Compare(a.k, b.k) })
	var b strings.Builder
	b.Grow(n)
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.k)
		b.WriteString(`="`)
		labelEscaper.WriteString(&b, p.v)
		b.WriteByte('"')
	}
	return b.String()
}

func (m *metrics) inc(name string, kv ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counters[name].values[labels(kv...)]++
}

// decision counts one gate evaluation of source: "error" when err is not
// nil (the gate failed closed), else "allow" or "deny".
func (m *metrics) decision(source string, allowed bool, err error) {
	verdict := "deny"
	switch {
	case err != nil:
		verdict = "error"
	case allowed:
		verdict = "allow"
	}
	m.inc("hallmark_gate_decisions_total", "source", source, "verdict", verdict)
}

func (m *metrics) add(name string, v float64, kv ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counters[name].values[labels(kv...)] += v
}

// set sets a gauge.
func (m *metrics) set(name string, v float64, kv ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gauges[name].values[labels(kv...)] = v
}

func (m *metrics) observe(name string, d time.Duration, kv ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.histograms[name]
	l := labels(kv...)
	h := f.series[l]
	if h == nil {
		h = &hist{counts: make([]uint64, len(f.buckets))}
		f.series[l] = h
	}
	s := d.Seconds()
	for i, b := range f.buckets {
		if s <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += s
	h.count++
}

func fmtFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return fmt.Sprintf("%g", f)
}

// write renders every family, sorted by name and labels.
func (m *metrics) write(w io.Writer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	names := make([]string, 0, len(m.counters))
	for n := range m.counters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := m.counters[n]
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", n, f.help, n)
		for _, l := range sortedKeys(f.values) {
			fmt.Fprintf(&b, "%s%s %s\n", n, braces(l), fmtFloat(f.values[l]))
		}
	}
	writeFamilies(&b, m.gauges, "gauge")
	names = names[:0]
	for n := range m.histograms {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := m.histograms[n]
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s histogram\n", n, f.help, n)
		for _, l := range sortedKeys(f.series) {
			h := f.series[l]
			var cum uint64
			sep := ""
			if l != "" {
				sep = ","
			}
			for i, bound := range f.buckets {
				cum += h.counts[i]
				fmt.Fprintf(&b, "%s_bucket{%s%sle=\"%s\"} %d\n", n, l, sep, fmtFloat(bound), cum)
			}
			fmt.Fprintf(&b, "%s_bucket{%s%sle=\"+Inf\"} %d\n", n, l, sep, h.count)
			fmt.Fprintf(&b, "%s_sum%s %s\n%s_count%s %d\n", n, braces(l), fmtFloat(h.sum), n, braces(l), h.count)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFamilies renders families of one type, skipping those with no
// value yet (a gauge never set has no meaningful value).
func writeFamilies(b *strings.Builder, fams map[string]*family, typ string) {
	for _, n := range sortedKeys(fams) {
		f := fams[n]
		if len(f.values) == 0 {
			continue
		}
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", n, f.help, n, typ)
		for _, l := range sortedKeys(f.values) {
			fmt.Fprintf(b, "%s%s %s\n", n, braces(l), fmtFloat(f.values[l]))
		}
	}
}

func braces(l string) string {
	if l == "" {
		return ""
	}
	return "{" + l + "}"
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
