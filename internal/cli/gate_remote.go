package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/server"
	"github.com/hallmark-dev/hallmark/internal/textsafe"
	"github.com/hallmark-dev/hallmark/store"
)

// remoteGate runs `gate --server`: upload the --bundle files, then ask the
// server's gate about the artifact. The exit code follows the local gate:
// 0 allow, 1 deny, 4 when the server's gate failed closed.
func remoteGate(app *App, cmd *cobra.Command, f gateFlags, artifact string) error {
	if f.env == "" {
		return usageError(errors.New("--env is required"))
	}
	for _, local := range []string{"trust", "key", "policy"} {
		if cmd.Flags().Changed(local) {
			return usageError(fmt.Errorf("--%s cannot be used with --server: the server's gate uses its own trust file, policies and key", local))
		}
	}
	digest, name, err := app.artifactDigest(contextOf(cmd), artifact)
	if err != nil {
		return err
	}
	if f.name != "" {
		name = f.name
	}
	r, err := app.remote(f.remote)
	if err != nil {
		return err
	}
	if r.token == "" {
		return usageError(fmt.Errorf("no token: set $%s (or name another variable with --token-env)", f.remote.tokenEnv))
	}
	ctx := contextOf(cmd)
	for _, path := range f.bundles {
		raw, err := app.readInput(path, limits.MaxBundleBytes)
		if err != nil {
			return err
		}
		var rec store.Record
		if err := r.do(ctx, http.MethodPost, "/v1/bundles", nil, raw, &rec); err != nil {
			return fmt.Errorf("upload %s: %w", path, err)
		}
	}
	body, err := json.Marshal(server.GateRequest{Digest: digest, Name: name, Environment: f.env, Requester: f.requester})
	if err != nil {
		return fmt.Errorf("encode gate request: %w", err)
	}
	var ans server.GateAnswer
	if err := r.do(ctx, http.MethodPost, "/v1/gate", nil, body, &ans); err != nil {
		// r.do's error carries the exit code: bad input for a request the
		// server refused, environment for an unreachable or failing one.
		return fmt.Errorf("gate (deny): %w", err)
	}
	writeRemoteVerdict(app.Stdout, ans)
	switch {
	case ans.Error != "":
		return environmentErr(errors.New(ans.Error))
	case !ans.Allowed:
		return rejected(fmt.Errorf("deploy of %s to %s denied (%d violation(s))", digest, f.env, len(ans.Violations)))
	}
	return nil
}

// writeRemoteVerdict prints a server's gate answer like writeVerdict
// prints a local one.
func writeRemoteVerdict(w io.Writer, a server.GateAnswer) {
	verdict := "DENY"
	if a.Allowed {
		verdict = "ALLOW"
	}
	fmt.Fprintf(w, "%s  %s -> %s\n", verdict, textsafe.Escape(a.Digest.String()), textsafe.Escape(a.Environment))
	if a.PolicyURI != "" {
		fmt.Fprintf(w, "  policy: %s (sha256:%s)\n", textsafe.Escape(a.PolicyURI), textsafe.Escape(short(a.PolicyDigest, 16)))
	}
	for _, v := range a.Violations {
		fmt.Fprintf(w, "  x [%s] %s\n", textsafe.Escape(v.RuleID), textsafe.Escape(v.Message))
		if v.Remediation != "" {
			fmt.Fprintf(w, "      fix: %s\n", textsafe.Escape(v.Remediation))
		}
	}
	for _, ig := range a.Ignored {
		fmt.Fprintf(w, "  ignored %s: %s\n", textsafe.Escape(short(ig.ID, 19)), textsafe.Escape(ig.Reason))
	}
	if a.Decision != "" {
		fmt.Fprintf(w, "  recorded: decision %s, VSA %s\n", textsafe.Escape(short(a.Decision, 19)), textsafe.Escape(short(a.VSA, 19)))
	}
}
