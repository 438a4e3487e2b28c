package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/build"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/provenance"
	"github.com/hallmark-dev/hallmark/repro"
	"github.com/hallmark-dev/hallmark/trust"
)

type rebuildFlags struct {
	bundle      string
	trustFile   string
	builderKeys []string
	key         string
	keyless     bool
	rebuilderID string
	sandbox     string
	out         string
	env         []string
	cacheDirs   []string
	outputDirs  []string
	goModCache  string
	allowDirty  bool
}

func newRebuildCmd(app *App) *cobra.Command {
	var f rebuildFlags
	cmd := &cobra.Command{
		Use:   "rebuild --bundle PROVENANCE [--trust TRUST.yaml | --builder-key PUB...] [--key REBUILDER.key] [--rebuilder-id URI] [--sandbox auto|on|off] [--out DIR]",
		Short: "Re-run the build recorded in a provenance bundle and attest whether its products match",
		Long: `Verify a SLSA v1 provenance bundle against the builder keys (--builder-key, or
the keys with role builder in --trust; default the project's trust file), then
re-run its recorded command in a clean checkout of the recorded commit: a
temporary local clone of this repository (which must contain the commit), so
this checkout's own changes, untracked files and outputs (dist/, the store)
never reach the rebuild. It runs in the recorded working directory and with the recorded
SOURCE_DATE_EPOCH, the same clean environment as 'hallmark build' (PATH and
--env names) and the same sandbox (--sandbox). Each original subject is
compared with the rebuilt file of the same name; a subject that is a
container image (named by its repository) with the image the rebuild wrote
under an output directory (an OCI layout or an image archive, recognised
as 'hallmark build' does), by manifest digest. The output directories are
those the provenance records (a sandboxed build's) and --output-dir. The result is a
reproducibility attestation (predicate https://hallmark.dev/attestation/reproducibility/v1)
whose subjects are the original subjects and whose products say, per
product, the rebuilt digest and whether it matched. It is signed with --key,
stored, and written to DIR/rebuild.bundle.json (the build log goes to
DIR/build.log, the rebuilt products to DIR/products/, ready for 'hallmark
diff'). A mismatch is attested too.

Exit 0 when every product matched; 1 when a product differed or is missing
(attested), when the bundle does not verify, is not provenance, or records
no commit or a dirty tree; 2 for a wrong command line; 3 for an unreadable
bundle or key; 4 when this repository does not have the recorded commit,
or the build fails (nothing attested).

--allow-dirty-unsafe rebuilds a provenance that records uncommitted changes,
in this checkout as it is (which must be at the recorded commit).`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return app.runRebuild(contextOf(cmd), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.bundle, "bundle", "", "provenance bundle to rebuild (required)")
	fl.StringVar(&f.trustFile, "trust", "", "trust file: the provenance must be signed by a key with role builder")
	fl.StringArrayVar(&f.builderKeys, "builder-key", nil, "trusted builder public key file (repeatable; instead of --trust)")
	fl.StringVar(&f.key, "key", "", "rebuilder's private key file (NAME.key) that signs the attestation (required)")
	fl.BoolVar(&f.keyless, "keyless", false, keylessUsage+"; needs --rebuilder-id")
	fl.StringVar(&f.rebuilderID, "rebuilder-id", "", "rebuilder identity URI in the attestation (default: derived from the key ID)")
	fl.StringVar(&f.sandbox, "sandbox", "auto", "isolation: auto (fall back and record it), on (required) or off")
	fl.StringVar(&f.out, "out", filepath.Join(DefaultStoreDir, "rebuild"), "directory for rebuild.bundle.json, build.log and the rebuilt products/")
	fl.StringArrayVar(&f.env, "env", nil, "environment variable passed through to the build (repeatable; PATH always is)")
	fl.StringArrayVar(&f.outputDirs, "output-dir", nil, "directory (relative to the source root) where the build writes products, as in 'hallmark build'; needed to find image products when the provenance records none (built without the sandbox) (repeatable)")
	fl.StringArrayVar(&f.cacheDirs, "cache-dir", nil, "absolute directory writable in the sandbox that holds no products (repeatable)")
	fl.StringVar(&f.goModCache, "go-mod-cache", "", "Go module cache mounted read-only; the build runs with GOPROXY=off")
	fl.BoolVar(&f.allowDirty, "allow-dirty-unsafe", false, "rebuild even when the provenance or this checkout has uncommitted changes (the result then proves little)")
	return cmd
}

func (a *App) runRebuild(ctx context.Context, f rebuildFlags) error {
	var err error
	if !f.keyless {
		if f.key, err = a.projectKey(f.key, "rebuilder"); err != nil {
			return err
		}
	}
	if len(f.builderKeys) == 0 {
		if f.trustFile, err = a.projectTrust(f.trustFile); err != nil {
			return err
		}
	}
	if f.bundle == "" || f.key == "" && !f.keyless {
		return usageError(errors.New("--bundle and --key (or --keyless) are required"))
	}
	if f.keyless && f.rebuilderID == "" {
		return usageError(errors.New("--keyless needs --rebuilder-id: there is no key ID to derive it from"))
	}
	if (f.trustFile == "") == (len(f.builderKeys) == 0) {
		return usageError(errors.New("give the trusted builders with either --trust or --builder-key (one of them)"))
	}
	mode := build.SandboxMode(f.sandbox)
	switch mode {
	case build.SandboxAuto, build.SandboxOn, build.SandboxOff:
	default:
		return usageError(fmt.Errorf("--sandbox %q: want auto, on or off", f.sandbox))
	}
	builders, err := builderKeySet(f)
	if err != nil {
		return err
	}
	signer, err := a.evidenceSigner(f.key, f.keyless)
	if err != nil {
		return err
	}
	raw, err := a.readInput(f.bundle, limits.MaxBundleBytes)
	if err != nil {
		return err
	}
	v, err := attest.Verify(ctx, raw, builders, attest.WithInputName(f.bundle))
	if err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return environmentErr(err)
	}
	id := f.rebuilderID
	if id == "" {
		id = "https://hallmark.dev/rebuilder/key/" + signer.key.Public().ID()
	}
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
	}
	allow := append([]string{"PATH"}, f.env...)
	res, err := repro.RebuildProvenance(ctx, repro.RebuildSpec{
		Provenance: v, Name: f.bundle,
		Checkout: wd, AllowDirtyUnsafe: f.allowDirty, OwnDirs: []string{a.resolvedStoreDir(), f.out},
		OutDir: f.out, Env: a.allowedEnv(allow), EnvAllowlist: allow, CacheDirs: f.cacheDirs, OutputDirs: f.outputDirs, GoModCache: f.goModCache,
		Sandbox: mode, SandboxHelper: sandboxHelper(),
		Rebuilder: repro.Rebuilder{ID: id, Version: map[string]string{"hallmark": version}},
		Now:       a.Now, Logger: a.Logger, Output: a.Stderr,
		Notify: func(msg string) {
			if strings.HasPrefix(msg, "rebuild: ") {
				a.progress("%s", msg)
				return
			}
			fmt.Fprintln(a.Stderr, msg)
		},
	})
	switch {
	case errors.Is(err, repro.ErrNotRebuildable):
		return rejected(err)
	case errors.Is(err, repro.ErrProvenance):
		return badInput(err)
	case errors.Is(err, repro.ErrInvalid):
		return usageError(err)
	case err != nil:
		return environmentErr(err)
	}
	_, bundle, rec, who, err := a.signWith(ctx, signer, res.Statement)
	if err != nil {
		return err
	}
	out := filepath.Join(f.out, "rebuild.bundle.json")
	if err := a.writeOutput(out, bundle); err != nil {
		return err
	}
	pred := res.Predicate
	writeRebuildText(a, f.bundle, res.Summary, pred, res.Images)
	fmt.Fprintf(a.Stderr, "signed %s %s by %s as %s\nstored %s\n", pred.Result, out, who, id, rec.ID)
	if pred.Result != repro.OutcomeReproducible {
		return rejected(fmt.Errorf("rebuild of %s is %s (attested)", f.bundle, pred.Result))
	}
	return nil
}

// builderKeySet is the set of keys trusted to sign provenance.
func builderKeySet(f rebuildFlags) (*attest.KeySet, error) {
	if f.trustFile != "" {
		t, err := trust.Load(f.trustFile)
		if err != nil {
			return nil, badInput(err)
		}
		return t.WithRole(trust.RoleBuilder), nil
	}
	var pubs []*keys.PublicKey
	for _, p := range f.builderKeys {
		k, err := keys.LoadPublicKeyFile(p)
		if err != nil {
			return nil, badInput(err)
		}
		pubs = append(pubs, k)
	}
	return attest.NewKeySet(pubs...), nil
}

func writeRebuildText(a *App, bundle string, s provenance.Summary, p *repro.Predicate, images []repro.RebuiltImage) {
	w := a.Stdout
	fmt.Fprintf(w, "rebuild of %s\n  command: %s (in %s)\n  source:  %s commit %s\n\n", bundle, strings.Join(s.Command, " "), s.WorkDir, orNone(s.SourceURI), s.Commit)
	for _, pr := range p.Products {
		switch {
		case pr.Digest == nil:
			fmt.Fprintf(w, "  MISSING  %s expected sha256:%s, not produced\n", pr.Name, pr.Expected["sha256"])
		case pr.Reproducible:
			fmt.Fprintf(w, "  ok       %s sha256:%s\n", pr.Name, pr.Digest["sha256"])
		default:
			fmt.Fprintf(w, "  DIFFERS  %s rebuilt sha256:%s, expected sha256:%s\n", pr.Name, pr.Digest["sha256"], pr.Expected["sha256"])
		}
		for _, im := range images {
			if im.Subject != pr.Name {
				continue
			}
			fmt.Fprintf(w, "           image %s manifest sha256:%s\n", im.Path, im.Digest)
			if !pr.Reproducible {
				fmt.Fprintf(w, "           compare: hallmark diff %s@sha256:%s %s\n", pr.Name, pr.Expected["sha256"], im.Ref)
			}
		}
	}
	if p.Source != nil && p.Source.Dirty {
		fmt.Fprintf(w, "\n%s FROM A DIRTY TREE (uncommitted or build-modified source; attested as dirty, proves little)\n", p.Result)
		return
	}
	fmt.Fprintf(w, "\n%s\n", p.Result)
}
