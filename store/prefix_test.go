package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/store"
)

// idStore is a Store over a fixed list of IDs: only IDsWithPrefix is used
// by Resolve (the SQLite and PostgreSQL stores run the same cases through
// storetest; a real 7-digit collision cannot be produced there).
type idStore struct {
	store.Store
	ids []string
}

func (s idStore) IDsWithPrefix(_ context.Context, prefix string, limit int) ([]string, error) {
	var out []string
	for _, id := range s.ids {
		if strings.HasPrefix(id, prefix) && len(out) < limit {
			out = append(out, id)
		}
	}
	return out, nil
}

func TestResolveAmbiguous(t *testing.T) {
	a := "sha256:abcdef01" + strings.Repeat("0", 56)
	b := "sha256:abcdef02" + strings.Repeat("0", 56)
	s := idStore{ids: []string{a, b}}
	_, err := store.Resolve(t.Context(), s, "abcdef0")
	var ae *store.AmbiguousError
	if !errors.As(err, &ae) || !errors.Is(err, store.ErrAmbiguous) || !slices.Equal(ae.Candidates, []string{a, b}) {
		t.Fatalf("Resolve ambiguous: %v", err)
	}
	if !strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) {
		t.Errorf("error does not list the candidates: %v", err)
	}
	if got, err := store.Resolve(t.Context(), s, "ABCDEF02"); err != nil || got != b {
		t.Errorf("Resolve unique: %q, %v", got, err)
	}
}
