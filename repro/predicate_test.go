package repro_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/repro"
)

const (
	sumA = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	sumB = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

func TestNewPredicate(t *testing.T) {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	rb := repro.Rebuilder{ID: "https://rebuilder.example/host-1", Version: map[string]string{"hallmark": "dev"}}
	ok := &repro.Result{Command: []string{"make"}, Runs: 2,
		Variations: []repro.Applied{{Variation: repro.VaryTimezone, Applied: true, How: "TZ"}},
		Products:   []repro.Product{{Path: "bin/tool", Digests: []string{sumA, sumA}, Reproducible: true}}}
	bad := &repro.Result{Command: []string{"make"}, Runs: 2, Culprits: []repro.Variation{repro.VaryBuildPath},
		Products: []repro.Product{{Path: "bin/tool", Digests: []string{sumA, sumB}}}}
	tests := []struct {
		name     string
		in       repro.PredicateInput
		want     repro.Outcome
		products int
	}{
		{"all runs agree", repro.PredicateInput{Result: ok, Rebuilder: rb, StartedOn: start, FinishedOn: start.Add(time.Minute)}, repro.OutcomeReproducible, 1},
		{"runs differ", repro.PredicateInput{Result: bad, Rebuilder: rb, StartedOn: start, FinishedOn: start}, repro.OutcomeNotReproducible, 1},
		{"matches the expected subject", repro.PredicateInput{Result: ok, Rebuilder: rb, Expected: map[string]string{"bin/tool": strings.TrimPrefix(sumA, "sha256:")}}, repro.OutcomeReproducible, 1},
		{"differs from the expected subject", repro.PredicateInput{Result: ok, Rebuilder: rb, Expected: map[string]string{"bin/tool": strings.TrimPrefix(sumB, "sha256:")}}, repro.OutcomeNotReproducible, 1},
		{"expected product missing", repro.PredicateInput{Result: ok, Rebuilder: rb, Expected: map[string]string{"bin/other": "00"}}, repro.OutcomeNotReproducible, 2},
		{"nothing compared", repro.PredicateInput{Result: &repro.Result{Runs: 2}, Rebuilder: rb}, repro.OutcomeInconclusive, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := repro.NewPredicate(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.Result != tt.want || len(p.Products) != tt.products {
				t.Fatalf("result %s with %d products, want %s with %d", p.Result, len(p.Products), tt.want, tt.products)
			}
		})
	}
}

func TestNewPredicateRejects(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for name, in := range map[string]repro.PredicateInput{
		"no result":        {Rebuilder: repro.Rebuilder{ID: "x"}},
		"no rebuilder":     {Result: &repro.Result{}},
		"time runs behind": {Result: &repro.Result{}, Rebuilder: repro.Rebuilder{ID: "x"}, StartedOn: now, FinishedOn: now.Add(-time.Second)},
	} {
		if _, err := repro.NewPredicate(in); !errors.Is(err, repro.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestStatement(t *testing.T) {
	res := &repro.Result{Command: []string{"make"}, Runs: 2,
		Products: []repro.Product{{Path: "bin/tool", Digests: []string{sumA, sumA}, Reproducible: true}}}
	p, err := repro.NewPredicate(repro.PredicateInput{Result: res, Rebuilder: repro.Rebuilder{ID: "https://rebuilder.example"}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := repro.Statement(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.GetPredicateType() != repro.PredicateType {
		t.Errorf("predicate type %q", st.GetPredicateType())
	}
	if d := cmp.Diff(map[string]string{"sha256": strings.TrimPrefix(sumA, "sha256:")}, st.GetSubject()[0].GetDigest()); d != "" {
		t.Errorf("subject digest (-want +got):\n%s", d)
	}
	js, err := protojson.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"result":"reproducible"`, `"id":"https://rebuilder.example"`, `"name":"bin/tool"`} {
		if !strings.Contains(strings.ReplaceAll(string(js), " ", ""), want) {
			t.Errorf("statement JSON lacks %s: %s", want, js)
		}
	}
}
