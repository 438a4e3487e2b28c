package policy_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/policy/policytest"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func compileProd(t testing.TB) *policy.Policy {
	t.Helper()
	params, err := policytest.ProdParams()
	if err != nil {
		t.Fatal(err)
	}
	presets, err := policy.BuiltinPresets()
	if err != nil {
		t.Fatal(err)
	}
	presets.Environments["prod"] = params
	p, err := policy.CompilePreset(t.Context(), presets, "prod")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ruleIDs(d policy.Decision) []string {
	var ids []string
	for _, v := range d.Violations {
		ids = append(ids, v.RuleID)
	}
	return ids
}

// evidenceIDs collects every evidence ID in the input, used or ignored.
func evidenceIDs(in policy.Input) map[string]bool {
	ids := map[string]bool{}
	e := in.Evidence
	add := func(m policy.Meta) { ids[m.ID] = true }
	for _, x := range e.Provenance {
		add(x.Meta)
	}
	for _, x := range e.Rebuilds {
		add(x.Meta)
	}
	for _, x := range e.SBOM {
		add(x.Meta)
	}
	for _, x := range e.Vulns {
		add(x.Meta)
	}
	for _, x := range slices.Concat(e.Misconfig, e.Secrets) {
		add(x.Meta)
	}
	for _, x := range e.TEE {
		add(x.Meta)
	}
	for _, x := range e.Approvals {
		add(x.Meta)
	}
	for _, x := range in.Ignored {
		ids[x.ID] = true
	}
	return ids
}

func TestBuiltinProd(t *testing.T) {
	p := compileProd(t)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name      string
		mutate    func(in *policy.Input)
		want      []string // rule IDs, sorted; nil means allow
		wantLevel int
		wantInMsg string // a fragment one violation message must contain
	}{
		{name: "allow", mutate: func(*policy.Input) {}, wantLevel: 3},
		{
			name: "unsigned provenance is ignored, so none is left",
			mutate: func(in *policy.Input) {
				in.Ignored = append(in.Ignored, policy.Ignored{ID: in.Evidence.Provenance[0].ID, Kind: "provenance", PredicateType: "https://slsa.dev/provenance/v1", Reason: "DSSE envelope has no signature"})
				in.Evidence.Provenance = nil
			},
			want: []string{"slsa_l1.provenance_missing", "source.provenance_missing"}, wantInMsg: "DSSE envelope has no signature",
		},
		{
			name:      "provenance about another artifact",
			mutate:    func(in *policy.Input) { in.Evidence.Provenance[0].Subjects = []string{policytest.Digest("other")} },
			want:      []string{"slsa_l1.provenance_missing", "source.provenance_missing"},
			wantLevel: 0,
		},
		{
			name: "untrusted builder key",
			mutate: func(in *policy.Input) {
				in.Evidence.Provenance[0].Signer = policy.Signer{KeyID: "SHA256:laptop", Roles: []string{"approver"}}
			},
			want:      []string{"slsa_l2.untrusted_builder"},
			wantLevel: 1, wantInMsg: "SHA256:laptop",
		},
		{
			name:      "builder not allowlisted",
			mutate:    func(in *policy.Input) { in.Evidence.Provenance[0].Builder.ID = "https://github.com/actions/runner" },
			want:      []string{"slsa_l3.builder_not_allowed"},
			wantLevel: 2,
		},
		{
			name:      "network was on",
			mutate:    func(in *policy.Input) { in.Evidence.Provenance[0].InternalParameters.Network = new(true) },
			want:      []string{"slsa_l3.isolation_not_recorded"},
			wantLevel: 2, wantInMsg: "network",
		},
		{
			name:      "isolation not recorded",
			mutate:    func(in *policy.Input) { in.Evidence.Provenance[0].InternalParameters = policy.InternalParameters{} },
			want:      []string{"slsa_l3.isolation_not_recorded"},
			wantLevel: 2, wantInMsg: "hermetic, network, sandbox",
		},
		{
			name: "repository not allowed",
			mutate: func(in *policy.Input) {
				in.Evidence.Provenance[0].ExternalParameters.Source.Repository = "https://github.com/evil/fork"
			},
			want:      []string{"source.repository_not_allowed"},
			wantLevel: 3,
		},
		{
			name: "feature branch",
			mutate: func(in *policy.Input) {
				in.Evidence.Provenance[0].ExternalParameters.Source.Ref = "refs/heads/feature/x"
			},
			want:      []string{"source.ref_not_allowed"},
			wantLevel: 3,
		},
		{
			name:      "abbreviated commit",
			mutate:    func(in *policy.Input) { in.Evidence.Provenance[0].ExternalParameters.Source.Commit = "9f3c2a1" },
			want:      []string{"source.commit_not_pinned"},
			wantLevel: 3,
		},
		{
			name: "mismatched rebuild",
			mutate: func(in *policy.Input) {
				in.Evidence.Rebuilds[1].Matched = false
				in.Evidence.Rebuilds[1].Subjects = []string{policytest.Digest("different bytes")}
			},
			want:      []string{"reproducible.insufficient", "reproducible.mismatch"},
			wantLevel: 3, wantInMsg: policytest.RebuilderKeyB,
		},
		{
			name:      "one rebuilder only",
			mutate:    func(in *policy.Input) { in.Evidence.Rebuilds = in.Evidence.Rebuilds[:1] },
			want:      []string{"reproducible.insufficient"},
			wantLevel: 3, wantInMsg: "1 distinct trusted rebuilder(s)",
		},
		{
			name: "same rebuilder twice counts once",
			mutate: func(in *policy.Input) {
				in.Evidence.Rebuilds[1].Signer = in.Evidence.Rebuilds[0].Signer
			},
			want:      []string{"reproducible.insufficient"},
			wantLevel: 3,
		},
		{
			name: "rebuild by an untrusted key does not count",
			mutate: func(in *policy.Input) {
				in.Evidence.Rebuilds[1].Signer.Roles = []string{"scanner"}
			},
			want:      []string{"reproducible.insufficient"},
			wantLevel: 3,
		},
		{
			name: "vulnerable dependency with a fix",
			mutate: func(in *policy.Input) {
				f := &in.Evidence.Vulns[0].Findings[3]
				f.FixAvailable, f.FixedVersion = true, "v1.2.3"
			},
			want:      []string{"vulns.fixable"},
			wantLevel: 3, wantInMsg: "fixed in v1.2.3",
		},
		{
			name: "VEX affected does not waive",
			mutate: func(in *policy.Input) {
				in.Evidence.Vulns[0].Findings[4].VEXStatus = "affected"
			},
			want:      []string{"vulns.fixable"},
			wantLevel: 3,
		},
		{
			name: "scanner suppression does not waive",
			mutate: func(in *policy.Input) {
				f := &in.Evidence.Vulns[0].Findings[4]
				f.VEXStatus, f.Suppressed = "", true
			},
			want:      []string{"vulns.fixable"},
			wantLevel: 3,
		},
		{
			name: "unknown severity with a fix fails in prod",
			mutate: func(in *policy.Input) {
				in.Evidence.Vulns[0].Findings[9].FixAvailable = true
			},
			want:      []string{"vulns.unknown_severity"},
			wantLevel: 3,
		},
		{
			name: "stale scan",
			mutate: func(in *policy.Input) {
				in.Evidence.Vulns[0].ScannedAt = now.Add(-3 * day)
			},
			want:      []string{"vulns.scan_stale"},
			wantLevel: 3,
		},
		{
			name: "stale vulnerability database",
			mutate: func(in *policy.Input) {
				in.Evidence.Vulns[0].DatabaseUpdatedAt = now.Add(-2 * day)
			},
			want:      []string{"vulns.database_stale"},
			wantLevel: 3,
		},
		{
			name:      "no vulnerability scan",
			mutate:    func(in *policy.Input) { in.Evidence.Vulns = nil },
			want:      []string{"vulns.scan_missing"},
			wantLevel: 3,
		},
		{
			name:      "scan signed by a non-scanner",
			mutate:    func(in *policy.Input) { in.Evidence.Vulns[0].Signer.Roles = []string{"approver"} },
			want:      []string{"vulns.scan_missing"},
			wantLevel: 3,
		},
		{
			name:      "no SBOM",
			mutate:    func(in *policy.Input) { in.Evidence.SBOM = nil },
			want:      []string{"sbom.missing"},
			wantLevel: 3,
		},
		{
			name: "empty SBOM",
			mutate: func(in *policy.Input) {
				in.Evidence.SBOM[0].ComponentCount, in.Evidence.SBOM[0].Components = 0, nil
			},
			want:      []string{"sbom.empty"},
			wantLevel: 3,
		},
		{
			name:      "denied licence",
			mutate:    func(in *policy.Input) { in.Evidence.SBOM[0].Components[7].Licenses = []string{"AGPL-3.0-only"} },
			want:      []string{"licenses.denied"},
			wantLevel: 3,
		},
		{
			name:      "denied licence inside an expression",
			mutate:    func(in *policy.Input) { in.Evidence.SBOM[0].Components[7].Licenses = []string{"(MIT OR SSPL-1.0)"} },
			want:      []string{"licenses.denied"},
			wantLevel: 3, wantInMsg: "SSPL-1.0 is denied",
		},
		{
			name:      "denied dependency",
			mutate:    func(in *policy.Input) { in.Evidence.SBOM[0].Components[3].PURL = "pkg:npm/flatmap-stream@0.1.1" },
			want:      []string{"dependencies.denied"},
			wantLevel: 3,
		},
		{
			name: "misconfiguration at or above medium",
			mutate: func(in *policy.Input) {
				in.Evidence.Misconfig[0].Findings[0].Severity = finding.SeverityMedium
			},
			want:      []string{"misconfig.finding"},
			wantLevel: 3, wantInMsg: "Dockerfile",
		},
		{
			name: "secret found",
			mutate: func(in *policy.Input) {
				in.Evidence.Secrets[0].Findings = []finding.Finding{{RuleID: "aws-access-token", Title: "AWS access key", Severity: finding.SeverityHigh, Location: finding.Location{Path: "deploy/env"}, Evidence: "AKIA****************"}}
			},
			want:      []string{"secrets.finding"},
			wantLevel: 3,
		},
		{
			name:      "no secret scan",
			mutate:    func(in *policy.Input) { in.Evidence.Secrets = nil },
			want:      []string{"secrets.scan_missing"},
			wantLevel: 3,
		},
		{
			name:      "no TEE evidence",
			mutate:    func(in *policy.Input) { in.Evidence.TEE = nil },
			want:      []string{"tee.missing"},
			wantLevel: 3,
		},
		{
			name: "SEV-SNP debug guest",
			mutate: func(in *policy.Input) {
				in.Evidence.TEE[0].Platform, in.Evidence.TEE[0].Debug = "sev-snp", true
				in.Evidence.TEE[0].Measurements = map[string]string{"measurement": policytest.SNPDebugMeasurement}
			},
			want:      []string{"tee.not_acceptable"},
			wantLevel: 3, wantInMsg: "debug mode",
		},
		{
			name:      "TEE measurement not in reference values",
			mutate:    func(in *policy.Input) { in.Evidence.TEE[0].Measurements["mr_td"] = strings.Repeat("ab", 48) },
			want:      []string{"tee.not_acceptable"},
			wantLevel: 3, wantInMsg: "mr_td",
		},
		{
			name:      "TEE evidence did not verify",
			mutate:    func(in *policy.Input) { in.Evidence.TEE[0].Verified = false },
			want:      []string{"tee.not_acceptable"},
			wantLevel: 3,
		},
		{
			name:      "TEE platform not allowed",
			mutate:    func(in *policy.Input) { in.Evidence.TEE[0].Platform = "nitro" },
			want:      []string{"tee.not_acceptable"},
			wantLevel: 3, wantInMsg: "platform nitro is not allowed",
		},
		{
			name:      "missing approval",
			mutate:    func(in *policy.Input) { in.Evidence.Approvals = in.Evidence.Approvals[:1] },
			want:      []string{"approvals.insufficient"},
			wantLevel: 3, wantInMsg: "1 of 2",
		},
		{
			name: "approvals for another environment do not count",
			mutate: func(in *policy.Input) {
				in.Evidence.Approvals[1].Environment = "staging"
				in.Evidence.Approvals[2].Environment = "staging"
			},
			want:      []string{"approvals.insufficient"},
			wantLevel: 3, wantInMsg: "2 approval(s) for another artifact or environment",
		},
		{
			name: "approvals for another artifact do not count",
			mutate: func(in *policy.Input) {
				in.Evidence.Approvals[0].Artifact = policytest.Digest("previous release")
				in.Evidence.Approvals[1].Artifact = policytest.Digest("previous release")
			},
			want:      []string{"approvals.insufficient"},
			wantLevel: 3,
		},
		{
			name: "duplicate approvals by one key count once",
			mutate: func(in *policy.Input) {
				for i := range in.Evidence.Approvals {
					in.Evidence.Approvals[i].Signer = in.Evidence.Approvals[0].Signer
				}
			},
			want:      []string{"approvals.insufficient"},
			wantLevel: 3, wantInMsg: "1 of 2",
		},
		{
			name: "approval by a key without the approver role",
			mutate: func(in *policy.Input) {
				in.Evidence.Approvals = in.Evidence.Approvals[:2]
				in.Evidence.Approvals[1].Signer.Roles = []string{"builder"}
			},
			want:      []string{"approvals.insufficient"},
			wantLevel: 3,
		},
		{
			name: "approvals too old",
			mutate: func(in *policy.Input) {
				for i := range in.Evidence.Approvals {
					in.Evidence.Approvals[i].Timestamp = now.Add(-10 * day)
				}
			},
			want:      []string{"approvals.insufficient"},
			wantLevel: 3, wantInMsg: "0 of 2",
		},
		{
			name:      "stale provenance",
			mutate:    func(in *policy.Input) { in.Evidence.Provenance[0].Timestamp = now.Add(-40 * day) },
			want:      []string{"freshness.stale"},
			wantLevel: 3, wantInMsg: "provenance",
		},
		{
			name:   "evidence from the future",
			mutate: func(in *policy.Input) { in.Evidence.SBOM[0].Timestamp = now.Add(time.Hour) },
			// Dated beyond the skew, the only SBOM is also not recent (#20.12).
			want:      []string{"freshness.future", "freshness.stale"},
			wantLevel: 3,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := policytest.Input(now)
			tc.mutate(&in)
			d, err := p.Eval(t.Context(), in)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if diff := cmp.Diff(tc.want, ruleIDs(d)); diff != "" {
				t.Errorf("violations (-want +got):\n%s\n%+v", diff, d.Violations)
			}
			if d.Allow != (len(tc.want) == 0) {
				t.Errorf("Allow = %v with violations %v", d.Allow, tc.want)
			}
			if d.SLSABuildLevel != tc.wantLevel {
				t.Errorf("SLSABuildLevel = %d, want %d", d.SLSABuildLevel, tc.wantLevel)
			}
			known := evidenceIDs(in)
			found := tc.wantInMsg == ""
			for _, v := range d.Violations {
				if v.Message == "" || v.Remediation == "" {
					t.Errorf("violation %s lacks a message or remediation: %+v", v.RuleID, v)
				}
				for _, id := range v.Evidence {
					if !known[id] {
						t.Errorf("violation %s refers to evidence %s not in the input", v.RuleID, id)
					}
				}
				found = found || strings.Contains(v.Message, tc.wantInMsg)
			}
			if !found {
				t.Errorf("no violation message contains %q: %+v", tc.wantInMsg, d.Violations)
			}
		})
	}
}
