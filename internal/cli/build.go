package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/build"
	"github.com/hallmark-dev/hallmark/build/attested"
	"github.com/hallmark-dev/hallmark/build/sandbox"
	"github.com/hallmark-dev/hallmark/internal/gitexec"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/textsafe"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/provenance"
	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/verifiers"
)

// SandboxInitCommand is the hidden subcommand the sandbox re-executes the
// hallmark binary with; it must stay in step with the helper argv below.
const SandboxInitCommand = "__sandbox-init"

type buildFlags struct {
	key        string
	keyless    bool
	out        string
	products   []string
	outputDirs []string
	cacheDirs  []string
	env        []string
	sandbox    string
	network    string
	builderID  string
	goModCache string
	prepare    []string
	excludes   []string
	tee        string
}

func newBuildCmd(app *App) *cobra.Command {
	var f buildFlags
	cmd := &cobra.Command{
		Use:   "build [--key NAME.key] [--out DIR] [--products GLOB...] [--sandbox auto|on|off] [--network off|on] -- CMD ARGS...",
		Short: "Run a build in an isolated environment and record signed SLSA v1 provenance",
		Long: `Run CMD from the current directory with a clean environment (PATH and the
--env names, plus SOURCE_DATE_EPOCH, TZ=UTC, LANG=C.UTF-8 and an empty HOME),
in a Linux sandbox unless --sandbox off: no network unless --network on, the
source tree read-only except --output-dir directories, no view of your home,
SSH agent or credentials. The products (--products globs, or the files
created or changed under --output-dir) become the subjects of an SLSA v1
provenance statement, signed with --key (or --keyless) and stored. A failing CMD records
nothing and hallmark exits with its exit code. See docs/build.md.`,
		Args: argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.runBuild(contextOf(cmd), f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "private key file (NAME.key) (default: the project's builder key); without one the statement is written unsigned")
	fl.BoolVar(&f.keyless, "keyless", false, keylessUsage)
	fl.StringVar(&f.out, "out", ".hallmark/build", "directory for the bundle (or statement) and the build log")
	fl.StringArrayVar(&f.products, "products", nil, "product glob relative to the source root (repeatable)")
	fl.StringArrayVar(&f.outputDirs, "output-dir", nil, "writable output directory relative to the source root; new or changed files are products (repeatable)")
	fl.StringArrayVar(&f.cacheDirs, "cache-dir", nil, "absolute directory writable in the sandbox that holds no products, e.g. a GOCACHE (repeatable)")
	fl.StringArrayVar(&f.env, "env", nil, "environment variable passed through to the build (repeatable; PATH always is)")
	fl.StringVar(&f.sandbox, "sandbox", "auto", "isolation: auto (fall back and record it), on (required) or off")
	fl.StringVar(&f.network, "network", "off", "network inside the sandbox: off or on (recorded)")
	fl.StringVar(&f.builderID, "builder-id", "", "builder.id recorded in the provenance (default: the project's builderId, else "+provenance.DefaultBuilderID+")")
	fl.StringVar(&f.goModCache, "go-mod-cache", "", "Go module cache mounted read-only; the build runs with GOPROXY=off")
	fl.StringArrayVar(&f.excludes, "exclude", nil, "gitignore-style pattern for paths that are not materials, e.g. testdata/ (repeatable)")
	fl.StringVar(&f.tee, "tee", "off", "bind a TEE quote to the provenance: off, auto (SEV-SNP, then TPM), sev-snp, tpm (tdx, nitro: verification only)")
	fl.StringArrayVar(&f.prepare, "prepare", nil, "command run before the build, outside the sandbox, to fetch dependencies (repeatable, recorded)")
	return cmd
}

func (a *App) runBuild(ctx context.Context, f buildFlags, argv []string) error {
	var err error
	if !f.keyless {
		if f.key, err = a.projectKey(f.key, "builder"); err != nil {
			return err
		}
	}
	if f.builderID, err = a.projectValue(f.builderID, func(p *Project) string { return p.Project.BuilderID }); err != nil {
		return err
	}
	if f.builderID == "" {
		f.builderID = provenance.DefaultBuilderID
	}
	mode := build.SandboxMode(f.sandbox)
	switch mode {
	case build.SandboxAuto, build.SandboxOn, build.SandboxOff:
	default:
		return usageError(fmt.Errorf("--sandbox %q: want auto, on or off", f.sandbox))
	}
	if f.tee != "" && f.tee != "off" && f.key == "" {
		return usageError(errors.New("--tee needs --key: the TEE attestation is signed next to the provenance; --keyless is not supported with --tee"))
	}
	if f.network != "off" && f.network != "on" {
		return usageError(fmt.Errorf("--network %q: want off or on", f.network))
	}
	signer, err := a.evidenceSigner(f.key, f.keyless)
	if err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return environmentErr(err)
	}
	src := gitexec.Toplevel(ctx, wd)
	rel, err := filepath.Rel(src, wd)
	if err != nil {
		return environmentErr(err)
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return environmentErr(fmt.Errorf("--out %s: %w", f.out, err))
	}
	logPath := filepath.Join(f.out, "build.log")
	allow := append([]string{"PATH"}, f.env...)
	env := a.allowedEnv(allow)
	var prepare [][]string
	for _, p := range f.prepare {
		prepare = append(prepare, strings.Fields(p))
	}
	spec := attested.Spec{
		Build: build.Spec{
			Command:          argv,
			SourceDir:        src,
			WorkDir:          filepath.ToSlash(rel),
			Env:              env,
			EnvAllowlist:     allow,
			Products:         f.products,
			OutputDirs:       f.outputDirs,
			CacheDirs:        f.cacheDirs,
			MaterialExcludes: f.excludes,
			GoModCache:       f.goModCache,
			Prepare:          prepare,
			LogFile:          logPath,
			Stdout:           a.Stderr,
			Sandbox:          mode,
			Network:          f.network == "on",
			SandboxHelper:    sandboxHelper(),
			Now:              a.Now,
			Logger:           a.Logger,
		},
		BuilderID: f.builderID, LogName: "build.log", Now: a.Now,
	}
	signedBy := ""
	if signer != nil {
		spec.Record = func(ctx context.Context, st *intoto.Statement) (*attest.Verified, []byte, string, error) {
			v, bundle, rec, who, err := a.signWith(ctx, signer, st)
			signedBy = who
			return v, bundle, rec.ID, err
		}
	}
	if f.tee != "" && f.tee != "off" {
		open := a.OpenTEE
		if open == nil {
			open = verifiers.OpenHardware
		}
		spec.TEE = &attested.TEE{Optional: f.tee == "auto", Open: attested.Opener(open)}
		if f.tee == "auto" {
			spec.TEE.Platforms = []tee.Platform{tee.SEVSNP, tee.TPM}
		} else {
			p, err := tee.ParsePlatform(f.tee)
			if err != nil {
				return usageError(fmt.Errorf("--tee %q: %w", f.tee, err))
			}
			spec.TEE.Platforms = []tee.Platform{p}
		}
	}
	res, err := attested.Run(ctx, spec)
	if ee, ok := errors.AsType[*build.ExitError](err); ok {
		code := ee.Code
		if code <= 0 {
			code = ExitRejected
		}
		return &exitError{code: code, err: err}
	}
	if res != nil && res.Bundle != nil {
		// The provenance was signed and stored; say so whatever happens
		// to the TEE attestation.
		writeBuildResult(a, res.Build)
		out := filepath.Join(f.out, "provenance.bundle.json")
		if err := a.writeOutput(out, res.Bundle); err != nil {
			return err
		}
		fmt.Fprintf(a.Stderr, "signed provenance %s by %s\nstored %s\n", out, signedBy, res.RecordID)
	}
	switch {
	case errors.Is(err, build.ErrSpec), errors.Is(err, build.ErrCommandNotFound), errors.Is(err, build.ErrNoProducts):
		return usageError(err)
	case errors.Is(err, attested.ErrNoTEE):
		return environmentErr(fmt.Errorf("--tee %s: %w", f.tee, err))
	case err != nil:
		if _, ok := errors.AsType[*exitError](err); ok {
			return err
		}
		return environmentErr(err)
	}
	if signer == nil {
		writeBuildResult(a, res.Build)
		b, err := provenance.JSON(res.Provenance)
		if err != nil {
			return environmentErr(err)
		}
		out := filepath.Join(f.out, "provenance.json")
		if err := a.writeOutput(out, append(b, '\n')); err != nil {
			return err
		}
		fmt.Fprintf(a.Stderr, "wrote unsigned provenance %s (no --key: nothing stored)\n", out)
		return nil
	}
	if res.NoTEE != nil {
		fmt.Fprintf(a.Stderr, "no TEE found (--tee auto): no TEE attestation recorded (%v)\n", res.NoTEE)
	}
	if t := res.TEE; t != nil {
		out := filepath.Join(f.out, "tee.bundle.json")
		if err := a.writeOutput(out, t.Bundle); err != nil {
			return err
		}
		fmt.Fprintf(a.Stderr, "bound a %s quote to the provenance: %s\nstored %s\n", t.Predicate.Platform, out, t.RecordID)
		return a.writeAK(t.Collector, f.out)
	}
	return nil
}

// writeBuildResult lists the products and warns about the source state.
func writeBuildResult(a *App, res *build.Result) {
	for _, p := range res.Products {
		if p.Image != nil {
			fmt.Fprintf(a.Stderr, "product %s: image %s sha256:%s (manifest digest)\n", p.Name, p.Image.Name, p.Digest["sha256"])
			continue
		}
		fmt.Fprintf(a.Stderr, "product %s sha256:%s\n", p.Name, p.Digest["sha256"])
	}
	warnSourceState(a, res)
}

// allowedEnv returns NAME=value for each variable in allow that is set;
// build.Run passes only these to the build.
func (a *App) allowedEnv(allow []string) []string {
	var env []string
	for _, name := range allow {
		if v, ok := a.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// sandboxHelper is the argv that starts the sandbox init helper: this
// binary with the hidden SandboxInitCommand.
func sandboxHelper() []string { return []string{"/proc/self/exe", SandboxInitCommand} }

func newProvenanceCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "provenance", Short: "Inspect SLSA provenance"}
	var keyFiles []string
	show := &cobra.Command{
		Use:   "show --key NAME.pub BUNDLE",
		Short: "Verify a provenance bundle and print what was built, from which commit, by which builder, how isolated",
		Args:  argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(keyFiles) == 0 {
				return usageError(errors.New("--key is required: only verified provenance is shown"))
			}
			var pubs []*keys.PublicKey
			for _, p := range keyFiles {
				k, err := keys.LoadPublicKeyFile(p)
				if err != nil {
					return badInput(err)
				}
				pubs = append(pubs, k)
			}
			raw, err := app.readInput(args[0], limits.MaxBundleBytes)
			if err != nil {
				return err
			}
			v, err := attest.Verify(contextOf(cmd), raw, attest.NewKeySet(pubs...), attest.WithInputName(args[0]))
			if err != nil {
				return err
			}
			if v.PredicateType != provenance.PredicateType {
				return rejected(fmt.Errorf("%s: predicate type %q is not SLSA provenance v1", args[0], v.PredicateType))
			}
			predJSON, err := v.PredicateJSON()
			if err != nil {
				return badInput(err)
			}
			p, err := provenance.Parse(predJSON)
			if err != nil {
				return badInput(err)
			}
			s := provenance.Summarize(p)
			w := app.Stdout
			fmt.Fprintf(w, "provenance %s (verified, signed by %s)\n", args[0], strings.Join(v.SignerIDs(), ", "))
			for _, sub := range v.Subjects() {
				fmt.Fprintf(w, "  built:        %s sha256:%s\n", textsafe.Escape(sub.Name), textsafe.Escape(sub.Digest["sha256"]))
			}
			fmt.Fprintf(w, "  command:      %s (in %s)\n", textsafe.Escape(strings.Join(s.Command, " ")), textsafe.Escape(s.WorkDir))
			src := s.SourceURI
			if src == "" {
				src = "(no remote)"
			}
			dirty := ""
			if s.Dirty {
				dirty = " with uncommitted changes"
			}
			if len(s.ModifiedByBuild) > 0 {
				dirty += ", tracked files changed by the build: " + strings.Join(s.ModifiedByBuild, ", ")
			}
			fmt.Fprintf(w, "  source:       %s commit %s%s\n", textsafe.Escape(src), textsafe.Escape(orNone(s.Commit)), dirty)
			fmt.Fprintf(w, "  builder:      %s\n  build type:   %s\n", textsafe.Escape(s.BuilderID), textsafe.Escape(s.BuildType))
			fmt.Fprintf(w, "  isolation:    %s\n", textsafe.Escape(s.Isolation))
			fmt.Fprintf(w, "  ran:          %s to %s (%s)\n", s.StartedOn.Format(time.RFC3339), s.FinishedOn.Format(time.RFC3339), s.FinishedOn.Sub(s.StartedOn).Round(time.Millisecond))
			fmt.Fprintf(w, "  dependencies: %d packages\n", s.Dependencies)
			for _, in := range s.Inputs {
				line := textsafe.Escape(in.URI)
				if in.Digest != "" && !strings.HasSuffix(in.URI, in.Digest) {
					line += " " + textsafe.Escape(in.Digest)
				}
				if in.Origin != "" {
					line += " (" + textsafe.Escape(in.Origin) + ")"
				}
				fmt.Fprintf(w, "  input:        %s\n", line)
			}
			fmt.Fprintf(w, "  toolchain:    %s\n", textsafe.Escape(strings.Join(s.Toolchain, ", ")))
			fmt.Fprintf(w, "  invocation:   %s\n", textsafe.Escape(s.InvocationID))
			return nil
		},
	}
	show.Flags().StringArrayVar(&keyFiles, "key", nil, "trusted public key file (repeatable)")
	cmd.AddCommand(show)
	return cmd
}

// warnSourceState says what in the recorded facts the built-in policy will
// hold against the build, so the user learns it now and not at the gate.
func warnSourceState(a *App, res *build.Result) {
	if res.Source.Dirty {
		fmt.Fprintln(a.Stderr, "warning: the source tree had uncommitted changes when the build ran (recorded as dirty: the built-in source rule denies it); commit them and build again")
	}
	if m := res.Source.ModifiedByBuild; len(m) > 0 {
		fmt.Fprintf(a.Stderr, "warning: the build changed tracked files (%s), recorded as modifiedByBuild: the built-in source rule denies it\n", strings.Join(m, ", "))
	}
	if sh := res.Sandbox.SharedWritable; len(sh) > 0 {
		fmt.Fprintf(a.Stderr, "note: writable paths shared with other builds (%s) are recorded: SLSA Build L2 at most\n", strings.Join(sh, ", "))
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// newSandboxInitCmd is the hidden entry point of the sandbox helper: the
// build re-executes hallmark with it inside fresh namespaces.
func newSandboxInitCmd(_ *App) *cobra.Command {
	return &cobra.Command{
		Use:                SandboxInitCommand,
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			code := sandbox.InitMain(args) // returns only when setup failed
			return &exitError{code: code, err: errors.New("sandbox setup failed")}
		},
	}
}
