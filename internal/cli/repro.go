package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/repro"
	"github.com/hallmark-dev/hallmark/repro/diff"
)

type reproFlags struct {
	runs     int
	vary     string
	products []string
	source   string
	workDir  string
	passEnv  []string
	format   string
	explain  bool
	noBisect bool
	key      string
	out      string
	rebuild  string
	sandbox  string
	network  string
}

// reproPassEnv are the variables passed to every build by default.
var reproPassEnv = []string{"PATH", "GOCACHE", "GOMODCACHE", "GOPATH", "GOTOOLCHAIN", "GOFLAGS", "GOPROXY", "CC", "CXX"}

func newReproCmd(app *App) *cobra.Command {
	var f reproFlags
	cmd := &cobra.Command{
		Use:   "repro [flags] -- CMD [ARGS...]",
		Short: "Build twice under varied conditions and name what breaks reproducibility",
		Long: `Build the source tree (--source, default the working directory) at least twice,
each time in a fresh copy at a different path, varying between the control
build and the experiment: environment, build path, HOME, locale, time zone,
umask, number of CPUs, the clock (faketime, when installed), hostname (UTS
namespace), user and group IDs (user namespace) and directory order (when the
work directory is on tmpfs). Every product is compared by digest; when one
differs, the variations are bisected to name the culprit(s), and --explain
runs 'hallmark diff' on the differing products.

Each build runs in the Linux sandbox 'hallmark build' uses (--sandbox auto
falls back and says so, on requires it, off runs unisolated): its copy of the
source and its HOME writable, no network unless --network on.

Variations that cannot be applied here are reported as not applied.
Exit 0 when every product matches, 1 when not, 4 when a build fails.`,
		Args: argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.format != "text" && f.format != "json" {
				return usageError(fmt.Errorf("--format must be text or json, not %q", f.format))
			}
			vary, err := repro.ParseVariations(f.vary)
			if err != nil {
				return usageError(err)
			}
			var env []string
			for _, k := range append(reproPassEnv, f.passEnv...) {
				if v, ok := app.LookupEnv(k); ok {
					env = append(env, k+"="+v)
				}
			}
			opts := []repro.Option{repro.WithRuns(f.runs), repro.WithVariations(vary...), repro.WithEnv(env)}
			if f.network != "off" && f.network != "on" {
				return usageError(fmt.Errorf("--network %q: want off or on", f.network))
			}
			switch f.sandbox {
			case "auto", "on":
				opts = append(opts, repro.WithSandbox(repro.Sandbox{Helper: sandboxHelper(), Network: f.network == "on", FallbackUnsafe: f.sandbox == "auto"}))
			case "off":
			default:
				return usageError(fmt.Errorf("--sandbox %q: want auto, on or off", f.sandbox))
			}
			if len(f.products) > 0 {
				opts = append(opts, repro.WithProducts(f.products...))
			}
			if f.workDir != "" {
				opts = append(opts, repro.WithWorkDir(f.workDir))
			}
			if f.noBisect {
				opts = append(opts, repro.WithoutBisect())
			}
			if p := app.progressFunc("repro: "); p != nil {
				opts = append(opts, repro.WithProgress(p))
			}
			if app.Logger != nil {
				opts = append(opts, repro.WithLogger(app.Logger))
			}
			if f.out != "" && f.key == "" {
				return usageError(fmt.Errorf("--out needs --key: the attestation is only written when signed"))
			}
			var src *repro.Source
			if f.key != "" {
				// Read before the builds copy the tree, as they copy it.
				src = repro.CheckoutSource(contextOf(cmd), f.source, app.resolvedStoreDir(), f.out, f.workDir)
			}
			started := app.Now()
			res, err := repro.Run(contextOf(cmd), f.source, args, opts...)
			if err != nil {
				if errors.Is(err, repro.ErrInvalid) {
					return usageError(err)
				}
				return environmentErr(err)
			}
			defer res.Cleanup()
			var reports []*diff.Report
			if f.explain && !res.Reproducible {
				reports = explainProducts(cmd, app, res)
			}
			if f.format == "json" {
				enc := json.NewEncoder(app.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(struct {
					*repro.Result
					Explanations []*diff.Report `json:"explanations,omitempty"`
				}{res, reports}); err != nil {
					return environmentErr(err)
				}
			} else {
				writeReproText(app, res, reports)
			}
			if f.key != "" {
				if err := app.attestRepro(cmd, f, res, src, started); err != nil {
					return err
				}
			}
			if !res.Reproducible {
				return rejected(fmt.Errorf("not reproducible: %s", verdict(res)))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&f.runs, "runs", 2, "number of builds (one control, the rest experiments)")
	cmd.Flags().StringVar(&f.sandbox, "sandbox", "auto", "isolation of each build: auto (fall back and say so), on (required) or off")
	cmd.Flags().StringVar(&f.network, "network", "off", "network inside the sandbox: off or on")
	cmd.Flags().StringVar(&f.vary, "vary", "all", "comma-separated variations: "+joinVariations())
	cmd.Flags().StringArrayVar(&f.products, "products", nil, "glob naming the products (repeatable; default: every file the build created or changed)")
	cmd.Flags().StringVar(&f.source, "source", ".", "source tree to copy for each build")
	cmd.Flags().StringVar(&f.workDir, "work-dir", "", "where to build and keep products (default: a temporary directory, removed afterwards)")
	cmd.Flags().StringArrayVar(&f.passEnv, "pass-env", nil, "environment variable passed to the builds (repeatable; PATH and Go's are passed by default)")
	cmd.Flags().StringVar(&f.format, "format", "text", "output format: text or json")
	cmd.Flags().BoolVar(&f.explain, "explain", false, "explain differing products with hallmark diff")
	cmd.Flags().BoolVar(&f.noBisect, "no-bisect", false, "do not bisect the variations")
	cmd.Flags().StringVar(&f.key, "key", "", "sign a reproducibility attestation with this private key (NAME.key) and store it")
	cmd.Flags().StringVar(&f.out, "out", "", "write the signed attestation bundle here (needs --key)")
	cmd.Flags().StringVar(&f.rebuild, "rebuilder-id", "", "rebuilder identity URI in the attestation (default: derived from the key ID)")
	return cmd
}

// attestRepro signs the reproducibility predicate for res and stores it; a
// failed check is attested too, so that policy sees it.
func (a *App) attestRepro(cmd *cobra.Command, f reproFlags, res *repro.Result, src *repro.Source, started time.Time) error {
	k, err := a.loadSigningKey(f.key)
	if err != nil {
		return err
	}
	id := f.rebuild
	if id == "" {
		id = "https://hallmark.dev/rebuilder/key/" + k.Public().ID()
	}
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
	}
	p, err := repro.NewPredicate(repro.PredicateInput{
		Result:    res,
		Rebuilder: repro.Rebuilder{ID: id, Version: map[string]string{"hallmark": version}},
		Source:    src,
		StartedOn: started, FinishedOn: a.Now(),
	})
	if err != nil {
		return usageError(err)
	}
	st, err := repro.Statement(p)
	if err != nil {
		return rejected(fmt.Errorf("cannot attest: %w", err))
	}
	rec, bundle, err := a.signAndStore(contextOf(cmd), k, st)
	if err != nil {
		return err
	}
	if f.out != "" {
		if err := a.writeOutput(f.out, bundle); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.Stderr, "attested %s (%d subject(s)) with key %s\nstored %s\n", p.Result, len(st.GetSubject()), k.Public().ID(), rec.ID)
	return nil
}

func joinVariations() string {
	var s []string
	for _, v := range repro.AllVariations() {
		s = append(s, string(v))
	}
	return strings.Join(s, ",")
}

func verdict(res *repro.Result) string {
	switch {
	case res.Nondeterministic:
		return "differs even without variations (nondeterministic build)"
	case len(res.Culprits) > 0:
		var s []string
		for _, c := range res.Culprits {
			s = append(s, string(c))
		}
		return "broken by " + strings.Join(s, ", ")
	}
	return "products differ"
}

// explainProducts diffs each differing product of the control against the
// first experiment.
func explainProducts(cmd *cobra.Command, app *App, res *repro.Result) []*diff.Report {
	var out []*diff.Report
	if len(res.ProductDirs) < 2 {
		return nil
	}
	for _, p := range res.Products {
		if p.Reproducible || p.Digests[0] == "" || p.Digests[1] == "" {
			continue
		}
		a := filepath.Join(res.ProductDirs[0], filepath.FromSlash(p.Path))
		b := filepath.Join(res.ProductDirs[1], filepath.FromSlash(p.Path))
		var rep *diff.Report
		var err error
		if p.Image {
			rep, err = diffImageOutputs(contextOf(cmd), app, a, b)
		} else {
			rep, err = diff.Files(contextOf(cmd), a, b, diff.WithNow(app.Now))
		}
		if err != nil {
			fmt.Fprintf(app.Stderr, "hallmark: explain %s: %v\n", p.Path, err)
			continue
		}
		rep.A, rep.B = "control/"+p.Path, "experiment/"+p.Path
		out = append(out, rep)
	}
	return out
}

// diffImageOutputs explains two builds' images (OCI layouts or image
// archives) layer by layer, naming the files inside the layers.
func diffImageOutputs(ctx context.Context, app *App, a, b string) (*diff.Report, error) {
	var imgs [2]*oci.Image
	for i, p := range []string{a, b} {
		img, ok, err := oci.OpenBuildOutput(ctx, p)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%s is no longer an image", p)
		}
		imgs[i] = img
	}
	return diff.Images(ctx, a, imgs[0].Image, b, imgs[1].Image, diff.WithNow(app.Now))
}

func writeReproText(app *App, res *repro.Result, reports []*diff.Report) {
	w := app.Stdout
	fmt.Fprintf(w, "command: %s\nruns: %d\n", strings.Join(res.Command, " "), res.Runs)
	switch {
	case res.Sandboxed:
		fmt.Fprintln(w, "sandbox: each build in Linux namespaces")
	case res.SandboxFallback != "":
		fmt.Fprintf(w, "sandbox: UNAVAILABLE, builds ran without it (%s)\n", res.SandboxFallback)
	default:
		fmt.Fprintln(w, "sandbox: off")
	}
	fmt.Fprintln(w, "\nvariations:")
	for _, v := range res.Variations {
		state := "applied"
		if !v.Applied {
			state = "NOT applied"
		}
		fmt.Fprintf(w, "  %-12s %-11s %s", v.Variation, state, v.How)
		if v.Reason != "" {
			fmt.Fprintf(w, " (%s)", v.Reason)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "\nproducts:")
	for _, p := range res.Products {
		mark := "ok  "
		if !p.Reproducible {
			mark = "DIFF"
		}
		fmt.Fprintf(w, "  %s %s %s\n", mark, p.Path, strings.Join(p.Digests, " "))
	}
	if res.Reproducible {
		fmt.Fprintln(w, "\nreproducible")
		return
	}
	fmt.Fprintf(w, "\nnot reproducible: %s\n", verdict(res))
	for _, s := range res.Bisection {
		state := "same"
		if !s.Reproducible {
			state = "differs"
		}
		fmt.Fprintf(w, "  bisect %v: %s\n", s.Variations, state)
	}
	for _, r := range reports {
		fmt.Fprintln(w)
		_ = r.WriteText(w)
	}
}
