package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/textsafe"
	"github.com/hallmark-dev/hallmark/oci"
)

// Main runs the hallmark command line with args (without the program name)
// and returns the process exit code.
func Main(ctx context.Context, app *App, args []string) int {
	app.projectLoaded = false // read the project configuration afresh for each command line
	root := newRootCmd(app)
	root.SetArgs(args)
	root.SetIn(app.Stdin)
	root.SetOut(app.Stdout)
	root.SetErr(app.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	if _, isFlag := errors.AsType[*flagError](err); isFlag {
		code = ExitUsage
	}
	msg := err.Error()
	if pe, ok := errors.AsType[*oci.PlainHTTPError](err); ok && pe.Registry != "" {
		msg += " (to use it anyway, pass --insecure-registry " + pe.Registry + ")"
	}
	fmt.Fprintf(app.Stderr, "hallmark: %s\n", textsafe.Escape(msg))
	return code
}

type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

func newRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "hallmark",
		Short: "Signed evidence for the build and deploy phase",
		Long: `Hallmark proves that what runs in production is what was built from reviewed
source, by a trusted process, with no known-bad dependencies: it records signed
in-toto evidence for builds, rebuilds, scans and approvals, stores it, and gates
deployments on it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionLine(),
	}
	root.SetVersionTemplate("{{.Version}}")
	plainBoolFlags(root, app)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	root.PersistentFlags().BoolVarP(&app.quiet, "quiet", "q", false, "no progress lines on stderr (they appear only when stderr is a terminal)")
	root.PersistentFlags().StringVar(&app.storeDir, "store", "", "evidence store directory (default $"+StoreEnv+" or "+DefaultStoreDir+")")
	app.registry = nil // built from this command line's flags
	app.regFlags.add(root)
	addTlogFlags(app, root)
	root.AddCommand(
		newInitCmd(app),
		newKeygenCmd(app),
		newAttestCmd(app),
		newVerifyCmd(app),
		newEvidenceCmd(app),
		newGateCmd(app),
		newApproveCmd(app),
		newDeploymentsCmd(app),
		newTeeCmd(app),
		newScanCmd(app),
		newVersionCmd(app),
		newDBCmd(app),
		newDiffCmd(app),
		newReproCmd(app),
		newSBOMCmd(app),
		newBuildCmd(app), newProvenanceCmd(app), newSandboxInitCmd(app),
		newRebuildCmd(app),
		newPolicyCmd(app),
		newServeCmd(app),
		newRecheckCmd(app),
		newImageCmd(app),
		newTlogCmd(app),
		newReportCmd(app), newExportCmd(app), newVerifyExportCmd(app),
	)
	addClientCmds(app, root)
	return root
}

// plainBoolFlags keeps pflag's "[=true|false]" after every boolean flag out
// of help text (usage is shown only within help: SilenceUsage) ("--help[=true|false]"): a boolean flag is given
// bare. The marker is replaced by spaces so the columns stay aligned.
func plainBoolFlags(root *cobra.Command, app *App) {
	const marker = "[=true|false]"
	blank := strings.Repeat(" ", len(marker))
	help := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		var buf bytes.Buffer
		c.SetOut(&buf)
		help(c, args)
		c.SetOut(app.Stdout)
		io.WriteString(app.Stdout, strings.ReplaceAll(buf.String(), marker, blank))
	})
}

// exactArgs is cobra.ExactArgs with a usage exit code.
func argsUsage(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError(err)
		}
		return nil
	}
}

func contextOf(cmd *cobra.Command) context.Context { return cmd.Context() }
