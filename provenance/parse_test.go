package provenance_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"

	"github.com/hallmark-dev/hallmark/provenance"
)

// written is the provenance of f as Predicate writes it, read back by Parse.
func written(t *testing.T, f provenance.Facts) *slsa.Provenance {
	t.Helper()
	p, err := provenance.Predicate(f)
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
	return parsed
}

func TestParseSummarize(t *testing.T) {
	parsed := written(t, facts())
	f := facts()
	want := provenance.Summary{
		BuildType: provenance.BuildType, BuilderID: provenance.DefaultBuilderID, InvocationID: f.InvocationID,
		Command: f.Command, WorkDir: ".", SourceURI: f.Source.URI, Commit: commit, Dirty: true,
		Sandbox: &f.Sandbox, Isolation: "sandbox (user, mount, pid, net, uts, ipc), network off, source read-only",
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

// TestReadSandbox: the sandbox record is read by one reader, whose answer
// the gate, the dashboard and the CLI share. A bare "sandbox": true is not
// Hallmark's record (the dashboard used to show it as sandboxed while the
// gate did not count it); a record with a mistyped or miscased field is
// unreadable, never a default.
func TestReadSandbox(t *testing.T) {
	const head = `{"buildDefinition":{"buildType":"x","externalParameters":{"a":1},"internalParameters":`
	const tail = `},"runDetails":{"builder":{"id":"b"}}}`
	for _, tc := range []struct {
		name, internal string
		want           *provenance.Sandbox
		wantErr        bool
	}{
		{"none", `{"sourceDateEpoch":"0"}`, nil, false},
		{"bare boolean", `{"sandbox":true,"network":false,"hermetic":true}`, nil, false},
		{"recorded", `{"sandbox":{"requested":"on","applied":true,"network":false,"readOnlySource":true,"namespaces":["user","net"]}}`,
			&provenance.Sandbox{Requested: "on", Applied: true, ReadOnlySource: true, Namespaces: []string{"user", "net"}}, false},
		{"mistyped", `{"sandbox":{"applied":"true","network":false}}`, nil, true},
		{"miscased", `{"sandbox":{"Applied":true,"network":false}}`, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := provenance.Parse([]byte(head + tc.internal + tail))
			if err != nil {
				t.Fatal(err)
			}
			got, err := provenance.ReadSandbox(p)
			if (err != nil) != tc.wantErr || !errors.Is(err, provenance.ErrInvalidFacts) && tc.wantErr {
				t.Fatalf("ReadSandbox error = %v, want error %t", err, tc.wantErr)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ReadSandbox (-want +got):\n%s", d)
			}
			s := provenance.Summarize(p)
			if s.Sandbox.Hermetic() != (tc.want != nil && tc.want.Hermetic()) || (got == nil) != (s.Sandbox == nil) {
				t.Errorf("Summarize sandbox = %+v, want %+v", s.Sandbox, got)
			}
		})
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
		if in, err := provenance.ReadInternal(p); err == nil {
			_, _ = in.SourceDate()
		}
	})
}

// TestReadInternal: what Predicate writes into internalParameters,
// ReadInternal reads back, typed (the rebuild plan reads it from here).
func TestReadInternal(t *testing.T) {
	f := facts()
	f.OutputDirs = []string{"dist", "out/image"}
	got, err := provenance.ReadInternal(written(t, f))
	if err != nil {
		t.Fatal(err)
	}
	want := &provenance.Internal{
		Sandbox: &f.Sandbox, SourceDateEpoch: "1764093600", EnvAllowlist: []string{"GOFLAGS", "NPM_TOKEN", "PATH"},
		Env: f.Env, RedactedEnv: f.Redacted, Prepare: f.Prepare, OutputDirs: f.OutputDirs,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ReadInternal (-want +got):\n%s", d)
	}
	if sd, err := got.SourceDate(); err != nil || sd.Unix() != f.SourceDateEpoch {
		t.Errorf("SourceDate = %v, %v", sd, err)
	}
	const head = `{"buildDefinition":{"buildType":"x","externalParameters":{"a":1},"internalParameters":`
	const tail = `},"runDetails":{"builder":{"id":"b"}}}`
	for _, bad := range []string{`{"prepare":[{"command":[]}]}`, `{"sourceDateEpoch":17}`, `{"SourceDateEpoch":"1"}`, `{"prepare":[{"command":"make"}]}`} {
		p, err := provenance.Parse([]byte(head + bad + tail))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := provenance.ReadInternal(p); !errors.Is(err, provenance.ErrInvalidFacts) {
			t.Errorf("ReadInternal(%s) = %v, want ErrInvalidFacts", bad, err)
		}
	}
}
