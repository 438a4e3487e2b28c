package web

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/hallmark-dev/hallmark/compliance"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/tee"
)

// Compliance is what the compliance page judges an artifact with: the same
// inputs `hallmark report` uses, built in the composition root.
type Compliance struct {
	// Policies are the compiled policies by environment (the gate's).
	Policies map[string]*policy.Policy
	// TEE and TEERefs verify TEE evidence as the gate does; may be nil.
	TEE     *tee.Registry
	TEERefs *tee.ReferenceValues
	// Decisions lists the verified gate decisions about an artifact.
	Decisions compliance.DecisionLister
}

// WithCompliance enables the compliance page of each artifact
// (/artifacts/{digest}/compliance?env=E): per framework, per control, the
// verdict compliance.Generate gives, as `hallmark report` does. Without it
// the page answers 404 and the artifact page does not link to it.
func WithCompliance(c Compliance) Option {
	return func(cfg *config) error {
		if len(c.Policies) == 0 || c.Decisions == nil {
			return fmt.Errorf("%w: WithCompliance needs the environments' policies and a decision lister", ErrBadOption)
		}
		for env, p := range c.Policies {
			if p == nil {
				return fmt.Errorf("%w: WithCompliance: nil policy for environment %q", ErrBadOption, env)
			}
		}
		cfg.compliance = &c
		return nil
	}
}

// complianceBody is the compliance page.
type complianceBody struct {
	Digest       string
	Environments []string
	Selected     string
	// Report is the one artifact's report; nil until an environment is
	// chosen.
	Report *compliance.ArtifactReport
	// Mapping names the mapping version and digest judged by.
	Mapping compliance.MappingRef
	// Statuses orders the summary.
	Statuses []compliance.Status
}

// complianceLink is the page's path for an artifact and an environment.
func (d *dashboard) complianceLink(digest, env string) string {
	return d.cfg.basePath + "/artifacts/" + digest + "/compliance?env=" + url.QueryEscape(env)
}

// complianceEnvs lists the environments the page can judge for, sorted;
// nil when the page is not enabled.
func (d *dashboard) complianceEnvs() []string {
	if d.cfg.compliance == nil {
		return nil
	}
	return sortedKeys(d.cfg.compliance.Policies)
}

// complianceReport shows the per-framework, per-control verdicts on one
// artifact for one environment, judged now by compliance.Generate (a dry
// run of the gate: nothing is recorded).
func (d *dashboard) complianceReport(w http.ResponseWriter, r *http.Request) {
	c := d.cfg.compliance
	if c == nil {
		d.clientError(w, r, http.StatusNotFound, "the compliance page is not enabled on this server")
		return
	}
	dg, err := parseDigest(r.PathValue("digest"))
	if err != nil {
		d.clientError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	body := complianceBody{Digest: dg.String(), Environments: d.complianceEnvs(), Statuses: compliance.Statuses()}
	env := r.URL.Query().Get("env")
	if env == "" {
		d.render(w, r, "compliance", pageData{Title: "Compliance of " + short(dg.String()), Nav: "artifacts", Body: body})
		return
	}
	pol, ok := c.Policies[env]
	if !ok {
		d.clientError(w, r, http.StatusNotFound, fmt.Sprintf("no policy for environment %q on this server", env))
		return
	}
	body.Selected = env
	rep, _, err := compliance.Generate(r.Context(), d.st, compliance.Request{
		Trust: d.trust, Policy: pol, TEE: c.TEE, TEERefs: c.TEERefs, Environment: env,
		Artifact: policy.Artifact{Digest: dg}, Now: d.cfg.now(), Decisions: c.Decisions,
		Requester: "hallmark dashboard", Source: "web", Verify: d.cfg.verify,
	})
	if err != nil {
		d.serverError(w, r, err)
		return
	}
	body.Mapping = rep.Mapping
	if len(rep.Artifacts) == 1 {
		body.Report = &rep.Artifacts[0]
	}
	d.render(w, r, "compliance", pageData{Title: "Compliance of " + short(dg.String()) + " for " + env, Nav: "artifacts", Body: body})
}
