package server

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/sbom"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
)

// TestRecheckIncremental: POST /v1/recheck {"incremental": true} offers
// what `hallmark recheck --incremental` does, through the same
// impact.Selector: after a database import that changes nothing since the
// last recheck, only the deployed artifact without an indexed SBOM (B) is
// re-evaluated, not the one whose real SBOM no change touches (A). A server
// without vulnDB, or "since" without "incremental", is refused.
func TestRecheckIncremental(t *testing.T) {
	w := newWorld(t)
	dbDir := filepath.Join(t.TempDir(), "osv")
	st := openSQLite(t)
	_, ts := start(t, w, testConfig(t, "vulnDB: "+dbDir+"\n"), st)

	inv, err := sbom.Scan(t.Context(), "../../sbom/testdata/tree/go")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := sbom.Document(inv, sbom.CycloneDX, sbom.DocumentInfo{Created: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if c := call(t, ts, "POST", "/v1/bundles", uploaderToken, attesttest.Bundle(t, w.scanner, sbom.PredicateCycloneDX, json.RawMessage(doc), subject(digestA)), nil); c != 201 {
		t.Fatalf("upload SBOM: %d", c)
	}
	for _, b := range [][]byte{approval(t, w.approver, digestA, "prod", ""), approval(t, w.approver, digestB, "prod", "")} {
		call(t, ts, "POST", "/v1/bundles", uploaderToken, b, nil)
	}
	if s, msg, ok := review(t, ts, "pod.json"); s != 200 || !ok { // A and B deployed in prod
		t.Fatalf("review: %d %v %s", s, ok, msg)
	}
	if _, err := osvdb.Import(t.Context(), dbDir, "../../vuln/testdata/osv/go", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if s := call(t, ts, "POST", "/v1/recheck", adminToken, nil, nil); s != 200 {
		t.Fatalf("full recheck: %d", s)
	}

	var ans RecheckAnswer
	if s := call(t, ts, "POST", "/v1/recheck", adminToken, []byte(`{"incremental": true}`), &ans); s != 200 {
		t.Fatalf("incremental recheck: %d", s)
	}
	var got []string
	for _, r := range ans.Rechecked {
		got = append(got, r.Artifact.Digest.String())
	}
	if !slices.Equal(got, []string{digestB}) {
		t.Errorf("incremental recheck rechecked %v, want only B (%s)", got, digestB)
	}
	if ans.Incremental == nil || ans.Incremental.Since.IsZero() || !slices.Equal(ans.Incremental.Unindexed, []string{digestB}) || ans.Deployed != 2 {
		t.Errorf("incremental summary %+v (deployed %d), want since the full recheck, B unindexed, 2 deployed", ans.Incremental, ans.Deployed)
	}

	if s := call(t, ts, "POST", "/v1/recheck", adminToken, []byte(`{"since": "2026-11-25T12:00:00Z"}`), nil); s != 400 {
		t.Errorf("since without incremental: %d, want 400", s)
	}
	_, bare := start(t, w, testConfig(t, ""), st)
	var e struct{ Error string }
	if s := call(t, bare, "POST", "/v1/recheck", adminToken, []byte(`{"incremental": true}`), &e); s != 400 || !strings.Contains(e.Error, "vulnDB") {
		t.Errorf("incremental without vulnDB: %d %q, want 400 naming vulnDB", s, e.Error)
	}
}
