package policytest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/policy"
)

// Key IDs of the fixture's signers.
const (
	BuilderKey    = "SHA256:builder-ci-1"
	RebuilderKeyA = "SHA256:rebuilder-a"
	RebuilderKeyB = "SHA256:rebuilder-b"
	ScannerKey    = "SHA256:scanner-1"
	ApproverKeyA  = "SHA256:approver-alice"
	ApproverKeyB  = "SHA256:approver-bob"
	ApproverKeyC  = "SHA256:approver-carol"
	BuilderID     = "https://hallmark.dev/builders/local/v1" // provenance.DefaultBuilderID, what hallmark build writes
	Repository    = "https://github.com/hallmark-dev/hallmark"
)

// TDXMRTD is the MRTD of a real Intel TDX production quote (a non-debug TD),
// go-tdx-guest testing/testdata/tdx_prod_quote_SPR_E4.dat (Apache-2.0),
// read at TD report offset 136.
const TDXMRTD = "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb"

// SNPDebugMeasurement is the launch measurement of a real AMD SEV-SNP
// report from a debug guest (policy 0xb0000), go-sev-guest
// verify/testdata/attestation.bin (Apache-2.0), offset 0x90.
const SNPDebugMeasurement = "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"

// Digest returns "sha256:<hex>" of s, for fixture IDs and digests.
func Digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(h[:])
}

// ArtifactDigest is the fixture artifact's digest.
var ArtifactDigest = Digest("hallmark-linux-amd64 v1.4.0")

// Commit is the fixture's source commit.
const Commit = "9f3c2a1b7d4e5f60718293a4b5c6d7e8f9012345"

func meta(kind, keyID string, roles []string, ts time.Time, n int) policy.Meta {
	return policy.Meta{
		ID:            Digest(fmt.Sprintf("bundle %s %d", kind, n)),
		Signer:        policy.Signer{KeyID: keyID, Roles: roles},
		PredicateType: predicateTypes[kind],
		Timestamp:     ts,
		Subjects:      []string{ArtifactDigest},
	}
}

var predicateTypes = map[string]string{
	"provenance": "https://slsa.dev/provenance/v1",
	"rebuild":    "https://hallmark.dev/attestation/rebuild/v1",
	"sbom":       "https://cyclonedx.org/bom",
	"vulns":      "https://hallmark.dev/attestation/vulns/v1",
	"misconfig":  "https://hallmark.dev/attestation/misconfig/v1",
	"secrets":    "https://hallmark.dev/attestation/secrets/v1",
	"tee":        "https://hallmark.dev/attestation/tee/v1",
	"approval":   "https://hallmark.dev/attestation/approval/v1",
}

func ptr[T any](v T) *T { return &v }

// Options size the fixture.
type Options struct {
	// Components in the SBOM (default 500).
	Components int
	// Findings in the vulnerability scan (default 50).
	Findings int
	// Approvals by distinct approvers, at most 3 (default 3).
	Approvals int
	// Rebuilds by distinct rebuilders, at most 2 (default 2).
	Rebuilds int
}

// Input returns a realistic input for environment "prod" at time now that
// the built-in prod preset, with ProdParams, allows.
func Input(now time.Time) policy.Input { return Sized(now, Options{}) }

// Sized is Input with the given sizes.
func Sized(now time.Time, o Options) policy.Input {
	if o.Components == 0 {
		o.Components = 500
	}
	if o.Findings == 0 {
		o.Findings = 50
	}
	if o.Approvals == 0 {
		o.Approvals = 3
	}
	if o.Rebuilds == 0 {
		o.Rebuilds = 2
	}
	hour := time.Hour
	in := policy.Input{
		Artifact: policy.Artifact{Digest: digest.MustParse(ArtifactDigest), Name: "hallmark-linux-amd64"},
		Context:  policy.Context{Environment: "prod", Time: now, Requester: "deploy-bot@hallmark.dev"},
	}
	ev := &in.Evidence
	ev.Provenance = []policy.Provenance{{
		Meta:      meta("provenance", BuilderKey, []string{"builder"}, now.Add(-6*hour), 0),
		Builder:   policy.Builder{ID: BuilderID},
		BuildType: "https://hallmark.dev/buildtypes/go@v1",
		ExternalParameters: policy.ExternalParameters{Source: policy.Source{
			Repository: Repository, Ref: "refs/heads/main", Commit: Commit,
		}},
		InternalParameters: policy.InternalParameters{Sandbox: ptr(true), Network: ptr(false), Hermetic: ptr(true)},
		ResolvedDependencies: []policy.ResolvedDependency{
			{URI: "git+" + Repository + "@refs/heads/main", Digest: "gitCommit:" + Commit},
			{URI: "https://go.dev/dl/go1.26.3.linux-amd64.tar.gz", Digest: Digest("go1.26.3")},
		},
	}}
	rebuilders := []string{RebuilderKeyA, RebuilderKeyB}
	for i := range min(o.Rebuilds, len(rebuilders)) {
		ev.Rebuilds = append(ev.Rebuilds, policy.Rebuild{
			Meta:     meta("rebuild", rebuilders[i], []string{"rebuilder"}, now.Add(-5*hour), i),
			Artifact: ArtifactDigest,
			Matched:  true,
		})
	}
	sbom := policy.SBOM{Meta: meta("sbom", ScannerKey, []string{"scanner"}, now.Add(-5*hour), 0), Format: "cyclonedx-1.6", ComponentCount: o.Components}
	licences := []string{"MIT", "Apache-2.0", "BSD-3-Clause", "ISC", "MPL-2.0", "Apache-2.0 OR MIT"}
	for i := range o.Components {
		name := fmt.Sprintf("github.com/example/mod%03d", i)
		version := fmt.Sprintf("v1.%d.%d", i%13, i%7)
		sbom.Components = append(sbom.Components, policy.Component{
			Name: name, Version: version,
			PURL:     "pkg:golang/" + name + "@" + version,
			Licenses: []string{licences[i%len(licences)]},
		})
	}
	ev.SBOM = []policy.SBOM{sbom}
	scan := policy.VulnScan{
		Meta:              meta("vulns", ScannerKey, []string{"scanner"}, now.Add(-2*hour), 0),
		Scanner:           "hallmark-vuln/osv",
		ScannedAt:         now.Add(-2 * hour),
		DatabaseUpdatedAt: now.Add(-10 * hour),
	}
	// A prod-acceptable mix: fixable findings are below high, high and
	// critical ones have no fix or a trusted not_affected VEX, and unknown
	// severities have no fix.
	for i := range o.Findings {
		f := policy.VulnFinding{
			ID:      fmt.Sprintf("GO-2026-%04d", 3000+i),
			Package: sbom.Components[i%len(sbom.Components)].PURL,
		}
		switch i % 5 {
		case 0, 1:
			f.Severity, f.FixAvailable, f.FixedVersion = finding.SeverityMedium, true, "v1.99.0"
		case 2:
			f.Severity, f.FixAvailable, f.FixedVersion = finding.SeverityLow, true, "v1.99.1"
		case 3:
			f.Severity = finding.SeverityHigh
		case 4:
			if i%10 == 4 {
				f.Severity, f.FixAvailable, f.FixedVersion, f.VEXStatus = finding.SeverityCritical, true, "v2.0.0", "not_affected"
			} else {
				f.Severity = finding.SeverityUnknown
			}
		}
		scan.Findings = append(scan.Findings, f)
	}
	ev.Vulns = []policy.VulnScan{scan}
	ev.Misconfig = []policy.Scan{{
		Meta: meta("misconfig", ScannerKey, []string{"scanner"}, now.Add(-5*hour), 0), Scanner: "hallmark-misconfig", ScannedAt: now.Add(-5 * hour),
		Findings: []finding.Finding{{
			RuleID: "HM-DF-007", Title: "apt-get install without --no-install-recommends", Severity: finding.SeverityLow,
			Message: "apt-get install pulls recommended packages", Location: finding.Location{Path: "Dockerfile", Line: 12},
		}},
	}}
	ev.Secrets = []policy.Scan{{
		Meta: meta("secrets", ScannerKey, []string{"scanner"}, now.Add(-5*hour), 0), Scanner: "hallmark-secrets/gitleaks", ScannedAt: now.Add(-5 * hour),
	}}
	ev.TEE = []policy.TEE{{
		Meta:         meta("tee", BuilderKey, []string{"builder"}, now.Add(-6*hour), 0),
		Platform:     "tdx",
		Measurements: map[string]string{"mr_td": TDXMRTD},
		Verified:     true,
	}}
	approvers := []string{ApproverKeyA, ApproverKeyB, ApproverKeyC}
	for i := range min(o.Approvals, len(approvers)) {
		ev.Approvals = append(ev.Approvals, policy.Approval{
			Meta:        meta("approval", approvers[i], []string{"approver"}, now.Add(-time.Duration(i+1)*hour), i),
			Approver:    approvers[i],
			Environment: "prod",
			Artifact:    ArtifactDigest,
			Comment:     "release 1.4.0 reviewed",
		})
	}
	return in
}

// ProdParams returns the built-in prod preset's parameters for the
// fixture's project (Repository, branch main, BuilderID) with the TEE
// reference values the fixture's TDX evidence matches, which enforces the
// tee group.
func ProdParams() (policy.Params, error) {
	builtin, err := policy.BuiltinPresets()
	if err != nil {
		return policy.Params{}, err
	}
	presets, err := builtin.ForProject(policy.Project{Repository: Repository, DefaultBranch: "main", BuilderIDs: []string{BuilderID}})
	if err != nil {
		return policy.Params{}, err
	}
	presets.SetTEEReference("prod", map[string]map[string][]string{
		"tdx":     {"mr_td": {TDXMRTD}},
		"sev-snp": {"measurement": {SNPDebugMeasurement}},
	})
	return presets.Params("prod")
}

// AdmissionPolicy is a small policy of the kind an admission miss
// evaluates: an approval for the environment and no critical
// vulnerability. Benchmarks and the CLI's server tests share it.
const AdmissionPolicy = `package hallmark.policy

approved if {
	some a in input.evidence.approvals
	a.environment == input.context.environment
	a.artifact == input.artifact.digest
}

violations contains {"ruleId": "approvals.missing", "message": "no approval"} if not approved

violations contains {"ruleId": "vulns.critical", "message": sprintf("critical vulnerability %s", [f.id])} if {
	some s in input.evidence.vulns
	some f in s.findings
	f.severity == "critical"
}

decision := {"allow": count(violations) == 0, "violations": violations}
`
