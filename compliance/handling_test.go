package compliance_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/compliance"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/policy"
)

// TestVulnerabilityHandling: release A is deployed with GHSA-1 open and a
// VEX not_affected for GHSA-2; release B, deployed ten days later, is
// scanned clean. GHSA-1 was disclosed two days before A: it took twelve
// days to a fixed release, A is the deployed release affected; GHSA-2 was
// answered by VEX at A's scan. A release with GHSA-3 open that was never
// deployed is affected but not deployed-affected.
func TestVulnerabilityHandling(t *testing.T) {
	m, _ := compliance.Load()
	a := fullFacts() // GHSA-1 open (low), GHSA-2 not_affected; deployed at now
	b := fullFacts()
	b.Input.Artifact.Digest = digest.MustParse("sha256:" + fmt.Sprintf("%064x", 0xb))
	b.Input.Evidence.Vulns[0].Findings = nil
	b.Deployments[0].DecidedAt = now.Add(10 * 24 * time.Hour)
	c := fullFacts()
	c.Input.Artifact.Digest = digest.MustParse("sha256:" + fmt.Sprintf("%064x", 0xc))
	c.Input.Evidence.Vulns[0].Findings = []policy.VulnFinding{{ID: "GHSA-3", Package: "x"}}
	c.Deployments = nil
	r := compliance.Build(m, compliance.Scope{Environment: "prod"}, now, []compliance.Facts{b, a, c})
	compliance.AddVulnerabilityHandling(r, map[string]time.Time{"GHSA-1": now.Add(-2 * 24 * time.Hour)})
	got := map[string]compliance.HandledVulnerability{}
	for _, h := range r.VulnerabilityHandling {
		got[h.ID] = h
	}
	g1 := got["GHSA-1"]
	if g1.FixedIn != b.Input.Artifact.Digest.String() || g1.DaysToFix == nil || *g1.DaysToFix != 12 {
		t.Errorf("GHSA-1: fixed in %s after %v days, want %s after 12", g1.FixedIn, g1.DaysToFix, b.Input.Artifact.Digest)
	}
	if len(g1.DeployedAffected) != 1 || g1.DeployedAffected[0] != art {
		t.Errorf("GHSA-1 deployed affected: %v", g1.DeployedAffected)
	}
	g2 := got["GHSA-2"]
	if g2.VEXStatus != "not_affected" || g2.VEXAt == nil || len(g2.Affected) != 0 || g2.DaysToVEX != nil {
		t.Errorf("GHSA-2: %+v", g2)
	}
	g3 := got["GHSA-3"]
	if len(g3.Affected) != 1 || len(g3.DeployedAffected) != 0 || g3.FixedIn != "" {
		t.Errorf("GHSA-3: %+v", g3)
	}
}
