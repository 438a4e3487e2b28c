package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

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
cannot be read.`,
		Args: argsUsage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.format != "text" && f.format != "json" {
				return usageError(fmt.Errorf("--format must be text or json, not %q", f.format))
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
			opts := []diff.Option{diff.WithNow(app.Now)}
			if app.Logger != nil {
				opts = append(opts, diff.WithLogger(app.Logger))
			}
			rep, err := diff.Files(contextOf(cmd), args[0], args[1], opts...)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
					return badInput(err)
				}
				return environmentErr(err)
			}
			if f.format == "json" {
				err = rep.WriteJSON(app.Stdout)
			} else {
				err = rep.WriteText(app.Stdout)
			}
			if err != nil {
				return environmentErr(err)
			}
			if !rep.Identical {
				return rejected(fmt.Errorf("%s and %s differ (%d difference(s))", args[0], args[1], len(rep.Differences)))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&f.format, "format", "text", "output format: text or json")
	return cmd
}
