package finding_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/finding"
)

func TestRead(t *testing.T) {
	want := finding.NewPredicate(finding.KindSecrets, finding.Scanner{Name: "hallmark"}, "repo", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		[]finding.Finding{{RuleID: "HM-SEC-001", Severity: finding.SeverityHigh, Location: finding.Location{Path: "a.env", Line: 2}}})
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := finding.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, *got); d != "" {
		t.Errorf("Read (-want +got):\n%s", d)
	}
	for _, bad := range []string{`{"kind":"secrets","extra":1}`, `{"Kind":"secrets"}`, `{"kind":"a","kind":"b"}`, `{"findings":[{"ruleID":"x"}]}`} {
		if _, err := finding.Read([]byte(bad)); !errors.Is(err, finding.ErrMalformedPredicate) {
			t.Errorf("Read(%s) = %v, want ErrMalformedPredicate", bad, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"kind":"misconfig","scanner":{"name":"m"},"target":"t","scannedAt":"2026-01-01T00:00:00Z","findings":[{"ruleId":"x","severity":"high"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := finding.Read(b); err != nil && !errors.Is(err, finding.ErrMalformedPredicate) {
			t.Fatalf("error %v does not wrap ErrMalformedPredicate", err)
		}
	})
}
