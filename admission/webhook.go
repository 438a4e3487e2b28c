package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kjson "sigs.k8s.io/json"

	"github.com/hallmark-dev/hallmark/digest"
)

// Defaults for New.
const (
	// DefaultBudget is how long a review may take. The API server's webhook
	// timeout (timeoutSeconds, 10 s by default) must be longer.
	DefaultBudget = 3 * time.Second
	// DefaultMaxBodyBytes bounds an AdmissionReview request body. The API
	// server's own request limit is 3 MiB; a review wraps one object.
	DefaultMaxBodyBytes = 3 << 20
	// MaxImages bounds the distinct images of one object.
	MaxImages = 256
	// maxConcurrentDecisions bounds the digests of one review decided at once.
	maxConcurrentDecisions = 8
	// maxMessage bounds the denial message.
	maxMessage = 4096
)

// APIVersion and Kind of the reviews this package answers.
const (
	APIVersion = "admission.k8s.io/v1"
	Kind       = "AdmissionReview"
)

// Request asks the Decider about one image digest.
type Request struct {
	// Digest is the image's sha256 digest.
	Digest digest.Digest
	// Image is the reference as written in the object.
	Image string
	// Environment is the namespace's environment.
	Environment string
	// Namespace, Kind and Name identify the object.
	Namespace, Kind, Name string
	// UID is the review's request.uid: the digests of one review share it.
	UID string
	// Requester is the Kubernetes user who made the request.
	Requester string
	// DryRun is true for a review of a request that will not be persisted
	// (request.dryRun: kubectl apply --dry-run=server, kubectl diff). The
	// Decider must answer as it would for a real review, so the user sees
	// the real verdict, but record nothing: nothing is deployed. The
	// webhook configurations declare sideEffects: NoneOnDryRun on this
	// promise.
	DryRun bool
}

// Verdict is a Decider's answer.
type Verdict struct {
	Allowed bool
	// Reasons say why not, one line each.
	Reasons []string
}

// Decider decides whether a digest may run in an environment. The gate
// implements it in internal/server; it records every decision it makes,
// except a dry run's.
type Decider interface {
	// Decide evaluates one digest. An error denies.
	Decide(ctx context.Context, req Request) (Verdict, error)
	// PolicyVersion identifies the policy of an environment (its digest),
	// so cached allows are forgotten when the policy changes.
	PolicyVersion(environment string) string
}

// Resolver resolves an image reference written by tag to the digest of
// the manifest the tag names now (oci.Resolver implements it). It is
// called within the review's budget; it should cache briefly, since a
// burst of pods often names one tag.
type Resolver interface {
	// Resolve returns "sha256:<hex>" for image. An error denies the image.
	Resolve(ctx context.Context, image string) (string, error)
}

// Outcome describes one answered review, for metrics.
type Outcome struct {
	// Allowed is the answer.
	Allowed bool
	// Cached is true when every digest was answered from the cache.
	Cached bool
	// Mutating is true for an answer of the mutating endpoint.
	Mutating bool
	// Pinned counts the images a mutating answer pins by digest.
	Pinned int
	// Status is the HTTP status sent.
	Status int
	// Reason is a short machine-friendly cause: "allowed", "denied",
	// "malformed", "too_large", "tag_only", "unresolved", "timeout",
	// "error", "no_environment", "skipped".
	Reason string
}

// Webhook answers AdmissionReview requests. It is safe for concurrent use.
type Webhook struct {
	decider Decider
	envs    Environments
	cfg     config
	// evaluations holds a token per gate evaluation in flight; nil when
	// unbounded (see WithMaxEvaluations).
	evaluations chan struct{}
	// workers run the reviews' decisions, within the budget's reach.
	workers *workers
}

// patchOp is one RFC 6902 operation.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value string `json:"value"`
}

// Option configures New.
type Option func(*config) error

type config struct {
	budget         time.Duration
	maxBody        int64
	cache          *Cache
	resolver       Resolver
	logger         *slog.Logger
	observer       func(Outcome, time.Duration)
	now            func() time.Time
	maxEvaluations int
}

// WithMaxEvaluations bounds the gate evaluations in flight across all
// reviews. A review that would exceed it is denied at once (the gate fails
// closed; the API server retries), instead of queueing until its budget
// runs out: under overload the server answers quickly and its memory stays
// bounded. 0 (the default) sets no bound.
func WithMaxEvaluations(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("admission.WithMaxEvaluations: %d is negative", n)
		}
		c.maxEvaluations = n
		return nil
	}
}

// WithBudget sets how long one review may take before it is denied. Keep
// it below the webhook's timeoutSeconds.
func WithBudget(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("admission.WithBudget: %v is not positive", d)
		}
		c.budget = d
		return nil
	}
}

// WithMaxBodyBytes bounds the request body.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("admission.WithMaxBodyBytes: %d is not positive", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithCache caches allow decisions.
func WithCache(cache *Cache) Option {
	return func(c *config) error { c.cache = cache; return nil }
}

// WithResolver lets images referenced by tag only be admitted: each tag is
// resolved to a digest (within the budget) and the Decider is asked about
// that digest; a tag that does not resolve denies. Without a resolver a
// tag-only image is denied. The allow cache remembers digests only, never
// tags: how long a tag's digest is reused is the resolver's business.
func WithResolver(r Resolver) Option {
	return func(c *config) error {
		if r == nil {
			return errors.New("admission.WithResolver: nil Resolver")
		}
		c.resolver = r
		return nil
	}
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithObserver is called once per review with its outcome and duration.
func WithObserver(f func(Outcome, time.Duration)) Option {
	return func(c *config) error { c.observer = f; return nil }
}

// WithClock sets the clock used to measure durations.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { c.now = now; return nil }
}

// New returns a webhook asking d about the images of each object.
func New(d Decider, envs Environments, opts ...Option) (*Webhook, error) {
	if d == nil {
		return nil, errors.New("admission.New: nil Decider")
	}
	cfg := config{budget: DefaultBudget, maxBody: DefaultMaxBodyBytes, logger: slog.New(slog.DiscardHandler), now: time.Now}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	w := &Webhook{decider: d, envs: envs, cfg: cfg, workers: newWorkers(10 * time.Second)}
	if cfg.maxEvaluations > 0 {
		w.evaluations = make(chan struct{}, cfg.maxEvaluations)
	}
	return w, nil
}

// errorBody is the JSON body of a non-200 answer.
type errorBody struct {
	Error string `json:"error"`
}

// ServeHTTP answers a validating review: POST with an AdmissionReview body.
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.serve(rw, r, w.Review)
}

// Mutator returns the handler for the mutating endpoint.
func (w *Webhook) Mutator() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { w.serve(rw, r, w.Mutate) })
}

// ValidatorFor returns the validating handler for reviews the API server
// sends on environment env's path: a webhook registration whose
// namespaceSelector picks the namespaces labelled with env. An explicit
// namespace mapping in Environments still wins.
func (w *Webhook) ValidatorFor(env string) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.serve(rw, r, func(ctx context.Context, body []byte) (int, []byte) { return w.answer(ctx, body, false, env) })
	})
}

// MutatorFor is ValidatorFor for the mutating endpoint.
func (w *Webhook) MutatorFor(env string) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.serve(rw, r, func(ctx context.Context, body []byte) (int, []byte) { return w.answer(ctx, body, true, env) })
	})
}

func (w *Webhook) serve(rw http.ResponseWriter, r *http.Request, review func(context.Context, []byte) (int, []byte)) {
	rw.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		rw.WriteHeader(http.StatusMethodNotAllowed)
		json.NewEncoder(rw).Encode(errorBody{"admission reviews are POSTed"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, w.cfg.maxBody+1))
	if err != nil {
		w.observe(Outcome{Status: http.StatusBadRequest, Reason: "malformed"}, 0)
		rw.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(rw).Encode(errorBody{"read request body: " + err.Error()})
		return
	}
	status, out := review(r.Context(), body)
	rw.WriteHeader(status)
	rw.Write(out)
}

func (w *Webhook) observe(o Outcome, d time.Duration) {
	if w.cfg.observer != nil {
		w.cfg.observer(o, d)
	}
}

// Review answers one validating AdmissionReview body. It returns the HTTP
// status and body: 200 with an AdmissionReview response whenever the
// request's UID can be read (allowed only if every image passed), 4xx with
// a JSON error otherwise.
func (w *Webhook) Review(ctx context.Context, body []byte) (int, []byte) {
	return w.answer(ctx, body, false, "")
}

// Mutate answers one mutating AdmissionReview body. When the object has
// images referenced by tag only, it resolves them and decides about every
// image of the object exactly as Review does; if all are allowed it answers
// with a JSONPatch replacing each tag-only image by "REF@sha256:<hex>" (the
// tag is kept for readers, the digest decides what runs), otherwise it
// denies with the same reasons, so it never pins a digest the gate refused.
// An object whose images all carry digests is allowed without a patch and
// without asking the Decider: there is nothing to pin, and the validating
// webhook decides.
func (w *Webhook) Mutate(ctx context.Context, body []byte) (int, []byte) {
	return w.answer(ctx, body, true, "")
}

// answer reviews body and reports the outcome; env is the environment the
// request's path selected, or "".
func (w *Webhook) answer(ctx context.Context, body []byte, mutate bool, env string) (int, []byte) {
	start := w.cfg.now()
	a := w.review(ctx, body, mutate, env)
	a.outcome.Status = a.status
	a.outcome.Mutating = mutate
	w.observe(a.outcome, w.cfg.now().Sub(start))
	return a.status, a.body
}

func (w *Webhook) review(ctx context.Context, body []byte, mutate bool, selected string) answer {
	if int64(len(body)) > w.cfg.maxBody {
		return answer{http.StatusRequestEntityTooLarge, errJSON(fmt.Sprintf("admission review larger than %d bytes", w.cfg.maxBody)), Outcome{Reason: "too_large"}}
	}
	var ar admissionv1.AdmissionReview
	// Read as the API server writes it: field names match exactly
	// ("Operation" is not "operation") and a field given twice is
	// malformed, so no reader of the review sees another request.
	strictErrs, err := kjson.UnmarshalStrict(body, &ar, kjson.DisallowDuplicateFields)
	if err == nil && len(strictErrs) > 0 {
		err = errors.Join(strictErrs...)
	}
	if err != nil {
		if uid := readUID(body); uid != "" {
			return deny(uid, fmt.Sprintf("malformed AdmissionReview: %v", err)).with(Outcome{Reason: "malformed"})
		}
		return answer{http.StatusBadRequest, errJSON("malformed AdmissionReview: " + err.Error()), Outcome{Reason: "malformed"}}
	}
	if ar.Request == nil || ar.Request.UID == "" {
		return answer{http.StatusBadRequest, errJSON("AdmissionReview has no request.uid"), Outcome{Reason: "malformed"}}
	}
	req := ar.Request
	uid := string(req.UID)
	if ar.APIVersion != APIVersion || ar.Kind != Kind {
		return deny(uid, fmt.Sprintf("AdmissionReview apiVersion %q kind %q: want %s %s", ar.APIVersion, ar.Kind, APIVersion, Kind)).with(Outcome{Reason: "malformed"})
	}
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update:
	case admissionv1.Delete, admissionv1.Connect:
		// Nothing new runs: no image to decide.
		return respond(&admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}).with(Outcome{Allowed: true, Reason: "skipped"})
	default:
		// A missing, unknown or lower-case operation is no request the API
		// server sends: deny rather than guess what it would do.
		return deny(uid, fmt.Sprintf("malformed AdmissionReview: operation %q (want CREATE, UPDATE, DELETE or CONNECT)", req.Operation)).with(Outcome{Reason: "malformed"})
	}
	// The main resource and a Pod's ephemeralcontainers carry the images
	// that will run; no other subresource is registered (deploy/kubernetes)
	// and none is guessed at.
	if req.SubResource != "" && (req.SubResource != "ephemeralcontainers" || req.Kind.Kind != "Pod") {
		return deny(uid, fmt.Sprintf("%v: subresource %q of %s is not reviewed (register the webhook for the resources and pods/ephemeralcontainers only)", ErrUnsupportedKind, req.SubResource, req.Kind.Kind)).with(Outcome{Reason: "malformed"})
	}
	if want, ok := kindGroups[req.Kind.Kind]; ok && req.Kind.Group != want {
		return deny(uid, fmt.Sprintf("%v %s in API group %q (want %q)", ErrUnsupportedKind, req.Kind.Kind, req.Kind.Group, want)).with(Outcome{Reason: "malformed"})
	}
	images, err := Images(req.Kind.Kind, req.Object.Raw)
	if err != nil {
		return deny(uid, fmt.Sprintf("%s %s/%s: %v", req.Kind.Kind, req.Namespace, req.Name, err)).with(Outcome{Reason: "malformed"})
	}
	// Images pinned by digest are decided as written; tag-only images are
	// resolved first, when a resolver is configured.
	var problems []string
	var tagged []Image
	distinct := map[string]bool{}
	for _, img := range images {
		d, err := Digest(img.Ref)
		switch {
		case err == nil:
			distinct[d.String()] = true
		case w.cfg.resolver != nil && errors.Is(err, ErrNotDigest):
			tagged = append(tagged, img)
			distinct[img.Ref] = true
		default:
			problems = append(problems, fmt.Sprintf("%s %q: %v", img.Field, img.Container, err))
		}
	}
	if len(problems) > 0 {
		return deny(uid, "denied: "+strings.Join(problems, "; ")).with(Outcome{Reason: "tag_only"})
	}
	if mutate && len(tagged) == 0 {
		return respond(&admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}).with(Outcome{Allowed: true, Reason: "skipped"})
	}
	if len(distinct) > MaxImages {
		return deny(uid, fmt.Sprintf("denied: %d distinct images (at most %d)", len(distinct), MaxImages)).with(Outcome{Reason: "malformed"})
	}
	env, err := w.envs.For(req.Namespace, selected)
	if err != nil {
		return deny(uid, fmt.Sprintf("namespace %q: %v (label it for an environment's webhook, or map it in the server configuration's admission.namespaces or namespaceLabels)", req.Namespace, err)).with(Outcome{Reason: "no_environment"})
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.budget)
	defer cancel()
	type result struct {
		problems []string
		resolved map[string]digest.Digest // tag-only ref -> digest
		reason   string                   // of a denial
		cached   bool
	}
	done := make(chan result, 1)
	pending := &inFlight{refs: map[string]bool{}}
	w.workers.run(func() {
		resolved, problems := w.resolve(ctx, tagged, pending)
		if len(problems) > 0 {
			done <- result{problems: problems, reason: "unresolved"}
			return
		}
		problems, cached, failed := w.decide(ctx, req, env, images, resolved)
		r := result{problems: problems, resolved: resolved, cached: cached, reason: "denied"}
		if failed {
			r.reason = "error"
		}
		done <- r
	})
	select {
	case <-ctx.Done():
		w.cfg.logger.Warn("admission review over budget; denying", "uid", uid, "namespace", req.Namespace, "kind", req.Kind.Kind, "name", req.Name, "budget", w.cfg.budget)
		msg := fmt.Sprintf("denied: no decision within %v (the gate fails closed)", w.cfg.budget)
		if refs := pending.list(); len(refs) > 0 {
			msg += "; still resolving " + strings.Join(refs, ", ")
		}
		return deny(uid, msg).with(Outcome{Reason: "timeout"})
	case r := <-done:
		if len(r.problems) > 0 {
			w.cfg.logger.Info("admission denied", "uid", uid, "namespace", req.Namespace, "kind", req.Kind.Kind, "name", req.Name, "environment", env, "reason", r.reason)
			return deny(uid, "denied: "+strings.Join(r.problems, "; ")).with(Outcome{Reason: r.reason})
		}
		resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
		out := Outcome{Allowed: true, Cached: r.cached, Reason: "allowed"}
		if mutate {
			ops := make([]patchOp, 0, len(tagged))
			for _, img := range tagged {
				ops = append(ops, patchOp{Op: "replace", Path: img.Path, Value: img.Ref + "@" + r.resolved[img.Ref].String()})
			}
			patch, err := json.Marshal(ops)
			if err != nil {
				return deny(uid, "encode patch: "+err.Error()).with(Outcome{Reason: "error"})
			}
			pt := admissionv1.PatchTypeJSONPatch
			resp.Patch, resp.PatchType = patch, &pt
			resp.Warnings = []string{fmt.Sprintf("hallmark: pinned %d image(s) referenced by tag to the digests the gate allowed", len(ops))}
			out.Pinned = len(ops)
		}
		return respond(resp).with(out)
	}
}

// inFlight is the set of references being resolved, for the message of a
// review that runs out of budget.
type inFlight struct {
	mu   sync.Mutex
	refs map[string]bool
}

func (f *inFlight) set(ref string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if on {
		f.refs[ref] = true
	} else {
		delete(f.refs, ref)
	}
}

func (f *inFlight) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.refs))
}

// resolve resolves the distinct tag-only references of images (at most
// maxConcurrentDecisions at once). Problems keep the image order.
func (w *Webhook) resolve(ctx context.Context, images []Image, pending *inFlight) (map[string]digest.Digest, []string) {
	var refs []Image
	seen := map[string]bool{}
	for _, img := range images {
		if !seen[img.Ref] {
			seen[img.Ref] = true
			refs = append(refs, img)
		}
	}
	digests := make([]digest.Digest, len(refs))
	problems := make([]string, len(refs))
	sem := make(chan struct{}, maxConcurrentDecisions)
	var wg sync.WaitGroup
	for i, img := range refs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			pending.set(img.Ref, true)
			d, err := w.cfg.resolver.Resolve(ctx, img.Ref)
			if err == nil || ctx.Err() == nil {
				// A resolution cut short by the budget stays listed: the
				// denial names what was still being resolved.
				pending.set(img.Ref, false)
			}
			if err == nil {
				// The digest must be one the rest of the webhook (and a
				// node) reads the same way.
				digests[i], err = Digest("resolved@" + d)
				if err != nil {
					err = fmt.Errorf("resolver answered %q, not sha256:<64 hex digits>", d)
				}
			}
			if err != nil {
				problems[i] = fmt.Sprintf("%s (%s %q): not resolved to a digest (the gate fails closed): %v", img.Ref, img.Field, img.Container, err)
				return
			}
		})
	}
	wg.Wait()
	out := map[string]digest.Digest{}
	var failed []string
	for i, img := range refs {
		if problems[i] != "" {
			failed = append(failed, problems[i])
			continue
		}
		out[img.Ref] = digests[i]
	}
	return out, failed
}

// decide asks the Decider about each distinct digest of images (tag-only
// ones by their resolved digest), at most maxConcurrentDecisions at once.
// Problems keep the image order; cached is true when the cache answered
// for every digest; failed when a problem is the Decider's error. A dry
// run's allows are not cached: the Decider records none of them.
func (w *Webhook) decide(ctx context.Context, req *admissionv1.AdmissionRequest, env string, images []Image, resolved map[string]digest.Digest) (problems []string, cached, failed bool) {
	type ask struct {
		digest digest.Digest
		img    Image
		label  string // the image as named in a denial
	}
	var asks []ask
	seen := map[digest.Digest]bool{}
	for _, img := range images {
		label := img.Ref
		d, err := Digest(img.Ref)
		if err != nil {
			d = resolved[img.Ref]
			label = img.Ref + "@" + d.String()
		}
		if !seen[d] {
			seen[d] = true
			asks = append(asks, ask{d, img, label})
		}
	}
	type one struct {
		problem      string
		cached, fail bool
	}
	dryRun := req.DryRun != nil && *req.DryRun
	outs := make([]one, len(asks))
	sem := make(chan struct{}, maxConcurrentDecisions)
	decideOne := func(i int, a ask) {
		sem <- struct{}{}
		defer func() { <-sem }()
		pv := w.decider.PolicyVersion(env)
		// A dry run may read the cache: a cached allow is one a real
		// review decided and recorded for this namespace.
		if w.cfg.cache.Allowed(a.digest.String(), req.Namespace, env, pv) {
			outs[i].cached = true
			return
		}
		if ctx.Err() != nil {
			outs[i] = one{problem: fmt.Sprintf("%s: %v", a.label, ctx.Err()), fail: true}
			return
		}
		if w.evaluations != nil {
			select {
			case w.evaluations <- struct{}{}:
				defer func() { <-w.evaluations }()
			default:
				outs[i] = one{problem: fmt.Sprintf("%s (%s %q): not evaluated: %d gate evaluations already in flight (the gate fails closed; retry)",
					a.label, a.img.Field, a.img.Container, cap(w.evaluations)), fail: true}
				return
			}
		}
		v, err := w.decider.Decide(ctx, Request{Digest: a.digest, Image: a.img.Ref, Environment: env,
			Namespace: req.Namespace, Kind: req.Kind.Kind, Name: req.Name, UID: string(req.UID), Requester: req.UserInfo.Username, DryRun: dryRun})
		switch {
		case err != nil:
			outs[i] = one{problem: fmt.Sprintf("%s (%s %q): gate failed closed: %v", a.label, a.img.Field, a.img.Container, err), fail: true}
		case !v.Allowed:
			reasons := v.Reasons
			if len(reasons) == 0 {
				reasons = []string{"denied without a reason"}
			}
			outs[i] = one{problem: fmt.Sprintf("%s (%s %q) not allowed in %s: %s", a.label, a.img.Field, a.img.Container, env, strings.Join(reasons, "; "))}
		case dryRun:
			// A dry run's allow is not on record; cached, it would
			// answer a later real review that then left no record.
		default:
			w.cfg.cache.Allow(a.digest.String(), req.Namespace, env, pv)
		}
	}
	if len(asks) == 1 { // the usual review: on this worker (workers.go)
		decideOne(0, asks[0])
	} else {
		var wg sync.WaitGroup
		wg.Add(len(asks))
		for i, a := range asks {
			w.workers.run(func() { defer wg.Done(); decideOne(i, a) })
		}
		wg.Wait()
	}
	cached = true
	for _, o := range outs {
		cached = cached && o.cached
		failed = failed || o.fail
		if o.problem != "" {
			problems = append(problems, o.problem)
		}
	}
	return problems, cached, failed
}

// readUID reads request.uid from a body that does not decode as a whole.
func readUID(body []byte) string {
	var probe struct {
		Request struct {
			UID json.RawMessage `json:"uid"`
		} `json:"request"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&probe); err != nil {
		return ""
	}
	var s string
	if json.Unmarshal(probe.Request.UID, &s) != nil {
		return ""
	}
	return s
}

// answer is one reply: HTTP status, body and outcome.
type answer struct {
	status  int
	body    []byte
	outcome Outcome
}

func (a answer) with(o Outcome) answer { a.outcome = o; return a }

func deny(uid, message string) answer {
	message = "hallmark: " + message
	if len(message) > maxMessage {
		message = message[:maxMessage-3] + "..."
	}
	return respond(&admissionv1.AdmissionResponse{
		UID: types.UID(uid), Allowed: false,
		Result: &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: message},
	})
}

func respond(resp *admissionv1.AdmissionResponse) answer {
	out, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: APIVersion, Kind: Kind},
		Response: resp,
	})
	if err != nil {
		return answer{status: http.StatusInternalServerError, body: errJSON("encode response: " + err.Error()), outcome: Outcome{Reason: "error"}}
	}
	return answer{status: http.StatusOK, body: out}
}

func errJSON(msg string) []byte {
	b, _ := json.Marshal(errorBody{msg})
	return b
}
