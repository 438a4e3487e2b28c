package provenance_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/provenance"
)

func TestParseSummarize(t *testing.T) {
	p, err := provenance.Predicate(facts())
	if err != nil {
		t.Fatal(err)
	}
	b, err := provenance.JSON(p)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := provenance.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	f := facts()
	want := provenance.Summary{
		BuildType: provenance.BuildType, BuilderID: provenance.DefaultBuilderID, InvocationID: f.InvocationID,
		Command: f.Command, WorkDir: ".", SourceURI: f.Source.URI, Commit: commit, Dirty: true,
		Isolation: "sandbox (user, mount, pid, net, uts, ipc), network off, source read-only",
		StartedOn: f.StartedOn, FinishedOn: f.FinishedOn, Dependencies: 2, Toolchain: []string{"/usr/local/go/bin/go"},
	}
	if d := cmp.Diff(want, provenance.Summarize(parsed)); d != "" {
		t.Errorf("Summarize mismatch (-want +got):\n%s", d)
	}

	f.Sandbox = provenance.Sandbox{Requested: "auto", Network: true, FallbackReason: "namespaces unavailable"}
	p2, _ := provenance.Predicate(f)
	if got := provenance.Summarize(p2).Isolation; got != "no sandbox (requested auto), fell back: namespaces unavailable" {
		t.Errorf("fallback isolation = %q", got)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":      "{",
		"unknown field": `{"buildDefinition":{"buildType":"x","externalParameters":{"a":1}},"runDetails":{"builder":{"id":"b"}},"extra":1}`,
		"no builder":    `{"buildDefinition":{"buildType":"x","externalParameters":{"a":1}},"runDetails":{}}`,
		"no build type": `{"buildDefinition":{"externalParameters":{"a":1}},"runDetails":{"builder":{"id":"b"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := provenance.Parse([]byte(in)); !errors.Is(err, provenance.ErrInvalidFacts) {
				t.Errorf("Parse() error = %v, want ErrInvalidFacts", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	p, err := provenance.Predicate(facts())
	if err != nil {
		f.Fatal(err)
	}
	b, _ := provenance.JSON(p)
	f.Add(b)
	f.Add([]byte(`{"buildDefinition":{"buildType":"x","externalParameters":{"command":[1,{}]}},"runDetails":{"builder":{"id":"b"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := provenance.Parse(data)
		if err != nil {
			return
		}
		_ = provenance.Summarize(p)
	})
}
