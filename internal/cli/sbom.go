package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	scalibrlog "github.com/google/osv-scalibr/log"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/artifact"
	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/sbom"
)

// SourceDateEpochEnv, when set, is the SBOM timestamp (seconds since the
// epoch), as in reproducible builds.
const SourceDateEpochEnv = "SOURCE_DATE_EPOCH"

type sbomFlags struct {
	format    string
	out       string
	author    string
	timestamp string
	licenses  bool
	key       string
	bundleOut string
}

func newSBOMCmd(app *App) *cobra.Command {
	var f sbomFlags
	cmd := &cobra.Command{
		Use:   "sbom PATH [--format cyclonedx|spdx] [--out FILE] [--key NAME.key]",
		Short: "Inventory a source tree, Go binary or root filesystem as a CycloneDX or SPDX SBOM",
		Long: `sbom lists the packages in PATH (a source tree with lockfiles, a Go binary, or an
unpacked root filesystem) and writes a CycloneDX 1.6 or SPDX 2.3 JSON document.
A CycloneDX or SPDX JSON file as PATH is read and rewritten in --format.

The document time is --timestamp (RFC 3339), else $SOURCE_DATE_EPOCH, else now,
so that the same input gives the same document. With --key and a file PATH, the
SBOM is also signed as an in-toto attestation about that file and stored.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkBundleOut(f.bundleOut, f.key); err != nil {
				return err
			}
			format, err := sbom.ParseFormat(f.format)
			if err != nil {
				return usageError(err)
			}
			created, err := app.documentTime(f.timestamp)
			if err != nil {
				return err
			}
			inv, err := app.inventory(contextOf(cmd), args[0], f.licenses)
			if err != nil {
				return err
			}
			doc, err := sbom.Document(inv, format, sbom.DocumentInfo{Created: created, Author: f.author, ToolVersion: toolVersion()})
			if err != nil {
				return badInput(err)
			}
			if f.key == "" {
				if st, err := os.Stat(args[0]); err == nil && st.Mode().IsRegular() {
					if f.key, err = app.projectKey("", "scanner"); err != nil {
						return err
					}
				}
			}
			if f.key != "" {
				if err := app.signSBOM(cmd, args[0], inv, format, doc, f.key, f.bundleOut); err != nil {
					return err
				}
			}
			return app.writeOutput(f.out, doc)
		},
	}
	cmd.Flags().StringVar(&f.format, "format", "cyclonedx", "document format: cyclonedx or spdx")
	cmd.Flags().StringVar(&f.out, "out", "", "write the document here (default standard output)")
	cmd.Flags().StringVar(&f.author, "author", "", "author of the SBOM data (default Hallmark)")
	cmd.Flags().StringVar(&f.timestamp, "timestamp", "", "document time, RFC 3339 (default $"+SourceDateEpochEnv+" or now)")
	cmd.Flags().BoolVar(&f.licenses, "detect-licenses", false, "classify licence files where lockfiles record no licence (slower)")
	cmd.Flags().StringVar(&f.key, "key", "", "sign the SBOM about the scanned file with this private key and store it (default for a file: the project's scanner key)")
	cmd.Flags().StringVar(&f.bundleOut, "bundle-out", "", "with --key: also write the signed bundle to this file (for push, cosign, a release)")
	return cmd
}

// documentTime picks the SBOM timestamp: the flag, SOURCE_DATE_EPOCH, the clock.
func (a *App) documentTime(flag string) (time.Time, error) {
	if flag != "" {
		t, err := time.Parse(time.RFC3339, flag)
		if err != nil {
			return time.Time{}, usageError(fmt.Errorf("--timestamp: %w", err))
		}
		return t, nil
	}
	if v := a.Getenv(SourceDateEpochEnv); v != "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, usageError(fmt.Errorf("$%s: %w", SourceDateEpochEnv, err))
		}
		return time.Unix(secs, 0).UTC(), nil
	}
	return a.Now(), nil
}

// inventory returns the inventory of target: the decoded document when
// target is a CycloneDX or SPDX JSON file, else a scan of the tree, binary
// or root filesystem, with osv-scalibr's own logging routed to the app's
// logger at debug level.
func (a *App) inventory(ctx context.Context, target string, detectLicenses bool) (*sbom.Inventory, error) {
	if inv, ok, err := readSBOMFile(target); ok || err != nil {
		return inv, err
	}
	logger := a.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	scalibrlog.SetLogger(scalibrLogger{logger})
	opts := []sbom.Option{sbom.WithLogger(logger)}
	if ref, err := artifact.Parse(target); err == nil && ref.Kind == artifact.KindImage {
		return a.imageInventory(ctx, target, opts)
	}
	if detectLicenses {
		d, err := sbom.NewLicenseDetector()
		if err != nil {
			return nil, environmentErr(err)
		}
		opts = append(opts, sbom.WithLicenseDetector(d))
	}
	opts = append(opts, sbom.WithGoToolchain(goCommandVersion(ctx)))
	inv, err := sbom.Scan(ctx, target, opts...)
	if err != nil {
		return nil, badInput(err)
	}
	for _, p := range inv.Problems {
		fmt.Fprintf(a.Stderr, "warning: %s: %s: %s\n", p.Path, p.Extractor, p.Message)
	}
	return inv, nil
}

// imageInventory scans the image target names.
func (a *App) imageInventory(ctx context.Context, target string, opts []sbom.Option) (*sbom.Inventory, error) {
	art, err := a.resolveArtifact(ctx, target)
	if err != nil {
		return nil, err
	}
	if art.Kind != artifact.KindImage {
		return nil, badInput(fmt.Errorf("%s: not an image", target))
	}
	inv, err := sbom.ScanImage(ctx, art.Image.Image, sbom.ImageSubject{Name: art.Name, Digest: art.Digest}, opts...)
	if err != nil {
		return nil, artifactError(err)
	}
	for _, p := range inv.Problems {
		fmt.Fprintf(a.Stderr, "warning: %s: %s: %s\n", p.Path, p.Extractor, p.Message)
	}
	return inv, nil
}

// readSBOMFile decodes target when it is a JSON SBOM; ok is false for
// anything else (a directory, a binary, a package-lock.json).
func readSBOMFile(target string) (inv *sbom.Inventory, ok bool, err error) {
	f, err := limits.OpenFile(target)
	if err != nil {
		return nil, false, nil // Scan reports it
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, false, nil
	}
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	head = bytes.TrimLeft(head[:n], " \t\r\n")
	if !bytes.HasPrefix(head, []byte("{")) || !(bytes.Contains(head, []byte(`"bomFormat"`)) || bytes.Contains(head, []byte(`"spdxVersion"`))) {
		return nil, false, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, true, badInput(err)
	}
	inv, err = sbom.Decode(f)
	if err != nil {
		return nil, true, badInput(fmt.Errorf("%s: %w", target, err))
	}
	return inv, true, nil
}

// signSBOM signs doc as an attestation whose subject is the scanned file.
func (a *App) signSBOM(cmd *cobra.Command, target string, inv *sbom.Inventory, format sbom.Format, doc []byte, keyPath, bundleOut string) error {
	if inv.Subject.Kind != "file" && inv.Subject.Kind != "image" {
		return usageError(fmt.Errorf("--key needs a file PATH (a binary or archive) or an image to name as the subject; %s is a directory", target))
	}
	subj, err := a.subject(cmd.Context(), target)
	if err != nil {
		return err
	}
	st, err := attest.NewStatement([]attest.Subject{subj}, format.PredicateType(), doc)
	if err != nil {
		return badInput(err)
	}
	k, err := a.loadSigningKey(keyPath)
	if err != nil {
		return err
	}
	rec, bundle, err := a.signAndStore(contextOf(cmd), k, st)
	if err != nil {
		return err
	}
	if err := a.writeBundleOut(bundleOut, bundle); err != nil {
		return err
	}
	fmt.Fprintf(a.Stderr, "signed SBOM of %s with key %s\nstored %s (%s)\n", filepath.Base(subj.Name), k.Public().ID(), rec.ID, rec.PredicateType)
	return nil
}

func toolVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

// scalibrLogger adapts osv-scalibr's logger interface to slog; its info
// chatter ("Starting filesystem walk") is debug detail for Hallmark users.
type scalibrLogger struct{ l *slog.Logger }

func (s scalibrLogger) Errorf(format string, args ...any) { s.l.Error(fmt.Sprintf(format, args...)) }
func (s scalibrLogger) Error(args ...any)                 { s.l.Error(fmt.Sprint(args...)) }
func (s scalibrLogger) Warnf(format string, args ...any)  { s.l.Warn(fmt.Sprintf(format, args...)) }
func (s scalibrLogger) Warn(args ...any)                  { s.l.Warn(fmt.Sprint(args...)) }
func (s scalibrLogger) Infof(format string, args ...any)  { s.l.Debug(fmt.Sprintf(format, args...)) }
func (s scalibrLogger) Info(args ...any)                  { s.l.Debug(fmt.Sprint(args...)) }
func (s scalibrLogger) Debugf(format string, args ...any) { s.l.Debug(fmt.Sprintf(format, args...)) }
func (s scalibrLogger) Debug(args ...any)                 { s.l.Debug(fmt.Sprint(args...)) }

var _ scalibrlog.Logger = scalibrLogger{}
