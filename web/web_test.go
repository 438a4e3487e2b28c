package web

import (
	"bytes"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/trust"
)

// serve starts the dashboard over f's store.
func serve(t *testing.T, f *fixture, opts ...Option) *httptest.Server {
	t.Helper()
	h, err := New(f.st, f.trust, append([]Option{WithClock(func() time.Time { return f.now })}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// get fetches path and returns the response and its body.
func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return resp, string(b)
}

// inOrder reports the first of want that does not appear in body after the
// previous one, or "" when all appear in order.
func inOrder(body string, want ...string) string {
	pos := 0
	for _, w := range want {
		i := strings.Index(body[pos:], w)
		if i < 0 {
			return w
		}
		pos += i + len(w)
	}
	return ""
}

func TestPages(t *testing.T) {
	f := newFixture(t)
	srv := serve(t, f)
	staging, sandbox := f.decisions["staging"], f.decisions["sandbox"]
	approver := f.keys[trust.RoleApprover].Public().ID()
	tests := []struct {
		name, path string
		status     int
		want       []string // each must appear, in this order
		notWant    []string
	}{
		{
			name: "artifacts", path: "/ui/", status: 200,
			want: []string{
				// The app has the most recent evidence (the gate's records).
				`href="/ui/artifacts/` + f.app + `"`, f.appName,
				`<td class="num">14</td>`, // 8 evidence records + a VSA and a decision from each of 3 environments
				`dev: <span class="badge allow">allow</span>`,
				`sandbox: <span class="badge allow">allow</span>`,
				`staging: <span class="badge deny">deny</span>`,
				`href="/ui/artifacts/` + f.lib + `"`, "lib/libhallmark.a", `<td class="num">1</td>`, "no decision",
			},
		},
		{
			name: "artifact evidence chain", path: "/ui/artifacts/" + f.app, status: 200,
			want: []string{
				f.app, f.appName,
				"<h2>Provenance</h2>", `href="/ui/evidence/` + f.ids["provenance"] + `"`, fxBuilder, "git&#43;" + fxRepo, fxCommit, "sandbox (mount, net, pid, user), network off, source read-only",
				"<h2>SBOM</h2>", `href="/ui/evidence/` + f.ids["sbom"] + `"`, "CycloneDX 1.6", "<dd>3</dd>", "hallmark 0.1.0",
				"<h2>Scans</h2>", `href="/ui/evidence/` + f.ids["vulns"] + `"`, "<dd>vulns</dd>", `<span class="badge sev-high">1 high</span>`, `<span class="badge sev-medium">1 medium</span>`,
				`href="/ui/evidence/` + f.ids["misconfig"] + `"`, "<dd>misconfig</dd>", "hallmark-misconfig 0.1.0", `1 high`, `1 low`,
				`href="/ui/evidence/` + f.ids["secrets"] + `"`, "<dd>secrets</dd>", "gitleaks 8.30.1", `1 medium`,
				"<h2>Rebuilds</h2>", `href="/ui/evidence/` + f.ids["rebuild"] + `"`, fxRebuilder, "reproducible (2 runs)", `<span class="badge allow">matched</span>`,
				"<h2>TEE</h2>", `href="/ui/evidence/` + f.ids["tee"] + `"`, "<dd>sev-snp</dd>", `<span class="badge deny">debuggable</span>`, "<dd>1184 bytes</dd>",
				"<h2>Approvals</h2>", `href="/ui/evidence/` + f.ids["approval"] + `"`, approver, "<dd>staging</dd>",
				"<h2>Gate decisions</h2>",
				`href="/ui/evidence/` + staging.Record.ID + `"`, `<span class="badge deny">deny</span> for staging`, "builtin:v1/staging", "misconfig.finding", "HM-DF-001 (high) at Dockerfile", "source.ref_not_allowed",
				`href="/ui/evidence/` + sandbox.Record.ID + `"`, `<span class="badge allow">allow</span> for sandbox`, "file:policies/sandbox.rego",
			},
			notWant: []string{"none stored", `class="problem"`},
		},
		{
			name: "raw statement", path: "/ui/evidence/" + f.ids["provenance"], status: 200,
			want: []string{f.ids["provenance"], "https://slsa.dev/provenance/v1", f.keys[trust.RoleBuilder].Public().ID(), `href="/ui/artifacts/` + f.app + `"`, `&#34;commit&#34;: &#34;` + fxCommit + `&#34;`, fxBuilder},
		},
		{
			name: "deployments", path: "/ui/deployments", status: 200,
			want: []string{
				"<h2>dev</h2>", `<span class="badge allow">allow</span>`, "cli",
				"<h2>sandbox</h2>", `href="/ui/artifacts/` + f.app + `"`, `<span class="badge allow">allow</span>`, "none", "file:policies/sandbox.rego",
				"<h2>staging</h2>", "misconfig.finding", "secrets.finding", "builtin:v1/staging",
			},
		},
		{
			name: "deployments of one environment", path: "/ui/deployments?env=sandbox", status: 200,
			want:    []string{`class="active">sandbox</a>`, "<h2>sandbox</h2>", "allow"},
			notWant: []string{"<h2>dev</h2>", "<h2>staging</h2>"},
		},
		{
			name: "findings", path: "/ui/findings", status: 200,
			want: []string{"GO-2023-2102", `href="/ui/evidence/` + f.ids["vulns"] + `" title="pkg:golang/github.com/hallmark-dev/hallmark 0.1.0"`, "HM-DF-001", "GO-2024-2687", "generic-api-key", "HM-DF-007"},
		},
		{
			name: "findings at least high", path: "/ui/findings?severity=high", status: 200,
			want:    []string{`<option value="high" selected>`, "GO-2023-2102", "CVE-2023-39325; fixed in v0.17.0", "golang.org/x/net v0.15.0", "HM-DF-001", "Dockerfile:1"},
			notWant: []string{"GO-2024-2687", "generic-api-key", "HM-DF-007"},
		},
		{
			name: "secrets only", path: "/ui/findings?kind=secrets", status: 200,
			want:    []string{"generic-api-key", "testdata/fake.env:3"},
			notWant: []string{"GO-2023-2102", "HM-DF-001"},
		},
		{name: "bad digest", path: "/ui/artifacts/sha256:xyz", status: 400, want: []string{"malformed digest"}},
		// The old parser lower-cased the path; links and the store use one
		// spelling, so another is refused with the fix.
		{name: "upper-case digest", path: "/ui/artifacts/sha256:" + strings.ToUpper(strings.TrimPrefix(f.app, "sha256:")), status: 400, want: []string{"lower case"}},
		{name: "unknown artifact", path: "/ui/artifacts/sha256:" + strings.Repeat("0", 64), status: 404, want: []string{"no evidence about"}},
		{name: "unknown evidence", path: "/ui/evidence/sha256:" + strings.Repeat("0", 64), status: 404, want: []string{"no evidence sha256:0000"}},
		{name: "unknown environment", path: "/ui/deployments?env=moon", status: 404, want: []string{"environment moon"}},
		{name: "bad severity", path: "/ui/findings?severity=dire", status: 400, want: []string{"severity &#34;dire&#34;"}},
		{name: "bad kind", path: "/ui/findings?kind=bogus", status: 400},
		{name: "no such page", path: "/ui/nope", status: 404},
		{name: "base path redirects to the list", path: "/ui", status: 200, want: []string{"<h1>Artifacts</h1>", f.app}},
		{name: "outside the base path", path: "/artifacts/" + f.app, status: 404},
		{name: "stylesheet", path: "/ui/static/style.css", status: 200, want: []string{"--allow"}},
		{name: "no static listing", path: "/ui/static/", status: 404},
		{name: "no static traversal", path: "/ui/static/../web.go", status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, srv, tc.path)
			if resp.StatusCode != tc.status {
				t.Fatalf("GET %s: status %d, want %d; body:\n%s", tc.path, resp.StatusCode, tc.status, body)
			}
			if missing := inOrder(body, tc.want...); missing != "" {
				t.Errorf("GET %s: %q missing (or out of order); body:\n%s", tc.path, missing, body)
			}
			for _, nw := range tc.notWant {
				if strings.Contains(body, nw) {
					t.Errorf("GET %s: body contains %q", tc.path, nw)
				}
			}
		})
	}
}

// TestSecurityHeaders checks every kind of response carries the headers.
func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	srv := serve(t, f)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	}
	for _, p := range []string{"/ui/", "/ui/artifacts/" + f.app, "/ui/evidence/" + f.ids["sbom"], "/ui/deployments", "/ui/findings?severity=low", "/ui/static/style.css", "/ui/nope", "/ui/artifacts/bad"} {
		resp, _ := get(t, srv, p)
		got := map[string]string{}
		for k := range want {
			got[k] = resp.Header.Get(k)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("GET %s headers (-want +got):\n%s", p, d)
		}
		ct := resp.Header.Get("Content-Type")
		if wantCT := "text/html; charset=utf-8"; strings.HasSuffix(p, ".css") {
			if !strings.HasPrefix(ct, "text/css") {
				t.Errorf("GET %s: Content-Type %q, want text/css", p, ct)
			}
		} else if ct != wantCT {
			t.Errorf("GET %s: Content-Type %q, want %q", p, ct, wantCT)
		}
	}
}

// TestEscaping checks that text from predicates (a finding title, an
// approval comment, a requester) containing a script tag is escaped on
// every page that shows it, and that no page has a script, a style
// element, an inline style or an event handler attribute.
func TestEscaping(t *testing.T) {
	f := newFixture(t)
	srv := serve(t, f)
	// The raw statement shows the JSON string, whose quotes are
	// backslash-escaped, so look for the escaped opening tag and call.
	escaped := template.HTMLEscapeString(`<script>alert(`)
	for _, p := range []string{"/ui/", "/ui/artifacts/" + f.app, "/ui/evidence/" + f.ids["approval"], "/ui/evidence/" + f.ids["misconfig"], "/ui/deployments", "/ui/findings"} {
		_, body := get(t, srv, p)
		if strings.Contains(body, "<script") {
			t.Errorf("GET %s: page contains a raw <script", p)
		}
		if p != "/ui/" && !strings.Contains(body, escaped) {
			t.Errorf("GET %s: escaped %q not found", p, escaped)
		}
		if err := checkNoActiveContent(body); err != nil {
			t.Errorf("GET %s: %v", p, err)
		}
	}
}

// checkNoActiveContent parses an HTML page and fails on script and style
// elements, style attributes and on* event handlers.
func checkNoActiveContent(page string) error {
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return nil
			}
			return z.Err()
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if tok.Data == "script" || tok.Data == "style" {
				return errors.New("page has a <" + tok.Data + "> element")
			}
			for _, a := range tok.Attr {
				if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
					return errors.New("element <" + tok.Data + "> has attribute " + a.Key)
				}
				if (a.Key == "href" || a.Key == "action" || a.Key == "src") && strings.HasPrefix(strings.ToLower(a.Val), "javascript:") {
					return errors.New("element <" + tok.Data + "> links to javascript:")
				}
			}
		}
	}
}

func TestMethods(t *testing.T) {
	f := newFixture(t)
	srv := serve(t, f)
	tests := []struct {
		name, method string
		header       map[string]string
		status       int
	}{
		{"head", http.MethodHead, nil, http.StatusOK},
		{"same-origin post", http.MethodPost, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusMethodNotAllowed},
		{"cross-site post", http.MethodPost, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"cross-origin delete", http.MethodDelete, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"put", http.MethodPut, nil, http.StatusMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+"/ui/findings", strings.NewReader("severity=low"))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("%s: status %d, want %d (%s)", tc.method, resp.StatusCode, tc.status, b)
			}
			if tc.method == http.MethodHead && len(b) != 0 {
				t.Errorf("HEAD returned a body of %d bytes", len(b))
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
				t.Errorf("CSP %q", got)
			}
		})
	}
}

func TestPagination(t *testing.T) {
	f := newFixture(t)
	t.Run("page size", func(t *testing.T) {
		srv := serve(t, f, WithPageSize(1))
		_, p1 := get(t, srv, "/ui/")
		_, p2 := get(t, srv, "/ui/?page=2")
		_, p9 := get(t, srv, "/ui/?page=9")
		for _, c := range []struct {
			name, body, want, notWant string
		}{
			{"page 1", p1, "page 1 of 2", f.lib},
			{"page 1 next", p1, `href="/ui/?page=2"`, ""},
			{"page 2", p2, f.lib, f.app},
			{"page 2 prev", p2, `href="/ui/?page=1"`, ""},
			{"beyond the last page", p9, "page 2 of 2", ""},
		} {
			if !strings.Contains(c.body, c.want) {
				t.Errorf("%s: %q missing", c.name, c.want)
			}
			if c.notWant != "" && strings.Contains(c.body, c.notWant) {
				t.Errorf("%s: %q present", c.name, c.notWant)
			}
		}
		_, fp := get(t, srv, "/ui/findings?severity=medium&page=2")
		if !strings.Contains(fp, "page 2 of 4") || !strings.Contains(fp, `href="/ui/findings?page=3&amp;severity=medium"`) {
			t.Errorf("findings page 2 of the medium-or-worse findings lacks its pager:\n%s", fp)
		}
	})
	t.Run("record cap", func(t *testing.T) {
		srv := serve(t, f, WithMaxRecords(10))
		_, body := get(t, srv, "/ui/")
		if !strings.Contains(body, "first 10 matching records") {
			t.Errorf("capped page does not say it is capped:\n%s", body)
		}
		_, full := get(t, serve(t, f), "/ui/")
		if strings.Contains(full, `class="notice"`) {
			t.Errorf("uncapped page says it is capped")
		}
	})
}

func TestBasePath(t *testing.T) {
	f := newFixture(t)
	srv := serve(t, f, WithBasePath(""))
	resp, body := get(t, srv, "/")
	if resp.StatusCode != 200 || !strings.Contains(body, `href="/artifacts/`+f.app+`"`) || !strings.Contains(body, `href="/static/style.css"`) {
		t.Fatalf("root-mounted dashboard: status %d, body:\n%s", resp.StatusCode, body)
	}
	srv = serve(t, f, WithBasePath("/admin/hallmark"))
	resp, body = get(t, srv, "/admin/hallmark/findings")
	if resp.StatusCode != 200 || !strings.Contains(body, `action="/admin/hallmark/findings"`) {
		t.Fatalf("dashboard under /admin/hallmark: status %d, body:\n%s", resp.StatusCode, body)
	}
}

// TestStoreError closes the store under the dashboard: pages fail with a
// 500 that does not leak the error, which goes to the log.
func TestStoreError(t *testing.T) {
	f := newFixture(t)
	var logBuf bytes.Buffer
	srv := serve(t, f, WithLogger(slog.New(slog.NewTextHandler(&logBuf, nil))))
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/ui/", "/ui/artifacts/" + f.app, "/ui/deployments", "/ui/findings", "/ui/evidence/" + f.ids["tee"]} {
		resp, body := get(t, srv, p)
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("GET %s on a closed store: status %d, want 500", p, resp.StatusCode)
		}
		if strings.Contains(body, "closed") {
			t.Errorf("GET %s: the page leaks the store error:\n%s", p, body)
		}
	}
	if !strings.Contains(logBuf.String(), "store query failed") {
		t.Errorf("store errors were not logged; log:\n%s", logBuf.String())
	}
}

func TestNewOptions(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		opt  Option
	}{
		{"nil clock", WithClock(nil)},
		{"nil logger", WithLogger(nil)},
		{"base path without slash", WithBasePath("ui")},
		{"base path with trailing slash", WithBasePath("/ui/")},
		{"base path with a quote", WithBasePath(`/u"i`)},
		{"page size 0", WithPageSize(0)},
		{"page size too big", WithPageSize(1001)},
		{"max records too small", WithMaxRecords(5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(f.st, f.trust, tc.opt); !errors.Is(err, ErrBadOption) {
				t.Errorf("New with %s: error %v, want ErrBadOption", tc.name, err)
			}
		})
	}
	if _, err := New(nil, f.trust); !errors.Is(err, ErrBadOption) {
		t.Errorf("New(nil): error %v, want ErrBadOption", err)
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "never"},
		{now.Add(time.Hour), "in the future"},
		{now.Add(-30 * time.Second), "just now"},
		{now.Add(-59 * time.Minute), "59m ago"},
		{now.Add(-3 * time.Hour), "3h ago"},
		{now.Add(-47 * time.Hour), "47h ago"},
		{now.Add(-72 * time.Hour), "3d ago"},
	}
	for _, tc := range tests {
		if got := ago(now, tc.t); got != tc.want {
			t.Errorf("ago(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

// TestForgedDecisionNotCounted: a decision signed by a key without the
// gate role is shown with the reason it does not count, on every view (the
// outcome of verifying it is kept, not forgotten), and a real one still
// counts.
func TestForgedDecisionNotCounted(t *testing.T) {
	f := newFixture(t)
	d := gate.Decision{Artifact: policy.Artifact{Digest: digest.MustParse(f.app), Name: f.appName}, Environment: "prod", Allowed: true, DecidedAt: f.now, Requester: "mallory", Source: "admission", Violations: []policy.Violation{}}
	forged := attesttest.Verified(t, f.keys[trust.RoleScanner], gate.DecisionPredicateType, d, attest.Subject{Name: f.appName, Digest: map[string]string{"sha256": strings.TrimPrefix(f.app, "sha256:")}})
	if _, err := f.st.Put(t.Context(), forged); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, f)
	for view := range 2 {
		_, body := get(t, srv, "/ui/artifacts/"+f.app)
		if !strings.Contains(body, "not counted as the gate&#39;s record") || !strings.Contains(body, "gate role") {
			t.Fatalf("view %d: the forged decision is not flagged:\n%.3000s", view, body)
		}
		_, deps := get(t, srv, "/ui/deployments")
		if strings.Contains(deps, "mallory") {
			t.Fatalf("view %d: the deployments page lists the forged decision", view)
		}
	}
}

// TestIsolationAsTheGateReadsIt: the dashboard states a build's isolation
// from provenance.Summarize, the reader the gate gives policy. The old page
// read internalParameters itself and showed a bare "sandbox": true (no
// record of Hallmark's shape, which the gate does not count) as
// "sandboxed, no network".
func TestIsolationAsTheGateReadsIt(t *testing.T) {
	f := newFixture(t)
	pred := map[string]any{
		"buildDefinition": map[string]any{"buildType": "https://example.com/build/v1", "externalParameters": map[string]any{"a": 1},
			"internalParameters": map[string]any{"sandbox": true, "network": false, "hermetic": true}},
		"runDetails": map[string]any{"builder": map[string]any{"id": "https://example.com/builder"}},
	}
	v := attesttest.Verified(t, f.keys[trust.RoleBuilder], ProvenancePredicateType, pred, attest.Subject{Name: f.appName, Digest: map[string]string{"sha256": strings.TrimPrefix(f.app, "sha256:")}})
	if _, err := f.st.Put(t.Context(), v); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, f)
	_, body := get(t, srv, "/ui/artifacts/"+f.app)
	if !strings.Contains(body, "<dd>sandbox not recorded</dd>") || strings.Contains(body, "sandboxed") || strings.Contains(body, "hermetic") {
		t.Errorf("isolation of a provenance without a sandbox record:\n%.3000s", body)
	}
}

// TestRebuildViewAsTheGateReadsIt: the dashboard's "matched" is the
// gate's (repro.Predicate.Vouches). The old page called a product without
// an expectation matched whenever it was reproducible, though the check as
// a whole was not, where the gate does not count it.
func TestRebuildViewAsTheGateReadsIt(t *testing.T) {
	a, b := digest.Sum256([]byte("app")), digest.Sum256([]byte("lib"))
	pred := []byte(`{"rebuilder":{"id":"r"},"command":["make"],"runs":2,"variations":[],"products":[` +
		`{"name":"app","digest":{"sha256":"` + a.Hex() + `"},"runDigests":["` + a.Hex() + `","` + a.Hex() + `"],"reproducible":true},` +
		`{"name":"lib","digest":{"sha256":"` + b.Hex() + `"},"runDigests":["` + b.Hex() + `","00"],"reproducible":false}],` +
		`"result":"not-reproducible","startedOn":"2026-01-01T00:00:00Z","finishedOn":"2026-01-01T00:01:00Z"}`)
	v, _, err := decodeRebuild(pred, a)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Mentioned || v.Matched {
		t.Errorf("rebuild view: mentioned %t, matched %t; want mentioned, not matched", v.Mentioned, v.Matched)
	}
}

// TestFindingsAsTheGateReadsThem: a findings predicate is read by
// finding.Read, the gate's reader, which refuses keys outside its closed
// schema. The old page decoded it openly and listed the findings of a
// predicate the gate ignores as unreadable.
func TestFindingsAsTheGateReadsThem(t *testing.T) {
	it := item{PredicateType: finding.PredicateType}
	pred := []byte(`{"kind":"secrets","scanner":{"name":"s"},"target":"t","scannedAt":"2026-01-01T00:00:00Z","findings":[],"suppressAll":true}`)
	if err := decodePredicate(&it, pred, digest.Digest{}); err == nil || it.Scan != nil {
		t.Errorf("decoded a findings predicate with an unknown key: %v, %+v", err, it.Scan)
	}
}
