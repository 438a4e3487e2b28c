package cli

import (
	"context"

	"github.com/hallmark-dev/hallmark/depcheck"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/sbom"
)

// defaultDepsPolicy applies when no policy file is given: look-alike
// detection against the shipped popular-name lists, nothing denied.
const defaultDepsPolicy = "version: 1\n"

// depsScanOptions are the inputs of a dependency-policy scan.
type depsScanOptions struct {
	// Policy is a policy file path; empty uses the default policy.
	Policy string
	// DetectLicenses classifies licence files where lockfiles record none.
	DetectLicenses bool
}

// scanDeps inventories target (a source tree, Go binary or root
// filesystem) and checks it against the dependency policy. It is the body
// of `hallmark scan --deps`; the caller formats the findings and applies
// --fail-on.
func (a *App) scanDeps(ctx context.Context, target string, o depsScanOptions) ([]finding.Finding, *sbom.Inventory, error) {
	var (
		p   *depcheck.Policy
		err error
	)
	if o.Policy == "" {
		p, err = depcheck.ParsePolicy([]byte(defaultDepsPolicy))
	} else {
		p, err = depcheck.LoadPolicy(o.Policy)
	}
	if err != nil {
		return nil, nil, badInput(err)
	}
	inv, err := a.inventory(ctx, target, o.DetectLicenses, oci.AllPlatforms)
	if err != nil {
		return nil, nil, err
	}
	return depcheck.Check(inv, p), inv, nil
}
