package server

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/store"
)

// podReview is testdata/pod.json with replacements applied, each of which
// must match.
func podReview(t *testing.T, replace ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pod.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(replace); i += 2 {
		out := bytes.ReplaceAll(b, []byte(replace[i]), []byte(replace[i+1]))
		if bytes.Equal(out, b) {
			t.Fatalf("pod.json has no %s", replace[i])
		}
		b = out
	}
	return b
}

// gateRecords lists the VSAs and decision records the gate stored.
func gateRecords(t *testing.T, st store.Store) []string {
	t.Helper()
	var out []string
	for _, pt := range []string{gate.VSAPredicateType, gate.DecisionPredicateType} {
		recs, err := st.List(t.Context(), store.Query{PredicateType: pt})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			out = append(out, r.PredicateType+" "+r.ID)
		}
	}
	return out
}

// TestAdmissionDryRunRecordsNothing: a dry-run review (kubectl apply
// --dry-run=server) through the HTTP handler, with the real gate and a
// SQLite store, gets the real verdict but stores no VSA and no deployment
// decision, so recheck finds nothing deployed; the webhook configurations
// declare sideEffects: NoneOnDryRun on this. A real review afterwards is
// decided and recorded (the dry run's allow was not cached).
func TestAdmissionDryRunRecordsNothing(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig(t, "")
	st := openSQLite(t)
	s, ts := start(t, w, cfg, st)
	if c := call(t, ts, "POST", "/v1/bundles", uploaderToken, approval(t, w.approver, digestA, "prod", ""), nil); c != 201 {
		t.Fatalf("upload: %d", c)
	}
	dry := podReview(t, `"dryRun": false`, `"dryRun": true`)
	type answer struct {
		Response struct {
			Allowed bool `json:"allowed"`
			Status  struct {
				Message string `json:"message"`
			} `json:"status"`
		} `json:"response"`
	}
	send := func(path string, body []byte) answer {
		t.Helper()
		var a answer
		if c := call(t, ts, "POST", path, "", body, &a); c != 200 {
			t.Fatalf("review: HTTP %d", c)
		}
		return a
	}

	// B has no approval: the dry run is denied with the gate's reasons.
	if a := send("/admission/validate", dry); a.Response.Allowed || !strings.Contains(a.Response.Status.Message, "approvals.missing") ||
		!strings.Contains(a.Response.Status.Message, digestB) {
		t.Fatalf("dry run of a pod with an unapproved image: %+v", a)
	}
	if c := call(t, ts, "POST", "/v1/bundles", uploaderToken, approval(t, w.approver, digestB, "prod", ""), nil); c != 201 {
		t.Fatalf("upload: %d", c)
	}
	for range 2 {
		if a := send("/admission/validate", dry); !a.Response.Allowed {
			t.Fatalf("dry run of an approved pod: %+v", a)
		}
	}
	if got := gateRecords(t, st); len(got) != 0 {
		t.Fatalf("dry-run reviews stored gate records:\n%s", strings.Join(got, "\n"))
	}
	rs, _, err := s.gate.RecheckDeployed(t.Context(), "test")
	if err != nil || len(rs) != 0 {
		t.Fatalf("recheck after dry runs only: %d deployments, %v; want none", len(rs), err)
	}

	// The real review is decided and recorded: nothing was cached.
	if a := send("/admission/validate", podReview(t)); !a.Response.Allowed {
		t.Fatalf("real review: %+v", a)
	}
	if got := gateRecords(t, st); len(got) != 2 {
		t.Errorf("real review stored %d gate records, want a decision for A and for B:\n%s", len(got), strings.Join(got, "\n"))
	}
	ds, _, err := gate.Deployments(t.Context(), st, w.trust, gate.DeploymentQuery{Environment: "prod"})
	if err != nil || len(ds) != 2 {
		t.Fatalf("deployments after the real review: %d, %v; want 2", len(ds), err)
	}
}

// TestAdmissionRecordsEachNamespace: a digest admitted into a second
// namespace is decided and recorded there, not answered from the first
// namespace's cached allow; a repeat in either namespace is cached.
func TestAdmissionRecordsEachNamespace(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig(t, "")
	st := openSQLite(t)
	_, ts := start(t, w, cfg, st)
	for _, b := range [][]byte{approval(t, w.approver, digestA, "prod", ""), approval(t, w.approver, digestB, "prod", "")} {
		if c := call(t, ts, "POST", "/v1/bundles", uploaderToken, b, nil); c != 201 {
			t.Fatalf("upload: %d", c)
		}
	}
	payments := podReview(t)
	billing := podReview(t, `"namespace": "payments"`, `"namespace": "billing"`)
	for _, body := range [][]byte{payments, billing, payments, billing} {
		var a struct {
			Response struct {
				Allowed bool `json:"allowed"`
			} `json:"response"`
		}
		// billing is unmapped: the prod webhook's path selects prod.
		if c := call(t, ts, "POST", "/admission/validate/prod", "", body, &a); c != 200 || !a.Response.Allowed {
			t.Fatalf("approved pod: %d %+v", c, a)
		}
	}
	ds, _, err := gate.Deployments(t.Context(), st, w.trust, gate.DeploymentQuery{Environment: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		ns := "?"
		for _, n := range []string{"payments", "billing"} {
			if strings.Contains(d.Requester, " "+n+"/") {
				ns = n
			}
		}
		got = append(got, fmt.Sprintf("%s %s %v", ns, d.Artifact.Digest.String()[:15], d.Allowed))
	}
	slices.Sort(got)
	want := []string{"billing " + digestA[:15] + " true", "billing " + digestB[:15] + " true", "payments " + digestA[:15] + " true", "payments " + digestB[:15] + " true"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded admissions (-want +got):\n%s", diff)
	}
}
