package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/artifact"
	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/finding/sarif"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/sbom"
	"github.com/hallmark-dev/hallmark/vuln"
)

// scanFlags are the flags of `hallmark scan`.
type scanFlags struct {
	vulns, misconfig, secrets, deps bool

	format, failOn string
	failUnknown    bool

	// Signing the results.
	key, subject, bundleOut string
	keyless                 bool

	// --vulns
	db     string
	vex    []string
	maxAge time.Duration
	purls  []string
	// --misconfig
	config string
	// --deps
	policy         string
	detectLicenses bool
	// --secrets
	allowlist    string
	includeStore bool
	// images
	platform string
}

func newScanCmd(app *App) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan (--vulns|--misconfig|--secrets|--deps) PATH [--format table|json|sarif] [--fail-on SEVERITY] [--key K --subject ARTIFACT]",
		Short: "Find vulnerable or unauthorized dependencies, misconfigurations or leaked secrets",
		Long: `Scan PATH with one scanner:
  --vulns      PATH|SBOM against the local OSV database (hallmark db update), with OpenVEX
  --misconfig  Dockerfiles, Kubernetes manifests and GitHub Actions workflows under PATH
  --secrets    credentials in a tree, an archive or an image (every layer and its config)
  --deps       the dependency policy (denied/allowed packages, licences, look-alike names)
With --key the results are signed as an attestation about --subject (a file,
an image or sha256:DIGEST; default PATH when it is a file or an image) and
stored, so the gate can require them. --fail-on makes findings at or above a
severity exit 1. A vulnerability scan whose database is empty, stale,
unreadable or lacks an ecosystem present in PATH never reports a clean result:
it exits 4.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			for _, b := range []bool{f.vulns, f.misconfig, f.secrets, f.deps} {
				if b {
					n++
				}
			}
			if n != 1 {
				return usageError(errors.New("choose exactly one of --vulns, --misconfig, --secrets, --deps"))
			}
			if f.key == "" && !f.keyless && f.subject != "" {
				k, err := app.projectKey("", "scanner")
				if err != nil {
					return err
				}
				f.key = k
			}
			if err := checkBundleOut(f.bundleOut, f.signs()); err != nil {
				return err
			}
			if f.signs() && f.subject == "" {
				if ref, err := artifact.Parse(args[0]); err == nil && ref.Kind == artifact.KindImage {
					f.subject = args[0]
				} else if st, err := os.Stat(args[0]); err != nil || !st.Mode().IsRegular() {
					return usageError(errors.New("--key needs --subject ARTIFACT when PATH is not a file: results are signed as being about an artifact"))
				}
				f.subject = args[0]
			}
			ctx := contextOf(cmd)
			switch {
			case f.vulns:
				return app.runScanVulns(ctx, args[0], f)
			case f.misconfig:
				fs, err := app.scanMisconfig(ctx, scanMisconfigOptions{Path: args[0], Format: f.format, FailOn: f.failOn, ConfigFile: f.config})
				return app.attestFindings(ctx, f, finding.KindMisconfig, args[0], fs, err)
			case f.deps:
				return app.runScanDeps(ctx, args[0], f)
			default:
				return app.runScanSecretsCmd(ctx, args[0], f)
			}
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.vulns, "vulns", false, "match dependencies against OSV vulnerability data")
	fl.BoolVar(&f.misconfig, "misconfig", false, "check Dockerfiles, Kubernetes manifests and CI workflows")
	fl.BoolVar(&f.secrets, "secrets", false, "find leaked credentials")
	fl.BoolVar(&f.deps, "deps", false, "check the dependency policy")
	fl.StringVar(&f.format, "format", "table", "output: table, json or sarif")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 1 when a finding is at or above this severity (info, low, medium, high, critical)")
	fl.BoolVar(&f.failUnknown, "fail-on-unknown", true, "with --vulns --fail-on: count findings whose severity no record or alias gives (=false to count only rated ones)")
	fl.StringVar(&f.key, "key", "", "sign the results with this key and store them (default with --subject: the project's scanner key)")
	fl.BoolVar(&f.keyless, "keyless", false, keylessUsage)
	fl.StringVar(&f.bundleOut, "bundle-out", "", "with --key: also write the signed bundle to this file (for push, cosign, a release)")
	fl.StringVar(&f.subject, "subject", "", "the artifact the signed results are about (file, image or sha256:DIGEST)")
	fl.StringVar(&f.db, "db", "", "vulnerability database directory (default STORE/osv)")
	fl.StringArrayVar(&f.vex, "vex", nil, "OpenVEX document (repeatable)")
	fl.DurationVar(&f.maxAge, "max-age", 0, "refuse a vulnerability database older than this (default 72h)")
	fl.StringArrayVar(&f.purls, "product-purl", nil, "purl of the scanned product, for VEX statements that name it (repeatable)")
	fl.StringVar(&f.config, "config", "", "misconfig configuration file")
	fl.StringVar(&f.policy, "policy", "", "dependency policy file (--deps)")
	fl.BoolVar(&f.detectLicenses, "detect-licenses", false, "classify licence files where lockfiles name none (--deps)")
	fl.StringVar(&f.allowlist, "allowlist", "", "secret allowlist file (--secrets)")
	fl.BoolVar(&f.includeStore, "include-store", false, "scan the evidence store too when it is inside PATH (--secrets; skipped by default)")
	fl.StringVar(&f.platform, "platform", oci.AllPlatforms, "of a multi-platform image (--vulns): \"all\" platforms, or os/arch[/variant]")
	return cmd
}

// runScanVulns inventories target, matches it and reports.
func (a *App) runScanVulns(ctx context.Context, target string, f scanFlags) error {
	out, err := parseFindingsOutput(f.format, f.failOn)
	if err != nil {
		return err
	}
	format := out.format
	inv, err := a.inventory(ctx, target, false, f.platform)
	if err != nil {
		return err
	}
	for _, c := range inv.Components {
		if sbom.GoMainModule(c) {
			fmt.Fprintf(a.Stderr, "note: skipped %s: version %s is how syft lists the main module (or a local replacement), code of this tree rather than a published version; govulncheck skips it too\n", c.Name, c.Version)
		}
		if c.Name == "stdlib" && c.VersionSource != "" {
			why := map[string]string{
				sbom.StdlibFromToolchainDirective: "from the go.mod toolchain directive",
				sbom.StdlibFromGoCommand:          "from `go env GOVERSION`: the go on PATH builds it (the go line is only a minimum)",
				sbom.StdlibFromGoDirective:        "from the go.mod go line, a minimum: no go command was found",
			}[c.VersionSource]
			fmt.Fprintf(a.Stderr, "note: the standard library of %s is go%s, %s\n", strings.Join(c.Locations, ", "), c.Version, why)
		}
	}
	rep, scanErr := a.ScanVulns(ctx, sbom.VulnPackages(inv), VulnScanOptions{DB: f.db, VEX: f.vex, MaxAge: f.maxAge, Subjects: f.purls})
	if rep == nil {
		return scanErr
	}
	if format == "sarif" {
		var fs []finding.Finding
		for _, x := range rep.Findings {
			fs = append(fs, x.Finding())
		}
		if err := sarif.Write(a.Stdout, sarifTool(), fs); err != nil {
			return environmentErr(err)
		}
		if !rep.Complete() {
			fmt.Fprintln(a.Stderr, "hallmark: INCOMPLETE: the result may miss vulnerabilities")
		}
	} else if err := WriteVulnReport(a.Stdout, rep, format); err != nil {
		return err
	}
	if scanErr != nil {
		return scanErr // incomplete: never clean, never signed as clean
	}
	if f.key != "" {
		pred, err := vuln.Predicate(rep, vuln.ScannerInfo{URI: "pkg:golang/github.com/hallmark-dev/hallmark", Version: toolVersion()})
		if err != nil {
			return environmentErr(err)
		}
		if err := a.signResults(ctx, f, vuln.PredicateType, pred); err != nil {
			return err
		}
	}
	if out.failOn {
		return VulnFailOn(rep, out.threshold, f.failUnknown)
	}
	return nil
}

// runScanDeps checks the dependency policy.
func (a *App) runScanDeps(ctx context.Context, target string, f scanFlags) error {
	out, err := parseFindingsOutput(f.format, f.failOn)
	if err != nil {
		return err
	}
	fs, _, err := a.scanDeps(ctx, target, depsScanOptions{Policy: f.policy, DetectLicenses: f.detectLicenses})
	if err != nil {
		return err
	}
	if err := writeFindings(a.Stdout, out.format, fs, ""); err != nil {
		return environmentErr(err)
	}
	return a.attestFindings(ctx, f, finding.KindDeps, target, fs, out.verdict("dependency policy", fs))
}

// attestFindings signs and stores a findings predicate when --key is given,
// then returns the scan's own verdict. Results of a scan that could not
// read everything are not signed.
func (a *App) attestFindings(ctx context.Context, f scanFlags, kind, target string, fs []finding.Finding, verdict error) error {
	if !f.signs() || (verdict != nil && exitCode(verdict) != ExitRejected) {
		return verdict
	}
	pred := finding.NewPredicate(kind, finding.Scanner{Name: "hallmark", Version: toolVersion(), URI: "https://hallmark.dev"}, target, a.Now(), fs)
	if err := a.signResults(ctx, f, finding.PredicateType, pred); err != nil {
		return err
	}
	return verdict
}

// signResults signs a predicate about --subject and stores it.
func (a *App) signResults(ctx context.Context, f scanFlags, predicateType string, predicate any) error {
	dg, name, err := a.artifactDigest(ctx, f.subject)
	if err != nil {
		return err
	}
	if dg, err = a.platformSubject(ctx, f.subject, f.platform, dg); err != nil {
		return err
	}
	if name == "" {
		name = dg.String()
	}
	b, err := json.Marshal(predicate)
	if err != nil {
		return environmentErr(err)
	}
	st, err := attest.NewStatement([]attest.Subject{{Name: name, Digest: dg.Set()}}, predicateType, b)
	if err != nil {
		return environmentErr(err)
	}
	signer, err := a.evidenceSigner(f.key, f.keyless)
	if err != nil {
		return err
	}
	_, bundle, rec, who, err := a.signWith(ctx, signer, st)
	if err != nil {
		return err
	}
	if err := a.writeBundleOut(f.bundleOut, bundle); err != nil {
		return err
	}
	fmt.Fprintf(a.Stderr, "signed %s results about %s by %s; stored %s\n", predicateType, dg, who, rec.ID)
	return nil
}

// signs says whether the results are signed (--key or --keyless).
func (f scanFlags) signs() bool { return f.key != "" || f.keyless }

// checkBundleOut validates --bundle-out: it needs --key or --keyless
// (signed), and standard output already carries the results.
func checkBundleOut(path string, signed bool) error {
	switch {
	case path == "":
		return nil
	case !signed:
		return usageError(errors.New("--bundle-out needs --key or --keyless: only signed results have a bundle"))
	case path == "-":
		return usageError(errors.New("--bundle-out -: standard output carries the results; name a file"))
	}
	return nil
}

// writeBundleOut writes a signed bundle to path when --bundle-out is given.
func (a *App) writeBundleOut(path string, bundle []byte) error {
	if path == "" {
		return nil
	}
	if err := a.writeOutput(path, bundle); err != nil {
		return err
	}
	fmt.Fprintf(a.Stderr, "wrote bundle %s\n", path)
	return nil
}

// runScanSecretsCmd scans for credentials and signs the results with --key.
func (a *App) runScanSecretsCmd(ctx context.Context, target string, f scanFlags) error {
	fs, err := a.scanSecrets(ctx, scanSecretsOptions{Path: target, Format: f.format, FailOn: f.failOn, AllowlistFile: f.allowlist, IncludeStore: f.includeStore})
	return a.attestFindings(ctx, f, finding.KindSecrets, target, fs, err)
}

// findingsOutput is a scan's --format and --fail-on, checked once: what
// every findings scanner writes and when it rejects.
type findingsOutput struct {
	format    string // table, json or sarif
	threshold finding.Severity
	failOn    bool // false when --fail-on is empty
}

// parseFindingsOutput validates --format and --fail-on (usage errors).
func parseFindingsOutput(format, failOn string) (findingsOutput, error) {
	o := findingsOutput{format: format}
	switch format {
	case "":
		o.format = "table"
	case "table", "json", "sarif":
	default:
		return o, usageError(fmt.Errorf("--format %q: want table, json or sarif", format))
	}
	if failOn != "" {
		sev, err := finding.ParseSeverity(failOn)
		if err != nil {
			return o, usageError(fmt.Errorf("--fail-on: %w", err))
		}
		o.threshold, o.failOn = sev, true
	}
	return o, nil
}

// write writes the findings of a scan of path to w, SARIF locations
// relative to the repository that holds path.
func (o findingsOutput) write(w io.Writer, path string, fs []finding.Finding) error {
	srcRoot := ""
	if o.format == "sarif" {
		fs, srcRoot = sarif.RepoRelative(path, fs)
	}
	if err := writeFindings(w, o.format, fs, srcRoot); err != nil {
		return environmentErr(err)
	}
	return nil
}

// verdict rejects when findings (what they are, for the message) meet
// --fail-on, and is nil otherwise.
func (o findingsOutput) verdict(what string, fs []finding.Finding) error {
	if o.failOn && finding.Exceeds(fs, o.threshold) {
		return rejected(failOnError(what, fs, o.threshold))
	}
	return nil
}

// sarifTool names Hallmark in every SARIF log it writes.
func sarifTool() sarif.Tool {
	return sarif.Tool{Name: "hallmark", Version: toolVersion(), InformationURI: "https://hallmark.dev"}
}

// failOnError says how many findings meet a --fail-on threshold, counting
// only those (not every finding of the scan), and how many are below it.
func failOnError(what string, fs []finding.Finding, threshold finding.Severity) error {
	failing := finding.AtLeast(fs, threshold)
	below := finding.Count(fs).Total - len(failing)
	msg := fmt.Sprintf("%s findings at or above %s: %s", what, threshold, finding.Count(failing))
	if below > 0 {
		msg += fmt.Sprintf(" (%d more below %s)", below, threshold)
	}
	return errors.New(msg)
}
