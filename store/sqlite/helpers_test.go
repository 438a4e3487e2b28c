package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
)

// openTemp opens a store in a fresh file and returns it with the file's
// path; the store is closed at cleanup.
func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "evidence.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// appSubject is artifact i's subject.
func appSubject(i int) attest.Subject {
	return attesttest.Subject(fmt.Sprint("app-", i), fmt.Appendf(nil, "artifact %d", i))
}

// missWrite is what an admission miss about artifact i stores: a VSA and
// a decision, signed with key.
func missWrite(t *testing.T, key *keys.PrivateKey, i int) []*attest.Verified {
	t.Helper()
	sub := appSubject(i)
	return []*attest.Verified{
		attesttest.Verified(t, key, "https://example.com/vsa/v1", map[string]any{"n": i}, sub),
		attesttest.Verified(t, key, "https://example.com/decision/v1", map[string]any{"n": i}, sub),
	}
}
