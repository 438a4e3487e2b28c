package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/compliance"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
)

type reportFlags struct {
	env, policy, trust, key, format, out, since, until string
}

func newReportCmd(app *App) *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report [ARTIFACT|sha256:DIGEST] --env ENV --trust FILE [--policy P] [--since T] [--until T] [--format text|json|html] [--out FILE] [--key K]",
		Short: "Say in SLSA, NIST SSDF and EU CRA terms what the verified evidence proves",
		Long: `Judge every control of the compliance mapping (SLSA v1.0 Build track, NIST SP
800-218 SSDF v1.1, EU CRA Annex I) for one artifact, or for every artifact a
recorded gate decision allowed in the environment: satisfied, not satisfied,
not applicable, or not covered by Hallmark, with the verified evidence behind
each verdict (IDs, signers by trust-file name, times), the policy decision,
open vulnerabilities with their VEX status, and the recorded deployments.

The evidence is gathered and verified exactly as the gate does (a dry run:
nothing is recorded) against the trust file and the environment's policy,
as of --until (default now); with --trusted-root, against it too, so that
evidence whose log entries or timestamps do not verify is listed as ignored
and times come from verified timestamps. --since and --until bound the
deployment decisions listed and, without ARTIFACT, which artifacts are
reported.

--key signs the report (JSON) as an in-toto statement of predicate type
` + compliance.ReportPredicateType + ` about the reported artifacts and stores it
as evidence. docs/compliance.md says what the report does and does not prove.`,
		Args: argsUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.reportDefaults(&f.trust, &f.policy, f.env); err != nil {
				return err
			}
			if f.env == "" || f.trust == "" {
				return usageError(errors.New("--env and --trust are required"))
			}
			if f.format != "text" && f.format != "json" && f.format != "html" {
				return usageError(fmt.Errorf("--format %q: want text, json or html", f.format))
			}
			ctx := contextOf(cmd)
			req, err := app.reportScope(ctx, args, f.trust, f.policy, f.env, f.since, f.until)
			if err != nil {
				return err
			}
			var signer *keys.PrivateKey
			if f.key != "" {
				if signer, err = app.loadSigningKey(f.key); err != nil {
					return err
				}
			}
			s, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			r, _, err := compliance.Generate(ctx, s, app.withDecisions(s, req))
			if err != nil {
				return environmentErr(err)
			}
			if signer != nil {
				id, err := signReport(ctx, s, signer, r)
				if err != nil {
					return err
				}
				fmt.Fprintf(app.Stderr, "signed report stored as %s\n", id)
			}
			return writeReport(app, f, r)
		},
	}
	cmd.Flags().StringVar(&f.env, "env", "", "environment whose policy and deployments the report covers")
	cmd.Flags().StringVar(&f.policy, "policy", "", "policy: builtin (default, or the project's policy for --env), builtin:NAME, a preset YAML file, or a .rego file or directory")
	cmd.Flags().StringVar(&f.trust, "trust", "", "trust file naming the keys trusted for each role")
	cmd.Flags().StringVar(&f.since, "since", "", "list deployment decisions from this time (RFC 3339)")
	cmd.Flags().StringVar(&f.until, "until", "", "judge as of this time and list decisions up to it (RFC 3339; default now)")
	cmd.Flags().StringVar(&f.format, "format", "text", "text, json or html")
	cmd.Flags().StringVar(&f.out, "out", "", "write the report to this file (default stdout)")
	cmd.Flags().StringVar(&f.key, "key", "", "sign the report and store the signed statement as evidence")
	return cmd
}

func parseReportTime(flag, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, usageError(fmt.Errorf("%s %q: want an RFC 3339 time (2026-01-02T15:04:05Z): %w", flag, v, err))
	}
	t = t.UTC()
	return &t, nil
}

// reportRequester and reportSource are what the gate's dry run is asked by
// for a report, an export and its verification (they are in the report).
const reportRequester, reportSource = "hallmark report", "cli"

// withDecisions completes req with the decisions recorded in s, telling
// stderr about those that do not verify.
func (a *App) withDecisions(s store.Store, req compliance.Request) compliance.Request {
	req.Decisions = compliance.StoreDecisions(s, req.Trust, func(ig []gate.IgnoredDecision) { reportIgnored(a, ig) })
	return req
}

// signReport signs the report's JSON as an in-toto statement about the
// reported artifacts and stores it.
func signReport(ctx context.Context, s store.Store, k *keys.PrivateKey, r *compliance.Report) (string, error) {
	if len(r.Artifacts) == 0 {
		return "", rejected(errors.New("--key: the report covers no artifact, so there is no subject to sign it about"))
	}
	var subjects []attest.Subject
	for _, a := range r.Artifacts {
		name := a.Artifact.Name
		if name == "" {
			name = a.Artifact.Digest.String()
		}
		subjects = append(subjects, attest.Subject{Name: name, Digest: a.Artifact.Digest.Set()})
	}
	b, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	st, err := attest.NewStatement(subjects, compliance.ReportPredicateType, b)
	if err != nil {
		return "", fmt.Errorf("report statement: %w", err)
	}
	v, err := attest.SignVerified(ctx, k, st)
	if err != nil {
		return "", fmt.Errorf("sign report: %w", err)
	}
	rec, err := s.Put(ctx, v)
	if err != nil {
		return "", storeError(fmt.Errorf("store signed report: %w", err))
	}
	return rec.ID, nil
}

func writeReport(app *App, f reportFlags, r *compliance.Report) error {
	var buf bytes.Buffer
	var err error
	switch f.format {
	case "json":
		err = r.WriteJSON(&buf)
	case "html":
		err = r.WriteHTML(&buf)
	default:
		writeReportText(&buf, r)
	}
	if err != nil {
		return err
	}
	if f.out == "" {
		_, err = io.Copy(app.Stdout, &buf)
		return err
	}
	if err := os.WriteFile(f.out, buf.Bytes(), 0o644); err != nil {
		return environmentErr(fmt.Errorf("write report: %w", err))
	}
	return nil
}

// writeReportText prints the verdicts for a person.
func writeReportText(w io.Writer, r *compliance.Report) {
	if len(r.Artifacts) == 0 {
		fmt.Fprintf(w, "no artifact in scope for %s\n", r.Scope.Environment)
	}
	for _, a := range r.Artifacts {
		verdict := "DENY"
		if a.Decision.Allow {
			verdict = "ALLOW"
		}
		fmt.Fprintf(w, "%s  %s  policy: %s, SLSA Build L%d, %d evidence, %d open vulnerabilities, %d decisions recorded\n",
			a.Artifact.Digest, a.Environment, verdict, a.Decision.SLSABuildLevel, len(a.Evidence), openVulns(a), len(a.Deployments))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, fw := range a.Frameworks {
			fmt.Fprintf(tw, "  %s %s\t\t\t\n", fw.Name, fw.Version)
			for _, c := range fw.Controls {
				why := strings.Join(c.Reasons, "; ")
				if why == "" && c.Status == compliance.Satisfied {
					why = fmt.Sprintf("%d evidence", len(c.Evidence))
				}
				fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", c.ID, c.Status, c.Coverage, why)
			}
		}
		tw.Flush()
	}
	for _, h := range r.VulnerabilityHandling {
		disclosed, fixed := "disclosure date unknown", "no fixed release"
		if h.Published != nil {
			disclosed = "disclosed " + h.Published.Format(time.DateOnly)
		}
		if h.FixedIn != "" {
			fixed = "fixed in " + short(h.FixedIn, 19)
			if h.DaysToFix != nil {
				fixed += fmt.Sprintf(" after %.1f days", *h.DaysToFix)
			}
		}
		if h.VEXStatus != "" {
			fixed += ", VEX " + h.VEXStatus
		}
		fmt.Fprintf(w, "  %s: %s, %d releases affected (%d deployed), %s\n", h.ID, disclosed, len(h.Affected), len(h.DeployedAffected), fixed)
	}
}

func openVulns(a compliance.ArtifactReport) int {
	n := 0
	for _, v := range a.Vulnerabilities {
		if v.Open {
			n++
		}
	}
	return n
}

// reportDefaults fills --trust and --policy from the project configuration
// (hallmark init), as gate does, when they are not given.
func (a *App) reportDefaults(trustPath, spec *string, env string) error {
	var err error
	if *trustPath, err = a.projectTrust(*trustPath); err != nil {
		return err
	}
	*spec, err = a.projectValue(*spec, func(p *Project) string { return p.Policies[env] })
	return err
}

// reportScope reads what a report or export covers and judges with: the
// trust file and the environment's policy, the artifact named by args (none:
// every artifact with a decision in the environment), the --since/--until
// bounds, the trusted root and the local vulnerability database's
// disclosure dates. The decisions, read from a store, are left to
// withDecisions.
func (a *App) reportScope(ctx context.Context, args []string, trustPath, spec, env, sinceFlag, untilFlag string) (compliance.Request, error) {
	since, err := parseReportTime("--since", sinceFlag)
	if err != nil {
		return compliance.Request{}, err
	}
	until, err := parseReportTime("--until", untilFlag)
	if err != nil {
		return compliance.Request{}, err
	}
	var artifact policy.Artifact
	if len(args) == 1 {
		d, name, err := a.artifactDigest(ctx, args[0])
		if err != nil {
			return compliance.Request{}, err
		}
		artifact = policy.Artifact{Digest: d, Name: name}
	}
	setup, err := a.gateSetup(trustPath, "", nil, map[string]string{env: spec})
	if err != nil {
		return compliance.Request{}, err
	}
	l, err := gate.Load(ctx, setup)
	if err != nil {
		return compliance.Request{}, gateSetupError(err)
	}
	verify, err := a.verifyOptions()
	if err != nil {
		return compliance.Request{}, err
	}
	return compliance.Request{Trust: l.Trust, Policy: l.Policies[env], TEE: l.TEE, TEERefs: l.TEERefs, Environment: env,
		Artifact: artifact, Since: since, Until: until, Now: a.Now().UTC(), Requester: reportRequester, Source: reportSource,
		Published: func(r *compliance.Report) map[string]time.Time { return disclosureDates(a.vulnDBDir(""), r) }, Verify: verify}, nil
}
