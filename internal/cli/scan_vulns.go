package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/vuln"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
	"github.com/hallmark-dev/hallmark/vuln/vex"
)

// VulnScanOptions are the vulnerability-related flags of `hallmark scan
// --vulns`: the database directory (--db, default STORE/osv), VEX files
// (--vex, repeatable), the allowed database age (--max-age), and purls of
// the scanned artifact that VEX products may name (--subject).
type VulnScanOptions struct {
	DB       string
	VEX      []string
	MaxAge   time.Duration
	Subjects []string
}

// ScanVulns matches an inventory against the local OSV database, applying
// VEX documents. It returns the report and, when the report may miss
// vulnerabilities (empty, stale or unreadable database, an inventory
// ecosystem without data, unevaluable packages), an error mapped to
// ExitEnvironment that wraps vuln.ErrIncomplete; callers must then not
// report a clean result. The report is non-nil whenever the database could
// be opened.
func (a *App) ScanVulns(ctx context.Context, pkgs []vuln.Package, o VulnScanOptions) (*vuln.Report, error) {
	var docs []*vex.Document
	for _, p := range o.VEX {
		f, err := limits.OpenFile(p)
		if err != nil {
			return nil, badInput(err)
		}
		d, err := vex.Decode(f, p, vex.DefaultLimits)
		f.Close()
		if err != nil {
			return nil, badInput(err)
		}
		docs = append(docs, d)
	}
	db, err := osvdb.Open(a.vulnDBDir(o.DB))
	if err != nil {
		return nil, environmentErr(fmt.Errorf("%w; run `hallmark db update --from ...` first", err))
	}
	defer db.Close()
	opts := []vuln.Option{vuln.WithClock(a.Now), vuln.WithLogger(a.logger())}
	if o.MaxAge > 0 {
		opts = append(opts, vuln.WithMaxAge(o.MaxAge))
	}
	if len(docs) > 0 {
		opts = append(opts, vuln.WithVEX(vex.NewSet(docs, o.Subjects...)))
	}
	s, err := vuln.NewScanner(db, opts...)
	if err != nil {
		return nil, usageError(err)
	}
	rep, err := s.Scan(ctx, pkgs)
	if err != nil {
		return rep, environmentErr(err)
	}
	return rep, nil
}

// VulnFailOn is vuln.Report.FailOn as an ExitRejected error, saying how to
// leave findings of unknown severity out when they were counted.
func VulnFailOn(rep *vuln.Report, threshold finding.Severity, failUnknown bool) error {
	err := rep.FailOn(threshold, failUnknown)
	if err == nil {
		return nil
	}
	if te, ok := errors.AsType[*vuln.ThresholdError](err); ok && te.Unknown > 0 {
		err = fmt.Errorf("%w; --fail-on-unknown=false counts only rated ones", err)
	}
	return rejected(err)
}

// WriteVulnReport writes a report as "table" or "json". An incomplete report
// says so in both forms and never reads as clean.
func WriteVulnReport(w io.Writer, rep *vuln.Report, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Complete bool `json:"complete"`
			*vuln.Report
		}{rep.Complete(), rep})
	case "table", "":
	default:
		return usageError(fmt.Errorf("unknown format %q (want table or json)", format))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tPACKAGE\tINSTALLED\tFIXED\tSTATUS")
	for _, f := range rep.Findings {
		status := "affected"
		if f.Suppressed != nil {
			status = "suppressed (VEX " + f.Suppressed.Status + ")"
		}
		fixed := strings.Join(f.FixedVersions, ", ")
		if fixed == "" {
			fixed = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Rating.Severity, f.Package.Name, f.InstalledVersion, fixed, status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case !rep.Complete():
		fmt.Fprintf(w, "INCOMPLETE: %d packages scanned, the result may miss vulnerabilities:\n", rep.Packages)
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  - %s: %s\n", p.Kind, p.Detail)
		}
	case len(rep.Findings) == 0:
		fmt.Fprintf(w, "no known vulnerabilities in %d packages\n", rep.Packages)
	default:
		fmt.Fprintf(w, "%d findings (%d suppressed by VEX) in %d packages\n", len(rep.Findings), len(rep.Findings)-len(rep.Active()), rep.Packages)
	}
	return nil
}
