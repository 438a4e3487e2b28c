package cli

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/tlog"
)

func newTlogCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tlog",
		Short: "Transparency log and timestamp authority configuration",
	}
	cmd.AddCommand(newTlogRootCmd(app), newTlogVerifyCmd(app))
	return cmd
}

type tlogRootFlags struct {
	log, logKey, logFrom string
	tsa, tsaChain        string
	fulcio, fulcioChain  string
	out                  string
}

func newTlogRootCmd(app *App) *cobra.Command {
	var f tlogRootFlags
	cmd := &cobra.Command{
		Use:   "root --log URL --log-key LOG.pub [--tsa URL --tsa-chain CHAIN.pem] [--fulcio URL --fulcio-chain CHAIN.pem] [--out trusted_root.json]",
		Short: "Write a Sigstore trusted_root.json for a self-hosted Rekor v2 log and timestamp authority",
		Long: `Write a Sigstore trusted_root.json that trusts one Rekor v2 (rekor-tiles) log,
whose checkpoints are signed by the key in --log-key and whose checkpoint
origin is the host name of --log, and optionally one RFC 3161 timestamp
authority with the certificate chain in --tsa-chain (leaf first, as
timestamp-server serves it at /api/v1/timestamp/certchain), and optionally
one Fulcio certificate authority for keyless signing with the CA chain in
--fulcio-chain (root last, as Fulcio serves it at /api/v2/trustBundle),
trusted from --log-valid-from. Give the file to
--trusted-root, and to cosign and sigstore-go. For the public Sigstore
instances use Sigstore's own trusted_root.json instead.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.log == "" || f.logKey == "" {
				return usageError(fmt.Errorf("--log and --log-key are required"))
			}
			if (f.fulcio == "") != (f.fulcioChain == "") {
				return usageError(fmt.Errorf("--fulcio and --fulcio-chain go together"))
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
				chain, err := app.readCertChain(f.tsaChain)
				if err != nil {
					return err
				}
				tsas = append(tsas, tlog.TSA{URL: f.tsa, Chain: chain})
			}
			var cas []tlog.CA
			if f.fulcio != "" {
				chain, err := app.readCertChain(f.fulcioChain)
				if err != nil {
					return err
				}
				cas = append(cas, tlog.CA{URL: f.fulcio, Chain: chain, ValidFrom: from})
			}
			out, err := tlog.NewRoot([]tlog.Log{{BaseURL: f.log, PublicKey: pub.Key(), ValidFrom: from}}, tsas, cas...)
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
	cmd.Flags().StringVar(&f.fulcio, "fulcio", "", "the Fulcio certificate authority's URL (keyless signing)")
	cmd.Flags().StringVar(&f.fulcioChain, "fulcio-chain", "", "PEM certificate chain of the Fulcio CA, root last")
	cmd.Flags().StringVar(&f.out, "out", "", "write here (default standard output)")
	return cmd
}

type tlogVerifyFlags struct {
	log, read, state string
}

func newTlogVerifyCmd(app *App) *cobra.Command {
	var f tlogVerifyFlags
	cmd := &cobra.Command{
		Use:   "verify --trusted-root FILE --read URL|DIR [--log URL] [--state FILE]",
		Short: "Check that a log extends the last checkpoint seen and includes every stored bundle's entry",
		Long: `Monitor a Rekor v2 log of the trusted root: fetch its checkpoint from --read
(where its tiles are served, or a POSIX log's storage directory), verify the
checkpoint's signature, verify with a consistency proof built from the tiles
that it extends the checkpoint saved in --state by the last run (a log that
forked, shrank or rewrote an entry fails), and verify that every bundle in the
store that claims an entry in this log is included, with inclusion proofs built
from the tiles. The new checkpoint is saved only when everything holds. Exit 1
when the log is inconsistent or an entry is missing.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := contextOf(cmd)
			p := app.setting(app.tlog.root, TrustedRootEnv)
			if p == "" || f.read == "" {
				return usageError(fmt.Errorf("--trusted-root and --read are required"))
			}
			tr, err := tlog.LoadRoot(p)
			if err != nil {
				return badInput(err)
			}
			var l *root.TransparencyLog
			for _, c := range tr.RekorLogs() {
				if f.log == "" || c.BaseURL == f.log {
					if l != nil {
						return usageError(fmt.Errorf("the trusted root has several logs: choose one with --log URL"))
					}
					l = c
				}
			}
			if l == nil {
				return badInput(fmt.Errorf("%s: no log %q", p, f.log))
			}
			m, err := tlog.NewMonitor(l, f.read, nil)
			if err != nil {
				return badInput(err)
			}
			state := f.state
			if state == "" {
				state = filepath.Join(app.resolvedStoreDir(), "tlog", hex.EncodeToString(l.ID)+".checkpoint")
			}
			var prev *tlog.Checkpoint
			if raw, err := os.ReadFile(state); err == nil {
				if prev, err = m.ParseCheckpoint(raw); err != nil {
					return badInput(fmt.Errorf("%s: %w", state, err))
				}
			} else if !errors.Is(err, fs.ErrNotExist) {
				return environmentErr(err)
			}
			cp, err := m.Latest(ctx, prev)
			if err != nil {
				return rejected(err)
			}
			s, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			recs, err := s.List(ctx, store.Query{})
			if err != nil {
				return storeError(err)
			}
			checked := 0
			for _, r := range recs {
				var pb protobundle.Bundle
				if protojson.Unmarshal(r.Bundle, &pb) != nil {
					continue // a bare envelope: no entries
				}
				for _, e := range pb.GetVerificationMaterial().GetTlogEntries() {
					if !bytes.Equal(e.GetLogId().GetKeyId(), l.ID) {
						continue
					}
					if e.GetLogIndex() < 0 {
						return rejected(fmt.Errorf("%s: %w: negative log index", r.ID, tlog.ErrNotIncluded))
					}
					if err := m.Included(ctx, cp, uint64(e.GetLogIndex()), e.GetCanonicalizedBody()); err != nil {
						return rejected(fmt.Errorf("stored bundle %s: %w", r.ID, err))
					}
					checked++
				}
			}
			if err := os.MkdirAll(filepath.Dir(state), 0o755); err != nil {
				return environmentErr(err)
			}
			if err := os.WriteFile(state, cp.Raw, 0o644); err != nil {
				return environmentErr(err)
			}
			was := "first checkpoint seen"
			if prev != nil {
				was = fmt.Sprintf("consistent with the %d seen before", prev.Size)
			}
			fmt.Fprintf(app.Stdout, "log %s: %d entries (%s)\nstored bundles with an entry in it: %d, all included\n", cp.Origin, cp.Size, was, checked)
			return nil
		},
	}
	cmd.Flags().StringVar(&f.log, "log", "", "the log's base URL in the trusted root (needed when it has several)")
	cmd.Flags().StringVar(&f.read, "read", "", "where the log's checkpoint and tiles are read: http(s) URL or storage directory")
	cmd.Flags().StringVar(&f.state, "state", "", "file keeping the last checkpoint seen (default STORE/tlog/LOGID.checkpoint)")
	return cmd
}

// readCertChain reads a PEM certificate chain file.
func (a *App) readCertChain(path string) ([]*x509.Certificate, error) {
	raw, err := a.readInput(path, tlog.MaxRootBytes)
	if err != nil {
		return nil, err
	}
	var chain []*x509.Certificate
	for rest := raw; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, badInput(fmt.Errorf("%s: %w", path, err))
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil, badInput(fmt.Errorf("%s: no PEM certificates", path))
	}
	return chain, nil
}
