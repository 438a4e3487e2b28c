package policy

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/finding"
)

type valueInner struct {
	A string `json:"a"`
	B int    `json:"b,omitempty"`
}

type valueEmbedded struct {
	E  string `json:"e"`
	E2 bool   `json:"e2,omitempty"`
}

type valueTree struct {
	Name     string       `json:"name"`
	Children []*valueTree `json:"children"`
	Parent   *valueTree   `json:"parent,omitempty"`
}

type valueZoo struct {
	valueEmbedded
	Tagged    valueInner            `json:"tagged"`
	Untagged  string                // named by the Go field
	skipped   string                //nolint:unused // unexported: left out
	Dash      string                `json:"-"`
	Bool      bool                  `json:"bool"`
	Ints      []int64               `json:"ints"`
	Uints     []uint64              `json:"uints"`
	Floats    []float64             `json:"floats"`
	Strings   []string              `json:"strings"`
	Array     [2]int8               `json:"array"`
	Map       map[string]valueInner `json:"map"`
	Any       any                   `json:"any"`
	AnyMap    map[string]any        `json:"anyMap"`
	Ptr       *valueInner           `json:"ptr"`
	NilPtr    *valueInner           `json:"nilPtr"`
	Time      time.Time             `json:"time"`
	TimePtr   *time.Time            `json:"timePtr"`
	Digest    digest.Digest         `json:"digest"`
	Severity  finding.Severity      `json:"severity"`
	NilSevPtr *finding.Severity     `json:"nilSevPtr"`
	Tree      valueTree             `json:"tree"`
	OmitS     string                `json:"omitS,omitempty"`
	OmitI     int                   `json:"omitI,omitempty"`
	OmitU     uint                  `json:"omitU,omitempty"`
	OmitF     float64               `json:"omitF,omitempty"`
	OmitB     bool                  `json:"omitB,omitempty"`
	OmitP     *int                  `json:"omitP,omitempty"`
	OmitM     map[string]int        `json:"omitM,omitempty"`
	OmitL     []int                 `json:"omitL,omitempty"`
	Kept      []int                 `json:"kept,omitempty"`
}

// TestToValueMatchesJSON: the input conversion gives the Rego value OPA
// makes of encoding/json's document for the same Go value (its JSON round
// trip), for every kind of field the converter handles, including
// interned scalars (booleans, small and large integers, "", empty
// collections) and types met again inside themselves.
func TestToValueMatchesJSON(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 123456789, time.FixedZone("x", 3600))
	one := 1
	zoo := valueZoo{
		valueEmbedded: valueEmbedded{E: "embedded", E2: true},
		Tagged:        valueInner{A: "é\u2028<&>\"\\\x01"},
		Untagged:      "u",
		skipped:       "never",
		Dash:          "never",
		Bool:          true,
		Ints:          []int64{0, 1, -1, 511, 512, 513, -2, 1 << 40, -1 << 40},
		Uints:         []uint64{0, 7, 1 << 50},
		Floats:        []float64{0, 1.5, -2.25, 1e21, 1e-7, 3},
		Strings:       []string{"", "x", strings.Repeat("y", 100)},
		Array:         [2]int8{-128, 127},
		Map:           map[string]valueInner{"k1": {A: "1", B: 2}, "": {}},
		Any:           []any{"s", 1.5, true, nil, map[string]any{"n": "v"}},
		AnyMap:        map[string]any{"nested": map[string]any{"deep": []any{}}},
		Ptr:           &valueInner{A: "p", B: -3},
		Time:          now,
		TimePtr:       &now,
		Digest:        digest.MustParse("sha256:" + strings.Repeat("ab", 32)),
		Severity:      finding.SeverityHigh,
		Tree:          valueTree{Name: "root", Children: []*valueTree{{Name: "leaf", Children: []*valueTree{}}, nil}, Parent: &valueTree{Name: "up", Children: []*valueTree{}}},
		OmitP:         &one,
		Kept:          []int{1},
	}
	got, err := toValue(reflect.ValueOf(zoo))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(zoo)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	want, err := ast.InterfaceToValue(doc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Value.Compare(want) != 0 {
		t.Errorf("toValue =\n%v\nJSON round trip =\n%v", got.Value, want)
	}
	if got.Value.Hash() != want.Hash() {
		t.Errorf("hash %d, JSON round trip's %d", got.Value.Hash(), want.Hash())
	}
}

// TestToValueExactNumbers: integers beyond float64's precision and bytes
// convert exactly (as numbers), where a JSON round trip would round them
// or write base64.
func TestToValueExactNumbers(t *testing.T) {
	v := struct {
		I []int64 `json:"i"`
		U uint64  `json:"u"`
		B []byte  `json:"b"`
	}{I: []int64{math.MaxInt64, math.MinInt64}, U: math.MaxUint64, B: []byte{0, 255}}
	got, err := toValue(reflect.ValueOf(v))
	if err != nil {
		t.Fatal(err)
	}
	want := ast.MustParseTerm(`{"i": [9223372036854775807, -9223372036854775808], "u": 18446744073709551615, "b": [0, 255]}`)
	if got.Value.Compare(want.Value) != 0 || got.String() != want.String() {
		t.Errorf("toValue = %v, want %v", got, want)
	}
}

// TestToValueEmptyCollections: nil and empty slices and maps become
// empty arrays and objects, never null, at any depth.
func TestToValueEmptyCollections(t *testing.T) {
	type s struct {
		L  []string          `json:"l"`
		M  map[string]string `json:"m"`
		EL []string          `json:"el"`
		EM map[string]string `json:"em"`
		N  []s               `json:"n"`
	}
	got, err := toValue(reflect.ValueOf(s{EL: []string{}, EM: map[string]string{}, N: []s{{}}}))
	if err != nil {
		t.Fatal(err)
	}
	want := ast.MustParseTerm(`{"l": [], "m": {}, "el": [], "em": {}, "n": [{"l": [], "m": {}, "el": [], "em": {}, "n": []}]}`)
	if got.Value.Compare(want.Value) != 0 {
		t.Errorf("toValue = %v, want %v", got, want)
	}
}

// TestToValueErrors: types with no JSON form fail, naming where.
func TestToValueErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"channel field", struct {
			C chan int `json:"c"`
		}{}, `"c": `},
		{"int map key", struct {
			M []map[int]string `json:"m"`
		}{M: []map[int]string{nil}}, `"m": [0]: `},
		{"func in interface", map[string]any{"f": func() {}}, `["f"]: `},
		{"time out of range", struct {
			T time.Time `json:"t"`
		}{T: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, `"t": Time.MarshalText: `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := toValue(reflect.ValueOf(tc.v))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("toValue error %v, want one starting %q", err, tc.want)
			}
			if tc.name != "time out of range" && !errors.Is(err, ErrInput) {
				t.Errorf("error %v is not ErrInput", err)
			}
		})
	}
}
