package gate_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/provenance"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/trust"
)

// TestProvenanceStateReachesLevels: provenance that records a dirty tree,
// tracked files changed by the build, or a writable cache shared between
// builds must not pass the source rule or reach SLSA Build L3, and the VSA
// must say so (issue #20 item 6, issue #16 item 2).
func TestProvenanceStateReachesLevels(t *testing.T) {
	const builderID = "https://hallmark.dev/builders/local/v1"
	clean := provenance.Facts{
		InvocationID: "3f1c7a52-52a4-4f5e-9e0c-6e7a8a1d2b10", Command: []string{"make"},
		Source: provenance.Source{URI: "git+https://github.com/acme/app.git", Ref: "refs/heads/main", Commit: strings.Repeat("a", 40)},
		Sandbox: provenance.Sandbox{Requested: "on", Applied: true, Namespaces: []string{"user", "mount", "net"},
			ReadOnlySource: true, WritableDirs: []string{"dist"}},
		StartedOn: now.Add(-time.Hour), FinishedOn: now.Add(-time.Minute),
	}
	for _, tc := range []struct {
		name       string
		edit       func(*provenance.Facts)
		allowDirty bool
		wantAllow  bool
		wantRules  []string
		wantLevels []string
	}{
		{"clean isolated build", func(*provenance.Facts) {}, false, true, nil, []string{"SLSA_BUILD_LEVEL_3"}},
		{"dirty tree", func(f *provenance.Facts) { f.Source.Dirty = true }, false, false,
			[]string{"source.dirty"}, []string{"SLSA_BUILD_LEVEL_3", policy.SourceDirtyLevel}},
		{"dirty tree allowed explicitly still marked", func(f *provenance.Facts) { f.Source.Dirty = true }, true, true,
			nil, []string{"SLSA_BUILD_LEVEL_3", policy.SourceDirtyLevel}},
		{"build changed a tracked file", func(f *provenance.Facts) { f.Source.ModifiedByBuild = []string{"gen/version.go"} }, false, false,
			[]string{"source.modified_by_build"}, []string{"SLSA_BUILD_LEVEL_3", policy.SourceDirtyLevel}},
		{"shared writable cache", func(f *provenance.Facts) {
			f.Sandbox.WritableDirs = append(f.Sandbox.WritableDirs, "/var/cache/go")
			f.Sandbox.SharedWritable = []string{"/var/cache/go"}
		}, false, false, []string{"slsa_l3.shared_writable"}, []string{"SLSA_BUILD_LEVEL_2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			builder := attesttest.Key(t, keys.ECDSAP256)
			gateKey := attesttest.Key(t, keys.ECDSAP256)
			art := attesttest.Subject("app", []byte("release"))
			f := clean
			f.Products = []provenance.Artifact{{Name: "dist/app", Digest: map[string]string{"sha256": art.Digest["sha256"]}}}
			tc.edit(&f)
			st, err := provenance.Statement(f)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := attest.Sign(t.Context(), builder, st)
			if err != nil {
				t.Fatal(err)
			}
			preset := "version: 1\nenvironments:\n  prod:\n    rules: [slsa_l1, slsa_l2, slsa_l3, source]\n" +
				"    slsa: {builders: [\"" + builderID + "\"]}\n" +
				"    source: {repositories: [\"https://github.com/acme/app\"], refs: [\"refs/heads/main\"]"
			if tc.allowDirty {
				preset += ", allowDirtyUnsafe: true"
			}
			preset += "}\n"
			p, err := policy.ParsePreset([]byte(preset))
			if err != nil {
				t.Fatal(err)
			}
			pol, err := policy.CompilePreset(t.Context(), p, "prod")
			if err != nil {
				t.Fatal(err)
			}
			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "e.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			tr := trust.New(trust.Key{Name: "b", Public: builder.Public(), Roles: []trust.Role{trust.RoleBuilder}},
				trust.Key{Name: "g", Public: gateKey.Public(), Roles: []trust.Role{trust.RoleGate}})
			g, err := gate.New(s, tr, map[string]*policy.Policy{"prod": pol}, gateKey, gate.WithClock(func() time.Time { return now }))
			if err != nil {
				t.Fatal(err)
			}
			dg := attesttest.Digest(art)
			res, err := g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: dg}, Environment: "prod", Bundles: [][]byte{raw}})
			if err != nil {
				t.Fatal(err)
			}
			var rules []string
			for _, v := range res.Decision.Violations {
				rules = append(rules, v.RuleID)
			}
			if res.Decision.Allow != tc.wantAllow || !slices.Equal(rules, tc.wantRules) {
				t.Errorf("allow=%v violations=%v, want allow=%v %v", res.Decision.Allow, rules, tc.wantAllow, tc.wantRules)
			}
			// The request recorded the decision alone, as an admission
			// review does; the VSA issued from it lists the levels.
			if vsas, err := s.List(t.Context(), store.Query{PredicateType: gate.VSAPredicateType, Subject: dg}); err != nil || len(vsas) != 0 {
				t.Fatalf("%d VSAs stored (%v), want none", len(vsas), err)
			}
			issued, err := g.VSAIssuer().Issue(t.Context(), res.Record.ID)
			if err != nil {
				t.Fatal(err)
			}
			payload := issued.Payload
			var vsa struct {
				Predicate struct {
					VerifiedLevels []string `json:"verifiedLevels"`
				} `json:"predicate"`
			}
			if err := json.Unmarshal(payload, &vsa); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(vsa.Predicate.VerifiedLevels, tc.wantLevels) {
				t.Errorf("VSA verifiedLevels = %v, want %v", vsa.Predicate.VerifiedLevels, tc.wantLevels)
			}
		})
	}
}
