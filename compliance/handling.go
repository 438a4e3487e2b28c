package compliance

import (
	"sort"
	"time"
)

// HandledVulnerability is one vulnerability across the releases in the
// report's scope: the figures Annex I Part II (2) asks a manufacturer to be
// able to show. Release times are the first allowed deployment decision of
// each artifact in scope; Published is the OSV disclosure date, read from
// the local vulnerability database (not signed evidence), when known.
type HandledVulnerability struct {
	ID        string     `json:"id"`
	Published *time.Time `json:"published,omitempty"`
	// Affected are the releases whose verified scans report it open.
	Affected []string `json:"affected"`
	// DeployedAffected are those of Affected with an allowed deployment
	// decision in scope.
	DeployedAffected []string `json:"deployedAffected"`
	// FixedIn is the first release, deployed after an affected one, whose
	// verified scans no longer report it open; FixedAt its release time.
	FixedIn string     `json:"fixedIn,omitempty"`
	FixedAt *time.Time `json:"fixedAt,omitempty"`
	// VEXStatus and VEXAt: the first verified scan that carried a
	// not_affected or fixed VEX status for it, and when it ran.
	VEXStatus string     `json:"vexStatus,omitempty"`
	VEXAt     *time.Time `json:"vexAt,omitempty"`
	// DaysToFix and DaysToVEX count from Published (when known).
	DaysToFix *float64 `json:"daysToFix,omitempty"`
	DaysToVEX *float64 `json:"daysToVex,omitempty"`
}

// AddVulnerabilityHandling computes r.VulnerabilityHandling from the
// report's verified scans and deployments; published maps vulnerability
// IDs to their disclosure dates (it may be nil or incomplete).
func AddVulnerabilityHandling(r *Report, published map[string]time.Time) {
	type release struct {
		digest   string
		at       time.Time
		deployed bool
		scanned  bool
		open     map[string]bool
	}
	var rels []release
	byID := map[string]*HandledVulnerability{}
	get := func(id string) *HandledVulnerability {
		h, ok := byID[id]
		if !ok {
			h = &HandledVulnerability{ID: id, Affected: []string{}, DeployedAffected: []string{}}
			if p, ok := published[id]; ok {
				p := p.UTC()
				h.Published = &p
			}
			byID[id] = h
		}
		return h
	}
	for _, a := range r.Artifacts {
		rel := release{digest: a.Artifact.Digest.String(), open: map[string]bool{}}
		for _, d := range a.Deployments {
			if d.Allowed && (rel.at.IsZero() || d.DecidedAt.Before(rel.at)) {
				rel.at, rel.deployed = d.DecidedAt, true
			}
		}
		scanTime := map[string]time.Time{}
		for _, e := range a.Evidence {
			if e.Kind == "vulns" {
				rel.scanned = true
				scanTime[e.ID] = e.Timestamp
			}
		}
		for _, v := range a.Vulnerabilities {
			h := get(v.ID)
			if v.Open {
				rel.open[v.ID] = true
				continue
			}
			if t := scanTime[v.Scan]; v.VEXStatus != "" && (h.VEXAt == nil || t.Before(*h.VEXAt)) {
				t := t.UTC()
				h.VEXStatus, h.VEXAt = v.VEXStatus, &t
			}
		}
		for id := range rel.open {
			h := get(id)
			h.Affected = append(h.Affected, rel.digest)
			if rel.deployed {
				h.DeployedAffected = append(h.DeployedAffected, rel.digest)
			}
		}
		rels = append(rels, rel)
	}
	sort.SliceStable(rels, func(i, j int) bool { return rels[i].at.Before(rels[j].at) })
	for id, h := range byID {
		var firstAffected *time.Time
		for _, rel := range rels {
			if !rel.deployed {
				continue
			}
			if rel.open[id] {
				if firstAffected == nil {
					t := rel.at
					firstAffected = &t
				}
				continue
			}
			if firstAffected != nil && rel.scanned && rel.at.After(*firstAffected) {
				at := rel.at.UTC()
				h.FixedIn, h.FixedAt = rel.digest, &at
				break
			}
		}
		if h.Published != nil {
			if h.FixedAt != nil {
				d := h.FixedAt.Sub(*h.Published).Hours() / 24
				h.DaysToFix = &d
			}
			if h.VEXAt != nil {
				d := h.VEXAt.Sub(*h.Published).Hours() / 24
				h.DaysToVEX = &d
			}
		}
		sort.Strings(h.Affected)
		sort.Strings(h.DeployedAffected)
	}
	r.VulnerabilityHandling = []HandledVulnerability{}
	for _, h := range byID {
		r.VulnerabilityHandling = append(r.VulnerabilityHandling, *h)
	}
	sort.Slice(r.VulnerabilityHandling, func(i, j int) bool { return r.VulnerabilityHandling[i].ID < r.VulnerabilityHandling[j].ID })
}
