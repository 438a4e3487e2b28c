package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/store"
)

// TestAdmissionVSAOnRequest: an admission review records one signed
// record, the decision; GET /v1/deployments/{id}/vsa issues its VSA,
// signed by the gate's key, for readers only.
func TestAdmissionVSAOnRequest(t *testing.T) {
	w := newWorld(t)
	st := openSQLite(t)
	_, ts := start(t, w, testConfig(t, ""), st)
	for _, dg := range []string{digestA, digestB} { // pod.json runs both
		if s := call(t, ts, "POST", "/v1/bundles", uploaderToken, approval(t, w.approver, dg, "prod", ""), nil); s != 201 {
			t.Fatalf("upload: %d", s)
		}
	}
	if s, msg, ok := review(t, ts, "pod.json"); s != 200 || !ok {
		t.Fatalf("approved pod: %d %v %s", s, ok, msg)
	}
	if vsas, err := st.List(t.Context(), store.Query{PredicateType: gate.VSAPredicateType}); err != nil || len(vsas) != 0 {
		t.Fatalf("%d VSAs stored by an admission review (%v), want none", len(vsas), err)
	}
	ds, _, err := gate.Deployments(t.Context(), st, w.trust, gate.DeploymentQuery{})
	if err != nil || len(ds) != 2 {
		t.Fatalf("decisions: %+v %v", ds, err)
	}
	path := "/v1/deployments/" + strings.TrimPrefix(ds[0].ID, "sha256:") + "/vsa"
	if s := call(t, ts, "GET", path, "", nil, nil); s != 401 {
		t.Errorf("GET %s without a token: %d, want 401", path, s)
	}
	var bundle json.RawMessage
	if s := call(t, ts, "GET", path, readerToken, nil, &bundle); s != 200 {
		t.Fatalf("GET %s: %d %s", path, s, bundle)
	}
	v, err := attest.Verify(t.Context(), bundle, w.trust.All())
	if err != nil {
		t.Fatalf("issued VSA does not verify: %v", err)
	}
	var st2 struct {
		Predicate struct {
			ResourceURI        string `json:"resourceUri"`
			VerificationResult string `json:"verificationResult"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(v.Payload, &st2); err != nil || v.PredicateType != gate.VSAPredicateType ||
		st2.Predicate.VerificationResult != "PASSED" || gate.CheckRecordSigner(v, w.trust) != nil {
		t.Errorf("issued VSA: type %s, %+v, %v", v.PredicateType, st2.Predicate, err)
	}
	for _, tc := range []struct {
		id   string
		want int
	}{
		{strings.Repeat("ab", 32), 404},
		{ds[0].Evidence[0], 400}, // the approval: not a decision
	} {
		if s := call(t, ts, "GET", "/v1/deployments/"+tc.id+"/vsa", readerToken, nil, nil); s != tc.want {
			t.Errorf("VSA of %s: %d, want %d", tc.id, s, tc.want)
		}
	}
}
