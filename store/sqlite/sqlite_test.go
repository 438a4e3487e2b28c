package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/store/storetest"
)

func open(t *testing.T, now func() time.Time) store.Store {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "evidence.db"), sqlite.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }
