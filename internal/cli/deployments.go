package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/store"
)

type deploymentsFlags struct{ env, artifact, format string }

func newDeploymentsCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "deployments", Short: "Show recorded deployment decisions"}
	var f deploymentsFlags
	ls := &cobra.Command{
		Use:   "ls [--env ENV] [--artifact sha256:DIGEST] [--format table|json]",
		Short: "List what was allowed or denied where and when",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.format != "table" && f.format != "json" {
				return usageError(fmt.Errorf("--format %q: want table or json", f.format))
			}
			s, err := app.openStore(contextOf(cmd))
			if err != nil {
				return err
			}
			defer s.Close()
			ds, err := listDecisions(cmd, s, f)
			if err != nil {
				return err
			}
			if f.format == "json" {
				enc := json.NewEncoder(app.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(ds)
			}
			tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DECIDED\tENV\tARTIFACT\tDECISION\tVIOLATIONS\tREQUESTER\tSOURCE")
			for _, d := range ds {
				verdict := "deny"
				if d.Allowed {
					verdict = "allow"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.DecidedAt.Format(time.RFC3339), d.Environment, short(d.Artifact.Digest, 19), verdict, len(d.Violations), d.Requester, d.Source)
			}
			return tw.Flush()
		},
	}
	ls.Flags().StringVar(&f.env, "env", "", "only this environment")
	ls.Flags().StringVar(&f.artifact, "artifact", "", "only this artifact digest (sha256:HEX)")
	ls.Flags().StringVar(&f.format, "format", "table", "table or json")
	cmd.AddCommand(ls)
	return cmd
}

// listDecisions reads the stored decision records, oldest first. They were
// verified when stored by the gate.
func listDecisions(cmd *cobra.Command, s store.Store, f deploymentsFlags) ([]gate.Decision, error) {
	recs, err := s.List(contextOf(cmd), store.Query{PredicateType: gate.DecisionPredicateType, Subject: f.artifact})
	if err != nil {
		if strings.Contains(err.Error(), store.ErrBadQuery.Error()) {
			return nil, usageError(err)
		}
		return nil, storeError(err)
	}
	out := []gate.Decision{}
	for _, r := range recs {
		_, payload, err := attest.InspectUnverified(r.Bundle)
		if err != nil {
			return nil, storeError(fmt.Errorf("stored decision %s: %w", r.ID, err))
		}
		var st struct {
			Predicate gate.Decision `json:"predicate"`
		}
		if err := json.Unmarshal(payload, &st); err != nil {
			return nil, storeError(fmt.Errorf("stored decision %s: %w", r.ID, err))
		}
		if f.env != "" && st.Predicate.Environment != f.env {
			continue
		}
		out = append(out, st.Predicate)
	}
	return out, nil
}
