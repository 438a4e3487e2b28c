package cli

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/tlog"
)

func newTlogCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tlog",
		Short: "Transparency log and timestamp authority configuration",
	}
	cmd.AddCommand(newTlogRootCmd(app))
	return cmd
}

type tlogRootFlags struct {
	log, logKey, logFrom string
	tsa, tsaChain        string
	out                  string
}

func newTlogRootCmd(app *App) *cobra.Command {
	var f tlogRootFlags
	cmd := &cobra.Command{
		Use:   "root --log URL --log-key LOG.pub [--tsa URL --tsa-chain CHAIN.pem] [--out trusted_root.json]",
		Short: "Write a Sigstore trusted_root.json for a self-hosted Rekor v2 log and timestamp authority",
		Long: `Write a Sigstore trusted_root.json that trusts one Rekor v2 (rekor-tiles) log,
whose checkpoints are signed by the key in --log-key and whose checkpoint
origin is the host name of --log, and optionally one RFC 3161 timestamp
authority with the certificate chain in --tsa-chain (leaf first, as
timestamp-server serves it at /api/v1/timestamp/certchain). Give the file to
--trusted-root, and to cosign and sigstore-go. For the public Sigstore
instances use Sigstore's own trusted_root.json instead.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.log == "" || f.logKey == "" {
				return usageError(fmt.Errorf("--log and --log-key are required"))
			}
			if (f.tsa == "") != (f.tsaChain == "") {
				return usageError(fmt.Errorf("--tsa and --tsa-chain go together"))
			}
			pub, err := keys.LoadPublicKeyFile(f.logKey)
			if err != nil {
				return badInput(err)
			}
			from := app.Now().UTC()
			if f.logFrom != "" {
				if from, err = time.Parse(time.RFC3339, f.logFrom); err != nil {
					return usageError(fmt.Errorf("--log-valid-from: %w", err))
				}
			}
			var tsas []tlog.TSA
			if f.tsa != "" {
				raw, err := app.readInput(f.tsaChain, tlog.MaxRootBytes)
				if err != nil {
					return err
				}
				var chain []*x509.Certificate
				for rest := raw; ; {
					var b *pem.Block
					if b, rest = pem.Decode(rest); b == nil {
						break
					}
					c, err := x509.ParseCertificate(b.Bytes)
					if err != nil {
						return badInput(fmt.Errorf("%s: %w", f.tsaChain, err))
					}
					chain = append(chain, c)
				}
				if len(chain) == 0 {
					return badInput(fmt.Errorf("%s: no PEM certificates", f.tsaChain))
				}
				tsas = append(tsas, tlog.TSA{URL: f.tsa, Chain: chain})
			}
			out, err := tlog.NewRoot([]tlog.Log{{BaseURL: f.log, PublicKey: pub.Key(), ValidFrom: from}}, tsas)
			if err != nil {
				return badInput(err)
			}
			return app.writeOutput(f.out, append(out, '\n'))
		},
	}
	cmd.Flags().StringVar(&f.log, "log", "", "the log's base URL (its host name is the checkpoint origin)")
	cmd.Flags().StringVar(&f.logKey, "log-key", "", "PEM public key that signs the log's checkpoints")
	cmd.Flags().StringVar(&f.logFrom, "log-valid-from", "", "RFC 3339 time from which the log key is trusted (default now)")
	cmd.Flags().StringVar(&f.tsa, "tsa", "", "the timestamp authority's URL")
	cmd.Flags().StringVar(&f.tsaChain, "tsa-chain", "", "PEM certificate chain of the timestamp authority, leaf first")
	cmd.Flags().StringVar(&f.out, "out", "", "write here (default standard output)")
	return cmd
}
