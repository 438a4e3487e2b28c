// Package retention decides what the evidence store may forget without
// losing what an audit needs, and forgets it: superseded vulnerability
// scans and SBOMs of the same artifact by the same scanner key, denials
// and superseded recheck verdicts older than a window, and the VSAs of the
// decisions pruned. It never prunes approvals, provenance, admission
// allows (what is recorded as deployed), the latest decision about an
// artifact in an environment, a denial that decides an admission review,
// anything a kept decision names as its evidence or VSA, nor any record it
// cannot read. docs/retention.md has the rules and their reasons.
package retention
