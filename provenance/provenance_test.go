package provenance_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/provenance"
)

const (
	commit  = "8817f99a0b1c2d3e4f5061728394a5b6c7d8e9f0"
	prodSum = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
	goSum   = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
	logSum  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	modHash = "11223344556677889900aabbccddeeff11223344556677889900aabbccddeeff"
)

func facts() provenance.Facts {
	start := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	return provenance.Facts{
		InvocationID: "4b3c1f0e-8d2a-4c6b-9f1e-0a2b3c4d5e6f",
		Command:      []string{"go", "build", "-o", "out/app", "./cmd/app"},
		WorkDir:      ".",
		Source: provenance.Source{URI: "git+https://example.com/acme/app", Commit: commit, Dirty: true, DirHash: modHash,
			ExternalSymlinks: []string{"config -> /etc/app"}},
		Sandbox: provenance.Sandbox{Requested: "on", Applied: true, Namespaces: []string{"user", "mount", "pid", "net", "uts", "ipc"},
			ReadOnlySource: true, WritableDirs: []string{"out"}, ReadOnlyMounts: []string{"/root/go/pkg/mod"}},
		SourceDateEpoch: 1764093600,
		Env:             map[string]string{"PATH": "/usr/bin:/bin", "GOFLAGS": "-trimpath"},
		Redacted:        []string{"NPM_TOKEN"},
		Prepare:         []provenance.Step{{Command: []string{"go", "mod", "download"}, Network: true}},
		Dependencies: []provenance.Dependency{
			{URI: "pkg:golang/golang.org/x/text@v0.43.0", Digest: digest.Set{digest.DirHash: modHash}, Origin: "go.sum"},
			{URI: "pkg:cargo/serde@1.0.0", Origin: "Cargo.lock"},
		},
		Toolchain:  []provenance.Artifact{{Name: "/usr/local/go/bin/go", Digest: digest.Set{digest.SHA256: goSum}}},
		Log:        &provenance.Artifact{Name: "build.log", Digest: digest.Set{digest.SHA256: logSum}},
		StartedOn:  start,
		FinishedOn: start.Add(1500 * time.Millisecond),
		Products:   []provenance.Artifact{{Name: "out/app", Digest: digest.Set{digest.SHA256: prodSum}}},
	}
}

func TestStatementJSON(t *testing.T) {
	st, err := provenance.Statement(facts())
	if err != nil {
		t.Fatal(err)
	}
	b, err := provenance.JSON(st)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"predicateType": "https://slsa.dev/provenance/v1",
		"subject":       []any{map[string]any{"name": "out/app", "digest": map[string]any{"sha256": prodSum}}},
		"predicate": map[string]any{
			"buildDefinition": map[string]any{
				"buildType": "https://hallmark.dev/build/v1",
				"externalParameters": map[string]any{
					"command": []any{"go", "build", "-o", "out/app", "./cmd/app"},
					"workdir": ".",
					"source":  map[string]any{"uri": "git+https://example.com/acme/app", "commit": commit, "dirty": true},
				},
				"internalParameters": map[string]any{
					"sandbox": map[string]any{
						"requested": "on", "applied": true, "network": false, "readOnlySource": true,
						"namespaces":     []any{"user", "mount", "pid", "net", "uts", "ipc"},
						"writableDirs":   []any{"out"},
						"readOnlyMounts": []any{"/root/go/pkg/mod"},
					},
					"sourceDateEpoch": "1764093600",
					"envAllowlist":    []any{"GOFLAGS", "NPM_TOKEN", "PATH"},
					"env":             map[string]any{"PATH": "/usr/bin:/bin", "GOFLAGS": "-trimpath"},
					"redactedEnv":     []any{"NPM_TOKEN"},
					"prepare":         []any{map[string]any{"command": []any{"go", "mod", "download"}, "network": true}},
				},
				"resolvedDependencies": []any{
					// The tree was dirty: the commit's ID does not name it
					// (it is the base commit, an annotation).
					map[string]any{"uri": "git+https://example.com/acme/app", "digest": map[string]any{"dirHash": modHash},
						"annotations": map[string]any{"externalSymlinks": []any{"config -> /etc/app"}, "dirty": true, "baseCommit": commit}},
					map[string]any{"uri": "pkg:cargo/serde@1.0.0", "annotations": map[string]any{"origin": "Cargo.lock"}},
					map[string]any{"uri": "pkg:golang/golang.org/x/text@v0.43.0", "digest": map[string]any{"dirHash": modHash},
						"annotations": map[string]any{"origin": "go.sum"}},
					map[string]any{"name": "/usr/local/go/bin/go", "uri": "file:///usr/local/go/bin/go",
						"digest": map[string]any{"sha256": goSum}, "annotations": map[string]any{"role": "toolchain"}},
				},
			},
			"runDetails": map[string]any{
				"builder": map[string]any{"id": "https://hallmark.dev/builders/local/v1"},
				"metadata": map[string]any{
					"invocationId": "4b3c1f0e-8d2a-4c6b-9f1e-0a2b3c4d5e6f",
					"startedOn":    "2026-11-25T18:00:00Z",
					"finishedOn":   "2026-11-25T18:00:01.500Z",
				},
				"byproducts": []any{map[string]any{"name": "build.log", "digest": map[string]any{"sha256": logSum}, "mediaType": "text/plain"}},
			},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Statement JSON mismatch (-want +got):\n%s", d)
	}

	// The same facts always give the same bytes.
	st2, err := provenance.Statement(facts())
	if err != nil {
		t.Fatal(err)
	}
	b2, err := provenance.JSON(st2)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(b2) {
		t.Error("Statement JSON is not deterministic")
	}
}

func TestBuilderIDConfigurable(t *testing.T) {
	f := facts()
	f.BuilderID = "https://ci.example.com/runners/7"
	p, err := provenance.Predicate(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.GetRunDetails().GetBuilder().GetId(); got != f.BuilderID {
		t.Errorf("builder.id = %q, want %q", got, f.BuilderID)
	}
}

func TestInvalidFacts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*provenance.Facts)
	}{
		{"no command", func(f *provenance.Facts) { f.Command = nil }},
		{"no invocation", func(f *provenance.Facts) { f.InvocationID = "" }},
		{"no products", func(f *provenance.Facts) { f.Products = nil }},
		{"product without sha256", func(f *provenance.Facts) { f.Products[0].Digest = digest.Set{digest.SHA512: prodSum + prodSum} }},
		{"dependency without uri", func(f *provenance.Facts) { f.Dependencies[0].URI = "" }},
		{"bad digest", func(f *provenance.Facts) { f.Toolchain[0].Digest = digest.Set{digest.SHA256: "zz"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := facts()
			tt.mutate(&f)
			if _, err := provenance.Statement(f); !errors.Is(err, provenance.ErrInvalidFacts) {
				t.Errorf("Statement() error = %v, want ErrInvalidFacts", err)
			}
		})
	}
}

// TestSourceDescriptorNamesOnlyWhatWasBuilt: the source's resolved
// dependency carries the commit's ID as a digest only when the tree was the
// commit; a dirty tree or one the build changed is named by its dirHash, and
// Summarize still recognises it as the source.
func TestSourceDescriptorNamesOnlyWhatWasBuilt(t *testing.T) {
	commit := strings.Repeat("c", 40)
	for _, tc := range []struct {
		name       string
		src        provenance.Source
		wantCommit bool
	}{
		{"clean", provenance.Source{URI: "git+https://example.com/a", Commit: commit, DirHash: strings.Repeat("d", 64)}, true},
		{"dirty", provenance.Source{URI: "git+https://example.com/a", Commit: commit, DirHash: strings.Repeat("d", 64), Dirty: true}, false},
		{"changed by the build", provenance.Source{URI: "git+https://example.com/a", Commit: commit, DirHash: strings.Repeat("d", 64), ModifiedByBuild: []string{"x.go"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := provenance.Predicate(provenance.Facts{InvocationID: "i", Command: []string{"make"}, Source: tc.src})
			if err != nil {
				t.Fatal(err)
			}
			rd := p.GetBuildDefinition().GetResolvedDependencies()[0]
			if got := rd.GetDigest()["gitCommit"] != ""; got != tc.wantCommit {
				t.Errorf("digest %v: gitCommit present %v, want %v", rd.GetDigest(), got, tc.wantCommit)
			}
			if s := provenance.Summarize(p); s.Dependencies != 0 || s.Commit != commit {
				t.Errorf("summary: %d dependencies, commit %q; want the source recognised", s.Dependencies, s.Commit)
			}
		})
	}
}
