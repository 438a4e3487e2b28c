package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/sbom"
	"github.com/hallmark-dev/hallmark/store/sqlite"
)

// TestRecheckIncremental: after a database import that adds an advisory
// for Debian's zlib, recheck --incremental re-evaluates the deployed image
// whose SBOM lists zlib and leaves the Go program untouched; an import that
// changes nothing rechecks nothing; the first incremental recheck, with no
// earlier one to start from, rechecks everything.
func TestRecheckIncremental(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	gk, scanner, trustFile := gateAndScannerKeys(t, dir)
	clock := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	ta.Now = func() time.Time { return clock }
	st, err := sqlite.Open(t.Context(), filepath.Join(ta.env[StoreEnv], "evidence.db"), sqlite.WithClock(ta.Now))
	if err != nil {
		t.Fatal(err)
	}
	deb, prog := attesttest.Subject("registry.local/deb", []byte("deb image")), attesttest.Subject("registry.local/prog", []byte("go program"))
	// Real inventories: a Debian root file system (zlib1g from source
	// package zlib) and a Go module tree.
	for sub, tree := range map[*attest.Subject]string{&deb: "../../sbom/testdata/rootfs-debian", &prog: "../../sbom/testdata/tree/go"} {
		inv, err := ta.inventory(t.Context(), tree, false, "")
		if err != nil {
			t.Fatal(err)
		}
		doc, err := sbom.Document(inv, sbom.CycloneDX, sbom.DocumentInfo{Created: clock})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Put(t.Context(), attesttest.Verified(t, scanner, sbom.PredicateCycloneDX, json.RawMessage(doc), *sub)); err != nil {
			t.Fatal(err)
		}
		d := gate.Decision{Artifact: policy.Artifact{Digest: attesttest.Digest(*sub), Name: sub.Name}, Environment: "prod", Allowed: true,
			DecidedAt: clock, Source: gate.AdmissionSource, Workload: &gate.Workload{Namespace: "ns", Kind: "Deployment", Name: sub.Name}, Violations: []policy.Violation{}}
		if _, err := st.Put(t.Context(), attesttest.Verified(t, gk, gate.DecisionPredicateType, d, *sub)); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	// The real Debian and Go records of the fixtures; yesterday's copy
	// lacks DSA-5218-1 (zlib).
	records := func(skip string) string {
		out := t.TempDir()
		for _, eco := range []string{"debian", "go"} {
			os.MkdirAll(filepath.Join(out, eco), 0o755)
			files, _ := filepath.Glob(filepath.Join("../../vuln/testdata/osv", eco, "*.json"))
			for _, f := range files {
				if filepath.Base(f) != skip {
					b, _ := os.ReadFile(f)
					os.WriteFile(filepath.Join(out, eco, filepath.Base(f)), b, 0o644)
				}
			}
		}
		return out
	}
	clock = clock.Add(time.Hour)
	ta.mustRun(t, "db", "update", "--from", records("DSA-5218-1.json"))

	recheck := func() []gate.Recheck {
		t.Helper()
		clock = clock.Add(time.Hour)
		code := ta.run("recheck", "--incremental", "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"), "--env", "prod", "--format", "json")
		var rc []gate.Recheck
		if err := json.Unmarshal(ta.out.Bytes(), &rc); err != nil || (code != 0 && code != ExitRejected) {
			t.Fatalf("recheck exit %d: %v\n%s\n%s", code, err, ta.out, ta.errOut)
		}
		return rc
	}
	names := func(rc []gate.Recheck) string {
		var out []string
		for _, r := range rc {
			out = append(out, r.Artifact.Name)
		}
		return strings.Join(out, ",")
	}
	if got := names(recheck()); got != "registry.local/deb,registry.local/prog" && got != "registry.local/prog,registry.local/deb" {
		t.Errorf("first incremental recheck rechecked %q, want both", got)
	}
	if !strings.Contains(ta.errOut.String(), "no earlier recheck") {
		t.Errorf("stderr: %s", ta.errOut)
	}

	// Today's import adds DSA-5218-1: only the Debian image is touched.
	clock = clock.Add(time.Hour)
	ta.mustRun(t, "db", "update", "--from", records(""))
	if got := names(recheck()); got != "registry.local/deb" {
		t.Errorf("after the zlib advisory rechecked %q, want only registry.local/deb\n%s", got, ta.errOut)
	}
	if !strings.Contains(ta.errOut.String(), "touch 1 of 2 deployed artifact(s)") {
		t.Errorf("stderr: %s", ta.errOut)
	}
	// Nothing changed since: nothing to recheck.
	clock = clock.Add(time.Hour)
	ta.mustRun(t, "db", "update", "--from", records(""))
	if got := names(recheck()); got != "" {
		t.Errorf("with no database change rechecked %q", got)
	}
	// A full recheck still covers everything.
	clock = clock.Add(time.Hour)
	ta.run("recheck", "--trust", trustFile, "--key", filepath.Join(dir, "gate.key"), "--env", "prod", "--format", "json")
	var rc []gate.Recheck
	if err := json.Unmarshal(ta.out.Bytes(), &rc); err != nil || len(rc) != 2 {
		t.Errorf("full recheck: %v, %d rechecked", err, len(rc))
	}
}
