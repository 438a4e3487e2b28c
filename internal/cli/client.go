package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/server"
	"github.com/hallmark-dev/hallmark/internal/textsafe"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/store"
)

// TokenEnv is the default environment variable holding a server token.
const TokenEnv = "HALLMARK_TOKEN"

// remote is a client of `hallmark serve`.
type remote struct {
	base   *url.URL
	token  string
	client *http.Client
}

type remoteFlags struct{ server, tokenEnv, ca string }

func (f *remoteFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.server, "server", "", "use the Hallmark server at this https:// URL instead of the local store")
	cmd.Flags().StringVar(&f.tokenEnv, "token-env", TokenEnv, "environment variable holding the bearer token")
	cmd.Flags().StringVar(&f.ca, "ca", "", "PEM file of the CA that signed the server's certificate (default: system roots)")
}

func (a *App) remote(f remoteFlags) (*remote, error) {
	u, err := url.Parse(f.server)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, usageError(fmt.Errorf("--server %q: want https://HOST[:PORT]", f.server))
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return nil, usageError(fmt.Errorf("--server %q: plain http is only allowed to a loopback address; use https", f.server))
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.ca != "" {
		pem, err := readFileBounded(f.ca, 1<<20)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, badInput(fmt.Errorf("--ca %s: no PEM certificate", f.ca))
		}
		tlsCfg.RootCAs = pool
	}
	return &remote{base: u, token: a.Getenv(f.tokenEnv), client: &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsCfg, Proxy: http.ProxyFromEnvironment},
	}}, nil
}

func loopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// do sends a request and decodes a 2xx JSON answer into out; any other
// answer becomes an error carrying the server's message.
func (r *remote) do(ctx context.Context, method, path string, query url.Values, body []byte, out any) error {
	u := *r.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return usageError(err)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return environmentErr(fmt.Errorf("server %s: %w", r.base.Host, err))
	}
	defer resp.Body.Close()
	b, err := limits.ReadAll(resp.Body, 256<<20, "server answer")
	if err != nil {
		return environmentErr(err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(b, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		err := fmt.Errorf("server %s: %s %s: %d %s", r.base.Host, method, path, resp.StatusCode, e.Error)
		switch {
		case resp.StatusCode == 401 || resp.StatusCode == 403:
			return usageError(err)
		case resp.StatusCode == 413 || resp.StatusCode == 422:
			return rejected(err)
		case resp.StatusCode/100 == 4:
			return badInput(err)
		}
		return environmentErr(err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return environmentErr(fmt.Errorf("server %s: answer is not JSON: %w", r.base.Host, err))
		}
	}
	return nil
}

func newPushCmd(app *App) *cobra.Command {
	var f remoteFlags
	var ociImage string
	cmd := &cobra.Command{
		Use:   "push (BUNDLE|ID... --server URL [--token-env VAR] | --oci IMAGE [BUNDLE...])",
		Short: "Upload bundles to a Hallmark server, or attach them to an image in its registry",
		Long: `push BUNDLE... --server URL uploads bundles to a Hallmark server, which verifies
them against its trust file before storing. Each argument is a bundle file (- for
standard input) or, when no such file exists, the ID of evidence in the local store
(sha256:HEX or a unique prefix of at least 7 hex digits, as evidence ls prints it):
the stored bundle is uploaded, byte for byte.

push --oci IMAGE attaches bundles about IMAGE to it in its registry as OCI 1.1
referrers (artifact type ` + oci.BundleMediaType + `, as cosign
--new-bundle-format does; the referrers tag on registries without the API): the
BUNDLE files given, or else every stored bundle about the image. Each bundle's
statement must name the image's manifest digest.`,
		Args: argsUsage(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ociImage != "" {
				if f.server != "" {
					return usageError(errors.New("--oci and --server are exclusive"))
				}
				return app.pushOCI(contextOf(cmd), ociImage, args)
			}
			if len(args) == 0 {
				return usageError(errors.New("name the BUNDLE files to upload"))
			}
			if f.server == "" {
				return usageError(errors.New("--server is required"))
			}
			r, err := app.remote(f)
			if err != nil {
				return err
			}
			if r.token == "" {
				return usageError(fmt.Errorf("no token: set $%s (or name another variable with --token-env)", f.tokenEnv))
			}
			var local store.Store // opened on the first evidence ID
			defer func() {
				if local != nil {
					local.Close()
				}
			}()
			for _, path := range args {
				raw, err := app.pushInput(cmd, path, &local)
				if err != nil {
					return err
				}
				var rec store.Record
				if err := r.do(contextOf(cmd), http.MethodPost, "/v1/bundles", nil, raw, &rec); err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				fmt.Fprintf(app.Stdout, "%s\t%s\t%s\n", textsafe.Escape(rec.ID), textsafe.Escape(rec.PredicateType), textsafe.Escape(path))
			}
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&ociImage, "oci", "", "attach the bundles to this image in its registry")
	return cmd
}

// pushInput reads one `push` argument: a bundle file, or else evidence in
// the local store named by its ID or a unique prefix (opened once, in *local).
func (app *App) pushInput(cmd *cobra.Command, arg string, local *store.Store) ([]byte, error) {
	if arg == "-" {
		return app.readInput(arg, limits.MaxBundleBytes)
	}
	if _, err := os.Lstat(arg); err == nil || !looksLikeEvidenceID(arg) {
		return app.readInput(arg, limits.MaxBundleBytes)
	}
	if *local == nil {
		s, err := app.openStore(contextOf(cmd))
		if err != nil {
			return nil, err
		}
		*local = s
	}
	id, err := store.Resolve(contextOf(cmd), *local, arg)
	if err != nil {
		return nil, resolveError(fmt.Errorf("%s: neither a file nor evidence in the local store: %w", arg, err))
	}
	rec, err := (*local).Get(contextOf(cmd), id)
	if err != nil {
		return nil, storeError(err)
	}
	return rec.Bundle, nil
}

// looksLikeEvidenceID reports whether s could name stored evidence:
// "sha256:" and hex, or bare hex.
func looksLikeEvidenceID(s string) bool {
	h := strings.TrimPrefix(strings.ToLower(s), "sha256:")
	return h != "" && strings.Trim(h, "0123456789abcdef") == ""
}

// addClientCmds adds `push` and gives `evidence ls` and `deployments ls` a
// --server flag that asks a Hallmark server instead of the local store.
func addClientCmds(app *App, root *cobra.Command) {
	root.AddCommand(newPushCmd(app))
	for _, path := range [][]string{{"evidence", "ls"}, {"deployments", "ls"}} {
		cmd, _, err := root.Find(path)
		if err != nil || cmd.Name() != path[1] {
			continue
		}
		var f remoteFlags
		f.add(cmd)
		local := cmd.RunE
		remoteRun := remoteEvidenceLs
		if path[0] == "deployments" {
			remoteRun = remoteDeploymentsLs
		}
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if f.server == "" {
				return local(cmd, args)
			}
			r, err := app.remote(f)
			if err != nil {
				return err
			}
			return remoteRun(app, cmd, r)
		}
	}
}

func flagValues(cmd *cobra.Command, names map[string]string) url.Values {
	q := url.Values{}
	for flag, param := range names {
		if f := cmd.Flags().Lookup(flag); f != nil && f.Value.String() != "" {
			q.Set(param, f.Value.String())
		}
	}
	return q
}

func outputFormat(cmd *cobra.Command) (string, error) {
	format, _ := cmd.Flags().GetString("format")
	if format != "table" && format != "json" {
		return "", usageError(fmt.Errorf("--format %q: want table or json", format))
	}
	return format, nil
}

func remoteEvidenceLs(app *App, cmd *cobra.Command, r *remote) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	q := flagValues(cmd, map[string]string{"subject": "subject", "type": "type", "signer": "signer", "since": "since"})
	n, _ := cmd.Flags().GetInt("limit")
	if n > 0 {
		q.Set("limit", fmt.Sprint(n))
	}
	var recs []store.Record
	if err := r.do(contextOf(cmd), http.MethodGet, "/v1/evidence", q, nil, &recs); err != nil {
		return err
	}
	if n == 0 && len(recs) == server.DefaultListLimit {
		// The local store lists everything; a server stops at its default.
		fmt.Fprintf(app.Stderr, "hallmark: the server returned its first %d records; there may be more: narrow with --subject, --type, --signer or --since, or pass --limit (at most %d)\n",
			server.DefaultListLimit, server.MaxListLimit)
	}
	if format == "json" {
		return writeJSONOut(app.Stdout, recs)
	}
	return writeRecordTable(app, recs)
}

func remoteDeploymentsLs(app *App, cmd *cobra.Command, r *remote) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	if tf, _ := cmd.Flags().GetString("trust"); tf != "" {
		return usageError(errors.New("--trust cannot be used with --server: the server verifies decisions with its own trust file"))
	}
	q := flagValues(cmd, map[string]string{"env": "env", "artifact": "artifact"})
	if deployed, _ := cmd.Flags().GetBool("deployed"); deployed {
		if q.Has("artifact") || cmd.Flags().Changed("limit") {
			return usageError(errors.New("--deployed lists every deployed artifact: drop --artifact and --limit"))
		}
		var ans server.DeployedAnswer
		if err := r.do(contextOf(cmd), http.MethodGet, "/v1/deployed", q, nil, &ans); err != nil {
			return err
		}
		reportIgnored(app, ans.Ignored)
		return writeRunning(app, format, "", ans.Running)
	}
	n, _ := cmd.Flags().GetInt("limit")
	if n < 1 || n > server.MaxListLimit {
		return usageError(fmt.Errorf("--limit %d: want 1..%d with --server", n, server.MaxListLimit))
	}
	q.Set("limit", fmt.Sprint(n))
	var ds []gate.Deployment
	if err := r.do(contextOf(cmd), http.MethodGet, "/v1/deployments", q, nil, &ds); err != nil {
		return err
	}
	return writeDeployments(app, format, ds)
}

func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
