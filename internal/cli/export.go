package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/compliance/archive"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/tlog"
)

type exportFlags struct {
	reportFlags
}

func newExportCmd(app *App) *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export [ARTIFACT|sha256:DIGEST] --env ENV --trust FILE --out FILE.tar [--policy P] [--since T] [--until T] [--key K]",
		Short: "Write an audit archive that verifies offline: bundles, trust file, policy, report",
		Long: `Write one tar archive with every bundle the compliance report relies on (the
evidence of each artifact, the recorded decisions and their VSAs), the trust
file with its public keys inline, the policy (modules, data, digest) and the
policy input of each artifact for opa eval, the report, and manifest.json
listing the sha256 of every member. --key signs the manifest
(` + archive.PredicateType + `). hallmark verify-export checks it all offline.
With --trusted-root, a stored bundle whose log entries or timestamps do not
verify against it (a rewritten store or log) fails the export (exit 1), the
report is judged with it, and the root and thresholds are archived so that
verify-export checks log entries and timestamps again.`,
		Args: argsUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.reportDefaults(&f.trust, &f.policy, f.env); err != nil {
				return err
			}
			if f.env == "" || f.trust == "" || f.out == "" {
				return usageError(errors.New("--env, --trust and --out are required"))
			}
			ctx := contextOf(cmd)
			req, err := app.reportScope(ctx, args, f.trust, f.policy, f.env, f.since, f.until)
			if err != nil {
				return err
			}
			in := archive.Input{TrustFile: f.trust}
			if f.key != "" {
				if in.Signer, err = app.loadSigningKey(f.key); err != nil {
					return err
				}
			}
			if len(req.Verify) > 0 {
				if in.TrustedRoot, err = app.archivedRoot(); err != nil {
					return err
				}
			}
			s, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			in.Store, in.Request = s, app.withDecisions(s, req)
			var buf bytes.Buffer
			w, err := archive.Write(ctx, &buf, in)
			if err != nil {
				return archiveError(err)
			}
			if err := os.WriteFile(f.out, buf.Bytes(), 0o644); err != nil {
				return environmentErr(err)
			}
			fmt.Fprintf(app.Stdout, "wrote %s: %d artifacts, %d members, manifest sha256:%s\n", f.out, len(w.Report.Artifacts), w.Members, w.ManifestDigest)
			return nil
		},
	}
	cmd.Flags().StringVar(&f.env, "env", "", "environment whose policy and deployments the export covers")
	cmd.Flags().StringVar(&f.policy, "policy", "", "policy: builtin (default, or the project's policy for --env), builtin:NAME, a preset YAML file, or a .rego file or directory")
	cmd.Flags().StringVar(&f.trust, "trust", "", "trust file naming the keys trusted for each role")
	cmd.Flags().StringVar(&f.since, "since", "", "deployment decisions from this time (RFC 3339)")
	cmd.Flags().StringVar(&f.until, "until", "", "judge as of this time, decisions up to it (RFC 3339; default now)")
	cmd.Flags().StringVar(&f.out, "out", "", "archive to write (tar)")
	cmd.Flags().StringVar(&f.key, "key", "", "sign the manifest with this key")
	return cmd
}

// archivedRoot is the --trusted-root file and thresholds the export
// verified with, to archive.
func (a *App) archivedRoot() (*archive.TrustedRoot, error) {
	raw, err := limits.ReadFile(a.setting(a.tlog.root, TrustedRootEnv), tlog.MaxRootBytes)
	if err != nil {
		return nil, badInput(fmt.Errorf("trusted root: %w", err))
	}
	t := &archive.TrustedRoot{JSON: raw}
	if n := a.tlog.logThreshold; n >= 0 {
		t.LogThreshold = &n
	}
	if n := a.tlog.tsThreshold; n >= 0 {
		t.TimestampThreshold = &n
	}
	return t, nil
}

// archiveError maps an archive.Error to its exit code.
func archiveError(err error) error {
	e, ok := errors.AsType[*archive.Error](err)
	if !ok {
		return err
	}
	switch e.Kind {
	case archive.Rejected:
		return rejected(err)
	case archive.BadInput:
		return badInput(err)
	}
	return environmentErr(err)
}

func newVerifyExportCmd(app *App) *cobra.Command {
	var pubKey string
	cmd := &cobra.Command{
		Use:   "verify-export FILE.tar [--key EXPORTER.pub]",
		Short: "Re-verify an audit archive offline and reproduce the gate's decisions and the report from it",
		Long: `Check every member of an archive written by hallmark export against the
manifest's sha256 (a changed, missing or extra member fails), verify each
bundle against the archive's trust file, recompile the policy from the
archived modules and data and check its digest, re-run the gate (a dry run,
at the report's time) on the archived evidence alone, and rebuild the
report: it must equal the archived one. An archive exported with
--trusted-root carries that root: every bundle's log entries and timestamps
are verified against it (offline), and one that does not verify fails.
Nothing outside the archive is read (--trusted-root is ignored).

--key checks the manifest's signature; without it, the archive is only
consistent with itself, and its manifest digest (printed) must be compared
with one obtained from the exporter by other means.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			o := archive.Options{Name: file, Requester: reportRequester, Source: reportSource, Unsigned: func(d string) {
				fmt.Fprintf(app.Stderr, "warning: manifest signature not checked (no --key); compare the manifest digest sha256:%s with the exporter's\n", d)
			}}
			fh, err := os.Open(file)
			if err != nil {
				return badInput(err)
			}
			defer fh.Close()
			if pubKey != "" {
				pem, err := app.readInput(pubKey, 1<<16)
				if err != nil {
					return err
				}
				if o.Key, err = keys.ParsePublicKey(pem); err != nil {
					return badInput(fmt.Errorf("%s: %w", pubKey, err))
				}
			}
			res, err := archive.Verify(contextOf(cmd), fh, o)
			if err != nil {
				return archiveError(err)
			}
			fmt.Fprintf(app.Stdout, "verified %s: manifest sha256:%s, %d members, %d bundles, policy sha256:%s\n", file, res.ManifestDigest, res.Members, res.Bundles, res.PolicyDigest)
			if res.TrustedRoot != "" {
				fmt.Fprintf(app.Stdout, "  log entries and timestamps verified against the archived %s\n", res.TrustedRoot)
			}
			for _, a := range res.Report.Artifacts {
				verdict, controls := "deny", 0
				if a.Decision.Allow {
					verdict = "allow"
				}
				for _, f := range a.Frameworks {
					controls += len(f.Controls)
				}
				fmt.Fprintf(app.Stdout, "  %s %s: gate decision reproduced (%s, SLSA Build L%d), %d controls re-judged\n", a.Artifact.Digest, a.Environment, verdict, a.Decision.SLSABuildLevel, controls)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&pubKey, "key", "", "public key that must have signed the manifest")
	return cmd
}
