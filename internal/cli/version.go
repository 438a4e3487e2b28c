package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionLine is what `hallmark version` and `hallmark --version` print.
func versionLine() string {
	v := "(devel)"
	goVersion := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
		goVersion = bi.GoVersion
	}
	return fmt.Sprintf("hallmark %s %s\n", v, goVersion)
}

func newVersionCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and build information",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprint(app.Stdout, versionLine())
			return nil
		},
	}
}
