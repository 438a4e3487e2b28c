package sbom

import (
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	classifier "github.com/google/licenseclassifier/v2"
	"github.com/google/licenseclassifier/v2/assets"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Bounds and thresholds for licence-file detection.
const (
	maxLicenseFileSize = 1 << 20
	// minLicenseConfidence is the classifier confidence below which a match
	// is ignored; licence texts that are edited (a copyright line added)
	// still score well above it.
	minLicenseConfidence = 0.9
)

// LicenseDetector classifies licence files found next to installed
// packages, using the licence texts embedded in
// github.com/google/licenseclassifier/v2. Build one with
// [NewLicenseDetector] and reuse it: loading the texts takes a while.
//
// It looks in conventional places only: node_modules/<name>/ beside an npm
// lockfile, vendor/<module>/ beside go.mod, and usr/share/doc/<package>/
// in a root filesystem. When a file matches several licences (a Debian
// copyright file often lists many) the result is their conjunction, which
// over-states rather than hides obligations.
type LicenseDetector struct {
	c *classifier.Classifier
}

// NewLicenseDetector loads the licence classifier.
func NewLicenseDetector() (*LicenseDetector, error) {
	c, err := assets.DefaultClassifier()
	if err != nil {
		return nil, err
	}
	return &LicenseDetector{c: c}, nil
}

// Classify returns the SPDX identifiers of licences found in text with at
// least the detector's confidence, sorted.
func (d *LicenseDetector) Classify(text []byte) []string {
	var ids []string
	for _, m := range d.c.Match(text).Matches {
		if m.MatchType != "License" || m.Confidence < minLicenseConfidence {
			continue
		}
		if !slices.Contains(ids, m.Name) {
			ids = append(ids, m.Name)
		}
	}
	slices.Sort(ids)
	return ids
}

// candidateDirs lists directories, relative to the scanned root, where the
// licence files of c would be installed.
func candidateDirs(c *Component) []string {
	var dirs []string
	switch {
	case c.Ecosystem == "npm":
		for _, loc := range c.Locations {
			dirs = append(dirs, path.Join(path.Dir(loc), "node_modules", c.Name))
		}
	case c.Ecosystem == "Go":
		for _, loc := range c.Locations {
			if path.Base(loc) == "go.mod" {
				dirs = append(dirs, path.Join(path.Dir(loc), "vendor", c.Name))
			}
		}
	case strings.HasPrefix(c.Ecosystem, "Debian") || strings.HasPrefix(c.Ecosystem, "Ubuntu"):
		dirs = append(dirs, path.Join("usr/share/doc", c.Name))
	}
	return dirs
}

func isLicenseFileName(name string) bool {
	n := strings.ToLower(name)
	for _, p := range []string{"license", "licence", "copying", "copyright", "unlicense"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// detect returns one SPDX expression for the licence files of c, or nil.
func (d *LicenseDetector) detect(root *os.Root, c *Component) []string {
	var ids []string
	for _, dir := range candidateDirs(c) {
		if !fs.ValidPath(dir) {
			continue
		}
		entries, err := fs.ReadDir(root.FS(), dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || !isLicenseFileName(e.Name()) {
				continue
			}
			f, err := limits.OpenFileIn(root, path.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			text, err := limits.ReadAll(f, maxLicenseFileSize, "sbom: licence file")
			f.Close()
			if err != nil {
				continue
			}
			for _, id := range d.Classify(text) {
				if !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	return []string{strings.Join(ids, " AND ")}
}
