package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/textsafe"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/trust"
)

type verifyFlags struct {
	keys          []string
	trust         string
	bundle        string
	threshold     int
	predicateType string
}

func newVerifyCmd(app *App) *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify (--key NAME.pub... | --trust FILE) --bundle BUNDLE SUBJECT_FILE...",
		Short: "Check a bundle's signature, payload type and that every file is a subject",
		Long: `Verify a Sigstore bundle (or a bare DSSE envelope) offline against trusted
public keys: the DSSE signature over the pre-authentication encoding, the
payload type, the in-toto Statement, and that the SHA-256 of every SUBJECT_FILE
is among the statement's subjects. Exit 0 only when all hold.

--trust FILE trusts the keys and the keyless identities of a trust file
(docs/identities.md): a bundle signed with a Fulcio certificate verifies
against --trusted-root when the certificate names one of its identities. A
SUBJECT may also be a bare digest (sha256:HEX, sha512:HEX).`,
		Args: argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(f.keys) == 0 && f.trust == "" || f.bundle == "" {
				return usageError(fmt.Errorf("--key (or --trust) and --bundle are required"))
			}
			var pubs []*keys.PublicKey
			for _, p := range f.keys {
				k, err := keys.LoadPublicKeyFile(p)
				if err != nil {
					return badInput(err)
				}
				pubs = append(pubs, k)
			}
			var ids []attest.Identity
			if f.trust != "" {
				tr, err := trust.Load(f.trust)
				if err != nil {
					return badInput(err)
				}
				all := tr.All()
				pubs = append(pubs, all.Keys()...)
				ids = all.Identities()
			}
			trusted := attest.NewKeySet(pubs...).AddIdentities(ids...)
			raw, err := app.readInput(f.bundle, limits.MaxBundleBytes)
			if err != nil {
				return err
			}
			vopts, err := app.verifyOptions()
			if err != nil {
				return err
			}
			v, err := attest.Verify(contextOf(cmd), raw, trusted, append(vopts, attest.WithThreshold(f.threshold), attest.WithInputName(f.bundle))...)
			if err != nil {
				return err
			}
			if f.predicateType != "" && v.PredicateType != f.predicateType {
				return rejected(fmt.Errorf("%s: predicate type %q, want %q", f.bundle, v.PredicateType, f.predicateType))
			}
			for _, p := range args {
				s, err := app.subject(contextOf(cmd), p)
				if err != nil {
					return err
				}
				for alg, hexValue := range s.Digest {
					if !v.HasDigest(alg, hexValue) {
						return &attest.Error{Input: p, Err: fmt.Errorf("%w: %s:%s", attest.ErrSubjectMismatch, alg, hexValue)}
					}
				}
			}
			fmt.Fprintf(app.Stdout, "verified: %s\n  predicate type: %s\n  signed by: %v\n  subjects checked: %d\n", textsafe.Escape(f.bundle), textsafe.Escape(v.PredicateType), v.SignerIDs(), len(args))
			if v.Certificate != nil {
				fmt.Fprintf(app.Stdout, "  certificate: %s\n", textsafe.Escape(attest.DescribeCertificate(v.Certificate)))
			}
			printTransparency(app.Stdout, v)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&f.keys, "key", nil, "trusted public key file (repeatable)")
	cmd.Flags().StringVar(&f.trust, "trust", "", "trust file: its keys and keyless identities are trusted (any role)")
	cmd.Flags().StringVar(&f.bundle, "bundle", "", "bundle or DSSE envelope file (- for standard input)")
	cmd.Flags().IntVar(&f.threshold, "threshold", 1, "distinct trusted keys that must have signed")
	cmd.Flags().StringVar(&f.predicateType, "predicate-type", "", "require this predicate type")
	return cmd
}
