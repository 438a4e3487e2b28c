package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hallmark-dev/hallmark/artifact"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/secrets"
)

// scanSecretsOptions are the inputs of
// `hallmark scan --secrets PATH [--format table|json|sarif] [--fail-on SEV] [--allowlist FILE] [--include-store]`.
// PATH is a directory (source tree, build context, OCI image layout or
// `docker save` directory) or a file (any archive: tar, tar.gz, zip, jar,
// docker-save tarball). The shared `scan` command fills one from its flags
// and calls runScanSecrets.
type scanSecretsOptions struct {
	// Path is the tree or file to scan.
	Path string
	// Format and FailOn are as in scanMisconfigOptions.
	Format, FailOn string
	// AllowlistFile is a secrets allowlist (YAML, see secrets.Allowlist);
	// empty waives nothing.
	AllowlistFile string
	// IncludeStore scans Hallmark's evidence store too when it lies inside
	// Path. By default it is skipped (with a note on stderr): it holds the
	// vulnerability database and signed evidence, not the project's files.
	IncludeStore bool
}

// runScanSecrets scans o.Path for credentials and writes the findings, with
// redacted values only, to app.Stdout in o.Format. Exit mapping: ExitUsage
// for bad flags, ExitBadInput for an unreadable allowlist or path,
// ExitRejected when findings reach --fail-on (a part left unscanned has
// unknown severity and counts), otherwise ExitBadInput when part of the
// input could not be scanned (a gate must not pass over what it did not
// read).
func (a *App) runScanSecrets(ctx context.Context, o scanSecretsOptions) error {
	_, err := a.scanSecrets(ctx, o)
	return err
}

// scanSecrets is runScanSecrets that also returns the findings, for signing.
func (a *App) scanSecrets(ctx context.Context, o scanSecretsOptions) ([]finding.Finding, error) {
	if o.Path == "" {
		return nil, usageError(errors.New("--secrets needs a PATH"))
	}
	out, err := parseFindingsOutput(o.Format, o.FailOn)
	if err != nil {
		return nil, err
	}
	var allow *secrets.Allowlist
	if o.AllowlistFile != "" {
		if allow, err = secrets.LoadAllowlist(o.AllowlistFile); err != nil {
			return nil, badInput(err)
		}
	}
	cfg := secrets.Config{Allowlist: allow, Logger: a.logger(), Progress: a.countProgress("secrets scan")}
	if !o.IncludeStore {
		cfg.SkipDirs = a.storeDirsIn(o.Path)
		for _, d := range cfg.SkipDirs {
			fmt.Fprintf(a.Stderr, "hallmark: note: not scanning the evidence store %s (--include-store scans it)\n", d)
		}
	}
	findings, err := a.secretsOf(ctx, o.Path, cfg)
	if ctx.Err() != nil {
		return nil, environmentErr(ctx.Err())
	}
	if err != nil {
		return nil, badInput(err)
	}
	if err := out.write(a.Stdout, o.Path, findings); err != nil {
		return nil, err
	}
	incomplete := 0
	for _, f := range findings {
		if f.RuleID == secrets.IncompleteRule {
			incomplete++
			fmt.Fprintf(a.Stderr, "hallmark: warning: %s: %s\n", secrets.Where(f.Location), f.Message)
		}
	}
	if err := out.verdict("secret", findings); err != nil {
		return findings, err
	}
	if incomplete > 0 {
		return findings, badInput(fmt.Errorf("%d part(s) of %s could not be scanned for secrets", incomplete, o.Path))
	}
	return findings, nil
}

// secretsOf scans a path, or an image's layers and config.
func (a *App) secretsOf(ctx context.Context, target string, cfg secrets.Config) ([]finding.Finding, error) {
	if ref, err := artifact.Parse(target); err == nil && ref.Kind == artifact.KindImage {
		art, err := a.resolveArtifact(ctx, target)
		if err != nil {
			return nil, err
		}
		s, err := secrets.New(cfg)
		if err != nil {
			return nil, badInput(err)
		}
		return s.ScanImage(ctx, art.Image.Image)
	}
	if _, err := limits.StatFileOrDir(target); err != nil {
		return nil, badInput(err)
	}
	return secrets.Scan(ctx, target, cfg)
}

// storeDirsIn returns the evidence store directories that lie inside the
// tree at path: the store this command uses (--store, HALLMARK_STORE or
// .hallmark) and the scanned project's own default store, path/.hallmark.
func (a *App) storeDirsIn(path string) []string {
	root, err := filepath.Abs(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, d := range []string{a.resolvedStoreDir(), filepath.Join(path, DefaultStoreDir)} {
		abs, err := filepath.Abs(d)
		if err != nil {
			continue
		}
		if info, err := os.Stat(abs); err != nil || !info.IsDir() {
			continue
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		if !slices.Contains(out, abs) {
			out = append(out, abs)
		}
	}
	return out
}
