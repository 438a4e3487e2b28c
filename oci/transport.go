package oci

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// errScheme is a request (a redirect, a token realm) whose URL scheme is
// neither https nor http.
var errScheme = errors.New("refused URL scheme")

// guard is the innermost transport of a Resolver: it keeps requests on
// HTTPS unless their host is listed as insecure, and bounds every response
// body.
type guard struct {
	next     http.RoundTripper
	insecure map[string]bool // lower-case host[:port]
	max      int64
	maxBlob  int64 // for GETs of /blobs/ (layers, configs)
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.URL.Scheme {
	case "https":
	case "http":
		if !g.insecure[strings.ToLower(req.URL.Host)] {
			// go-containerregistry picks plain HTTP for localhost and
			// private addresses by itself; only listed registries may.
			r := req.Clone(req.Context())
			u := *req.URL
			u.Scheme = "https"
			r.URL = &u
			req = r
		}
	default:
		return nil, fmt.Errorf("%w: scheme %q of %s", errScheme, req.URL.Scheme, req.URL.Redacted())
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	max := g.max
	if strings.Contains(req.URL.Path, "/blobs/") && g.maxBlob > max {
		max = g.maxBlob
	}
	if req.Method != http.MethodHead && resp.ContentLength > max {
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %w (%d bytes, more than %d)", req.Method, req.URL.Redacted(), limits.ErrTooLarge, resp.ContentLength, max)
	}
	resp.Body = &boundedBody{rc: resp.Body, left: max, what: req.Method + " " + req.URL.Redacted()}
	return resp, nil
}

// boundedBody fails a read once more than its limit has been read.
type boundedBody struct {
	rc   io.ReadCloser
	left int64
	what string
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("%s: %w", b.what, limits.ErrTooLarge)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, fmt.Errorf("%s: %w (more than its limit)", b.what, limits.ErrTooLarge)
	}
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }
