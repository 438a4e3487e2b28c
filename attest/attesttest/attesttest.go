// Package attesttest provides in-memory keys and signed evidence for tests
// of packages that consume attest values, the way httptest serves HTTP.
package attesttest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/keys"
)

// Key generates a fresh key of the given algorithm or fails the test.
func Key(t testing.TB, alg keys.Algorithm) *keys.PrivateKey {
	t.Helper()
	k, err := keys.Generate(alg)
	if err != nil {
		t.Fatalf("generate %s key: %v", alg, err)
	}
	return k
}

// Subject names content by its SHA-256, as `hallmark attest` does for a file.
func Subject(name string, content []byte) attest.Subject {
	sum := sha256.Sum256(content)
	return attest.Subject{Name: name, Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}}
}

// Digest is the typed sha256 digest of a subject made by Subject; it
// panics on a subject without one (a broken test).
func Digest(s attest.Subject) digest.Digest {
	d, err := s.SHA256()
	if err != nil {
		panic(err)
	}
	return d
}

// Bundle signs a statement about subjects with key and returns the bundle JSON.
func Bundle(t testing.TB, key *keys.PrivateKey, predicateType string, predicate any, subjects ...attest.Subject) []byte {
	t.Helper()
	pred, err := json.Marshal(predicate)
	if err != nil {
		t.Fatalf("encode predicate: %v", err)
	}
	st, err := attest.NewStatement(subjects, predicateType, pred)
	if err != nil {
		t.Fatalf("statement: %v", err)
	}
	b, err := attest.Sign(t.Context(), key, st)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return b
}

// Verified signs and verifies a statement, returning the verified value.
func Verified(t testing.TB, key *keys.PrivateKey, predicateType string, predicate any, subjects ...attest.Subject) *attest.Verified {
	t.Helper()
	b := Bundle(t, key, predicateType, predicate, subjects...)
	v, err := attest.Verify(t.Context(), b, attest.NewKeySet(key.Public()))
	if err != nil {
		t.Fatalf("verify freshly signed bundle: %v", err)
	}
	return v
}
