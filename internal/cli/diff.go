package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/artifact"
	"github.com/hallmark-dev/hallmark/repro/diff"
)

type diffFlags struct {
	format string
}

func newDiffCmd(app *App) *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Explain why two build artifacts differ",
		Long: `Compare two artifacts and explain every difference: archive members (tar,
gzip, bzip2, xz, zstd, zip/jar, ar/.deb, recursively), Go build information,
build IDs and embedded paths, ELF sections, a unified diff for text and JSON,
or the first differing byte ranges. Each difference names a likely cause when
one can be inferred (timestamp, build path, locale/time zone, file order, file
mode/umask, build user, randomness, toolchain version).

Exit 0 when the artifacts are identical, 1 when they differ, 3 when an input
cannot be read.

Two images (REGISTRY/REPO@sha256:HEX or :TAG, oci:DIR[:TAG],
docker-archive:FILE) are compared by config and layer by layer: the report
names each differing layer and the files inside it, with the likely cause.
For a multi-platform image the platform manifest of this machine is compared.`,
		Args: argsUsage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.format != "text" && f.format != "json" {
				return usageError(fmt.Errorf("--format must be text or json, not %q", f.format))
			}
			opts := []diff.Option{diff.WithNow(app.Now)}
			if app.Logger != nil {
				opts = append(opts, diff.WithLogger(app.Logger))
			}
			if isImageArg(args[0]) || isImageArg(args[1]) {
				return app.diffImages(cmd, f, args, opts)
			}
			for _, p := range args {
				fi, err := os.Stat(p)
				if err != nil {
					return badInput(err)
				}
				if !fi.Mode().IsRegular() {
					return badInput(fmt.Errorf("%s: not a regular file", p))
				}
			}
			rep, err := diff.Files(contextOf(cmd), args[0], args[1], opts...)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
					return badInput(err)
				}
				return environmentErr(err)
			}
			return app.writeDiff(f, args, rep)
		},
	}
	cmd.Flags().StringVar(&f.format, "format", "text", "output format: text or json")
	return cmd
}

// writeDiff prints rep and exits 1 when the artifacts differ.
func (a *App) writeDiff(f diffFlags, args []string, rep *diff.Report) error {
	var err error
	if f.format == "json" {
		err = rep.WriteJSON(a.Stdout)
	} else {
		err = rep.WriteText(a.Stdout)
	}
	if err != nil {
		return environmentErr(err)
	}
	if !rep.Identical {
		return rejected(fmt.Errorf("%s and %s differ (%d difference(s))", args[0], args[1], len(rep.Differences)))
	}
	return nil
}

// isImageArg reports whether arg names an image rather than a file.
func isImageArg(arg string) bool {
	ref, err := artifact.Parse(arg)
	return err == nil && ref.Kind == artifact.KindImage
}

// diffImages compares two images layer by layer.
func (a *App) diffImages(cmd *cobra.Command, f diffFlags, args []string, opts []diff.Option) error {
	ctx := contextOf(cmd)
	var imgs [2]*artifact.Artifact
	for i, arg := range args {
		art, err := a.resolveArtifact(ctx, arg)
		if err != nil {
			return err
		}
		if art.Kind != artifact.KindImage {
			return badInput(fmt.Errorf("%s is not an image: diff compares two images or two files", arg))
		}
		imgs[i] = art
	}
	rep, err := diff.Images(ctx, args[0], imgs[0].Image.Image, args[1], imgs[1].Image.Image, opts...)
	if err != nil {
		return artifactError(err)
	}
	return a.writeDiff(f, args, rep)
}
