package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/admission"
	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/impact"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
)

// Handler returns the service's HTTP handler: the API, the admission
// endpoints, metrics, health and (if configured) the dashboard, wrapped in
// logging, metrics, request timeouts and cross-origin protection.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, need Role, h http.HandlerFunc) {
		mux.Handle(pattern, s.instrument(pattern, s.authorize(need, h)))
	}
	mux.Handle("GET /healthz", s.instrument("GET /healthz", http.HandlerFunc(s.health)))
	mux.Handle("GET /livez", s.instrument("GET /livez", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// The process answers; /healthz adds the store. A liveness probe on
		// the store would restart every replica during a database outage.
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})))
	mux.Handle("GET /metrics", s.instrument("GET /metrics", s.authorize(RoleReader, s.serveMetrics)))
	route("POST /v1/bundles", RoleUploader, s.upload)
	route("GET /v1/evidence", RoleReader, s.listEvidence)
	route("GET /v1/evidence/{id}", RoleReader, s.getEvidence)
	route("POST /v1/gate", RoleUploader, s.evaluate)
	route("GET /v1/deployments", RoleReader, s.deployments)
	route("GET /v1/deployed", RoleReader, s.deployed)
	route("GET /v1/deployments/{id}/vsa", RoleReader, s.decisionVSA)
	route("POST /v1/recheck", RoleAdmin, s.recheck)
	mux.Handle("POST /admission/validate", s.instrument("POST /admission/validate", s.authorizeAdmission(s.webhook.ServeHTTP)))
	mux.Handle("POST /admission/mutate", s.instrument("POST /admission/mutate", s.authorizeAdmission(s.webhook.Mutator().ServeHTTP)))
	// One webhook registration per environment selects namespaces by their
	// live labels and calls that environment's path (deploy/kubernetes).
	mux.Handle("POST /admission/validate/{environment}", s.instrument("POST /admission/validate/{environment}", s.authorizeAdmission(func(w http.ResponseWriter, r *http.Request) {
		s.webhook.ValidatorFor(r.PathValue("environment")).ServeHTTP(w, r)
	})))
	mux.Handle("POST /admission/mutate/{environment}", s.instrument("POST /admission/mutate/{environment}", s.authorizeAdmission(func(w http.ResponseWriter, r *http.Request) {
		s.webhook.MutatorFor(r.PathValue("environment")).ServeHTTP(w, r)
	})))
	if s.dashboard != nil {
		mux.Handle("/ui/", s.instrument("dashboard", s.authorize(RoleReader, s.dashboard.ServeHTTP)))
	}
	s.mount(mux)
	return http.NewCrossOriginProtection().Handler(s.timeout(mux))
}

// timeout bounds every request's context.
func (s *Server) timeout(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Limits.RequestTimeout)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument logs each request and counts it under its route pattern.
func (s *Server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		d := s.now().Sub(start)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.metrics.inc("hallmark_http_requests_total", "route", route, "code", strconv.Itoa(sw.status))
		s.metrics.observe("hallmark_http_request_duration_seconds", d, "route", route)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		s.logger.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration_ms", float64(d.Microseconds())/1000, "remote", r.RemoteAddr)
	})
}

type principalKey struct{}

// authorize checks the bearer token against the role an endpoint needs.
// An empty need admits anyone; reads admit anyone when reads are open.
func (s *Server) authorize(need Role, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok, bad := s.tokens.authenticate(r)
		if bad {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "invalid bearer token")
			return
		}
		open := need == "" || (need == RoleReader && s.cfg.Auth.OpenReads)
		if !open {
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="hallmark"`)
				writeError(w, http.StatusUnauthorized, fmt.Sprintf("authentication required: send Authorization: Bearer TOKEN for a token with role %s", need))
				return
			}
			if !p.role.may(need) {
				writeError(w, http.StatusForbidden, fmt.Sprintf("token %q has role %s; this needs %s", p.name, p.role, need))
				return
			}
		}
		if ok {
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		h(w, r)
	})
}

// authorizeAdmission admits callers of the admission endpoints: a client
// certificate that verified against auth.admissionClientCA, or, with
// auth.admissionToken, a bearer token with the uploader or admin role, or
// anyone with auth.insecureAnonymousAdmission. Each review the gate
// decides is recorded (its digest, namespace, environment and requester
// come from the caller), so the endpoints are writes: auth.openReads, which
// opens reads only, never admits a review, and a reader token is refused.
func (s *Server) authorizeAdmission(h http.HandlerFunc) http.Handler {
	a := s.cfg.Auth
	if a.InsecureAnonymousAdmission {
		return s.authorize("", h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.AdmissionClientCA != "" && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
			h(w, r)
			return
		}
		if !a.AdmissionToken {
			writeError(w, http.StatusUnauthorized, "admission reviews need a client certificate issued by the CA in auth.admissionClientCA")
			return
		}
		p, ok, bad := s.tokens.authenticate(r)
		switch {
		case bad:
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "invalid bearer token")
		case !ok:
			w.Header().Set("WWW-Authenticate", `Bearer realm="hallmark"`)
			writeError(w, http.StatusUnauthorized, fmt.Sprintf("admission reviews are recorded: send a client certificate or Authorization: Bearer TOKEN for a token with role %s", RoleUploader))
		case !p.role.may(RoleUploader):
			writeError(w, http.StatusForbidden, fmt.Sprintf("token %q has role %s; admission reviews are recorded and need %s", p.name, p.role, RoleUploader))
		default:
			h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
		}
	})
}

func principalOf(r *http.Request) string {
	if p, ok := r.Context().Value(principalKey{}).(principal); ok {
		return p.name
	}
	return ""
}

// apiError is the JSON body of every error answer.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.store.List(ctx, store.Query{Limit: 1}); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "store: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.metrics.write(w)
}

// upload verifies a bundle against the trust file and stores it. The answer
// is sent only after the store acknowledged a durable write.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	max := s.cfg.Limits.MaxUploadBytes
	if r.ContentLength > max {
		s.metrics.inc("hallmark_uploads_total", "result", "too_large")
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("bundle of %d bytes is larger than the %d-byte limit", r.ContentLength, max))
		return
	}
	raw, err := limits.ReadAll(http.MaxBytesReader(w, r.Body, max+1), max, "uploaded bundle")
	if err != nil {
		if errors.Is(err, limits.ErrTooLarge) {
			s.metrics.inc("hallmark_uploads_total", "result", "too_large")
			writeError(w, http.StatusRequestEntityTooLarge, err.Error())
			return
		}
		s.metrics.inc("hallmark_uploads_total", "result", "rejected")
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	v, err := attest.Verify(r.Context(), raw, s.trust.All(), append([]attest.VerifyOption{attest.WithInputName("uploaded bundle")}, s.verifyOpts...)...)
	if err != nil {
		s.metrics.inc("hallmark_uploads_total", "result", "rejected")
		against := "the server's trust file"
		if errors.Is(err, attest.ErrTransparency) {
			against = "the server's trusted root (transparency log entries and timestamps)"
		}
		writeError(w, http.StatusUnprocessableEntity, "bundle does not verify against "+against+", not stored: "+err.Error())
		return
	}
	// VSAs and deployment decisions are the gate's own records: listings and
	// recheck treat them as what the gate decided, so only a gate-role key
	// may sign one.
	if err := gate.CheckRecordSigner(v, s.trust); err != nil {
		s.metrics.inc("hallmark_uploads_total", "result", "rejected")
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("a %s bundle must be signed by a key with the trust file's %q role, not stored: %v", v.PredicateType, trust.RoleGate, err))
		return
	}
	rec, err := s.store.Put(r.Context(), v)
	if err == nil {
		// Verified against the same trust file the gate uses: its first
		// evaluation of this evidence need not verify it again.
		s.gate.Remember(v)
	}
	if err != nil {
		s.metrics.inc("hallmark_uploads_total", "result", "error")
		s.logger.Warn("store upload failed", "id", v.ID, "error", err)
		writeError(w, http.StatusServiceUnavailable, "could not store the bundle (retry): "+err.Error())
		return
	}
	s.metrics.inc("hallmark_uploads_total", "result", "stored")
	s.logger.Info("bundle stored", "id", rec.ID, "type", rec.PredicateType, "by", principalOf(r))
	writeJSON(w, http.StatusCreated, rec)
}

// MaxListLimit bounds one evidence listing.
const MaxListLimit = 10_000

// DefaultListLimit is how many records an evidence listing without a limit
// returns.
const DefaultListLimit = 1000

// digestParam reads the query parameter name, when given, into d; a
// malformed digest is answered with 400 and false.
func digestParam(w http.ResponseWriter, q url.Values, name string, d *digest.Digest) bool {
	v := q.Get(name)
	if v == "" {
		return true
	}
	p, err := digest.Parse(v)
	if err != nil {
		writeError(w, http.StatusBadRequest, name+": "+err.Error())
		return false
	}
	*d = p
	return true
}

// limitParam reads ?limit= (1..MaxListLimit) into n when given, and
// answers a bad one itself.
func limitParam(w http.ResponseWriter, q url.Values, n *int) bool {
	v := q.Get("limit")
	if v == "" {
		return true
	}
	l, err := strconv.Atoi(v)
	if err != nil || l < 1 || l > MaxListLimit {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit=%q: want 1..%d", v, MaxListLimit))
		return false
	}
	*n = l
	return true
}

func (s *Server) listEvidence(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sq := store.Query{PredicateType: q.Get("type"), Signer: q.Get("signer"), Limit: DefaultListLimit}
	if !digestParam(w, q, "subject", &sq.Subject) {
		return
	}
	for name, t := range map[string]*time.Time{"since": &sq.Since, "until": &sq.Until} {
		if v := q.Get(name); v != "" {
			p, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("%s=%q: want an RFC 3339 time", name, v))
				return
			}
			*t = p
		}
	}
	if !limitParam(w, q, &sq.Limit) {
		return
	}
	recs, err := s.store.List(r.Context(), sq)
	if err != nil {
		if errors.Is(err, store.ErrBadQuery) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeError(w, http.StatusServiceUnavailable, "store: "+err.Error())
		return
	}
	if recs == nil {
		recs = []store.Record{}
	}
	writeJSON(w, http.StatusOK, recs)
}

// Evidence is one record with its bundle, as GET /v1/evidence/{id} answers.
type Evidence struct {
	store.Record
	// Bundle is the stored bundle (a JSON document).
	Bundle json.RawMessage `json:"bundle"`
}

func (s *Server) getEvidence(w http.ResponseWriter, r *http.Request) {
	id := pathID(r)
	rec, err := s.store.Get(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no evidence "+id)
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "store: "+err.Error())
		return
	}
	if r.URL.Query().Get("format") == "bundle" {
		w.Header().Set("Content-Type", "application/json")
		w.Write(rec.Bundle)
		return
	}
	writeJSON(w, http.StatusOK, Evidence{Record: rec, Bundle: rec.Bundle})
}

// decisionVSA answers GET /v1/deployments/{id}/vsa: the signed VSA bundle
// of a recorded deployment decision (gate.VSAIssuer), derived and signed
// with the gate's key when the decision was recorded without one, as
// admission reviews are.
func (s *Server) decisionVSA(w http.ResponseWriter, r *http.Request) {
	v, err := s.gate.VSAIssuer().Issue(r.Context(), pathID(r))
	if err != nil {
		code := http.StatusUnprocessableEntity
		if errors.Is(err, store.ErrNotFound) {
			code = http.StatusNotFound
		} else if errors.Is(err, gate.ErrNotDecision) {
			code = http.StatusBadRequest
		}
		writeError(w, code, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(v.Raw)
}

// pathID is the record ID in the path, "sha256:" prefixed when bare.
func pathID(r *http.Request) string {
	if id := r.PathValue("id"); !strings.Contains(id, ":") {
		return "sha256:" + id
	}
	return r.PathValue("id")
}

// RecheckRequest is the (optional) body of POST /v1/recheck.
type RecheckRequest struct {
	// Environments limits the recheck; empty means every environment.
	Environments []string `json:"environments,omitempty"`
	// Requester is recorded in the recheck decisions.
	Requester string `json:"requester,omitempty"`
	// Incremental rechecks only the deployed artifacts that the vulnDB
	// imports since the last recheck (or Since) touched, as
	// `hallmark recheck --incremental` does (impact.Selector).
	Incremental bool `json:"incremental,omitempty"`
	// Since, with Incremental, counts database changes after this time
	// instead of the last recheck.
	Since *time.Time `json:"since,omitempty"`
}

// RecheckAnswer is the answer of POST /v1/recheck.
type RecheckAnswer struct {
	// Rechecked lists every deployed artifact and today's verdict.
	Rechecked []gate.Recheck `json:"rechecked"`
	// Ignored lists stored decisions that did not count.
	Ignored []gate.IgnoredDecision `json:"ignored"`
	// Incremental says, for an incremental recheck, what changed and
	// which artifacts it touched.
	Incremental *impact.Result `json:"incremental,omitempty"`
	// Deployed, for an incremental recheck, is how many deployed
	// artifacts it chose among.
	Deployed int `json:"deployed,omitempty"`
}

// recheck re-evaluates what is deployed (gate.RecheckSelected, all of it or
// the incremental selection of impact.Selector) and records the
// verdicts, so it needs the admin role.
func (s *Server) recheck(w http.ResponseWriter, r *http.Request) {
	var req RecheckRequest
	if !decodeRequest(w, r, "recheck request", &req, true) {
		return
	}
	for _, env := range req.Environments {
		if s.gate.PolicyDigest(env) == "" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("no policy for environment %q (have %s)", env, strings.Join(s.gate.Environments(), ", ")))
			return
		}
	}
	if req.Since != nil && !req.Incremental {
		writeError(w, http.StatusBadRequest, "recheck request: since goes with incremental")
		return
	}
	var (
		sel      gate.Selector
		picked   *impact.Result
		deployed int
	)
	if req.Incremental {
		if s.cfg.VulnDB == "" {
			writeError(w, http.StatusBadRequest, "incremental recheck: the server configuration names no vulnDB")
			return
		}
		db, err := osvdb.Open(s.cfg.VulnDB)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "incremental recheck reads the database's change log: "+err.Error())
			return
		}
		defer db.Close()
		var since time.Time
		if req.Since != nil {
			since = *req.Since
		}
		if sel, err = impact.Selector(r.Context(), s.store, s.trust, db, since, req.Environments, func(res *impact.Result, n int) { picked, deployed = res, n }); err != nil {
			writeError(w, http.StatusServiceUnavailable, "incremental recheck: "+err.Error())
			return
		}
	}
	requester := strings.TrimSpace(principalOf(r) + " " + cmp.Or(req.Requester, "recheck"))
	rs, ignored, err := s.gate.RecheckSelected(r.Context(), requester, sel, req.Environments...)
	for _, rc := range rs {
		var failed error
		if rc.Error != "" {
			failed = errors.New(rc.Error)
		}
		s.metrics.decision(gate.RecheckSource, rc.Allowed, failed)
	}
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "recheck: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, RecheckAnswer{Rechecked: nonNilSlice(rs), Ignored: nonNilSlice(ignored), Incremental: picked, Deployed: deployed})
}

// decodeRequest reads a JSON request body of at most 64 KiB into v,
// refusing unknown fields; an empty body leaves v as it is when optional.
// It answers a bad request itself and says whether to go on.
func decodeRequest(w http.ResponseWriter, r *http.Request, what string, v any, optional bool) bool {
	body, err := limits.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10), 64<<10, what)
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
		return false
	}
	if optional && len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, what+": "+err.Error())
		return false
	}
	return true
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// GateRequest is the body of POST /v1/gate.
type GateRequest struct {
	Digest      digest.Digest `json:"digest"`
	Name        string        `json:"name,omitempty"`
	Environment string        `json:"environment"`
	Requester   string        `json:"requester,omitempty"`
}

// GateAnswer is the answer of POST /v1/gate.
type GateAnswer struct {
	Allowed      bool               `json:"allowed"`
	Digest       digest.Digest      `json:"digest"`
	Environment  string             `json:"environment"`
	Violations   []policy.Violation `json:"violations"`
	PolicyURI    string             `json:"policyUri,omitempty"`
	PolicyDigest string             `json:"policyDigest,omitempty"`
	Decision     string             `json:"decision,omitempty"`
	VSA          string             `json:"vsa,omitempty"`
	// Ignored lists evidence that did not count, with the reason.
	Ignored []policy.Ignored `json:"ignored"`
	// Error is set when the gate failed closed.
	Error string `json:"error,omitempty"`
}

func (s *Server) evaluate(w http.ResponseWriter, r *http.Request) {
	var req GateRequest
	if !decodeRequest(w, r, "gate request", &req, false) {
		return
	}
	requester := req.Requester
	if p := principalOf(r); p != "" {
		requester = strings.TrimSpace(p + " " + requester)
	}
	res, err := s.gate.Evaluate(r.Context(), gate.Request{Artifact: policy.Artifact{Digest: req.Digest, Name: req.Name},
		Environment: req.Environment, Requester: requester, Source: "api", VSA: true})
	if errors.Is(err, gate.ErrBadDigest) || errors.Is(err, gate.ErrUnknownEnvironment) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ans := GateAnswer{Digest: req.Digest, Environment: req.Environment, Violations: []policy.Violation{}, Ignored: []policy.Ignored{}}
	if res != nil {
		ans.Allowed = res.Decision.Allow && err == nil
		ans.Violations = append(ans.Violations, res.Decision.Violations...)
		ans.Ignored = append(ans.Ignored, res.Input.Ignored...)
		ans.PolicyURI, ans.PolicyDigest = res.Decision.PolicyURI, res.Decision.PolicyDigest
		ans.Decision, ans.VSA = res.Record.ID, res.VSA.ID
	}
	if err != nil {
		ans.Allowed = false
		ans.Error = "gate failed closed (deny): " + err.Error()
	}
	s.metrics.decision("api", ans.Allowed, err)
	writeJSON(w, http.StatusOK, ans)
}

// DefaultDeploymentsLimit is how many decisions GET /v1/deployments
// returns without a limit parameter.
const DefaultDeploymentsLimit = 1000

// IgnoredDecisionsHeader is the response header of GET /v1/deployments that
// counts the stored decision records left out because they did not verify
// against the trust file or no gate-role key signed them.
const IgnoredDecisionsHeader = "Hallmark-Ignored-Decisions"

func (s *Server) deployments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dq := gate.DeploymentQuery{Environment: q.Get("env"), Limit: DefaultDeploymentsLimit}
	if !digestParam(w, q, "artifact", &dq.Artifact) {
		return
	}
	if !limitParam(w, q, &dq.Limit) {
		return
	}
	ds, ignored, err := gate.Deployments(r.Context(), s.store, s.trust, dq)
	if err != nil {
		if errors.Is(err, store.ErrBadQuery) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	for _, ig := range ignored {
		s.logger.Warn("stored decision ignored", "id", ig.ID, "reason", ig.Reason)
	}
	w.Header().Set(IgnoredDecisionsHeader, strconv.Itoa(len(ignored)))
	writeJSON(w, http.StatusOK, ds)
}

// DeployedAnswer is the answer of GET /v1/deployed.
type DeployedAnswer struct {
	// Running lists what admission reviews allowed where (gate.Deployed).
	Running []gate.Running `json:"running"`
	// Ignored lists stored decisions that did not count.
	Ignored []gate.IgnoredDecision `json:"ignored"`
}

// deployed lists what is recorded as deployed, what a recheck rechecks.
func (s *Server) deployed(w http.ResponseWriter, r *http.Request) {
	env := r.URL.Query().Get("env")
	rs, ignored, err := gate.Deployed(r.Context(), s.store, s.trust)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if env != "" {
		rs = slices.DeleteFunc(rs, func(x gate.Running) bool { return x.Environment != env })
	}
	w.Header().Set(IgnoredDecisionsHeader, strconv.Itoa(len(ignored)))
	writeJSON(w, http.StatusOK, DeployedAnswer{Running: nonNilSlice(rs), Ignored: nonNilSlice(ignored)})
}

// gateDecider answers the admission webhook with the gate, counting each
// evaluation in m.
type gateDecider struct {
	g *gate.Gate
	m *metrics
}

var _ admission.Decider = gateDecider{}

func (d gateDecider) Decide(ctx context.Context, r admission.Request) (admission.Verdict, error) {
	requester := r.Requester
	if requester == "" {
		requester = "kubernetes"
	}
	// The review's userInfo is the caller's word: with a token, record
	// whose token sent it too, as POST /v1/gate does.
	if p, ok := ctx.Value(principalKey{}).(principal); ok {
		requester = p.name + " " + requester
	}
	source := gate.AdmissionSource
	if r.DryRun {
		source = "admission_dry_run"
	}
	// One signed record per review, the decision: the VSA of any recorded
	// decision is issued on request (GET /v1/deployments/{id}/vsa).
	res, err := d.g.Evaluate(ctx, gate.Request{
		Artifact:    policy.Artifact{Digest: r.Digest, Name: r.Image},
		Environment: r.Environment,
		Requester:   fmt.Sprintf("%s (%s %s/%s)", requester, r.Kind, r.Namespace, r.Name),
		Source:      gate.AdmissionSource,
		Workload:    &gate.Workload{Namespace: r.Namespace, Kind: r.Kind, Name: r.Name, Review: r.UID},
		DryRun:      r.DryRun,
	})
	d.m.decision(source, err == nil && res.Decision.Allow, err)
	if err != nil {
		return admission.Verdict{}, err
	}
	v := admission.Verdict{Allowed: res.Decision.Allow}
	for _, viol := range res.Decision.Violations {
		v.Reasons = append(v.Reasons, fmt.Sprintf("[%s] %s", viol.RuleID, viol.Message))
	}
	return v, nil
}

func (d gateDecider) PolicyVersion(env string) string { return d.g.PolicyDigest(env) }
