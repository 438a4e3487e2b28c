package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/impact"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
)

// incrementalFlags are recheck's --incremental, --db and --since.
type incrementalFlags struct {
	on        bool
	db, since string
}

func (f *incrementalFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.on, "incremental", false, "re-evaluate only the deployed artifacts whose SBOM packages the database imports since the last recheck touched")
	cmd.Flags().StringVar(&f.db, "db", "", "with --incremental: the OSV database whose change log is read (default STORE/osv)")
	cmd.Flags().StringVar(&f.since, "since", "", "with --incremental: count database changes after this RFC 3339 time instead of the last recheck")
}

// sinceTime is --since (nil when not given); it goes with --incremental.
func (f incrementalFlags) sinceTime() (*time.Time, error) {
	if f.since == "" {
		return nil, nil
	}
	if !f.on {
		return nil, usageError(errors.New("--since goes with --incremental"))
	}
	t, err := time.Parse(time.RFC3339, f.since)
	if err != nil {
		return nil, usageError(fmt.Errorf("--since %q: want an RFC 3339 time (2026-11-25T12:00:00Z)", f.since))
	}
	return &t, nil
}

// reportIncremental tells stderr what an incremental recheck picked among
// the deployed artifacts (for --server: among those the server rechecked).
func reportIncremental(a *App, res *impact.Result, deployed int) {
	switch {
	case res.Since.IsZero():
		fmt.Fprintf(a.Stderr, "incremental: no earlier recheck, so every deployed artifact is rechecked\n")
	case res.Full:
		fmt.Fprintf(a.Stderr, "incremental: a database import since %s had nothing to compare with, so every deployed artifact is rechecked\n", res.Since.Format(time.RFC3339))
	default:
		fmt.Fprintf(a.Stderr, "incremental: %d changed package(s) since %s touch %d of %d deployed artifact(s) (%d without an indexed SBOM); %d SBOM(s) newly indexed\n",
			res.Packages, res.Since.Format(time.RFC3339), len(res.Touched), deployed, len(res.Unindexed), res.Indexed)
	}
}

// selector returns the recheck selector of --incremental (nil without it):
// impact.Touched over the database's changes since the last recheck (or
// --since). It tells stderr what it picked.
func (a *App) recheckSelector(ctx context.Context, f incrementalFlags, st store.Store, tr *trust.Trust, envs []string) (gate.Selector, error) {
	if !f.on {
		if f.db != "" || f.since != "" {
			return nil, usageError(errors.New("--db and --since go with --incremental"))
		}
		return nil, nil
	}
	var since time.Time
	if t, err := f.sinceTime(); err != nil {
		return nil, err
	} else if t != nil {
		since = *t
	}
	db, err := osvdb.Open(a.vulnDBDir(f.db))
	if err != nil {
		return nil, environmentErr(fmt.Errorf("--incremental reads the database's change log: %w", err))
	}
	sel, err := impact.Selector(ctx, st, tr, db, since, envs, func(res *impact.Result, deployed int) { reportIncremental(a, res, deployed) })
	if err != nil {
		db.Close()
		return nil, storeError(err)
	}
	return func(ctx context.Context, digests []string) (map[string]bool, error) {
		defer db.Close()
		return sel(ctx, digests)
	}, nil
}
