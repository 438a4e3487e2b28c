package depcheck

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/sbom"
)

// Rule IDs of depcheck findings.
const (
	RuleDenied         = "HM-DEP-001"
	RuleLicenseDenied  = "HM-DEP-002"
	RuleLicenseUnknown = "HM-DEP-003"
	RuleLookalike      = "HM-DEP-004"
)

// Check evaluates every component of inv against the policy and returns the
// violations, sorted by location, rule and package.
func Check(inv *sbom.Inventory, p *Policy) []finding.Finding {
	var out []finding.Finding
	for _, c := range inv.Components {
		allowRule, allowed := p.match(p.allow, c)
		if r, denied := p.match(p.deny, c); denied {
			f := newFinding(c, RuleDenied, "Denied package", r.severity,
				fmt.Sprintf("%s is denied by policy pattern %s", c.PURL, r.pattern))
			f.Rationale = r.reason
			f.Remediation = "Remove or replace the package, or add an allow rule with a reason if it is acceptable."
			if allowed {
				f.Suppressed = true
				f.SuppressedReason = fmt.Sprintf("allowed by %s: %s", allowRule.pattern, allowRule.reason)
			}
			out = append(out, f)
		}
		if p.licenseAllow != nil {
			if f, ok := p.checkLicense(c); ok {
				out = append(out, f)
			}
		}
		if p.lookalike != nil && !allowed {
			if target, kind := p.lookalike.lookalike(c.Ecosystem, c.Name); target != "" {
				f := newFinding(c, RuleLookalike, "Package name looks like a popular package", p.lookalikeSeverity,
					fmt.Sprintf("%s looks like the popular %s package %q (%s)", c.Name, c.Ecosystem, target, kind))
				f.Rationale = "Typosquatted names are a common way to deliver malicious packages."
				f.Remediation = fmt.Sprintf("Check that %s is the package you meant (not %s); if it is, add an allow rule for it.", c.Name, target)
				out = append(out, f)
			}
		}
	}
	slices.SortFunc(out, func(a, b finding.Finding) int {
		return cmp.Or(cmp.Compare(a.Location.Path, b.Location.Path), cmp.Compare(a.RuleID, b.RuleID), cmp.Compare(a.Evidence, b.Evidence))
	})
	return out
}

func (p *Policy) match(rs []rule, c sbom.Component) (rule, bool) {
	for _, r := range rs {
		if r.pattern.Match(c.PURL, c.Ecosystem) {
			return r, true
		}
	}
	return rule{}, false
}

func (p *Policy) checkLicense(c sbom.Component) (finding.Finding, bool) {
	if _, exempt := p.match(p.licenseExceptions, c); exempt {
		return finding.Finding{}, false
	}
	expr := licenseExpression(c.Licenses)
	valid := false
	if expr != "" {
		valid, _ = spdxexp.ValidateLicenses([]string{expr})
	}
	if !valid {
		if p.licenseUnknown == UnknownIgnore {
			return finding.Finding{}, false
		}
		sev := finding.SeverityLow
		if p.licenseUnknown == UnknownDeny {
			sev = p.licenseSeverity
		}
		msg := fmt.Sprintf("%s declares no licence Hallmark could find", c.PURL)
		if expr != "" {
			msg = fmt.Sprintf("%s declares %q, which is not a valid SPDX expression", c.PURL, expr)
		}
		f := newFinding(c, RuleLicenseUnknown, "Licence unknown", sev, msg)
		f.Remediation = "Find the package's licence and add an exception for it, or pass a licence detector to the scan."
		return f, true
	}
	ok, err := spdxexp.Satisfies(expr, p.licenseAllow)
	if err == nil && ok {
		return finding.Finding{}, false
	}
	f := newFinding(c, RuleLicenseDenied, "Licence not allowed", p.licenseSeverity,
		fmt.Sprintf("%s is licensed %s, which the allowed licences (%s) do not satisfy", c.PURL, expr, strings.Join(p.licenseAllow, ", ")))
	f.Remediation = "Replace the package, or add a licence exception for it after legal review."
	return f, true
}

// licenseExpression joins a component's declared licences into one
// expression that must hold in full.
func licenseExpression(ls []string) string {
	switch len(ls) {
	case 0:
		return ""
	case 1:
		return ls[0]
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = "(" + l + ")"
	}
	return strings.Join(parts, " AND ")
}

func newFinding(c sbom.Component, ruleID, title string, sev finding.Severity, msg string) finding.Finding {
	loc := ""
	if len(c.Locations) > 0 {
		loc = c.Locations[0]
	}
	return finding.Finding{
		RuleID:   ruleID,
		Title:    title,
		Severity: sev,
		Message:  msg,
		Location: finding.Location{Path: loc},
		Evidence: c.PURL,
	}
}
