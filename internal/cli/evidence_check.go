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
		Long: `Run the store's integrity check (SQLite: PRAGMA integrity_check; PostgreSQL: rows and records match,
schema version; docs/server.md). Exit 0 if consistent, 1 with what is wrong, 4 if it could not run.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, _, err := app.storeOf(contextOf(cmd), config)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := store.Check(contextOf(cmd), st); errors.Is(err, store.ErrIntegrity) {
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

// storeOf opens the server's store (and names its trust file), or the project's.
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
