package repro

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewRebuild(t *testing.T) {
	a := strings.Repeat("a", 64)
	b := strings.Repeat("b", 64)
	c := strings.Repeat("c", 64)
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	rb := Rebuilder{ID: "https://rebuild.example.org/w1"}
	for _, tc := range []struct {
		name     string
		expected map[string]string
		rebuilt  map[string]string
		want     []ProductResult
		result   Outcome
	}{
		{
			name:     "all match",
			expected: map[string]string{"bin/x": a, "bin/y": b},
			rebuilt:  map[string]string{"bin/x": a, "bin/y": b, "extra": c},
			want: []ProductResult{
				{Name: "bin/x", Digest: map[string]string{"sha256": a}, RunDigests: []string{a}, Expected: map[string]string{"sha256": a}, Reproducible: true},
				{Name: "bin/y", Digest: map[string]string{"sha256": b}, RunDigests: []string{b}, Expected: map[string]string{"sha256": b}, Reproducible: true},
			},
			result: OutcomeReproducible,
		},
		{
			name:     "one differs, one missing",
			expected: map[string]string{"bin/x": a, "bin/y": b},
			rebuilt:  map[string]string{"bin/x": c},
			want: []ProductResult{
				{Name: "bin/x", Digest: map[string]string{"sha256": c}, RunDigests: []string{c}, Expected: map[string]string{"sha256": a}},
				{Name: "bin/y", Expected: map[string]string{"sha256": b}},
			},
			result: OutcomeNotReproducible,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewRebuild(RebuildInput{Rebuilder: rb, Command: []string{"make"}, Expected: tc.expected, Rebuilt: tc.rebuilt, StartedOn: start, FinishedOn: start.Add(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, p.Products); diff != "" {
				t.Errorf("products (-want +got):\n%s", diff)
			}
			if p.Result != tc.result || p.Runs != 1 || p.Variations == nil {
				t.Errorf("result %s, runs %d, variations %v", p.Result, p.Runs, p.Variations)
			}
			st, err := RebuildStatement(p)
			if err != nil {
				t.Fatal(err)
			}
			// The subjects are the expected (original) digests, whatever
			// was rebuilt.
			var got []string
			for _, s := range st.GetSubject() {
				got = append(got, s.GetName()+"="+s.GetDigest()["sha256"])
			}
			if diff := cmp.Diff([]string{"bin/x=" + a, "bin/y=" + b}, got); diff != "" {
				t.Errorf("subjects (-want +got):\n%s", diff)
			}
			if st.GetPredicateType() != PredicateType {
				t.Errorf("predicate type %s", st.GetPredicateType())
			}
		})
	}
}

func TestNewRebuildInvalid(t *testing.T) {
	a := strings.Repeat("a", 64)
	rb := Rebuilder{ID: "https://rebuild.example.org/w1"}
	for _, tc := range []struct {
		name string
		in   RebuildInput
	}{
		{"no expected products", RebuildInput{Rebuilder: rb}},
		{"no rebuilder", RebuildInput{Expected: map[string]string{"x": a}}},
		{"short expected digest", RebuildInput{Rebuilder: rb, Expected: map[string]string{"x": "abc"}}},
		{"upper-case expected digest", RebuildInput{Rebuilder: rb, Expected: map[string]string{"x": strings.Repeat("A", 64)}}},
		{"non-hex rebuilt digest", RebuildInput{Rebuilder: rb, Expected: map[string]string{"x": a}, Rebuilt: map[string]string{"x": strings.Repeat("g", 64)}}},
		{"empty name", RebuildInput{Rebuilder: rb, Expected: map[string]string{"": a}}},
		{"finished before started", RebuildInput{Rebuilder: rb, Expected: map[string]string{"x": a}, StartedOn: time.Unix(10, 0), FinishedOn: time.Unix(5, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewRebuild(tc.in); !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}
