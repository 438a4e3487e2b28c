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
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	scalibrlog "github.com/google/osv-scalibr/log"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/artifact"
	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/oci"
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
	keyless   bool
	bundleOut string
	platform  string
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
so that the same input gives the same document. With --key (or --keyless) and a file PATH, the
SBOM is also signed as an in-toto attestation about that file and stored.

PATH may be an image (REGISTRY/REPO:TAG or @sha256:, oci:DIR[:TAG],
docker-archive:FILE). Of a multi-platform image, --platform all (the default)
writes one SBOM per platform into --out DIR (linux-amd64.cdx.json, ...), each
about its platform manifest digest; --platform os/arch[/variant] writes one.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkBundleOut(f.bundleOut, f.key != "" || f.keyless); err != nil {
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
			if ref, err := artifact.Parse(args[0]); err == nil && ref.Kind == artifact.KindImage {
				return app.imageSBOMs(cmd, args[0], f, format, created)
			}
			inv, err := app.inventory(contextOf(cmd), args[0], f.licenses, oci.AllPlatforms)
			if err != nil {
				return err
			}
			doc, err := sbom.Document(inv, format, sbom.DocumentInfo{Created: created, Author: f.author, ToolVersion: toolVersion()})
			if err != nil {
				return badInput(err)
			}
			if f.key == "" && !f.keyless {
				if st, err := os.Stat(args[0]); err == nil && st.Mode().IsRegular() {
					if f.key, err = app.projectKey("", "scanner"); err != nil {
						return err
					}
				}
			}
			if f.key != "" || f.keyless {
				if err := app.signSBOM(cmd, args[0], inv, format, doc, f, f.bundleOut); err != nil {
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
	cmd.Flags().BoolVar(&f.keyless, "keyless", false, keylessUsage)
	cmd.Flags().StringVar(&f.bundleOut, "bundle-out", "", "with --key: also write the signed bundle to this file (for push, cosign, a release)")
	cmd.Flags().StringVar(&f.platform, "platform", oci.AllPlatforms, "of a multi-platform image: \"all\" (one SBOM per platform, --out DIR) or os/arch[/variant]")
	return cmd
}

// imageSBOMs writes (and with --key signs) the SBOM of each platform
// image f.platform selects. A single image's SBOM is about its manifest
// digest; each platform's SBOM of an index is about that platform's
// manifest digest (which the index lists), named by the repository. One
// document goes to --out or standard output; several need --out DIR,
// where each is written as OS-ARCH[-VARIANT].cdx.json (or .spdx.json).
func (a *App) imageSBOMs(cmd *cobra.Command, target string, f sbomFlags, format sbom.Format, created time.Time) error {
	ctx := contextOf(cmd)
	art, err := a.resolveArtifact(ctx, target)
	if err != nil {
		return err
	}
	if art.Kind != artifact.KindImage {
		return badInput(fmt.Errorf("%s: not an image", target))
	}
	plats, err := art.Image.SelectPlatforms(f.platform)
	if err != nil {
		return badInput(err)
	}
	toDir := len(plats) > 1
	if toDir {
		if f.out == "" {
			return usageError(fmt.Errorf("%s is a multi-platform image of %d platforms: give --out DIR for one SBOM per platform, or --platform os/arch", target, len(plats)))
		}
		if f.bundleOut != "" {
			return usageError(fmt.Errorf("--bundle-out names one file; %s has %d platforms: give --platform os/arch", target, len(plats)))
		}
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return badInput(err)
		}
	}
	ext := map[sbom.Format]string{sbom.CycloneDX: ".cdx.json", sbom.SPDX: ".spdx.json"}[format]
	for _, p := range plats {
		inv, err := a.scanImage(ctx, p.Image, sbom.ImageSubject{Name: art.Name, Digest: p.Digest}, a.scanOptions()...)
		if err != nil {
			return err
		}
		doc, err := sbom.Document(inv, format, sbom.DocumentInfo{Created: created, Author: f.author, ToolVersion: toolVersion()})
		if err != nil {
			return badInput(err)
		}
		if f.key != "" || f.keyless {
			subj := attest.Subject{Name: art.Name, Digest: map[string]string{p.Digest.Algorithm: p.Digest.Hex}}
			if err := a.signSBOMAbout(cmd, subj, format, doc, f, f.bundleOut); err != nil {
				return err
			}
		}
		out := f.out
		if toDir {
			out = filepath.Join(f.out, strings.ReplaceAll(p.String(), "/", "-")+ext)
			fmt.Fprintf(a.Stderr, "%s %s: %s\n", p, p.Digest, out)
		}
		if err := a.writeOutput(out, doc); err != nil {
			return err
		}
	}
	return nil
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
// For a multi-platform image, the inventory is that of the platforms
// platform selects (oci.AllPlatforms: all of them, each package once per
// platform it is in), about the index digest.
func (a *App) inventory(ctx context.Context, target string, detectLicenses bool, platform string) (*sbom.Inventory, error) {
	if inv, ok, err := readSBOMFile(target); ok || err != nil {
		return inv, err
	}
	opts := a.scanOptions()
	if ref, err := artifact.Parse(target); err == nil && ref.Kind == artifact.KindImage {
		return a.imageInventory(ctx, target, platform, opts)
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

// scanOptions are the options of every scan: the app's logger, which
// also receives osv-scalibr's own logging at debug level.
func (a *App) scanOptions() []sbom.Option {
	logger := a.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	scalibrlog.SetLogger(scalibrLogger{logger})
	return []sbom.Option{sbom.WithLogger(logger)}
}

// imageInventory scans the image target names: of an index, the
// platforms platform selects, merged.
func (a *App) imageInventory(ctx context.Context, target, platform string, opts []sbom.Option) (*sbom.Inventory, error) {
	art, err := a.resolveArtifact(ctx, target)
	if err != nil {
		return nil, err
	}
	if art.Kind != artifact.KindImage {
		return nil, badInput(fmt.Errorf("%s: not an image", target))
	}
	plats, err := art.Image.SelectPlatforms(platform)
	if err != nil {
		return nil, badInput(err)
	}
	subject := sbom.ImageSubject{Name: art.Name, Digest: art.Digest.Hash()}
	invs := make([]*sbom.Inventory, 0, len(plats))
	for _, p := range plats {
		inv, err := a.scanImage(ctx, p.Image, subject, opts...)
		if err != nil {
			return nil, err
		}
		invs = append(invs, inv)
	}
	if len(invs) == 1 {
		return invs[0], nil
	}
	return sbom.MergePlatforms(subject, invs...), nil
}

// scanImage inventories one image, warning about files it could not read.
func (a *App) scanImage(ctx context.Context, img v1.Image, subject sbom.ImageSubject, opts ...sbom.Option) (*sbom.Inventory, error) {
	inv, err := sbom.ScanImage(ctx, img, subject, opts...)
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
func (a *App) signSBOM(cmd *cobra.Command, target string, inv *sbom.Inventory, format sbom.Format, doc []byte, f sbomFlags, bundleOut string) error {
	if inv.Subject.Kind != "file" && inv.Subject.Kind != "image" {
		return usageError(fmt.Errorf("--key and --keyless need a file PATH (a binary or archive) or an image to name as the subject; %s is a directory", target))
	}
	subj, err := a.subject(cmd.Context(), target)
	if err != nil {
		return err
	}
	return a.signSBOMAbout(cmd, subj, format, doc, f, bundleOut)
}

// signSBOMAbout signs doc as an attestation about subj and stores it.
func (a *App) signSBOMAbout(cmd *cobra.Command, subj attest.Subject, format sbom.Format, doc []byte, f sbomFlags, bundleOut string) error {
	st, err := attest.NewStatement([]attest.Subject{subj}, format.PredicateType(), doc)
	if err != nil {
		return badInput(err)
	}
	signer, err := a.evidenceSigner(f.key, f.keyless)
	if err != nil {
		return err
	}
	_, bundle, rec, who, err := a.signWith(contextOf(cmd), signer, st)
	if err != nil {
		return err
	}
	if err := a.writeBundleOut(bundleOut, bundle); err != nil {
		return err
	}
	fmt.Fprintf(a.Stderr, "signed SBOM of %s by %s\nstored %s (%s)\n", filepath.Base(subj.Name), who, rec.ID, rec.PredicateType)
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
