package cli

import (
	"context"
	"fmt"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/textsafe"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
)

type attestFlags struct {
	key           string
	predicateType string
	predicate     string
	out           string
	keyless       bool
}

func newAttestCmd(app *App) *cobra.Command {
	var f attestFlags
	cmd := &cobra.Command{
		Use:   "attest (--key NAME.key | --keyless) --predicate-type URI --predicate FILE [--out BUNDLE] SUBJECT_FILE...",
		Short: "Sign a predicate about files as an in-toto statement in a Sigstore bundle, and store it",
		Args:  argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (f.key == "") == !f.keyless || f.predicateType == "" || f.predicate == "" {
				return usageError(fmt.Errorf("--key or --keyless (one of them), --predicate-type and --predicate are required"))
			}
			pred, err := app.readInput(f.predicate, limits.MaxPredicateFileBytes)
			if err != nil {
				return err
			}
			var subjects []attest.Subject
			for _, p := range args {
				s, err := app.subject(contextOf(cmd), p)
				if err != nil {
					return err
				}
				subjects = append(subjects, s)
			}
			st, err := attest.NewStatement(subjects, f.predicateType, pred)
			if err != nil {
				return badInput(fmt.Errorf("predicate %s: %w", f.predicate, err))
			}
			rec, bundle, by, err := app.signStatement(contextOf(cmd), f.keyless, f.key, st)
			if err != nil {
				return err
			}
			if err := app.writeOutput(f.out, bundle); err != nil {
				return err
			}
			fmt.Fprintf(app.Stderr, "signed %d subject(s) as %s\nstored %s (%s)\n", len(subjects), by, rec.ID, rec.PredicateType)
			return nil
		},
	}
	cmd.Flags().StringVar(&f.key, "key", "", "private key file (NAME.key)")
	cmd.Flags().BoolVar(&f.keyless, "keyless", false, keylessUsage)
	cmd.Flags().StringVar(&f.predicateType, "predicate-type", "", "predicate type URI")
	cmd.Flags().StringVar(&f.predicate, "predicate", "", "predicate JSON file (- for standard input)")
	cmd.Flags().StringVar(&f.out, "out", "", "write the bundle here (default standard output)")
	return cmd
}

// signStatement signs and stores st with --keyless or the key at keyPath,
// and says who signed: "key ID" or the certificate's identity.
func (a *App) signStatement(ctx context.Context, keyless bool, keyPath string, st *intoto.Statement) (store.Record, []byte, string, error) {
	if keyless {
		rec, bundle, cert, err := a.signKeylessAndStore(ctx, st)
		if err != nil {
			return store.Record{}, nil, "", err
		}
		return rec, bundle, textsafe.Escape(attest.DescribeCertificate(cert)), nil
	}
	k, err := a.loadSigningKey(keyPath)
	if err != nil {
		return store.Record{}, nil, "", err
	}
	rec, bundle, err := a.signAndStore(ctx, k, st)
	return rec, bundle, "key " + k.Public().ID(), err
}

// signAndStore signs st (logging and timestamping it as --tlog and --tsa
// say), verifies the result against the signing key and the trusted root
// (so that only verified evidence is stored) and records it in the store.
func (a *App) signAndStore(ctx context.Context, k *keys.PrivateKey, st *intoto.Statement) (store.Record, []byte, error) {
	_, bundle, rec, err := a.signStoreVerified(ctx, k, st)
	return rec, bundle, err
}

// signStoreVerified is signAndStore that also returns the verified bundle.
func (a *App) signStoreVerified(ctx context.Context, k *keys.PrivateKey, st *intoto.Statement) (*attest.Verified, []byte, store.Record, error) {
	sopts, err := a.signOptions()
	if err != nil {
		return nil, nil, store.Record{}, err
	}
	vopts, err := a.verifyOptions()
	if err != nil {
		return nil, nil, store.Record{}, err
	}
	bundle, err := attest.Sign(ctx, k, st, sopts...)
	if err != nil {
		return nil, nil, store.Record{}, environmentErr(err)
	}
	v, err := attest.Verify(ctx, bundle, attest.NewKeySet(k.Public()), vopts...)
	if err != nil {
		return nil, nil, store.Record{}, environmentErr(fmt.Errorf("self-check of the new bundle failed: %w", err))
	}
	a.describeTransparency(v)
	s, err := a.openStore(ctx)
	if err != nil {
		return nil, nil, store.Record{}, err
	}
	defer s.Close()
	rec, err := s.Put(ctx, v)
	if err != nil {
		return nil, nil, store.Record{}, storeError(err)
	}
	return v, bundle, rec, nil
}
