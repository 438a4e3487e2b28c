package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/compliance"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
)

// withCompliance enables the compliance page with the fixture's presets and
// a decision lister reading the store's decisions verified against its
// trust file (as the composition root's lister does).
func withCompliance(t *testing.T, f *fixture) Option {
	t.Helper()
	presets, err := policy.BuiltinPresets()
	if err != nil {
		t.Fatal(err)
	}
	pols := map[string]*policy.Policy{}
	for _, env := range []string{"dev", "staging"} {
		if pols[env], err = policy.CompilePreset(t.Context(), presets, env); err != nil {
			t.Fatal(err)
		}
	}
	list := func(ctx context.Context, env string, artifact digest.Digest) ([]compliance.DecisionRecord, error) {
		recs, err := f.st.List(ctx, store.Query{PredicateType: gate.DecisionPredicateType, Subject: artifact})
		if err != nil {
			return nil, err
		}
		var out []compliance.DecisionRecord
		for _, rec := range recs {
			d, err := gate.ReadDecision(ctx, rec.Bundle, f.trust)
			if err != nil || d.Environment != env {
				continue
			}
			out = append(out, compliance.DecisionRecord{Artifact: d.Artifact, Deployment: compliance.Deployment{
				ID: rec.ID, Environment: d.Environment, Allowed: d.Allowed, DecidedAt: d.DecidedAt, Source: d.Source, Requester: d.Requester, SLSALevel: d.SLSALevel}})
		}
		return out, nil
	}
	return WithCompliance(Compliance{Policies: pols, Decisions: list})
}

// controlStatus returns the verdict the page shows for a control (the
// status badge in the row whose id is the control's ID).
func controlStatus(t *testing.T, page, id string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var row *html.Node
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "tr" && attr(n, "id") == id {
			row = n
		}
	}
	if row == nil {
		return ""
	}
	for n := range row.Descendants() {
		if n.Type == html.ElementNode && n.Data == "span" && strings.HasPrefix(attr(n, "class"), "badge status-") {
			return strings.TrimPrefix(attr(n, "class"), "badge status-")
		}
	}
	return ""
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestCompliancePage(t *testing.T) {
	f := newFixture(t)
	srv := serve(t, f, withCompliance(t, f))
	ctx := t.Context()

	// The artifact page links to the compliance page per environment.
	_, page := get(t, srv, "/ui/artifacts/"+f.app)
	if missing := inOrder(page, "Compliance", `/ui/artifacts/`+f.app+`/compliance?env=dev`, `/ui/artifacts/`+f.app+`/compliance?env=staging`); missing != "" {
		t.Errorf("artifact page lacks %q", missing)
	}

	// The page shows what compliance.Generate gives for the same inputs,
	// control by control.
	resp, page := get(t, srv, "/ui/artifacts/"+f.app+"/compliance?env=dev")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d:\n%s", resp.StatusCode, page)
	}
	if err := checkNoActiveContent(page); err != nil {
		t.Error(err)
	}
	srvOpt := withCompliance(t, f)
	var cfg config
	if err := srvOpt(&cfg); err != nil {
		t.Fatal(err)
	}
	want, _, err := compliance.Generate(ctx, f.st, compliance.Request{Trust: f.trust, Policy: cfg.compliance.Policies["dev"], Environment: "dev",
		Artifact: policy.Artifact{Digest: digest.MustParse(f.app)}, Now: f.now, Decisions: cfg.compliance.Decisions})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Artifacts) != 1 || len(want.Artifacts[0].Frameworks) == 0 {
		t.Fatalf("report has no frameworks: %+v", want)
	}
	n := 0
	for _, fw := range want.Artifacts[0].Frameworks {
		for _, c := range fw.Controls {
			n++
			if got := controlStatus(t, page, c.ID); got != string(c.Status) {
				t.Errorf("%s %s: page shows %q, report says %q", fw.ID, c.ID, got, c.Status)
			}
			for _, id := range c.Evidence {
				if !strings.Contains(page, `/ui/evidence/`+id) {
					t.Errorf("%s: no link to its evidence %s", c.ID, id)
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d controls judged", n)
	}
	// The vulnerabilities and the recorded decision, as the report lists
	// them; evidence text (the requester) is escaped.
	if missing := inOrder(page, "Vulnerabilities", "GO-2023-2102", "golang.org/x/net", "open", "Recorded decisions", "allow", "ci &lt;script&gt;", "cli"); missing != "" {
		t.Errorf("compliance page lacks %q", missing)
	}
	if strings.Contains(page, fxScript) {
		t.Error("compliance page carries the requester's script unescaped")
	}

	// A control flips to not satisfied when its evidence is missing: the
	// second artifact has an SBOM but no provenance, then gets provenance.
	const control = "SLSA-BUILD-L1"
	if got := controlStatus(t, page, control); got != string(compliance.Satisfied) {
		t.Fatalf("%s for the app: %q, want satisfied", control, got)
	}
	_, page = get(t, srv, "/ui/artifacts/"+f.lib+"/compliance?env=dev")
	if got := controlStatus(t, page, control); got != string(compliance.NotSatisfied) {
		t.Errorf("%s without provenance: %q, want not_satisfied", control, got)
	}
	lib := attesttest.Subject("lib/libhallmark.a", []byte("a second artifact\n"))
	if _, err := f.st.Put(ctx, attesttest.Verified(t, f.keys[trust.RoleBuilder], ProvenancePredicateType, provenancePredicate(t, f.now.Add(-time.Hour)), lib)); err != nil {
		t.Fatal(err)
	}
	_, page = get(t, srv, "/ui/artifacts/"+f.lib+"/compliance?env=dev")
	if got := controlStatus(t, page, control); got != string(compliance.Satisfied) {
		t.Errorf("%s once provenance is stored: %q, want satisfied", control, got)
	}

	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/ui/artifacts/" + f.app + "/compliance", http.StatusOK, "Choose an environment"},
		{"/ui/artifacts/" + f.app + "/compliance?env=prod", http.StatusNotFound, "no policy for environment"},
		{"/ui/artifacts/sha256:xyz/compliance?env=dev", http.StatusBadRequest, "malformed digest"},
	} {
		resp, body := get(t, srv, tc.path)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: %d, want %d with %q", tc.path, resp.StatusCode, tc.status, tc.want)
		}
	}
}

func TestCompliancePageDisabled(t *testing.T) {
	f := newFixture(t)
	srv := serve(t, f)
	resp, _ := get(t, srv, "/ui/artifacts/"+f.app+"/compliance?env=dev")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404 without WithCompliance", resp.StatusCode)
	}
	if _, page := get(t, srv, "/ui/artifacts/"+f.app); strings.Contains(page, "/compliance") {
		t.Error("artifact page links to a compliance page that is not enabled")
	}
	if _, err := New(f.st, f.trust, WithCompliance(Compliance{})); err == nil {
		t.Error("WithCompliance without policies: no error")
	}
}
