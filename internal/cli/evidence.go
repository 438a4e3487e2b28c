package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/server"
	"github.com/hallmark-dev/hallmark/internal/textsafe"
	"github.com/hallmark-dev/hallmark/store"
)

func newEvidenceCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "evidence", Short: "Query the evidence store"}
	cmd.AddCommand(newEvidenceLsCmd(app), newEvidenceShowCmd(app), newEvidenceFetchCmd(app), newEvidencePruneCmd(app), newEvidenceCheckCmd(app))
	return cmd
}

type evidenceLsFlags struct {
	predicateType, signer, since, format string
	subject                              digest.Digest
	limit                                int
	registry                             bool
}

func newEvidenceLsCmd(app *App) *cobra.Command {
	var f evidenceLsFlags
	cmd := &cobra.Command{
		Use:   "ls [ARTIFACT] [--subject sha256:HEX] [--type URI] [--signer KEYID] [--format table|json] [--registry]",
		Short: "List stored evidence (about ARTIFACT: a file or an image), or with --registry the bundles attached to an image",
		Args:  argsUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.registry {
				if len(args) != 1 {
					return usageError(fmt.Errorf("--registry needs an IMAGE"))
				}
				return app.listRegistryEvidence(contextOf(cmd), args[0], f.format)
			}
			if len(args) == 1 {
				if !f.subject.IsZero() {
					return usageError(fmt.Errorf("give ARTIFACT or --subject, not both"))
				}
				d, _, err := app.artifactDigest(contextOf(cmd), args[0])
				if err != nil {
					return err
				}
				f.subject = d
			}
			q := store.Query{Subject: f.subject, PredicateType: f.predicateType, Signer: f.signer, Limit: f.limit}
			if f.since != "" {
				t, err := time.Parse(time.RFC3339, f.since)
				if err != nil {
					return usageError(fmt.Errorf("--since %q: want RFC 3339 time: %w", f.since, err))
				}
				q.Since = t
			}
			if f.format != "table" && f.format != "json" {
				return usageError(fmt.Errorf("--format %q: want table or json", f.format))
			}
			s, err := app.openStore(contextOf(cmd))
			if err != nil {
				return err
			}
			defer s.Close()
			recs, err := s.List(contextOf(cmd), q)
			if err != nil {
				if strings.Contains(err.Error(), store.ErrBadQuery.Error()) {
					return usageError(err)
				}
				return storeError(err)
			}
			if f.format == "json" {
				if recs == nil {
					recs = []store.Record{}
				}
				enc := json.NewEncoder(app.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(recs)
			}
			return writeRecordTable(app, recs)
		},
	}
	cmd.Flags().TextVar(&f.subject, "subject", digest.Digest{}, "only evidence about this digest (sha256:HEX or sha512:HEX)")
	cmd.Flags().StringVar(&f.predicateType, "type", "", "only this predicate type URI")
	cmd.Flags().StringVar(&f.signer, "signer", "", "only evidence signed by this key ID")
	cmd.Flags().StringVar(&f.since, "since", "", "only evidence stored at or after this RFC 3339 time")
	cmd.Flags().IntVar(&f.limit, "limit", 0, "at most this many records")
	cmd.Flags().BoolVar(&f.registry, "registry", false, "list the Sigstore bundles attached to IMAGE in its registry instead")
	cmd.Flags().StringVar(&f.format, "format", "table", "output format: table or json")
	return cmd
}

func writeRecordTable(app *App, recs []store.Record) error {
	tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tSUBJECTS\tSIGNER\tSTORED")
	for _, r := range recs {
		var subs []string
		for _, s := range r.Subjects {
			subs = append(subs, textsafe.Escape(s.Name))
		}
		signer := "-"
		if len(r.Signers) > 0 {
			signer = textsafe.Escape(short(r.Signers[0], 12))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", textsafe.Escape(short(r.ID, 19)), textsafe.Escape(r.PredicateType), strings.Join(subs, ","), signer, r.StoredAt.Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(app.Stderr, "%d record(s)\n", len(recs))
	return nil
}

// resolveError maps store.Resolve's errors to exit codes: a malformed,
// too short or ambiguous ID is a usage error, an unknown one bad input.
func resolveError(err error) error {
	if errors.Is(err, store.ErrBadQuery) || errors.Is(err, store.ErrAmbiguous) {
		return usageError(err)
	}
	return badInput(err)
}

func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func newEvidenceShowCmd(app *App) *cobra.Command {
	var raw bool
	var remote remoteFlags
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Print one stored bundle's statement (or the raw bundle with --bundle)",
		Long: "Print one stored bundle's statement (or the raw bundle with --bundle).\n\n" +
			"ID is a full evidence ID (sha256:HEX) or, on the local store, a unique prefix of at least 7 hex\n" +
			"digits with or without \"sha256:\", as `evidence ls` prints them; an ambiguous prefix is refused\n" +
			"with the IDs it matches.",
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if !strings.Contains(id, ":") {
				id = "sha256:" + id
			}
			var rec store.Record
			if remote.server != "" {
				r, err := app.remote(remote)
				if err != nil {
					return err
				}
				path := "/v1/evidence/" + url.PathEscape(id)
				var exact json.RawMessage // the stored bytes, exactly
				if err := r.do(contextOf(cmd), http.MethodGet, path, url.Values{"format": {"bundle"}}, nil, &exact); err != nil {
					return err
				}
				var ev server.Evidence
				if err := r.do(contextOf(cmd), http.MethodGet, path, nil, nil, &ev); err != nil {
					return err
				}
				rec, rec.Bundle = ev.Record, exact
			} else {
				s, err := app.openStore(contextOf(cmd))
				if err != nil {
					return err
				}
				defer s.Close()
				// `evidence ls` prints short IDs: accept any unique prefix.
				full, err := store.Resolve(contextOf(cmd), s, args[0])
				if err != nil {
					return resolveError(err)
				}
				if rec, err = s.Get(contextOf(cmd), full); err != nil {
					return badInput(err)
				}
			}
			if raw {
				_, err := app.Stdout.Write(rec.Bundle)
				return err
			}
			_, payload, err := attest.InspectUnverified(rec.Bundle)
			if err != nil {
				return badInput(fmt.Errorf("stored evidence %s: %w", rec.ID, err))
			}
			out := struct {
				store.Record
				Statement json.RawMessage `json:"statement"`
			}{rec, payload}
			enc := json.NewEncoder(app.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	cmd.Flags().BoolVar(&raw, "bundle", false, "print the stored bundle bytes")
	remote.add(cmd)
	return cmd
}
