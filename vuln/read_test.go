package vuln_test

import (
	"errors"
	"testing"

	"github.com/hallmark-dev/hallmark/vuln"
)

func TestReadPredicate(t *testing.T) {
	p, err := vuln.ReadPredicate([]byte(`{"scanner":{"uri":"pkg:golang/hallmark","result":[{"id":"GHSA-1","severity":[{"method":"hallmark","score":"high"}]}],"ext":1},"metadata":{"scanFinishedOn":"2026-01-01T00:00:00Z"},"x-other":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Scanner.URI != "pkg:golang/hallmark" || len(p.Scanner.Result) != 1 || p.Scanner.Result[0].ID != "GHSA-1" || p.Metadata.ScanFinishedOn.IsZero() {
		t.Errorf("ReadPredicate = %+v", p)
	}
	for _, bad := range []string{`{"Scanner":{"uri":"x"}}`, `{"scanner":{"uri":"a","uri":"b"}}`, `{"scanner":{"result":{}}}`} {
		if _, err := vuln.ReadPredicate([]byte(bad)); !errors.Is(err, vuln.ErrMalformedPredicate) {
			t.Errorf("ReadPredicate(%s) = %v, want ErrMalformedPredicate", bad, err)
		}
	}
}

func FuzzReadPredicate(f *testing.F) {
	f.Add([]byte(`{"scanner":{"uri":"u","db":{"lastUpdate":"2026-01-01T00:00:00Z"},"result":[{"id":"x","annotations":[{"a":1}]}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := vuln.ReadPredicate(b); err != nil && !errors.Is(err, vuln.ErrMalformedPredicate) {
			t.Fatalf("error %v does not wrap ErrMalformedPredicate", err)
		}
	})
}
