package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
)

// PostgresDSNEnv names the database the PostgreSQL tests use, as in
// store/postgres; "skip" skips them explicitly.
const PostgresDSNEnv = "HALLMARK_TEST_POSTGRES"

const defaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// freshSchema creates an empty schema and returns a DSN whose search_path
// points at it.
func freshSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(PostgresDSNEnv)
	if dsn == "skip" {
		t.Skip(PostgresDSNEnv + "=skip: PostgreSQL tests skipped on request")
	}
	if dsn == "" {
		dsn = defaultPostgresDSN
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable at %s (%v): start it (.ci/run does) or set %s=skip", dsn, err, PostgresDSNEnv)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	rand.Read(b)
	schema := "hm_srv_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestTwoServersShareOnePostgres: two server instances, each with its own
// connection pool on one database, see each other's uploads and decisions.
func TestTwoServersShareOnePostgres(t *testing.T) {
	dsn := freshSchema(t)
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
	var ds []Deployment
	if s := call(t, one, "GET", "/v1/deployments?env=prod", readerToken, nil, &ds); s != 200 || len(ds) != 2 {
		t.Fatalf("server one lists %d decisions (status %d), want 2", len(ds), s)
	}
	var h map[string]string
	if s := call(t, two, "GET", "/healthz", "", nil, &h); s != 200 {
		t.Errorf("healthz on PostgreSQL: %d", s)
	}
}
