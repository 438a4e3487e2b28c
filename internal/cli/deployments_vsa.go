package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
)

type deploymentsVSAFlags struct {
	trust, key, verifierID, out string
	remote                      remoteFlags
}

// newDeploymentsVSACmd is `hallmark deployments vsa`: the VSA of a recorded
// decision, issued on request (gate.VSAIssuer).
func newDeploymentsVSACmd(app *App) *cobra.Command {
	var f deploymentsVSAFlags
	cmd := &cobra.Command{
		Use:   "vsa DECISION-ID [--trust FILE] [--key GATE.key] [--out FILE] | vsa DECISION-ID --server URL",
		Short: "Issue the SLSA Verification Summary Attestation of a recorded decision",
		Long: `Print the signed SLSA VSA (a Sigstore bundle) of one recorded deployment
decision, named by its ID (deployments ls --format json lists them).

An admission review records one signed record, the decision; its VSA is
issued here when someone needs it: derived from the decision, which is first
verified against the trust file and must be signed by a key with the gate
role, and signed with the gate key. It is not stored: the decision stays the
record, and issuing it again says the same. A decision recorded with its VSA
(hallmark gate, POST /v1/gate) returns that stored VSA.

--server URL asks the server, which verifies with its own trust file and signs
with its own gate key.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := contextOf(cmd)
			id := args[0]
			if !strings.Contains(id, ":") {
				id = "sha256:" + id
			}
			if f.remote.server != "" {
				if cmd.Flags().Changed("trust") || cmd.Flags().Changed("key") || cmd.Flags().Changed("verifier-id") {
					return usageError(errors.New("--trust, --key and --verifier-id cannot be used with --server: the server uses its own"))
				}
				r, err := app.remote(f.remote)
				if err != nil {
					return err
				}
				var bundle json.RawMessage
				if err := r.do(ctx, http.MethodGet, "/v1/deployments/"+url.PathEscape(id)+"/vsa", nil, nil, &bundle); err != nil {
					return err
				}
				return app.writeOutput(f.out, append(bundle, '\n'))
			}
			var err error
			if f.trust, err = app.projectTrust(f.trust); err != nil {
				return err
			}
			if f.key, err = app.projectKey(f.key, "gate"); err != nil {
				return err
			}
			if f.trust == "" || f.key == "" {
				return usageError(fmt.Errorf("--trust and --key are required (or a %s naming them: hallmark init)", ProjectFile))
			}
			tr, err := trust.Load(f.trust)
			if err != nil {
				return badInput(err)
			}
			k, err := app.loadSigningKey(f.key)
			if err != nil {
				return err
			}
			s, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			v, err := gate.VSAIssuer{Store: s, Trust: tr, Key: k, VerifierID: f.verifierID}.Issue(ctx, id)
			switch {
			case errors.Is(err, store.ErrNotFound), errors.Is(err, gate.ErrNotDecision):
				return badInput(err)
			case err != nil:
				return rejected(err)
			}
			return app.writeOutput(f.out, append(v.Raw, '\n'))
		},
	}
	cmd.Flags().StringVar(&f.trust, "trust", "", "trust file: the decision must be signed by a key with role gate (default: the project's)")
	cmd.Flags().StringVar(&f.key, "key", "", "key that signs the VSA (default: the project's gate key)")
	cmd.Flags().StringVar(&f.verifierID, "verifier-id", gate.DefaultVerifierID, "verifier.id written into the VSA")
	cmd.Flags().StringVar(&f.out, "out", "", "write the bundle here (default standard output)")
	f.remote.add(cmd)
	return cmd
}
