package strictjson_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/hallmark-dev/hallmark/internal/strictjson"
)

type inner struct {
	Licenses []string `json:"licenses"`
}

type embedded struct {
	Note string `json:"note"`
}

type doc struct {
	embedded
	Environment string            `json:"environment"`
	At          time.Time         `json:"at"`
	Items       []inner           `json:"items"`
	Byname      map[string]inner  `json:"byName"`
	Free        map[string]any    `json:"free"`
	Labels      map[string]string `json:"labels,omitempty"`
	Ignored     string            `json:"-"`
	Untagged    string
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name string
		in   string
		open bool
		want error
	}{
		{"exact keys", `{"environment":"prod","at":"2026-01-01T00:00:00Z","items":[{"licenses":["MIT"]}],"note":"n","Untagged":"u"}`, false, nil},
		{"case twin, last wins in encoding/json", `{"environment":"staging","Environment":"prod"}`, false, strictjson.ErrKeyCase},
		{"case twin in an open schema", `{"environment":"staging","Environment":"prod"}`, true, strictjson.ErrKeyCase},
		{"only the wrong case", `{"ENVIRONMENT":"prod"}`, true, strictjson.ErrKeyCase},
		{"long s folds to s", "{\"items\":[{\"licen\u017fes\":[\"MIT\"]}]}", true, strictjson.ErrKeyCase},
		{"case twin in a slice element", `{"items":[{"Licenses":["MIT"]}]}`, true, strictjson.ErrKeyCase},
		{"case twin in a map value", `{"byName":{"a":{"LICENSES":[]}}}`, true, strictjson.ErrKeyCase},
		{"case twin of an embedded field", `{"Note":"x"}`, true, strictjson.ErrKeyCase},
		{"case twin of an untagged field", `{"untagged":"x"}`, true, strictjson.ErrKeyCase},
		{"unknown key, closed", `{"environments":["prod"]}`, false, strictjson.ErrUnknownKey},
		{"unknown key, open", `{"environments":["prod"]}`, true, nil},
		{"json:\"-\" field is unknown", `{"Ignored":"x"}`, false, strictjson.ErrUnknownKey},
		{"free-form map keys are not fields", `{"free":{"Environment":1,"environment":2}}`, false, nil},
		{"string-map keys are data", `{"labels":{"A":"1","a":"2"}}`, false, nil},
		{"exact duplicate", `{"environment":"a","environment":"b"}`, true, strictjson.ErrDuplicateKey},
		{"trailing data", `{} {}`, true, strictjson.ErrSyntax},
		{"too deep", strings.Repeat("[", 200) + strings.Repeat("]", 200), true, strictjson.ErrSyntax},
		{"type mismatch", `{"environment":1}`, true, strictjson.ErrSyntax},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d doc
			var opts []strictjson.Option
			if c.open {
				opts = append(opts, strictjson.AllowUnknownKeys())
			}
			err := strictjson.Decode([]byte(c.in), &d, opts...)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestCheckProto(t *testing.T) {
	md := (&intoto.Statement{}).ProtoReflect().Descriptor()
	cases := []struct {
		name, in string
		want     error
	}{
		{"JSON names", `{"_type":"x","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicateType":"p","predicate":{"Any":1,"any":2}}`, nil},
		{"proto name", `{"predicate_type":"p"}`, strictjson.ErrKeyCase},
		{"proto name in a nested message", `{"subject":[{"download_location":"x"}]}`, strictjson.ErrKeyCase},
		{"case twin", `{"PredicateType":"p"}`, strictjson.ErrKeyCase},
		{"unknown", `{"extra":1}`, strictjson.ErrUnknownKey},
		{"duplicate", `{"predicateType":"a","predicateType":"b"}`, strictjson.ErrDuplicateKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := strictjson.CheckProto([]byte(c.in), md)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"environment":"staging","Environment":"prod"}`))
	f.Add([]byte(`{"items":[{"licenses":["MIT"]}],"byName":{"a":{}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d doc
		if strictjson.Decode(b, &d, strictjson.AllowUnknownKeys()) != nil {
			return
		}
		// Whatever decodes strictly also passes the duplicate check.
		if err := strictjson.Check(b); err != nil {
			t.Fatalf("Decode accepted what Check refuses: %v", err)
		}
	})
}
