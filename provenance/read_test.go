package provenance_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/provenance"
)

// predicateOf returns the predicate type and predicate of a real public
// Sigstore bundle (see attest/testdata/publicgood/README.md).
func predicateOf(t testing.TB, file string) (string, []byte) {
	t.Helper()
	raw, err := os.ReadFile("../attest/testdata/publicgood/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		DSSEEnvelope struct {
			Payload string `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	return st.PredicateType, st.Predicate
}

func TestReadPublicProvenance(t *testing.T) {
	for _, tc := range []struct {
		file string
		want provenance.Summary
		deps int
	}{
		{"npm-sigstore-1.3.0.provenance.json", provenance.Summary{
			BuildType: "https://github.com/npm/cli/gha/v2", BuilderID: "https://github.com/actions/runner", InvocationID: "4735384265-1",
			SourceURI: "git+https://github.com/sigstore/sigstore-js", Ref: "refs/heads/main", Commit: "dae8bd8eb433a4147b4655c00fe73e0f22bc0fb1",
			Workflow: ".github/workflows/release.yml", Isolation: "sandbox not recorded",
		}, 1},
		{"npm-sigstore-2.0.0.provenance.json", provenance.Summary{
			BuildType: provenance.BuildTypeGitHubWorkflow, BuilderID: "https://github.com/actions/runner/github-hosted",
			InvocationID: "https://github.com/sigstore/sigstore-js/actions/runs/5904696764/attempts/1",
			SourceURI:    "https://github.com/sigstore/sigstore-js", Ref: "refs/heads/main", Commit: "f0b49a04e5a62250e0f60fb128004a73110fe311",
			Workflow: ".github/workflows/release.yml", Isolation: "sandbox not recorded",
		}, 1},
		{"dsse.sigstore.json", provenance.Summary{
			BuildType: "https://github.com/npm/slsa-provenance/gha@v0", BuilderID: "https://github.com/npm/slsa-provenance@0.0.1",
		}, -1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			pt, pred := predicateOf(t, tc.file)
			r, err := provenance.Read(pt, pred)
			if err != nil {
				t.Fatal(err)
			}
			got := r.Summary
			if tc.deps < 0 { // only builder and build type are compared
				got = provenance.Summary{BuildType: got.BuildType, BuilderID: got.BuilderID}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("summary (-want +got):\n%s", d)
			}
			if tc.deps >= 0 && len(r.Dependencies) != tc.deps {
				t.Errorf("dependencies %v", r.Dependencies)
			}
			if r.Sandbox != nil {
				t.Errorf("sandbox %+v from a GitHub build", r.Sandbox)
			}
		})
	}
}

func TestReadRefusesOtherTypesAndBadInput(t *testing.T) {
	if _, err := provenance.Read("https://slsa.dev/provenance/v0.1", []byte(`{}`)); !errors.Is(err, provenance.ErrInvalidFacts) {
		t.Fatalf("err = %v", err)
	}
	for _, bad := range []string{`{"builder":{"id":"x"}}`, `{"buildType":"t","builder":{"id":"x"},"Builder":{}}`, `[]`, `{"buildType":"t","builder":{"id":"x"},"extra":1}`} {
		if _, err := provenance.Read(provenance.PredicateTypeV02, []byte(bad)); !errors.Is(err, provenance.ErrInvalidFacts) {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	for _, file := range []string{"npm-sigstore-1.3.0.provenance.json", "npm-sigstore-2.0.0.provenance.json"} {
		_, pred := predicateOf(f, file)
		f.Add([]byte(pred))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, pt := range []string{provenance.PredicateType, provenance.PredicateTypeV02} {
			if r, err := provenance.Read(pt, b); err == nil && r == nil {
				t.Fatal("nil reading without error")
			}
		}
	})
}
