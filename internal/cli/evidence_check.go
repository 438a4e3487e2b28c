package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/server"
	"github.com/hallmark-dev/hallmark/store"
)

func newEvidenceCheckCmd(app *App) *cobra.Command {
	var config string
	cmd := &cobra.Command{
		Use:   "check [--config SERVER.yaml]",
		Short: "Check that the evidence store is consistent",
		Long: `Check the evidence store's integrity. On SQLite: the database's own check
(PRAGMA integrity_check). On PostgreSQL: that every subject, signer and
package row belongs to a stored record, that every digest and key a record
lists has the row that finds the record by it (no foreign key holds these),
and that the schema is at this hallmark's version.

Exit 0 when the store is consistent, 1 with what is wrong when it is not,
4 when the check could not run. With --config, the server's store.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := contextOf(cmd)
			st, _, err := app.storeOf(ctx, config)
			if err != nil {
				return err
			}
			defer st.Close()
			c, ok := st.(store.Checker)
			if !ok {
				return storeError(errors.New("this evidence store cannot check its integrity"))
			}
			if err := c.Check(ctx); errors.Is(err, store.ErrIntegrity) {
				return rejected(err)
			} else if err != nil {
				return storeError(err)
			}
			fmt.Fprintln(app.Stdout, "evidence store consistent")
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "server configuration: check its store")
	return cmd
}

// storeOf opens the server's store when config names its configuration,
// and the project's store otherwise. It also returns the configuration's
// trust file ("" without one).
func (app *App) storeOf(ctx context.Context, config string) (store.Store, string, error) {
	if config == "" {
		st, err := app.openStore(ctx)
		return st, "", err
	}
	cfg, err := server.LoadConfig(config)
	if err != nil {
		return nil, "", badInput(err)
	}
	st, err := server.OpenStore(ctx, cfg.Store, app.Getenv, app.Now)
	if err != nil {
		return nil, "", storeError(err)
	}
	return st, cfg.Trust, nil
}
