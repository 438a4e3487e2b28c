package web

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/vuln"
)

// pageData is what every page template gets.
type pageData struct {
	Title string
	// Nav is the active navigation entry: "artifacts", "deployments" or
	// "findings".
	Nav string
	// Truncated is set when the page was built from the first MaxRecords
	// records only.
	Truncated  bool
	MaxRecords int
	Body       any
}

// pager is the position in a paginated table.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string
}

// paginate returns the rows of page p (1-based) of n rows and the pager
// whose links are built from base with the query q plus "page".
func (d *dashboard) paginate(n int, r *http.Request, path string, q url.Values) (lo, hi int, pg pager) {
	size := d.cfg.pageSize
	pg.Total = n
	pg.Pages = max(1, (n+size-1)/size)
	pg.Page = 1
	if p, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && p > 1 {
		pg.Page = min(p, pg.Pages)
	}
	link := func(p int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(p))
		return d.cfg.basePath + path + "?" + v.Encode()
	}
	if pg.Page > 1 {
		pg.Prev = link(pg.Page - 1)
	}
	if pg.Page < pg.Pages {
		pg.Next = link(pg.Page + 1)
	}
	lo = (pg.Page - 1) * size
	hi = min(lo+size, n)
	return lo, hi, pg
}

// list reads the records matching q, the newest MaxRecords of them, and
// reports whether there were more.
func (d *dashboard) list(r *http.Request, q store.Query) ([]store.Record, bool, error) {
	q.Limit = d.cfg.maxRecords + 1
	q.Newest = true
	recs, err := d.st.List(r.Context(), q)
	if err != nil {
		return nil, false, err
	}
	if len(recs) > d.cfg.maxRecords {
		return recs[:d.cfg.maxRecords], true, nil
	}
	return recs, false, nil
}

// decode is decodeRecord, with the gate's own records (decisions, VSAs)
// verified against the trust file: one that does not verify or that no
// gate-role key signed keeps only a Problem saying why, so it is shown but
// never counted as a decision. With WithVerifyOptions (a trusted root)
// every record is verified, and one whose log entries or timestamps do not
// hold is shown with a Problem saying it is not verified.
func (d *dashboard) decode(r *http.Request, rec store.Record, artifact digest.Digest) item {
	it := decodeRecord(rec, artifact)
	gateRecord := slices.Contains(gate.RecordPredicateTypes(), rec.PredicateType)
	if !gateRecord && len(d.cfg.verify) == 0 {
		return it
	}
	problem := d.checkRecord(r, rec, gateRecord)
	switch {
	case problem == "":
	case gateRecord:
		it.Decision, it.VSA = nil, nil
		it.Problem = "not counted as the gate's record: " + problem
	case it.Problem == "":
		it.Problem = "not verified: " + problem
	}
	return it
}

// checkRecord verifies a stored record (with the dashboard's verify
// options, and for the gate's records its signer's role) and returns why it
// does not count, or "". Outcomes are kept by the SHA-256 of the bundle's
// bytes (the same bytes against the same trust file always give the same
// outcome), so a page view verifies only records it has not seen before:
// verifying every decision on every view made the deployments page 4x
// slower.
func (d *dashboard) checkRecord(r *http.Request, rec store.Record, gateRecord bool) string {
	sum := sha256.Sum256(rec.Bundle)
	key := hex.EncodeToString(sum[:])
	d.checkedMu.Lock()
	problem, ok := d.checked.Get(key)
	d.checkedMu.Unlock()
	if ok {
		return problem
	}
	v, err := attest.Verify(r.Context(), rec.Bundle, d.trust.All(), append([]attest.VerifyOption{attest.WithInputName("stored " + rec.ID)}, d.cfg.verify...)...)
	if err == nil && gateRecord {
		err = gate.CheckRecordSigner(v, d.trust)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err.Error() // the request's fate, not the record's: not kept
	}
	problem = ""
	if err != nil {
		problem = err.Error()
	}
	d.checkedMu.Lock()
	d.checked.Add(key, problem)
	d.checkedMu.Unlock()
	return problem
}

// artifactRow is one artifact of the list page.
type artifactRow struct {
	Digest    string
	Name      string
	Evidence  int
	LastSeen  time.Time
	Decisions []decisionView // latest per environment, by environment name
}

type artifactsBody struct {
	Rows  []artifactRow
	Pager pager
}

// artifacts lists the distinct sha256 subject digests with their evidence
// counts and latest decision per environment, most recently active first.
func (d *dashboard) artifacts(w http.ResponseWriter, r *http.Request) {
	recs, truncated, err := d.list(r, store.Query{})
	if err != nil {
		d.serverError(w, r, err)
		return
	}
	byDigest := map[string]*artifactRow{}
	latest := map[string]map[string]decisionView{}
	for _, rec := range recs {
		seen := map[string]bool{}
		for _, s := range rec.Subjects {
			sd, err := s.SHA256()
			dg := sd.String()
			if err != nil || seen[dg] {
				continue
			}
			seen[dg] = true
			row := byDigest[dg]
			if row == nil {
				row = &artifactRow{Digest: dg}
				byDigest[dg] = row
			}
			row.Evidence++
			row.Name = first(row.Name, s.Name)
			if rec.StoredAt.After(row.LastSeen) {
				row.LastSeen = rec.StoredAt
			}
		}
		if rec.PredicateType == gate.DecisionPredicateType {
			it := d.decode(r, rec, digest.Digest{})
			if it.Decision == nil {
				continue
			}
			dg := it.Decision.Artifact.Digest.String()
			if latest[dg] == nil {
				latest[dg] = map[string]decisionView{}
			}
			if prev, ok := latest[dg][it.Decision.Environment]; !ok || !it.Decision.DecidedAt.Before(prev.DecidedAt) {
				latest[dg][it.Decision.Environment] = *it.Decision
			}
		}
	}
	rows := make([]artifactRow, 0, len(byDigest))
	for dg, row := range byDigest {
		for _, env := range sortedKeys(latest[dg]) {
			row.Decisions = append(row.Decisions, latest[dg][env])
		}
		rows = append(rows, *row)
	}
	slices.SortFunc(rows, func(a, b artifactRow) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), strings.Compare(a.Digest, b.Digest))
	})
	lo, hi, pg := d.paginate(len(rows), r, "/", nil)
	d.render(w, r, "artifacts", pageData{Title: "Artifacts", Nav: "artifacts", Truncated: truncated, MaxRecords: d.cfg.maxRecords,
		Body: artifactsBody{Rows: rows[lo:hi], Pager: pg}})
}

// stageGroup is one stage of the evidence chain with its items, oldest
// first.
type stageGroup struct {
	Stage Stage
	Items []item
}

type artifactBody struct {
	Digest   string
	Names    []string
	Stages   []stageGroup
	Evidence int
	// Latest is the latest decision per environment, by environment.
	Latest []decisionView
	// Compliance links to the compliance page per environment (empty when
	// it is not enabled).
	Compliance []envLink
}

// envLink is a link about one environment.
type envLink struct{ Environment, Href string }

// artifact shows the evidence chain of one artifact.
func (d *dashboard) artifact(w http.ResponseWriter, r *http.Request) {
	dg, err := parseDigest(r.PathValue("digest"))
	if err != nil {
		d.clientError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	recs, truncated, err := d.list(r, store.Query{Subject: dg})
	if err != nil {
		d.serverError(w, r, err)
		return
	}
	if len(recs) == 0 {
		d.clientError(w, r, http.StatusNotFound, "no evidence about "+dg.String()+" is stored")
		return
	}
	// The newest records were read; the chain reads oldest first.
	slices.Reverse(recs)
	body := artifactBody{Digest: dg.String(), Evidence: len(recs)}
	groups := make([][]item, StageOther+1)
	for _, rec := range recs {
		for _, s := range rec.Subjects {
			if dg.In(s.Digest) && s.Name != "" && !slices.Contains(body.Names, s.Name) {
				body.Names = append(body.Names, s.Name)
			}
		}
		it := d.decode(r, rec, dg)
		groups[it.Stage] = append(groups[it.Stage], it)
	}
	latest := map[string]decisionView{}
	for _, it := range groups[StageDecision] {
		if d := it.Decision; d != nil && d.Artifact.Digest == dg {
			if prev, ok := latest[d.Environment]; !ok || !d.DecidedAt.Before(prev.DecidedAt) {
				latest[d.Environment] = *d
			}
		}
	}
	for _, env := range sortedKeys(latest) {
		body.Latest = append(body.Latest, latest[env])
	}
	for st, items := range groups {
		slices.SortStableFunc(items, func(a, b item) int { return a.When().Compare(b.When()) })
		if len(items) > 0 || Stage(st) < StageOther {
			body.Stages = append(body.Stages, stageGroup{Stage: Stage(st), Items: items})
		}
	}
	slices.Sort(body.Names)
	for _, env := range d.complianceEnvs() {
		body.Compliance = append(body.Compliance, envLink{Environment: env, Href: d.complianceLink(dg.String(), env)})
	}
	d.render(w, r, "artifact", pageData{Title: "Artifact " + short(dg.String()), Nav: "artifacts", Truncated: truncated, MaxRecords: d.cfg.maxRecords, Body: body})
}

// When is the time an item is ordered by: the time its predicate states,
// else when it was stored.
func (it item) When() time.Time {
	if !it.Time.IsZero() {
		return it.Time
	}
	return it.StoredAt
}

type evidenceBody struct {
	Record    store.Record
	Item      item
	Statement string
}

// evidence shows one record's raw statement.
func (d *dashboard) evidence(w http.ResponseWriter, r *http.Request) {
	id, err := parseDigest(r.PathValue("id"))
	if err != nil {
		d.clientError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	rec, err := d.st.Get(r.Context(), id.String())
	if errors.Is(err, store.ErrNotFound) {
		d.clientError(w, r, http.StatusNotFound, "no evidence "+id.String()+" is stored")
		return
	}
	if err != nil {
		d.serverError(w, r, err)
		return
	}
	body := evidenceBody{Record: rec, Item: d.decode(r, rec, digest.Digest{})}
	if payload, err := payloadOf(rec); err == nil {
		// Indent for reading, keeping the text as signed (json.Indent
		// does not reorder keys or escape HTML; the template escapes it).
		var b bytes.Buffer
		if json.Indent(&b, payload, "", "  ") == nil {
			body.Statement = b.String()
		}
		if body.Statement == "" {
			body.Statement = string(payload)
		}
	}
	d.render(w, r, "evidence", pageData{Title: "Evidence " + short(id.String()), Body: body})
}

type envHistory struct {
	Environment string
	Decisions   []decisionView
	Pager       pager
}

type deploymentsBody struct {
	Environments []string
	Selected     string
	Histories    []envHistory
}

// deployments shows the gate decisions per environment, newest first.
func (d *dashboard) deployments(w http.ResponseWriter, r *http.Request) {
	recs, truncated, err := d.list(r, store.Query{PredicateType: gate.DecisionPredicateType})
	if err != nil {
		d.serverError(w, r, err)
		return
	}
	byEnv := map[string][]decisionView{}
	for _, rec := range recs {
		if it := d.decode(r, rec, digest.Digest{}); it.Decision != nil {
			byEnv[it.Decision.Environment] = append(byEnv[it.Decision.Environment], *it.Decision)
		}
	}
	body := deploymentsBody{Environments: sortedKeys(byEnv), Selected: r.URL.Query().Get("env")}
	for _, env := range body.Environments {
		if body.Selected != "" && env != body.Selected {
			continue
		}
		ds := byEnv[env]
		slices.SortStableFunc(ds, func(a, b decisionView) int { return b.DecidedAt.Compare(a.DecidedAt) })
		h := envHistory{Environment: env}
		if body.Selected != "" {
			lo, hi, pg := d.paginate(len(ds), r, "/deployments", url.Values{"env": {env}})
			h.Decisions, h.Pager = ds[lo:hi], pg
		} else {
			// The overview shows the first page of each; the pager links to
			// the environment's own history.
			h.Decisions = ds[:min(len(ds), d.cfg.pageSize)]
			h.Pager = pager{Page: 1, Pages: max(1, (len(ds)+d.cfg.pageSize-1)/d.cfg.pageSize), Total: len(ds)}
			if len(ds) > d.cfg.pageSize {
				h.Pager.Next = d.cfg.basePath + "/deployments?" + url.Values{"env": {env}, "page": {"2"}}.Encode()
			}
		}
		body.Histories = append(body.Histories, h)
	}
	if body.Selected != "" && len(body.Histories) == 0 {
		d.clientError(w, r, http.StatusNotFound, "no deployment decision for environment "+body.Selected+" is stored")
		return
	}
	d.render(w, r, "deployments", pageData{Title: "Deployments", Nav: "deployments", Truncated: truncated, MaxRecords: d.cfg.maxRecords, Body: body})
}

// findingEntry is one finding with the artifact and evidence it is from.
type findingEntry struct {
	findingRow
	Artifacts []string
	Evidence  string
	Scanner   string
}

type findingsBody struct {
	Severities []string
	Kinds      []string
	MinSev     string
	Kind       string
	Counts     []sevCount
	Rows       []findingEntry
	Pager      pager
}

// findings lists the findings of every scan, worst first, filtered by a
// minimum severity and a kind (GET parameters "severity" and "kind").
func (d *dashboard) findings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	body := findingsBody{
		Severities: []string{"", "critical", "high", "medium", "low", "info"},
		Kinds:      []string{"", "vulns", finding.KindMisconfig, finding.KindSecrets},
		MinSev:     q.Get("severity"),
		Kind:       q.Get("kind"),
	}
	minSev := finding.SeverityUnknown
	if body.MinSev != "" {
		s, err := finding.ParseSeverity(body.MinSev)
		if err != nil || s == finding.SeverityUnknown {
			d.clientError(w, r, http.StatusBadRequest, fmt.Sprintf("severity %q: want critical, high, medium, low or info", body.MinSev))
			return
		}
		minSev = s
	}
	if !slices.Contains(body.Kinds, body.Kind) {
		d.clientError(w, r, http.StatusBadRequest, fmt.Sprintf("kind %q: want vulns, misconfig or secrets", body.Kind))
		return
	}
	var recs []store.Record
	truncated := false
	for _, pt := range []string{vuln.PredicateType, finding.PredicateType} {
		if (pt == vuln.PredicateType) != (body.Kind == "vulns") && body.Kind != "" {
			continue
		}
		rs, tr, err := d.list(r, store.Query{PredicateType: pt})
		if err != nil {
			d.serverError(w, r, err)
			return
		}
		recs, truncated = append(recs, rs...), truncated || tr
	}
	var rows []findingEntry
	for _, rec := range recs {
		it := decodeRecord(rec, digest.Digest{})
		if it.Scan == nil || (body.Kind != "" && it.Scan.Kind != body.Kind) {
			continue
		}
		var arts []string
		for _, s := range rec.Subjects {
			if sd, err := s.SHA256(); err == nil {
				arts = append(arts, sd.String())
			}
		}
		for _, f := range it.Scan.Findings {
			if minSev != finding.SeverityUnknown && !f.Severity.AtLeast(minSev, false) {
				continue
			}
			rows = append(rows, findingEntry{findingRow: f, Artifacts: arts, Evidence: rec.ID, Scanner: it.Scan.Scanner})
		}
	}
	slices.SortStableFunc(rows, func(a, b findingEntry) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), strings.Compare(a.ID, b.ID))
	})
	all := make([]findingRow, len(rows))
	for i, f := range rows {
		all[i] = f.findingRow
	}
	body.Counts = countSeverities(all)
	filter := url.Values{}
	if body.MinSev != "" {
		filter.Set("severity", body.MinSev)
	}
	if body.Kind != "" {
		filter.Set("kind", body.Kind)
	}
	lo, hi, pg := d.paginate(len(rows), r, "/findings", filter)
	body.Rows, body.Pager = rows[lo:hi], pg
	d.render(w, r, "findings", pageData{Title: "Findings", Nav: "findings", Truncated: truncated, MaxRecords: d.cfg.maxRecords, Body: body})
}

func (d *dashboard) notFound(w http.ResponseWriter, r *http.Request) {
	d.clientError(w, r, http.StatusNotFound, "no such page: "+r.URL.Path)
}

// clientError renders an error page for a bad request.
func (d *dashboard) clientError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	d.renderStatus(w, r, code, "error", pageData{Title: http.StatusText(code), Body: msg})
}

// serverError logs err and renders a page that does not reveal it.
func (d *dashboard) serverError(w http.ResponseWriter, r *http.Request, err error) {
	d.cfg.log.ErrorContext(r.Context(), "dashboard: store query failed", "path", r.URL.Path, "err", err)
	d.renderStatus(w, r, http.StatusInternalServerError, "error", pageData{Title: "Store unavailable", Body: "The evidence store could not be read; the error is in the server log."})
}

func (d *dashboard) render(w http.ResponseWriter, r *http.Request, page string, data pageData) {
	d.renderStatus(w, r, http.StatusOK, page, data)
}

// renderStatus executes the page into a buffer first so a template error
// becomes a clean 500 rather than half a page.
func (d *dashboard) renderStatus(w http.ResponseWriter, r *http.Request, code int, page string, data pageData) {
	var b strings.Builder
	if err := d.pages[page].ExecuteTemplate(&b, "layout", data); err != nil {
		d.cfg.log.ErrorContext(r.Context(), "dashboard: render failed", "page", page, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(b.String()))
	}
}

// parseDigest reads a sha256 digest from a path value: artifacts and
// evidence are named by sha256 (digest.Parse is strict about case).
func parseDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil {
		return digest.Digest{}, err
	}
	if d.Algorithm() != digest.SHA256 {
		return digest.Digest{}, fmt.Errorf("%q: want sha256:<64 hex digits>", s)
	}
	return d, nil
}

func short(dg string) string {
	if len(dg) > 19 {
		return dg[:19] + "…"
	}
	return dg
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// parseTemplates parses each page template together with the layout.
func parseTemplates(funcs template.FuncMap) (map[string]*template.Template, error) {
	base, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, p := range []string{"artifacts", "artifact", "evidence", "deployments", "findings", "compliance", "error"} {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("web: clone layout: %w", err)
		}
		if _, err := t.ParseFS(templateFS, "templates/"+p+".html"); err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", p, err)
		}
		pages[p] = t
	}
	return pages, nil
}

// funcs are the template functions.
func (d *dashboard) funcs() template.FuncMap {
	return template.FuncMap{
		"base":  func() string { return d.cfg.basePath },
		"short": short,
		"ago":   func(t time.Time) string { return ago(d.cfg.now(), t) },
		"ts": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		},
		"join": strings.Join,
	}
}

// ago renders how long before now t was, coarsely ("3h ago").
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 0 {
		return "in the future"
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
	}
}
