package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/keys"
)

type keygenFlags struct {
	algorithm   string
	emptyUnsafe bool
}

func newKeygenCmd(app *App) *cobra.Command {
	var f keygenFlags
	var algs []string
	for _, a := range keys.Algorithms() {
		algs = append(algs, string(a))
	}
	cmd := &cobra.Command{
		Use:   "keygen NAME",
		Short: "Generate a signing key pair: NAME.key (encrypted, 0600) and NAME.pub",
		Long: `Generate a signing key pair. NAME.key holds the private key encrypted with a
passphrase (from $HALLMARK_PASSWORD or a terminal prompt) in the format cosign
uses, so cosign can use it and hallmark can use cosign keys. NAME.pub is the PEM
public key. The key ID printed is the hex SHA-256 of the DER public key.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := keys.Generate(keys.Algorithm(f.algorithm))
			if err != nil {
				return usageError(err)
			}
			pass, err := app.passphrase(args[0]+".key", true)
			if err != nil {
				return err
			}
			var opts []keys.MarshalOption
			if f.emptyUnsafe {
				opts = append(opts, keys.WithEmptyPassphraseUnsafe())
			} else if len(pass) == 0 {
				return usageError(fmt.Errorf("%w: choose a passphrase, or pass --empty-passphrase-unsafe to store the key effectively unprotected", keys.ErrEmptyPassphrase))
			}
			keyPath, pubPath, err := keys.WriteFiles(args[0], k, pass, opts...)
			if err != nil {
				return environmentErr(err)
			}
			fmt.Fprintf(app.Stdout, "private key: %s\npublic key:  %s\nkey ID:      %s\nalgorithm:   %s\n", keyPath, pubPath, k.Public().ID(), f.algorithm)
			return nil
		},
	}
	cmd.Flags().StringVar(&f.algorithm, "algorithm", string(keys.ECDSAP256), "key algorithm: "+strings.Join(algs, ", "))
	cmd.Flags().BoolVar(&f.emptyUnsafe, "empty-passphrase-unsafe", false, "allow an empty passphrase (anyone who copies the key file can sign)")
	return cmd
}
