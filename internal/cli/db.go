package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/vuln"
	"github.com/hallmark-dev/hallmark/vuln/osv"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
)

// vulnDBDir is the OSV database directory from --db or, by default, "osv"
// inside the store directory.
func (a *App) vulnDBDir(flag string) string {
	if flag != "" {
		return flag
	}
	return filepath.Join(a.resolvedStoreDir(), "osv")
}

func newDBCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the local OSV vulnerability database",
	}
	cmd.AddCommand(newDBUpdateCmd(app), newDBStatusCmd(app))
	return cmd
}

func newDBUpdateCmd(app *App) *cobra.Command {
	var from, dir string
	var ecosystems []string
	cmd := &cobra.Command{
		Use:   "update --from DIR|ZIP|URL [--db DIR] [--ecosystem NAME]...",
		Short: "Import OSV records from a directory, an osv.dev all.zip, or a mirror serving <ecosystem>/all.zip",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" {
				return usageError(errors.New("--from is required"))
			}
			opts := []osvdb.Option{osvdb.WithLogger(app.logger())}
			if len(ecosystems) > 0 {
				opts = append(opts, osvdb.WithEcosystems(ecosystems...))
			}
			meta, err := osvdb.Import(contextOf(cmd), app.vulnDBDir(dir), from, app.Now(), opts...)
			if err != nil {
				return dbError(err)
			}
			return writeDBMeta(app, meta, 0)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "directory of OSV JSON files, an all.zip, or an http(s) mirror base URL")
	cmd.Flags().StringVar(&dir, "db", "", "database directory (default STORE/osv)")
	cmd.Flags().StringSliceVar(&ecosystems, "ecosystem", nil, "ecosystems to fetch from a mirror (default: Go, npm, PyPI, crates.io, Maven, RubyGems, Debian, Alpine)")
	return cmd
}

func newDBStatusCmd(app *App) *cobra.Command {
	var dir string
	var maxAge time.Duration
	cmd := &cobra.Command{
		Use:   "status [--db DIR] [--max-age 72h]",
		Short: "Show what the local OSV database holds and whether it is fresh",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := osvdb.Open(app.vulnDBDir(dir))
			if err != nil {
				return dbError(err)
			}
			defer db.Close()
			return writeDBMeta(app, db.Meta(), maxAge)
		},
	}
	cmd.Flags().StringVar(&dir, "db", "", "database directory (default STORE/osv)")
	cmd.Flags().DurationVar(&maxAge, "max-age", vuln.DefaultMaxAge, "age after which an ecosystem's data is stale")
	return cmd
}

func writeDBMeta(app *App, m osvdb.Meta, maxAge time.Duration) error {
	ecos := make([]string, 0, len(m.Ecosystems))
	for e := range m.Ecosystems {
		ecos = append(ecos, e)
	}
	sort.Strings(ecos)
	tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ECOSYSTEM\tRECORDS\tWITHDRAWN\tIMPORTED\tSTATE\tSOURCE")
	now := app.Now()
	for _, e := range ecos {
		em := m.Ecosystems[e]
		state := "ok"
		switch {
		case em.Records == 0:
			state = "empty"
		case maxAge > 0 && now.Sub(em.ImportedAt) > maxAge:
			state = "stale"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", e, em.Records, em.Withdrawn, em.ImportedAt.Format(time.RFC3339), state, em.Source)
	}
	if err := tw.Flush(); err != nil {
		return environmentErr(err)
	}
	if m.Records() == 0 {
		fmt.Fprintln(app.Stderr, "the database holds no records: scans will be reported incomplete")
	}
	return nil
}

// dbError maps database and import errors to exit codes.
func dbError(err error) error {
	switch {
	case errors.Is(err, osvdb.ErrBadSource), errors.Is(err, osvdb.ErrLimit), errors.Is(err, osvdb.ErrDuplicate),
		errors.Is(err, osv.ErrInvalid), errors.Is(err, osv.ErrTooLarge):
		return badInput(err)
	}
	return environmentErr(err)
}

func (a *App) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.New(slog.DiscardHandler)
}
