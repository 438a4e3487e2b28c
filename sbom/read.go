package sbom

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/internal/strictjson"
)

// ErrMalformed is wrapped by the errors of ReadCycloneDX and ReadSPDX.
var ErrMalformed = errors.New("sbom: malformed document")

// Contents is what consumers of a signed SBOM read from it, whichever
// format it came in: the gate (components and licences for policy) and
// the dashboard (format, tool, counts). [ReadCycloneDX] and [ReadSPDX]
// decode the two formats Hallmark writes.
type Contents struct {
	// Format is "cyclonedx" or "spdx"; Version the format's version
	// ("1.6", "2.3").
	Format, Version string
	// Created is when the document was made (metadata.timestamp,
	// creationInfo.created).
	Created time.Time
	// Tool names the first tool the document credits, with its version.
	Tool     string
	Packages []Package
}

// Package is one component (CycloneDX) or package (SPDX).
type Package struct {
	Name, Version, PURL string
	// Licenses are the licences as recorded: for CycloneDX each entry of
	// "licenses", for SPDX the concluded licence, else the declared one
	// (NOASSERTION and NONE are no licence).
	Licenses []License
}

// License is one recorded licence: an SPDX expression, or an SPDX ID, or
// a free-text name.
type License struct {
	Expression, ID, Name string
}

// ReadCycloneDX reads a CycloneDX JSON document (an attestation predicate).
// Keys it does not read are ignored (CycloneDX is open to extensions); the
// keys it reads must have exactly their case and no duplicates, as in all
// signed JSON.
func ReadCycloneDX(b []byte) (*Contents, error) {
	var doc struct {
		SpecVersion string `json:"specVersion"`
		Metadata    struct {
			Timestamp time.Time       `json:"timestamp"`
			Tools     json.RawMessage `json:"tools"`
		} `json:"metadata"`
		Components []struct {
			Name     string `json:"name"`
			Version  string `json:"version"`
			PURL     string `json:"purl"`
			Licenses []struct {
				License *struct {
					ID   string `json:"id"`
					Name string `json:"name"`
				} `json:"license"`
				Expression string `json:"expression"`
			} `json:"licenses"`
		} `json:"components"`
	}
	if err := strictjson.Decode(b, &doc, strictjson.AllowUnknownKeys()); err != nil {
		return nil, fmt.Errorf("%w: CycloneDX document: %w", ErrMalformed, err)
	}
	out := &Contents{Format: "cyclonedx", Version: doc.SpecVersion, Created: doc.Metadata.Timestamp, Packages: []Package{}}
	// Tools is an object with components (1.5+) or a legacy array, which
	// names no tool here.
	var tools struct {
		Components []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"components"`
	}
	if len(doc.Metadata.Tools) > 0 && strictjson.Decode(doc.Metadata.Tools, &tools, strictjson.AllowUnknownKeys()) == nil && len(tools.Components) > 0 {
		out.Tool = strings.TrimSpace(tools.Components[0].Name + " " + tools.Components[0].Version)
	}
	for _, c := range doc.Components {
		p := Package{Name: c.Name, Version: c.Version, PURL: c.PURL}
		for _, l := range c.Licenses {
			switch {
			case l.Expression != "":
				p.Licenses = append(p.Licenses, License{Expression: l.Expression})
			case l.License != nil && l.License.ID != "":
				p.Licenses = append(p.Licenses, License{ID: l.License.ID})
			case l.License != nil && l.License.Name != "":
				p.Licenses = append(p.Licenses, License{Name: l.License.Name})
			}
		}
		out.Packages = append(out.Packages, p)
	}
	return out, nil
}

// ReadSPDX reads an SPDX 2.3 JSON document (an attestation predicate), by
// the rules of [ReadCycloneDX].
func ReadSPDX(b []byte) (*Contents, error) {
	var doc struct {
		SPDXVersion  string `json:"spdxVersion"`
		CreationInfo struct {
			Created  time.Time `json:"created"`
			Creators []string  `json:"creators"`
		} `json:"creationInfo"`
		Packages []struct {
			Name             string `json:"name"`
			VersionInfo      string `json:"versionInfo"`
			LicenseConcluded string `json:"licenseConcluded"`
			LicenseDeclared  string `json:"licenseDeclared"`
			ExternalRefs     []struct {
				ReferenceType    string `json:"referenceType"`
				ReferenceLocator string `json:"referenceLocator"`
			} `json:"externalRefs"`
		} `json:"packages"`
	}
	if err := strictjson.Decode(b, &doc, strictjson.AllowUnknownKeys()); err != nil {
		return nil, fmt.Errorf("%w: SPDX document: %w", ErrMalformed, err)
	}
	out := &Contents{Format: "spdx", Version: strings.TrimPrefix(doc.SPDXVersion, "SPDX-"), Created: doc.CreationInfo.Created, Packages: []Package{}}
	for _, c := range doc.CreationInfo.Creators {
		if t, ok := strings.CutPrefix(c, "Tool: "); ok {
			out.Tool = t
			break
		}
	}
	for _, sp := range doc.Packages {
		p := Package{Name: sp.Name, Version: sp.VersionInfo}
		for _, r := range sp.ExternalRefs {
			if r.ReferenceType == "purl" {
				p.PURL = r.ReferenceLocator
			}
		}
		for _, l := range []string{sp.LicenseConcluded, sp.LicenseDeclared} {
			if l != "" && l != "NOASSERTION" && l != "NONE" {
				p.Licenses = append(p.Licenses, License{Expression: l})
				break
			}
		}
		out.Packages = append(out.Packages, p)
	}
	return out, nil
}
