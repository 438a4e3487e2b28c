package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
	// Digest is "sha256:<hex>".
	Digest string
	// Image is the reference as written in the object.
	Image string
	// Environment is the namespace's environment.
	Environment string
	// Namespace, Kind and Name identify the object.
	Namespace, Kind, Name string
	// Requester is the Kubernetes user who made the request.
	Requester string
}

// Verdict is a Decider's answer.
type Verdict struct {
	Allowed bool
	// Reasons say why not, one line each.
	Reasons []string
}

// Decider decides whether a digest may run in an environment. The gate
// implements it in internal/server; it records every decision it makes.
type Decider interface {
	// Decide evaluates one digest. An error denies.
	Decide(ctx context.Context, req Request) (Verdict, error)
	// PolicyVersion identifies the policy of an environment (its digest),
	// so cached allows are forgotten when the policy changes.
	PolicyVersion(environment string) string
}

// Outcome describes one answered review, for metrics.
type Outcome struct {
	// Allowed is the answer.
	Allowed bool
	// Cached is true when every digest was answered from the cache.
	Cached bool
	// Status is the HTTP status sent.
	Status int
	// Reason is a short machine-friendly cause: "allowed", "denied",
	// "malformed", "too_large", "tag_only", "timeout", "error", "no_environment", "skipped".
	Reason string
}

// Webhook answers AdmissionReview requests. It is safe for concurrent use.
type Webhook struct {
	decider Decider
	envs    Environments
	cfg     config
}

// Option configures New.
type Option func(*config) error

type config struct {
	budget   time.Duration
	maxBody  int64
	cache    *Cache
	logger   *slog.Logger
	observer func(Outcome, time.Duration)
	now      func() time.Time
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
	return &Webhook{decider: d, envs: envs, cfg: cfg}, nil
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
	start := w.cfg.now()
	a := w.review(ctx, body, false)
	a.outcome.Status = a.status
	w.observe(a.outcome, w.cfg.now().Sub(start))
	return a.status, a.body
}

// Mutate answers one mutating AdmissionReview body. Tag-to-digest
// resolution is not implemented: it allows without a patch, and the
// validating webhook denies tag-only images.
func (w *Webhook) Mutate(ctx context.Context, body []byte) (int, []byte) {
	a := w.review(ctx, body, true)
	return a.status, a.body
}

func (w *Webhook) review(ctx context.Context, body []byte, mutate bool) answer {
	if int64(len(body)) > w.cfg.maxBody {
		return answer{http.StatusRequestEntityTooLarge, errJSON(fmt.Sprintf("admission review larger than %d bytes", w.cfg.maxBody)), Outcome{Reason: "too_large"}}
	}
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &ar); err != nil {
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
	if mutate {
		return respond(&admissionv1.AdmissionResponse{UID: req.UID, Allowed: true,
			Warnings: []string{"hallmark: tag-to-digest resolution is not implemented; reference images by digest"}}).with(Outcome{Allowed: true, Reason: "skipped"})
	}
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update:
	default:
		return respond(&admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}).with(Outcome{Allowed: true, Reason: "skipped"})
	}
	images, err := Images(req.Kind.Kind, req.Object.Raw)
	if err != nil {
		return deny(uid, fmt.Sprintf("%s %s/%s: %v", req.Kind.Kind, req.Namespace, req.Name, err)).with(Outcome{Reason: "malformed"})
	}
	env, err := w.envs.Environment(req.Namespace)
	if err != nil {
		return deny(uid, fmt.Sprintf("namespace %q: %v (map it in the server configuration's admission.namespaces or namespaceLabels)", req.Namespace, err)).with(Outcome{Reason: "no_environment"})
	}
	var problems []string
	type ask struct {
		digest string
		img    Image
	}
	var asks []ask
	seen := map[string]bool{}
	for _, img := range images {
		d, err := Digest(img.Ref)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %q: %v", img.Field, img.Container, err))
			continue
		}
		if !seen[d] {
			seen[d] = true
			asks = append(asks, ask{d, img})
		}
	}
	if len(problems) > 0 {
		return deny(uid, "denied: "+strings.Join(problems, "; ")).with(Outcome{Reason: "tag_only"})
	}
	if len(asks) > MaxImages {
		return deny(uid, fmt.Sprintf("denied: %d distinct images (at most %d)", len(asks), MaxImages)).with(Outcome{Reason: "malformed"})
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.budget)
	defer cancel()
	type result struct {
		problems []string
		cached   bool
		failed   bool
	}
	done := make(chan result, 1)
	go func() {
		// Distinct digests are decided concurrently (at most
		// maxConcurrentDecisions at once); problems keep the image order.
		type one struct {
			problem      string
			cached, fail bool
		}
		outs := make([]one, len(asks))
		sem := make(chan struct{}, maxConcurrentDecisions)
		var wg sync.WaitGroup
		for i, a := range asks {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				pv := w.decider.PolicyVersion(env)
				if w.cfg.cache.Allowed(a.digest, env, pv) {
					outs[i].cached = true
					return
				}
				if ctx.Err() != nil {
					outs[i] = one{problem: fmt.Sprintf("%s: %v", a.img.Ref, ctx.Err()), fail: true}
					return
				}
				v, err := w.decider.Decide(ctx, Request{Digest: a.digest, Image: a.img.Ref, Environment: env,
					Namespace: req.Namespace, Kind: req.Kind.Kind, Name: req.Name, Requester: req.UserInfo.Username})
				switch {
				case err != nil:
					outs[i] = one{problem: fmt.Sprintf("%s (%s %q): gate failed closed: %v", a.img.Ref, a.img.Field, a.img.Container, err), fail: true}
				case !v.Allowed:
					reasons := v.Reasons
					if len(reasons) == 0 {
						reasons = []string{"denied without a reason"}
					}
					outs[i] = one{problem: fmt.Sprintf("%s (%s %q) not allowed in %s: %s", a.img.Ref, a.img.Field, a.img.Container, env, strings.Join(reasons, "; "))}
				default:
					w.cfg.cache.Allow(a.digest, env, pv)
				}
			})
		}
		wg.Wait()
		r := result{cached: true}
		for _, o := range outs {
			r.cached = r.cached && o.cached
			r.failed = r.failed || o.fail
			if o.problem != "" {
				r.problems = append(r.problems, o.problem)
			}
		}
		done <- r
	}()
	select {
	case <-ctx.Done():
		w.cfg.logger.Warn("admission review over budget; denying", "uid", uid, "namespace", req.Namespace, "kind", req.Kind.Kind, "name", req.Name, "budget", w.cfg.budget)
		return deny(uid, fmt.Sprintf("denied: no decision within %v (the gate fails closed)", w.cfg.budget)).with(Outcome{Reason: "timeout"})
	case r := <-done:
		if len(r.problems) > 0 {
			reason := "denied"
			if r.failed {
				reason = "error"
			}
			w.cfg.logger.Info("admission denied", "uid", uid, "namespace", req.Namespace, "kind", req.Kind.Kind, "name", req.Name, "environment", env)
			return deny(uid, "denied: "+strings.Join(r.problems, "; ")).with(Outcome{Reason: reason})
		}
		return respond(&admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}).with(Outcome{Allowed: true, Cached: r.cached, Reason: "allowed"})
	}
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
