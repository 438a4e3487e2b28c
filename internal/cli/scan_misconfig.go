package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/finding/sarif"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/misconfig"
)

// scanMisconfigOptions are the inputs of
// `hallmark scan --misconfig PATH [--format table|json|sarif] [--fail-on SEV] [--config FILE]`.
// The shared `scan` command fills one from its flags and calls
// runScanMisconfig.
type scanMisconfigOptions struct {
	// Path is the tree to scan.
	Path string
	// Format is "table" (the default when empty), "json" or "sarif".
	Format string
	// FailOn is a severity name; findings at or above it (not suppressed)
	// make the command exit ExitRejected. Empty never fails on findings.
	FailOn string
	// ConfigFile is a misconfig YAML configuration; empty uses defaults.
	ConfigFile string
}

// runScanMisconfig scans o.Path for misconfigurations, writes the findings
// to app.Stdout in o.Format and reports, on app.Stderr, files that could not
// be scanned. Exit mapping: ExitUsage for bad flags, ExitBadInput for an
// unreadable config or path, ExitRejected when findings reach --fail-on,
// otherwise ExitBadInput when some files could not be parsed (a gate must
// not pass over a file it could not read).
func (a *App) runScanMisconfig(ctx context.Context, o scanMisconfigOptions) error {
	_, err := a.scanMisconfig(ctx, o)
	return err
}

// scanMisconfig is runScanMisconfig that also returns the findings, for
// signing them.
func (a *App) scanMisconfig(ctx context.Context, o scanMisconfigOptions) ([]finding.Finding, error) {
	if o.Path == "" {
		return nil, usageError(errors.New("--misconfig needs a PATH"))
	}
	out, err := parseFindingsOutput(o.Format, o.FailOn)
	if err != nil {
		return nil, err
	}
	var cfg misconfig.Config
	if o.ConfigFile != "" {
		f, err := limits.OpenFile(o.ConfigFile)
		if err != nil {
			return nil, badInput(err)
		}
		cfg, err = misconfig.ParseConfig(f)
		f.Close()
		if err != nil {
			return nil, badInput(fmt.Errorf("%s: %w", o.ConfigFile, err))
		}
	}
	if _, err := limits.StatFileOrDir(o.Path); err != nil {
		return nil, badInput(err)
	}
	cfg.Logger = a.Logger
	findings, scanErr := misconfig.Scan(ctx, o.Path, cfg)
	if ctx.Err() != nil {
		return nil, environmentErr(ctx.Err())
	}
	if err := out.write(a.Stdout, o.Path, findings); err != nil {
		return nil, err
	}
	var fileErrs []*misconfig.FileError
	if scanErr != nil {
		var other []error
		fileErrs, other = misconfig.SplitErrors(scanErr)
		for _, fe := range fileErrs {
			fmt.Fprintf(a.Stderr, "hallmark: warning: %v\n", fe)
		}
		if len(other) > 0 {
			return nil, environmentErr(errors.Join(other...))
		}
	}
	if err := out.verdict("misconfiguration", findings); err != nil {
		return findings, err
	}
	if len(fileErrs) > 0 {
		return findings, badInput(fmt.Errorf("%d file(s) under %s could not be scanned", len(fileErrs), o.Path))
	}
	return findings, nil
}

// writeFindings renders findings; srcRoot is the directory SARIF URIs are
// relative to ("" when unknown).
func writeFindings(w io.Writer, format string, findings []finding.Finding, srcRoot string) error {
	switch format {
	case "json":
		return finding.WriteJSON(w, findings)
	case "sarif":
		return sarif.Write(w, sarifTool(), findings, sarif.WithSrcRoot(srcRoot))
	default:
		return finding.WriteTable(w, findings)
	}
}
