package gate

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/depcheck"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/provenance"
	"github.com/hallmark-dev/hallmark/repro"
	"github.com/hallmark-dev/hallmark/sbom"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/trust"
	"github.com/hallmark-dev/hallmark/vuln"
)

// kind says how one predicate type becomes policy input: the evidence kind
// name, the role its signer needs, how to read the predicate (once per
// bundle: the verifier keeps the result with the verified bundle), and how
// to add what read returned to one evaluation's input.
type kind struct {
	name string
	role trust.Role
	read func(v *attest.Verified) (any, error)
	add  func(in *policy.Input, pred any, m policy.Meta) error
}

// Predicate types of SBOM formats.
const (
	CycloneDXPredicateType = "https://cyclonedx.org/bom"
	SPDXPredicateType      = "https://spdx.dev/Document"
)

// kinds maps predicate types to their kind. Types not listed (VSAs and
// decision records among them) are not policy input.
func kinds() map[string]kind {
	ks := map[string]kind{
		ApprovalPredicateType:    {"approvals", trust.RoleApprover, readApproval, addApproval},
		tee.PredicateType:        {"tee", trust.RoleBuilder, readTEE, nil}, // needs the provenance: see addTEE
		provenance.PredicateType: {"provenance", trust.RoleBuilder, readProvenance, addProvenance},
		repro.PredicateType:      {"rebuilds", trust.RoleRebuilder, readRebuild, addRebuild},
		finding.PredicateType:    {"scan", trust.RoleScanner, readFindings, addFindings},
		vuln.PredicateType:       {"vulns", trust.RoleScanner, readVulns, addVulns},
		CycloneDXPredicateType:   {"sbom", trust.RoleScanner, readCycloneDX, addSBOM},
		SPDXPredicateType:        {"sbom", trust.RoleScanner, readSPDX, addSBOM},
	}
	// SLSA v0.2 (npm, the SLSA generator, cosign): provenance.Read
	// normalises it like v1.
	ks[provenance.PredicateTypeV02] = ks[provenance.PredicateType]
	return ks
}

// notInput are predicate types the gate writes itself; they are skipped
// silently when gathered.
var notInput = map[string]bool{VSAPredicateType: true, DecisionPredicateType: true}

// gather collects, verifies and normalises the evidence for req. When the
// artifact is an index (cov lists its platforms), scan evidence about a
// platform manifest it lists counts too, and cov records what it covers.
func (g *Gate) gather(ctx context.Context, req Request, now time.Time, cov *coverage) (policy.Input, error) {
	in := policy.Input{
		Artifact: req.Artifact,
		Context:  policy.Context{Environment: req.Environment, Time: now, Requester: req.Requester},
	}
	items, err := g.stored(ctx, req, cov)
	if err != nil {
		return in, err
	}
	for _, raw := range req.Bundles {
		items = append(items, item{raw: raw})
	}
	seen := map[string]bool{}
	verifiedTimes := map[string]time.Time{} // verifiedtime.go
	ks := g.kinds
	var teeItems []teeItem
	var provenances []*checked
	for _, it := range items {
		id, v := it.id, it.cached
		if v == nil {
			id = digest.Sum256(it.raw).String()
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		if v == nil {
			var err error
			if v, err = g.verifier.verify(ctx, it.raw); err != nil {
				in.Ignored = append(in.Ignored, policy.Ignored{ID: id, Reason: "does not verify against any trusted key: " + err.Error()})
				continue
			}
		}
		if notInput[v.predicateType] {
			continue
		}
		if !v.time.IsZero() {
			verifiedTimes[v.id] = v.time
		}
		k, ok := ks[v.predicateType]
		if !ok {
			in.Ignored = append(in.Ignored, policy.Ignored{ID: id, PredicateType: v.predicateType, KeyID: first(v.signerIDs), Reason: "predicate type is not an input of the policy"})
			continue
		}
		var plat *Platform // the index's platform the evidence is about
		if !v.hasDigest(req.Artifact.Digest.Algorithm(), req.Artifact.Digest.Hex()) {
			if p, ok := cov.platformOf(v.hasDigest); ok {
				plat = &p
			}
		}
		if plat != nil && !platformKinds[k.name] && k.name != "scan" {
			in.Ignored = append(in.Ignored, policy.Ignored{ID: id, Kind: k.name, PredicateType: v.predicateType, KeyID: first(v.signerIDs), Reason: "about platform " + plat.String() + " of index " + req.Artifact.Digest.String() + ": only SBOM and scan evidence about a platform counts for its index; " + k.name + " must name the index"})
			continue
		}
		if plat == nil && !v.hasDigest(req.Artifact.Digest.Algorithm(), req.Artifact.Digest.Hex()) {
			in.Ignored = append(in.Ignored, policy.Ignored{ID: id, Kind: k.name, PredicateType: v.predicateType, KeyID: first(v.signerIDs), Reason: "not about this artifact: its subjects do not include " + req.Artifact.Digest.String()})
			continue
		}
		// Roles are checked here, on every evaluation, against the trust
		// file of this gate: a cached result says only who signed.
		signer := ""
		for _, kid := range v.signerIDs {
			if g.trust.Has(kid, k.role) {
				signer = kid
				break
			}
		}
		if signer == "" {
			in.Ignored = append(in.Ignored, policy.Ignored{ID: id, Kind: k.name, PredicateType: v.predicateType, KeyID: first(v.signerIDs),
				Reason: fmt.Sprintf("signed by %s, which the trust file does not trust as %s", strings.Join(v.signerIDs, ", "), k.role)})
			continue
		}
		m := policy.Meta{ID: v.id, PredicateType: v.predicateType, Signer: signerOf(g.trust, v.certificate, signer),
			Logged: v.logged, Timestamped: v.timestamped, Subjects: v.subjectsIn(req.Artifact.Digest.Algorithm())}
		pred, err := v.pred, v.err
		if k.name == "scan" {
			k.name = scanKind(pred)
		}
		if k.add == nil {
			teeItems = append(teeItems, teeItem{v, pred, err, m})
			continue
		}
		if err != nil {
			in.Ignored = append(in.Ignored, policy.Ignored{ID: id, Kind: k.name, PredicateType: v.predicateType, KeyID: signer, Reason: "unreadable predicate: " + err.Error()})
			continue
		}
		if k.name == "provenance" {
			provenances = append(provenances, v)
		}
		if err := k.add(&in, pred, m); err != nil {
			in.Ignored = append(in.Ignored, policy.Ignored{ID: id, Kind: k.name, PredicateType: v.predicateType, KeyID: signer, Reason: "unreadable predicate: " + err.Error()})
			continue
		}
		cov.add(k.name, plat)
	}
	for _, it := range teeItems {
		if err := g.addTEE(ctx, &in, it, provenances, now); err != nil {
			in.Ignored = append(in.Ignored, policy.Ignored{ID: it.v.id, Kind: "tee", PredicateType: it.v.predicateType, KeyID: it.m.Signer.KeyID, Reason: err.Error()})
		}
	}
	useVerifiedTimes(&in, verifiedTimes)
	sort.Slice(in.Ignored, func(i, j int) bool { return in.Ignored[i].ID < in.Ignored[j].ID })
	return in, nil
}

// item is one piece of evidence gather considers: a bundle to verify, or
// the verifier's cached result for a stored record (cached, with its ID).
type item struct {
	id     string
	cached *checked
	raw    []byte
}

// stored returns the stored evidence about the artifact of req and the
// platforms cov lists, in the store's order, artifact first. The gate's
// own VSAs and decisions pile up with every decision about an artifact
// and are never inputs: they stay in the store. With a verification cache
// and a store that can list IDs, only the bundles the cache lacks are
// read: a record's ID is the SHA-256 of its bundle, the cache's key.
func (g *Gate) stored(ctx context.Context, req Request, cov *coverage) ([]item, error) {
	subjects := []digest.Digest{req.Artifact.Digest}
	for _, p := range cov.platforms {
		subjects = append(subjects, p.Digest)
	}
	query := func(d digest.Digest) store.Query {
		return store.Query{Subject: d, ExcludePredicateTypes: []string{VSAPredicateType, DecisionPredicateType}}
	}
	failed := func(i int, err error) error {
		if i == 0 {
			return fmt.Errorf("gather evidence for %s: %w", req.Artifact.Digest, err)
		}
		return fmt.Errorf("gather evidence for platform %s of %s: %w", cov.platforms[i-1], req.Artifact.Digest, err)
	}
	var items []item
	lister, ok := g.store.(store.IDLister)
	if !ok || !g.verifier.caching() {
		for i, d := range subjects {
			recs, err := g.store.List(ctx, query(d))
			if err != nil {
				return nil, failed(i, err)
			}
			for _, r := range recs {
				items = append(items, item{raw: r.Bundle})
			}
		}
		return items, nil
	}
	var missing []string
	listed := map[string]bool{}
	for i, d := range subjects {
		ids, err := lister.ListIDs(ctx, query(d))
		if err != nil {
			return nil, failed(i, err)
		}
		for _, id := range ids {
			if listed[id] { // about the index and a platform: gather skips it
				continue
			}
			listed[id] = true
			c, ok := g.verifier.get(id)
			if !ok {
				missing = append(missing, id)
			}
			items = append(items, item{id: id, cached: c})
		}
	}
	if len(missing) == 0 {
		return items, nil
	}
	bundles, err := lister.Bundles(ctx, missing)
	if err != nil {
		return nil, fmt.Errorf("gather evidence for %s: %w", req.Artifact.Digest, err)
	}
	kept := items[:0]
	for _, it := range items {
		if it.cached == nil {
			raw, ok := bundles[it.id]
			if !ok {
				continue // deleted since it was listed
			}
			it.raw = raw
		}
		kept = append(kept, it)
	}
	return kept, nil
}

type teeItem struct {
	v       *checked
	pred    any // readTEE's result
	readErr error
	m       policy.Meta
}

// addTEE re-verifies a TEE attestation: the hardware evidence against the
// vendor roots at the gate's time, and its binding to one of the artifact's
// trusted provenance statements (the quote's report data carries the
// SHA-256 of that provenance's DSSE PAE).
func (g *Gate) addTEE(ctx context.Context, in *policy.Input, it teeItem, provenances []*checked, now time.Time) error {
	if g.tee == nil {
		return fmt.Errorf("TEE verification is not configured in this gate")
	}
	if it.readErr != nil {
		return it.readErr
	}
	pred := it.pred.(*tee.Predicate)
	if len(provenances) == 0 {
		return fmt.Errorf("no trusted provenance for this artifact to bind the %s quote to", pred.Platform)
	}
	var lastErr error
	for _, p := range provenances {
		// Debug guests verify here and carry Debug=true: whether one may run
		// a deployment is the policy's call (tee.allowDebug), not the gate's.
		claims, err := tee.VerifyPredicate(ctx, g.tee, pred, p.pae, tee.VerifyOptions{Time: now, ReferenceValues: g.teeRefs, AllowDebugUnsafe: true})
		if err != nil {
			lastErr = err
			continue
		}
		it.m.Timestamp = claims.IssuedAt
		in.Evidence.TEE = append(in.Evidence.TEE, policy.TEE{Meta: it.m, Platform: string(claims.Platform), Measurements: claims.Measurements, Debug: claims.Debug, Verified: true})
		return nil
	}
	return fmt.Errorf("TEE evidence does not verify: %w", lastErr)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func roleNames(rs []trust.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// usedEvidence lists the IDs of every evidence item the policy saw.
func usedEvidence(in policy.Input) []string {
	var ids []string
	e := in.Evidence
	for _, x := range e.Provenance {
		ids = append(ids, x.ID)
	}
	for _, x := range e.Rebuilds {
		ids = append(ids, x.ID)
	}
	for _, x := range e.SBOM {
		ids = append(ids, x.ID)
	}
	for _, x := range e.Vulns {
		ids = append(ids, x.ID)
	}
	for _, x := range e.Misconfig {
		ids = append(ids, x.ID)
	}
	for _, x := range e.Secrets {
		ids = append(ids, x.ID)
	}
	for _, x := range e.TEE {
		ids = append(ids, x.ID)
	}
	for _, x := range e.Approvals {
		ids = append(ids, x.ID)
	}
	sort.Strings(ids)
	return ids
}

func readApproval(v *attest.Verified) (any, error) {
	var a Approval
	if err := v.DecodePredicate(&a); err != nil {
		return nil, err
	}
	return &a, nil
}

func addApproval(in *policy.Input, pred any, m policy.Meta) error {
	a := pred.(*Approval)
	m.Timestamp = a.ApprovedAt
	in.Evidence.Approvals = append(in.Evidence.Approvals, policy.Approval{
		Meta: m, Approver: m.Signer.KeyID, Environment: a.Environment, Artifact: a.Artifact.String(), Comment: a.Comment,
	})
	return nil
}

// readTEE parses a TEE predicate; addTEE verifies it per evaluation.
func readTEE(v *attest.Verified) (any, error) {
	raw, err := v.PredicateJSON()
	if err != nil {
		return nil, err
	}
	pred, err := tee.ParsePredicate(raw)
	if err != nil {
		return nil, fmt.Errorf("unreadable TEE predicate: %w", err)
	}
	return pred, nil
}

// findings is a findings predicate as policy input: its kind, and the scan
// without the Meta of an evaluation.
type findings struct {
	kind string
	scan policy.Scan
}

// readFindings returns *findings, with the kind even when the kind is
// not one the policy reads (scanKind names it in the ignored entry).
func readFindings(v *attest.Verified) (any, error) {
	raw, err := v.PredicateJSON()
	if err != nil {
		return nil, err
	}
	p, err := finding.Read(raw)
	if err != nil {
		return nil, err
	}
	f := &findings{kind: p.Kind, scan: policy.Scan{Meta: policy.Meta{Timestamp: p.ScannedAt}, Scanner: interned(p.Scanner.Name), ScannedAt: p.ScannedAt, Findings: nonNil(p.Findings)}}
	switch p.Kind {
	case finding.KindMisconfig, finding.KindSecrets, finding.KindDeps:
		return f, nil
	}
	return f, fmt.Errorf("findings kind %q (want %s, %s or %s)", p.Kind, finding.KindMisconfig, finding.KindSecrets, finding.KindDeps)
}

func addFindings(in *policy.Input, pred any, m policy.Meta) error {
	f := pred.(*findings)
	s := f.scan
	s.Meta = withTimestamp(m, f.scan.Meta)
	switch f.kind {
	case finding.KindMisconfig:
		in.Evidence.Misconfig = append(in.Evidence.Misconfig, s)
	case finding.KindSecrets:
		in.Evidence.Secrets = append(in.Evidence.Secrets, s)
	case finding.KindDeps:
		// Dependency-policy results are advisory; the policy reads the SBOM.
	}
	return nil
}

// withTimestamp is m with the timestamp read from the predicate, which
// read kept in the template's Meta.
func withTimestamp(m, template policy.Meta) policy.Meta {
	m.Timestamp = template.Timestamp
	return m
}

// readVulns returns the *policy.VulnScan of a vulnerability predicate,
// without the Meta of an evaluation.
func readVulns(v *attest.Verified) (any, error) {
	raw, err := v.PredicateJSON()
	if err != nil {
		return nil, err
	}
	p, err := vuln.ReadPredicate(raw)
	if err != nil {
		return nil, err
	}
	scan := &policy.VulnScan{Meta: policy.Meta{Timestamp: p.Metadata.ScanFinishedOn}, Scanner: interned(p.Scanner.URI), ScannedAt: p.Metadata.ScanFinishedOn,
		DatabaseUpdatedAt: p.Scanner.DB.LastUpdate, Findings: []policy.VulnFinding{}}
	for _, r := range p.Scanner.Result {
		f := policy.VulnFinding{ID: r.ID, Severity: finding.SeverityUnknown}
		for _, s := range r.Severity {
			if s.Method == "hallmark" {
				if sev, err := finding.ParseSeverity(s.Score); err == nil {
					f.Severity = sev
				}
			}
		}
		for _, a := range r.Annotations {
			if s, ok := a["purl"].(string); ok {
				f.Package = s
			} else if s, ok := a["package"].(string); ok && f.Package == "" {
				f.Package = s
			}
			if fixed, ok := a["fixedVersions"].([]any); ok && len(fixed) > 0 {
				f.FixAvailable = true
				f.FixedVersion, _ = fixed[0].(string)
			}
			if s, ok := a["vexStatus"].(string); ok {
				f.VEXStatus = s
			}
			if b, ok := a["suppressed"].(bool); ok {
				f.Suppressed = b
			}
		}
		scan.Findings = append(scan.Findings, f)
	}
	return scan, nil
}

func addVulns(in *policy.Input, pred any, m policy.Meta) error {
	scan := *pred.(*policy.VulnScan)
	scan.Meta = withTimestamp(m, scan.Meta)
	in.Evidence.Vulns = append(in.Evidence.Vulns, scan)
	return nil
}

func readCycloneDX(v *attest.Verified) (any, error) { return readSBOM(v, sbom.ReadCycloneDX) }

func readSPDX(v *attest.Verified) (any, error) { return readSBOM(v, sbom.ReadSPDX) }

// readSBOM reads an SBOM with read into the *policy.SBOM the policy sees
// (without the Meta of an evaluation): its components, with licences in
// canonical form.
func readSBOM(v *attest.Verified, read func([]byte) (*sbom.Contents, error)) (any, error) {
	raw, err := v.PredicateJSON()
	if err != nil {
		return nil, err
	}
	doc, err := read(raw)
	if err != nil {
		return nil, err
	}
	s := &policy.SBOM{Meta: policy.Meta{Timestamp: doc.Created}, Format: doc.Format, Components: []policy.Component{}}
	for _, p := range doc.Packages {
		c := newComponent(p.Name, p.Version, p.PURL)
		for _, l := range p.Licenses {
			switch {
			case l.Expression != "":
				c.Licenses = append(c.Licenses, depcheck.CanonicalLicenseExpression(l.Expression))
			case l.ID != "":
				c.Licenses = append(c.Licenses, depcheck.CanonicalLicenseID(l.ID))
			default:
				c.Licenses = append(c.Licenses, l.Name)
			}
		}
		s.Components = append(s.Components, c)
	}
	s.ComponentCount = len(s.Components)
	return s, nil
}

func addSBOM(in *policy.Input, pred any, m policy.Meta) error {
	s := *pred.(*policy.SBOM)
	s.Meta = withTimestamp(m, s.Meta)
	in.Evidence.SBOM = append(in.Evidence.SBOM, s)
	return nil
}

// newComponent builds an SBOM component of the policy input. Deny lists
// match the purl in its canonical form (qualifiers and subpath dropped, case
// folded per the purl type: depcheck.CanonicalPURL), so "?type=jar" or
// "pkg:pypi/CTX" cannot slip past them; the purl as the SBOM recorded it is
// kept in RecordedPURL when it differs.
func newComponent(name, version, purl string) policy.Component {
	c := policy.Component{Name: name, Version: version, PURL: purl, Licenses: []string{}}
	if canon, ok := depcheck.CanonicalPURL(purl); ok && canon != purl {
		c.PURL, c.RecordedPURL = canon, purl
	}
	return c
}

// scanKind names a findings predicate's kind (readFindings' result) for
// messages about it.
func scanKind(pred any) string {
	if f, ok := pred.(*findings); ok && f.kind != "" {
		return f.kind
	}
	return "scan"
}

// readProvenance reads SLSA provenance v1 or v0.2 from any producer
// (provenance.Read) into the *policy.Provenance the policy sees, without
// the Meta of an evaluation. Repository URIs are compared without the
// "git+" scheme prefix and ".git" suffix SLSA producers add.
func readProvenance(v *attest.Verified) (any, error) {
	raw, err := v.PredicateJSON()
	if err != nil {
		return nil, err
	}
	r, err := provenance.Read(v.PredicateType, raw)
	if err != nil {
		return nil, err
	}
	out := &policy.Provenance{
		Meta:      policy.Meta{Timestamp: r.FinishedOn},
		Builder:   policy.Builder{ID: r.BuilderID},
		BuildType: r.BuildType,
		ExternalParameters: policy.ExternalParameters{Source: policy.Source{
			Repository: normalizeRepo(r.SourceURI), Ref: r.Ref, Commit: r.Commit,
			Dirty: r.Dirty, ModifiedByBuild: r.ModifiedByBuild, Workflow: r.Workflow,
		}},
		ResolvedDependencies: []policy.ResolvedDependency{},
	}
	if sb := r.Sandbox; sb != nil {
		hermetic := sb.Hermetic()
		out.InternalParameters = policy.InternalParameters{Sandbox: &sb.Applied, Network: &sb.Network, Hermetic: &hermetic,
			SharedWritable: sb.SharedWritable}
	}
	for _, d := range r.Dependencies {
		out.ResolvedDependencies = append(out.ResolvedDependencies, policy.ResolvedDependency{URI: d.URI, Digest: d.Digest})
	}
	return out, nil
}

func addProvenance(in *policy.Input, pred any, m policy.Meta) error {
	p := *pred.(*policy.Provenance)
	p.Meta = withTimestamp(m, p.Meta)
	in.Evidence.Provenance = append(in.Evidence.Provenance, p)
	return nil
}

// NormalizeRepository is the form in which the gate shows a provenance's
// source repository to policy (source.repositories compares with it):
// without the "git+" prefix and the ".git" suffix.
func NormalizeRepository(uri string) string { return normalizeRepo(uri) }

func normalizeRepo(uri string) string {
	uri = strings.TrimPrefix(uri, "git+")
	return strings.TrimSuffix(uri, ".git")
}

func readRebuild(v *attest.Verified) (any, error) {
	raw, err := v.PredicateJSON()
	if err != nil {
		return nil, err
	}
	return repro.Read(raw)
}

// addRebuild adds a reproducibility attestation (readRebuild's result). It
// matched the artifact when the product recorded as expected to have the
// artifact's digest (or, without expectations, a product with that digest)
// was rebuilt bit for bit.
func addRebuild(in *policy.Input, pred any, m policy.Meta) error {
	p := pred.(*repro.Predicate)
	m.Timestamp = p.FinishedOn
	artifact := in.Artifact.Digest
	relevant, matched := p.Vouches(artifact)
	if !relevant {
		return fmt.Errorf("no rebuilt product corresponds to %s", artifact)
	}
	in.Evidence.Rebuilds = append(in.Evidence.Rebuilds, policy.Rebuild{Meta: m, Artifact: artifact.String(), Matched: matched,
		SourceDirty: p.Source != nil && p.Source.Dirty})
	return nil
}
