package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and build information",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := "(devel)"
			goVersion := ""
			if bi, ok := debug.ReadBuildInfo(); ok {
				v = bi.Main.Version
				goVersion = bi.GoVersion
			}
			fmt.Fprintf(app.Stdout, "hallmark %s %s\n", v, goVersion)
			return nil
		},
	}
}
