package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/compliance"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/tee/verifiers"
	"github.com/hallmark-dev/hallmark/tlog"
	"github.com/hallmark-dev/hallmark/trust"
)

// Options are how Verify checks an archive.
type Options struct {
	// Name names the archive in errors (e.g. its file name).
	Name string
	// Key, if not nil, must have signed the manifest.
	Key *keys.PublicKey
	// Unsigned, if not nil, is called with the manifest digest when Key is
	// nil, once the members match the manifest: the archive is then only
	// consistent with itself.
	Unsigned func(manifestDigest string)
	// Requester and Source are what the gate's dry run is asked by; they
	// must be the ones the export used (e.g. "hallmark report", "cli").
	Requester, Source string
}

// Result is what Verify verified.
type Result struct {
	ManifestDigest string
	Members        int
	Bundles        int
	PolicyDigest   string
	// TrustedRoot is the archived trusted root's member name, "" if the
	// archive carries none.
	TrustedRoot string
	// Report is the report rebuilt from the archive; it equals the
	// archived one.
	Report *compliance.Report
}

// Verify reads an archive from r and checks it offline: every member
// against the manifest, the manifest's signature (Options.Key), every
// bundle against the archived trust file and trusted root, the recompiled
// policy's digest, and the report the gate's dry run rebuilds on the
// archived evidence alone, which must equal the archived one.
func Verify(ctx context.Context, r io.Reader, o Options) (*Result, error) {
	file := o.Name
	members, err := ReadMembers(r)
	if err != nil {
		return nil, badInput(fmt.Errorf("%s: %w", file, err))
	}
	manJSON, ok := members[ManifestName]
	if !ok {
		return nil, badInput(fmt.Errorf("%s: no %s", file, ManifestName))
	}
	var man Manifest
	if err := json.Unmarshal(manJSON, &man); err != nil || man.Type != PredicateType {
		return nil, badInput(fmt.Errorf("%s: %s is not a Hallmark export manifest: %v", file, ManifestName, err))
	}
	// Every member is listed with its digest, and every listed member is there.
	for name, b := range members {
		if name == ManifestName || name == SignatureName {
			continue
		}
		want, listed := man.Members[name]
		if !listed {
			return nil, rejected(fmt.Errorf("%s: member %s is not in the manifest", file, name))
		}
		if got := SHA256Hex(b); got != want {
			return nil, rejected(fmt.Errorf("%s: member %s was changed: sha256 %s, manifest says %s", file, name, got, want))
		}
	}
	for name := range man.Members {
		if _, ok := members[name]; !ok {
			return nil, rejected(fmt.Errorf("%s: member %s listed in the manifest is missing", file, name))
		}
	}
	manDigest := SHA256Hex(manJSON)
	if o.Key != nil {
		if err := checkSignature(ctx, members, manDigest, o.Key); err != nil {
			return nil, err
		}
	} else if o.Unsigned != nil {
		o.Unsigned(manDigest)
	}

	// Trust file and policy, from the archive alone.
	dir, err := os.MkdirTemp("", "hallmark-verify-export-")
	if err != nil {
		return nil, environment(err)
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{TrustName, RefValuesName} {
		if b, ok := members[name]; ok {
			os.MkdirAll(filepath.Join(dir, "trust"), 0o700)
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), b, 0o600); err != nil {
				return nil, environment(err)
			}
		}
	}
	tr, err := trust.Load(filepath.Join(dir, filepath.FromSlash(TrustName)))
	if err != nil {
		return nil, rejected(fmt.Errorf("%s: trust file: %w", file, err))
	}
	reg, err := verifiers.Offline()
	if err != nil {
		return nil, environment(err)
	}
	refs, err := gate.ReferenceValues(tr)
	if err != nil {
		return nil, badInput(fmt.Errorf("%s: %w", file, err))
	}
	pol, err := compilePolicy(ctx, members)
	if err != nil {
		return nil, rejected(fmt.Errorf("%s: %w", file, err))
	}
	if pol.Digest() != man.PolicyDigest {
		return nil, rejected(fmt.Errorf("%s: the archived policy compiles to digest %s, the manifest says %s", file, pol.Digest(), man.PolicyDigest))
	}
	vopts, err := man.Transparency.verifyOptions(members)
	if err != nil {
		return nil, rejected(fmt.Errorf("%s: %w", file, err))
	}
	var archived compliance.Report
	if err := json.Unmarshal(members[ReportName], &archived); err != nil {
		return nil, badInput(fmt.Errorf("%s: %s: %w", file, ReportName, err))
	}

	// Decision records and VSAs go into a scratch store (they are listed
	// from a store); the evidence goes to the gate as bundles.
	st, err := sqlite.Open(ctx, filepath.Join(dir, "store", "hallmark.db"))
	if err != nil {
		return nil, environment(err)
	}
	defer st.Close()
	byID := map[string][]byte{}
	nBundles := 0
	for name, b := range members {
		if !strings.HasPrefix(name, "bundles/") {
			continue
		}
		nBundles++
		byID["sha256:"+SHA256Hex(b)] = b
		if err := transparencyProblem(ctx, b, name, tr, vopts); err != nil {
			return nil, rejected(fmt.Errorf("%s: %w (the archive, or the store it was exported from, was altered)", file, err))
		}
		// Decisions are listed as the export listed them: verified against
		// the trust file (the gate need not log its own records).
		v, err := attest.Verify(ctx, b, tr.All(), attest.WithInputName(name))
		if err != nil {
			continue // the gate lists it as ignored, as it did when exporting
		}
		if v.PredicateType == gate.DecisionPredicateType || v.PredicateType == gate.VSAPredicateType {
			if _, err := st.Put(ctx, v); err != nil {
				return nil, environment(err)
			}
		}
	}
	// Disclosure dates are not evidence: take the archived report's.
	published := map[string]time.Time{}
	for _, h := range archived.VulnerabilityHandling {
		if h.Published != nil {
			published[h.ID] = *h.Published
		}
	}
	req := compliance.Request{Trust: tr, Policy: pol, TEE: reg, TEERefs: refs, Environment: archived.Scope.Environment,
		Since: archived.Scope.Since, Until: archived.Scope.Until, Now: archived.GeneratedAt,
		Decisions: compliance.StoreDecisions(st, tr, nil), Requester: o.Requester, Source: o.Source,
		Bundles: map[string][][]byte{}, Published: func(*compliance.Report) map[string]time.Time { return published }, Verify: vopts}
	if archived.Scope.Artifact != "" {
		d, err := digest.Parse(archived.Scope.Artifact)
		if err != nil {
			return nil, rejected(fmt.Errorf("%s: report scope: %w", file, err))
		}
		req.Artifact.Digest = d
	}
	for _, a := range archived.Artifacts {
		dg := a.Artifact.Digest.String()
		if dg == archived.Scope.Artifact {
			req.Artifact.Name = a.Artifact.Name
		}
		for _, id := range man.Artifacts[dg] {
			b, ok := byID[id]
			if !ok {
				return nil, rejected(fmt.Errorf("%s: bundle %s of %s is not in the archive", file, id, dg))
			}
			req.Bundles[dg] = append(req.Bundles[dg], b)
		}
	}
	got, _, err := compliance.Generate(ctx, st, req)
	if err != nil {
		return nil, environment(err)
	}
	if err := sameReport(&archived, got); err != nil {
		return nil, rejected(fmt.Errorf("%s: the archive does not reproduce its report: %w", file, err))
	}
	res := &Result{ManifestDigest: manDigest, Members: len(members), Bundles: nBundles, PolicyDigest: pol.Digest(), Report: got}
	if man.Transparency != nil {
		res.TrustedRoot = man.Transparency.TrustedRoot
	}
	return res, nil
}

// verifyOptions are the archived trusted root and thresholds as verify
// options; none for an archive exported without a root.
func (t *Transparency) verifyOptions(members map[string][]byte) ([]attest.VerifyOption, error) {
	if t == nil {
		return nil, nil
	}
	raw, ok := members[t.TrustedRoot]
	if !ok {
		return nil, fmt.Errorf("the manifest names trusted root %s, which is not in the archive", t.TrustedRoot)
	}
	tr, err := tlog.ParseRoot(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.TrustedRoot, err)
	}
	opts := []attest.VerifyOption{attest.WithTrustedRoot(tr)}
	if t.LogThreshold != nil {
		opts = append(opts, attest.WithLogThreshold(*t.LogThreshold))
	}
	if t.TimestampThreshold != nil {
		opts = append(opts, attest.WithTimestampThreshold(*t.TimestampThreshold))
	}
	return opts, nil
}

func checkSignature(ctx context.Context, members map[string][]byte, manDigest string, pub *keys.PublicKey) error {
	sig, ok := members[SignatureName]
	if !ok {
		return rejected(fmt.Errorf("--key given but the archive has no %s", SignatureName))
	}
	v, err := attest.Verify(ctx, sig, attest.NewKeySet(pub), attest.WithInputName(SignatureName))
	if err != nil {
		return rejected(fmt.Errorf("manifest signature: %w", err))
	}
	if v.PredicateType != PredicateType || !v.HasDigest("sha256", manDigest) {
		return rejected(fmt.Errorf("manifest signature: it signs another manifest (or is not an export signature)"))
	}
	return nil
}

// compilePolicy recompiles the archived policy: the modules other than
// this binary's built-in library (which Compile adds itself; a different
// archived copy changes the digest), the data document and the entrypoint.
func compilePolicy(ctx context.Context, members map[string][]byte) (*policy.Policy, error) {
	var doc PolicyDoc
	if err := json.Unmarshal(members[PolicyName], &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", PolicyName, err)
	}
	builtin := map[string]string{}
	for _, m := range policy.BuiltinModules() {
		builtin[m.Name] = string(m.Source)
	}
	var mods []policy.Module
	for _, m := range doc.Modules {
		src, ok := members[m.File]
		if !ok {
			return nil, fmt.Errorf("policy module %s (%s) is missing", m.Name, m.File)
		}
		if b, isBuiltin := builtin[m.Name]; isBuiltin {
			if b != string(src) {
				return nil, fmt.Errorf("policy module %s differs from this Hallmark's built-in library: verify with the Hallmark version that exported it", m.Name)
			}
			continue
		}
		mods = append(mods, policy.Module{Name: m.Name, Source: src})
	}
	var data map[string]any
	if err := json.Unmarshal(members[DataName], &data); err != nil {
		return nil, fmt.Errorf("%s: %w", DataName, err)
	}
	opts := []policy.Option{policy.WithData(data), policy.WithEntrypoint(doc.Entrypoint)}
	if doc.URI != "" {
		opts = append(opts, policy.WithURI(doc.URI))
	}
	p, err := policy.Compile(ctx, mods, opts...)
	if err != nil {
		return nil, fmt.Errorf("recompile policy: %w", err)
	}
	if p.Digest() != doc.Digest {
		return nil, fmt.Errorf("the archived policy compiles to digest %s, policy.json says %s", p.Digest(), doc.Digest)
	}
	return p, nil
}

// sameReport compares the verdicts of two reports, naming the first
// difference.
func sameReport(want, got *compliance.Report) error {
	if len(want.Artifacts) != len(got.Artifacts) {
		return fmt.Errorf("%d artifacts reported, %d reproduced", len(want.Artifacts), len(got.Artifacts))
	}
	for i := range want.Artifacts {
		w, g := want.Artifacts[i], got.Artifacts[i]
		if w.Decision.Allow != g.Decision.Allow || w.Decision.SLSABuildLevel != g.Decision.SLSABuildLevel {
			return fmt.Errorf("%s: decision allow=%t L%d reported, allow=%t L%d reproduced", w.Artifact.Digest, w.Decision.Allow, w.Decision.SLSABuildLevel, g.Decision.Allow, g.Decision.SLSABuildLevel)
		}
		for j := range w.Frameworks {
			for k := range w.Frameworks[j].Controls {
				wc, gc := w.Frameworks[j].Controls[k], g.Frameworks[j].Controls[k]
				if wc.Status != gc.Status {
					return fmt.Errorf("%s: control %s %s reported, %s reproduced", w.Artifact.Digest, wc.ID, wc.Status, gc.Status)
				}
			}
		}
		wb, _ := json.Marshal(w)
		gb, _ := json.Marshal(g)
		if !bytes.Equal(wb, gb) {
			return fmt.Errorf("%s: the reproduced report differs from the archived one in %s", w.Artifact.Digest, firstDifference(wb, gb))
		}
	}
	wb, _ := json.Marshal(want.VulnerabilityHandling)
	gb, _ := json.Marshal(got.VulnerabilityHandling)
	if !bytes.Equal(wb, gb) {
		return fmt.Errorf("the reproduced vulnerability-handling figures differ from the archived ones")
	}
	return nil
}

// firstDifference names the top-level fields in which two JSON objects
// differ, and the first differing value of the first such field.
func firstDifference(a, b []byte) string {
	var am, bm map[string]json.RawMessage
	json.Unmarshal(a, &am)
	json.Unmarshal(b, &bm)
	var names []string
	for k := range am {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !bytes.Equal(am[k], bm[k]) {
			return fmt.Sprintf("%q (archived %.300s, reproduced %.300s)", k, am[k], bm[k])
		}
	}
	return "field order"
}
