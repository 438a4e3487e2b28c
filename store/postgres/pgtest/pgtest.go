// Package pgtest gives tests an empty PostgreSQL schema on the server named
// by HALLMARK_TEST_POSTGRES (default: the local test database), and fails
// them loudly when the server is unreachable rather than passing silently.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DSNEnv names the database the PostgreSQL tests use; "skip" skips them.
const DSNEnv = "HALLMARK_TEST_POSTGRES"

// DefaultDSN is the database this machine kind runs before each session.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// FreshSchema creates an empty schema, dropped when the test ends, and
// returns a DSN whose search_path points at it.
func FreshSchema(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(DSNEnv)
	if dsn == "skip" {
		t.Skip(DSNEnv + "=skip: PostgreSQL tests skipped on request")
	}
	if dsn == "" {
		dsn = DefaultDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable at %s (%v): start it (.ci/run does) or set %s=skip", dsn, err, DSNEnv)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	rand.Read(b)
	schema := "hm_test_" + hex.EncodeToString(b)
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
