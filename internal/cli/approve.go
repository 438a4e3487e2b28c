package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/gate"
)

type approveFlags struct {
	env, key, comment, out string
	keyless                bool
}

func newApproveCmd(app *App) *cobra.Command {
	var f approveFlags
	cmd := &cobra.Command{
		Use:   "approve ARTIFACT|sha256:DIGEST --env ENV (--key K | --keyless) [--comment TEXT]",
		Short: "Sign an approval to deploy one artifact to one environment, and store it",
		Long: `Sign an approval attestation (predicate ` + gate.ApprovalPredicateType + `)
whose subject is the artifact's digest. Policy counts distinct trusted approvers;
an approval for another artifact or environment never counts.

--keyless signs without a key: with the OIDC identity token in
$SIGSTORE_ID_TOKEN (or GitHub Actions' token request), Fulcio (--fulcio)
certifies a fresh key for that identity. The bundle must be logged or
timestamped (--tlog, --tsa) and is checked against --trusted-root; trust the
identity as an approver in the trust file (docs/identities.md).`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.keyless && f.key != "" {
				return usageError(fmt.Errorf("--keyless and --key exclude each other"))
			}
			if !f.keyless {
				key, err := app.projectKey(f.key, "approver")
				if err != nil {
					return err
				}
				f.key = key
			}
			if f.env == "" || f.key == "" && !f.keyless {
				return usageError(fmt.Errorf("--env and --key are required (or a %s with keys.approver)", ProjectFile))
			}
			dg, name, err := app.artifactDigest(contextOf(cmd), args[0])
			if err != nil {
				return err
			}
			a, err := gate.NewApproval(dg, f.env, f.comment, app.Now())
			if err != nil {
				return usageError(err)
			}
			pred, _ := json.Marshal(a)
			if name == "" {
				name = dg.String()
			}
			st, err := attest.NewStatement([]attest.Subject{{Name: name, Digest: dg.Set()}}, gate.ApprovalPredicateType, pred)
			if err != nil {
				return usageError(err)
			}
			rec, bundle, by, err := app.signStatement(contextOf(cmd), f.keyless, f.key, st)
			if err != nil {
				return err
			}
			if f.out != "" {
				if err := app.writeOutput(f.out, bundle); err != nil {
					return err
				}
			}
			fmt.Fprintf(app.Stdout, "approved %s for %s by %s\nstored %s\n", dg, f.env, by, rec.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&f.env, "env", "", "environment the approval is for")
	cmd.Flags().StringVar(&f.key, "key", "", "approver's private key (default: the project's approver key)")
	cmd.Flags().StringVar(&f.comment, "comment", "", "why")
	cmd.Flags().BoolVar(&f.keyless, "keyless", false, keylessUsage)
	cmd.Flags().StringVar(&f.out, "out", "", "also write the bundle here")
	return cmd
}
