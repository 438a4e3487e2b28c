package oci

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/singleflight"

	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/ttlcache"
)

// Resolver resolves image references to manifest digests. It is safe for
// concurrent use. Build it with NewResolver.
type Resolver struct {
	cfg      config
	keychain authn.Keychain // nil: anonymous
	rt       http.RoundTripper
	cache    *ttlcache.Cache[string, string] // reference -> manifest digest
	flights  singleflight.Group
	slots    chan struct{}
}

// NewResolver returns a resolver: anonymous, HTTPS only, DefaultTimeout,
// a DefaultCacheTTL cache of DefaultCacheSize tags, unless options say
// otherwise.
func NewResolver(opts ...Option) (*Resolver, error) {
	cfg := config{
		timeout: DefaultTimeout, cacheTTL: DefaultCacheTTL, cacheSize: DefaultCacheSize,
		maxBytes: DefaultMaxManifestBytes, maxBlobBytes: DefaultMaxBlobBytes, maxInFlight: DefaultMaxInFlight,
		insecure: map[string]bool{}, transport: remote.DefaultTransport, now: time.Now,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.rootCAs != nil {
		if cfg.transport != remote.DefaultTransport {
			return nil, errors.New("oci.NewResolver: both WithRootCAs and WithTransport given; set the CAs on the transport")
		}
		base, ok := remote.DefaultTransport.(*http.Transport)
		if !ok {
			return nil, errors.New("oci.NewResolver: WithRootCAs needs go-containerregistry's default *http.Transport")
		}
		t := base.Clone()
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.rootCAs}
		cfg.transport = t
	}
	r := &Resolver{
		cfg:      cfg,
		keychain: cfg.keychain,
		rt:       &guard{next: cfg.transport, insecure: cfg.insecure, max: cfg.maxBytes, maxBlob: cfg.maxBlobBytes},
		cache:    ttlcache.New[string, string](cfg.cacheTTL, cfg.cacheSize, cfg.now),
		slots:    make(chan struct{}, cfg.maxInFlight),
	}
	if cfg.dockerConfig != "" {
		if cfg.keychain != nil {
			return nil, errors.New("oci.NewResolver: both WithKeychain and WithDockerConfig given; pick one source of credentials")
		}
		dc, err := readDockerConfig(cfg.dockerConfig)
		if err != nil {
			return nil, err
		}
		r.keychain = dc
	}
	return r, nil
}

func readDockerConfig(path string) (*DockerConfig, error) {
	f, err := limits.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("Docker config: %w", err)
	}
	defer f.Close()
	b, err := limits.ReadAll(f, MaxDockerConfigBytes, path)
	if err != nil {
		return nil, err
	}
	dc, err := ParseDockerConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return dc, nil
}

// Resolve returns the digest ("sha256:<hex>") of the manifest ref names.
// A reference with a digest resolves to that digest without a request;
// for a tag, the registry is asked (see the package documentation). ref
// follows Kubernetes' defaults: no registry means Docker Hub, no tag means
// "latest". Errors are *ResolveError.
func (r *Resolver) Resolve(ctx context.Context, ref string) (string, error) {
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return "", &ResolveError{Ref: ref, Err: fmt.Errorf("%w: %v", ErrInvalidReference, err)}
	}
	if d, ok := parsed.(name.Digest); ok {
		h, err := v1.NewHash(d.DigestStr())
		if err != nil || h.Algorithm != "sha256" {
			return "", &ResolveError{Ref: ref, Err: fmt.Errorf("%w: digest %q is not sha256:<64 hex digits>", ErrInvalidReference, d.DigestStr())}
		}
		return h.String(), nil
	}
	if r.cfg.insecure[strings.ToLower(parsed.Context().RegistryStr())] {
		if parsed, err = name.ParseReference(ref, name.Insecure); err != nil {
			return "", &ResolveError{Ref: ref, Err: fmt.Errorf("%w: %v", ErrInvalidReference, err)}
		}
	}
	key := parsed.Name()
	if d, ok := r.cache.Get(key); ok {
		return d, nil
	}
	// Callers of one reference share one flight. It runs under the
	// resolver's own deadline, not the first caller's, so a caller giving
	// up early does not fail the others; each caller waits at most until
	// its own context ends.
	flightCtx := context.WithoutCancel(ctx)
	ch := r.flights.DoChan(key, func() (any, error) { return r.fetch(flightCtx, parsed) })
	select {
	case res := <-ch:
		if res.Err != nil {
			return "", &ResolveError{Ref: ref, Err: res.Err}
		}
		return res.Val.(string), nil
	case <-ctx.Done():
		return "", &ResolveError{Ref: ref, Err: fmt.Errorf("%w: %w", ErrTimeout, context.Cause(ctx))}
	}
}

// fetch asks the registry: HEAD, then GET when HEAD gave no usable digest
// for a reason GET may not share.
func (r *Resolver) fetch(ctx context.Context, ref name.Reference) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-ctx.Done():
		return "", fmt.Errorf("%w: after %v waiting for one of %d registry connections", ErrTimeout, r.cfg.timeout, r.cfg.maxInFlight)
	}
	opts := []remote.Option{
		remote.WithTransport(r.rt), remote.WithUserAgent("hallmark"),
		// No retries: the deadline is short and GET is the second try.
		remote.WithRetryPredicate(func(error) bool { return false }), remote.WithRetryStatusCodes(),
	}
	if r.keychain != nil {
		opts = append(opts, remote.WithAuthFromKeychain(r.keychain))
	}
	p, err := remote.NewPuller(opts...)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrRegistry, err)
	}
	desc, err := p.Head(ctx, ref)
	if err == nil && desc.Digest.Algorithm == "sha256" {
		d := desc.Digest.String()
		r.cache.Add(ref.Name(), d)
		return d, nil
	}
	if err != nil {
		if c := classify(err); c == ErrTimeout || c == ErrUnreachable {
			return "", r.explain(c, err)
		}
	}
	got, err := p.Get(ctx, ref)
	if err != nil {
		return "", r.explain(classify(err), err)
	}
	if got.Digest.Algorithm != "sha256" {
		return "", fmt.Errorf("%w: manifest digest %s is not sha256", ErrRegistry, got.Digest)
	}
	d := got.Digest.String()
	r.cache.Add(ref.Name(), d)
	return d, nil
}

func (r *Resolver) explain(kind, err error) error {
	switch {
	case kind == ErrTimeout:
		return fmt.Errorf("%w after %v: %w", kind, r.cfg.timeout, err)
	case kind == ErrUnreachable && strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		host := ""
		if ue, ok := errors.AsType[*url.Error](err); ok {
			if u, perr := url.Parse(ue.URL); perr == nil {
				host = u.Host
			}
		}
		return &PlainHTTPError{Registry: host, Err: err}
	}
	return fmt.Errorf("%w: %w", kind, err)
}
