package server

import (
	"testing"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
	"github.com/hallmark-dev/hallmark/store/postgres/pgtest"
)

// TestTwoServersShareOnePostgres: two server instances, each with its own
// connection pool on one database, see each other's uploads and decisions.
func TestTwoServersShareOnePostgres(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	w := newWorld(t)
	open := func() store.Store {
		st, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	_, one := start(t, w, testConfig(t, ""), open())
	_, two := start(t, w, testConfig(t, ""), open())

	if s := call(t, one, "POST", "/v1/bundles", uploaderToken, approval(t, w.approver, digestA, "prod", ""), nil); s != 201 {
		t.Fatalf("upload to server one: %d", s)
	}
	var recs []store.Record
	if s := call(t, two, "GET", "/v1/evidence?subject="+digestA, readerToken, nil, &recs); s != 200 || len(recs) != 1 {
		t.Fatalf("server two sees %d records (status %d), want the upload to server one", len(recs), s)
	}
	// Server two admits the pod on evidence uploaded to server one...
	call(t, one, "POST", "/v1/bundles", uploaderToken, approval(t, w.approver, digestB, "prod", ""), nil)
	if s, msg, ok := review(t, two, "pod.json"); s != 200 || !ok {
		t.Fatalf("server two denied an approved pod: %s", msg)
	}
	// ...and server one lists the decisions server two recorded.
	var ds []gate.Deployment
	if s := call(t, one, "GET", "/v1/deployments?env=prod", readerToken, nil, &ds); s != 200 || len(ds) != 2 {
		t.Fatalf("server one lists %d decisions (status %d), want 2", len(ds), s)
	}
	var h map[string]string
	if s := call(t, two, "GET", "/healthz", "", nil, &h); s != 200 {
		t.Errorf("healthz on PostgreSQL: %d", s)
	}
}
