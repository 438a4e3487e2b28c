package lockfile

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/sbom/internal/bom"
)

func TestSRI(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []bom.Hash
	}{
		{"sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=", []bom.Hash{{Algorithm: bom.SHA1, Value: "0000000000000000000000000000000000000000"}}},
		{"md5-AAAAAAAAAAAAAAAAAAAAAA==", nil}, // unknown algorithm
		{"sha256-AAAA", nil},                  // wrong length
		{"sha512-!!!", nil},                   // not base64
		{"nodash", nil},
	} {
		if diff := cmp.Diff(tc.want, SRI(tc.in)); diff != "" {
			t.Errorf("SRI(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestNPMResolvesNestedCopies(t *testing.T) {
	// a depends on b; a has its own nested b@2, while the hoisted b is 1.
	facts, err := NPM([]byte(`{"packages":{
		"": {"dependencies": {"a": "*", "b": "*"}},
		"node_modules/a": {"version": "1.0.0", "dependencies": {"b": "^2"}},
		"node_modules/a/node_modules/b": {"version": "2.0.0"},
		"node_modules/b": {"version": "1.0.0"},
		"node_modules/c": {"version": "1.0.0", "dependencies": {"b": "^1", "missing": "*"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for k, f := range facts {
		if f.Deps != nil {
			got[k] = f.Deps
		}
	}
	want := map[string][]string{"a@1.0.0": {"b@2.0.0"}, "c@1.0.0": {"b@1.0.0"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deps (-want +got):\n%s", diff)
	}
}

func TestCargoDependencyForms(t *testing.T) {
	facts, err := Cargo([]byte(`
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["one", "two 2.0.0", "two 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)"]

[[package]]
name = "one"
version = "1.0.0"

[[package]]
name = "two"
version = "1.0.0"

[[package]]
name = "two"
version = "2.0.0"
`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"one@1.0.0", "two@2.0.0", "two@1.0.0"}, facts["app@0.1.0"].Deps); diff != "" {
		t.Errorf("deps (-want +got):\n%s", diff)
	}
}
