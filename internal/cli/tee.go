package cli

import (
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/sevsnp"
	"github.com/hallmark-dev/hallmark/tee/tdx"
	"github.com/hallmark-dev/hallmark/tee/tpm"
	"github.com/hallmark-dev/hallmark/tee/verifiers"
)

// teeFlags are the verification settings shared by the tee subcommands.
type teeFlags struct {
	platform        string
	at              string
	nonce           string
	reportData      string
	referenceValues string
	allowDebug      bool
	sevVCEK         []string
	sevCRL          string
	tdxCollateral   string
	tdxNoCollateral bool
	tdxStatuses     []string
	tpmAKs          []string
	keys            []string
	provenance      string
}

func (f *teeFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.platform, "platform", "", "evidence platform: sev-snp, tdx, tpm or nitro (default: detect where possible)")
	fl.StringVar(&f.at, "at", "", "verify certificates and collateral at this RFC 3339 time (default now)")
	fl.StringVar(&f.nonce, "nonce", "", "expected nonce, hex (required for tpm evidence)")
	fl.StringVar(&f.reportData, "report-data", "", "expected report data / user data, hex")
	fl.BoolVar(&f.allowDebug, "allow-debug-unsafe", false, "accept debug guests and enclaves (their memory is readable by the host)")
	fl.StringArrayVar(&f.sevVCEK, "sev-vcek", nil, "cached DER VCEK certificate for raw SEV-SNP reports (repeatable)")
	fl.StringVar(&f.sevCRL, "sev-crl", "", "cached AMD KDS CRL (DER) for SEV-SNP revocation checks")
	fl.StringVar(&f.tdxCollateral, "tdx-collateral", "", "directory of cached Intel PCS collateral (see docs/tee.md)")
	fl.BoolVar(&f.tdxNoCollateral, "tdx-without-collateral-unsafe", false, "verify TDX quotes without collateral: no revocation or TCB-status check")
	fl.StringArrayVar(&f.tdxStatuses, "tdx-accept-tcb-status", nil, "accepted TDX TCB status (repeatable; default UpToDate)")
	fl.StringArrayVar(&f.tpmAKs, "tpm-ak", nil, "PEM public key of a trusted TPM attestation key instead of the GCE roots (repeatable)")
}

// tdxCollateralFiles are the file names expected in --tdx-collateral.
var tdxCollateralFiles = []string{
	"tcbinfo.json", "tcbinfo-issuer-chain.pem", "qeidentity.json", "qeidentity-issuer-chain.pem",
	"pckcrl.der", "pckcrl-issuer-chain.pem", "rootcrl.der",
}

// registry reads the files the flags name into the verifiers'
// configuration: SEV-SNP and Nitro always, TDX with collateral (or without,
// unsafely), TPM with the GCE roots or the given attestation keys.
func (f *teeFlags) registry(app *App) (*tee.Registry, error) {
	cfg := verifiers.Config{TPM: true}
	for _, p := range f.sevVCEK {
		b, err := app.readInput(p, 64<<10)
		if err != nil {
			return nil, err
		}
		cfg.SEVSNP = append(cfg.SEVSNP, sevsnp.WithVCEK(b))
	}
	if f.sevCRL != "" {
		b, err := app.readInput(f.sevCRL, 1<<20)
		if err != nil {
			return nil, err
		}
		cfg.SEVSNP = append(cfg.SEVSNP, sevsnp.WithCRL(b))
	}
	if len(f.tdxStatuses) > 0 {
		cfg.TDXOptions = append(cfg.TDXOptions, tdx.WithAcceptedTCBStatuses(f.tdxStatuses...))
	}
	switch {
	case f.tdxCollateral != "" && f.tdxNoCollateral:
		return nil, usageError(errors.New("--tdx-collateral and --tdx-without-collateral-unsafe contradict each other"))
	case f.tdxCollateral != "":
		var b [7][]byte
		for i, name := range tdxCollateralFiles {
			var err error
			if b[i], err = app.readInput(filepath.Join(f.tdxCollateral, name), 1<<20); err != nil {
				return nil, err
			}
		}
		cfg.TDX = true
		cfg.TDXOptions = append(cfg.TDXOptions, tdx.WithCollateral(tdx.Collateral{
			TCBInfo: b[0], TCBInfoIssuerChain: b[1], QEIdentity: b[2], QEIdentityIssuerChain: b[3],
			PCKCRL: b[4], PCKCRLIssuerChain: b[5], RootCRL: b[6],
		}))
	case f.tdxNoCollateral:
		cfg.TDX = true
		cfg.TDXOptions = append(cfg.TDXOptions, tdx.WithoutCollateralUnsafe())
	}
	if len(f.tpmAKs) > 0 {
		var aks []crypto.PublicKey
		for _, p := range f.tpmAKs {
			b, err := app.readInput(p, 64<<10)
			if err != nil {
				return nil, err
			}
			blk, _ := pem.Decode(b)
			if blk == nil {
				return nil, badInput(fmt.Errorf("%s: not a PEM public key", p))
			}
			k, err := x509.ParsePKIXPublicKey(blk.Bytes)
			if err != nil {
				return nil, badInput(fmt.Errorf("%s: %w", p, err))
			}
			aks = append(aks, k)
		}
		cfg.TPMOptions = append(cfg.TPMOptions, tpm.WithTrustedAKs(aks...))
	}
	r, err := verifiers.New(cfg)
	if err != nil {
		return nil, badInput(err)
	}
	return r, nil
}

func (f *teeFlags) options(app *App) (tee.VerifyOptions, error) {
	opts := tee.VerifyOptions{Time: app.Now(), AllowDebugUnsafe: f.allowDebug}
	if f.at != "" {
		t, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return opts, usageError(fmt.Errorf("--at: %w", err))
		}
		opts.Time = t
	}
	var err error
	if f.nonce != "" {
		if opts.Nonce, err = hex.DecodeString(f.nonce); err != nil {
			return opts, usageError(fmt.Errorf("--nonce: %w", err))
		}
	}
	if f.reportData != "" {
		if opts.ReportData, err = hex.DecodeString(f.reportData); err != nil {
			return opts, usageError(fmt.Errorf("--report-data: %w", err))
		}
	}
	if f.referenceValues != "" {
		b, err := app.readInput(f.referenceValues, tee.MaxReferenceValues)
		if err != nil {
			return opts, err
		}
		if opts.ReferenceValues, err = tee.ParseReferenceValues(b); err != nil {
			return opts, badInput(fmt.Errorf("%s: %w", f.referenceValues, err))
		}
	}
	return opts, nil
}

// teeError maps tee errors to exit codes: undecodable input is bad input,
// everything a verifier rejects is a rejection.
func teeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tee.ErrMalformed), errors.Is(err, tee.ErrTooLarge), errors.Is(err, tee.ErrUnknownPlatform),
		errors.Is(err, tee.ErrReferenceValues):
		return badInput(err)
	case errors.Is(err, tee.ErrOptions):
		return usageError(err)
	}
	return rejected(err)
}

// verifier is the registry and options both verify commands use.
func (f *teeFlags) verifier(app *App) (*tee.Registry, tee.VerifyOptions, error) {
	reg, err := f.registry(app)
	if err != nil {
		return nil, tee.VerifyOptions{}, err
	}
	opts, err := f.options(app)
	return reg, opts, err
}

// verifyEvidence verifies raw evidence from path.
func (f *teeFlags) verifyEvidence(app *App, cmd *cobra.Command, path string) (*tee.Claims, error) {
	raw, err := app.readInput(path, tee.MaxTPMEvidence)
	if err != nil {
		return nil, err
	}
	p, err := f.resolvePlatform(raw)
	if err != nil {
		return nil, err
	}
	reg, opts, err := f.verifier(app)
	if err != nil {
		return nil, err
	}
	if _, err := reg.Verifier(p); err != nil && p == tee.TDX {
		return nil, usageError(errors.New("tdx evidence needs --tdx-collateral DIR (or --tdx-without-collateral-unsafe)"))
	}
	c, err := reg.Verify(contextOf(cmd), p, raw, opts)
	return c, teeError(err)
}

func (f *teeFlags) resolvePlatform(raw []byte) (tee.Platform, error) {
	if f.platform != "" {
		p, err := tee.ParsePlatform(f.platform)
		if err != nil {
			return "", usageError(fmt.Errorf("--platform: %w", err))
		}
		return p, nil
	}
	p, err := tee.Detect(raw)
	if err != nil {
		return "", usageError(fmt.Errorf("%w (use --platform)", err))
	}
	return p, nil
}

func newTeeCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "tee", Short: "Verify TEE evidence (SEV-SNP, TDX, TPM, Nitro) and derive reference values"}
	cmd.AddCommand(newTeeVerifyCmd(app), newTeeReferenceValuesCmd(app))
	return cmd
}

func newTeeVerifyCmd(app *App) *cobra.Command {
	var f teeFlags
	cmd := &cobra.Command{
		Use:   "verify BUNDLE|EVIDENCE [--platform P] [--reference-values FILE] [--at TIME]",
		Short: "Check a TEE quote, its chain to the vendor root, its binding to provenance and its measurements",
		Long: `Verify TEE evidence offline at --at (default now) and print its claims as JSON.

EVIDENCE is raw platform evidence (an SEV-SNP report or Attestation protobuf,
a TDX quote, a go-tpm-tools Attestation protobuf, a Nitro attestation document).
BUNDLE is a signed TEE attestation (predicate type ` + tee.PredicateType + `);
with it, --key verifies the bundle and --provenance names the provenance bundle
whose DSSE pre-authentication encoding the quote must bind.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var claims *tee.Claims
			var err error
			if f.provenance != "" || len(f.keys) > 0 {
				claims, err = f.verifyBundle(app, cmd, args[0])
			} else {
				claims, err = f.verifyEvidence(app, cmd, args[0])
			}
			if err != nil {
				return err
			}
			out, err := json.MarshalIndent(claims, "", "  ")
			if err != nil {
				return environmentErr(err)
			}
			return app.writeOutput("-", append(out, '\n'))
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&f.referenceValues, "reference-values", "", "reference-values JSON file the measurements must match")
	cmd.Flags().StringArrayVar(&f.keys, "key", nil, "trusted public key for BUNDLE and --provenance (repeatable)")
	cmd.Flags().StringVar(&f.provenance, "provenance", "", "provenance bundle the TEE attestation must bind")
	return cmd
}

// verifyBundle verifies a signed TEE attestation and its binding to a
// signed provenance.
func (f *teeFlags) verifyBundle(app *App, cmd *cobra.Command, path string) (*tee.Claims, error) {
	if len(f.keys) == 0 || f.provenance == "" {
		return nil, usageError(errors.New("a TEE attestation bundle needs --key and --provenance"))
	}
	var pubs []*keys.PublicKey
	for _, p := range f.keys {
		k, err := keys.LoadPublicKeyFile(p)
		if err != nil {
			return nil, badInput(err)
		}
		pubs = append(pubs, k)
	}
	ks := attest.NewKeySet(pubs...)
	ctx := contextOf(cmd)
	raw, err := app.readInput(path, limits.MaxBundleBytes)
	if err != nil {
		return nil, err
	}
	v, err := attest.Verify(ctx, raw, ks, attest.WithInputName(path))
	if err != nil {
		return nil, err
	}
	if v.PredicateType != tee.PredicateType {
		return nil, rejected(fmt.Errorf("%s: predicate type %q, want %q", path, v.PredicateType, tee.PredicateType))
	}
	predJSON, err := v.PredicateJSON()
	if err != nil {
		return nil, badInput(err)
	}
	pred, err := tee.ParsePredicate(predJSON)
	if err != nil {
		return nil, teeError(err)
	}
	if f.platform != "" && string(pred.Platform) != f.platform {
		return nil, rejected(fmt.Errorf("%s: platform %s, want %s", path, pred.Platform, f.platform))
	}
	provRaw, err := app.readInput(f.provenance, limits.MaxBundleBytes)
	if err != nil {
		return nil, err
	}
	prov, err := attest.Verify(ctx, provRaw, ks, attest.WithInputName(f.provenance))
	if err != nil {
		return nil, err
	}
	// The TEE attestation must speak about artifacts the provenance covers.
	for _, s := range v.Subjects() {
		if !prov.HasDigest("sha256", s.Digest["sha256"]) {
			return nil, rejected(fmt.Errorf("%s: subject %s (sha256:%s) is not a subject of %s", path, s.Name, s.Digest["sha256"], f.provenance))
		}
	}
	reg, opts, err := f.verifier(app)
	if err != nil {
		return nil, err
	}
	claims, err := tee.VerifyPredicate(ctx, reg, pred, prov.PAE(), opts)
	return claims, teeError(err)
}

func newTeeReferenceValuesCmd(app *App) *cobra.Command {
	var f teeFlags
	var out string
	cmd := &cobra.Command{
		Use:   "reference-values EVIDENCE... [--out FILE]",
		Short: "Verify trusted sample evidence and print reference values that accept exactly it",
		Long: `Verify each EVIDENCE (as tee verify does) and derive a reference-values
document (` + tee.ReferenceValuesType + `) listing its measurements
and, as minimums, its security versions. Use samples from builds you trust.`,
		Args: argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var all []*tee.Claims
			for _, p := range args {
				c, err := f.verifyEvidence(app, cmd, p)
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				all = append(all, c)
			}
			rv, err := tee.DeriveReferenceValues(all...)
			if err != nil {
				return badInput(err)
			}
			b, err := json.MarshalIndent(rv, "", "  ")
			if err != nil {
				return environmentErr(err)
			}
			return app.writeOutput(out, append(b, '\n'))
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&out, "out", "", "write the document here instead of standard output")
	return cmd
}
