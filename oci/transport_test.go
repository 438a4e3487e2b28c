package oci

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

func TestGuardBoundsBodiesWithoutLength(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 10 { // chunked: no Content-Length to refuse up front
			io.WriteString(w, strings.Repeat("x", 100))
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		max     int64
		wantErr bool
	}{{1000, false}, {999, true}, {10, true}} {
		c := &http.Client{Transport: &guard{next: srv.Client().Transport, insecure: map[string]bool{}, max: tc.max}}
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ContentLength != -1 {
			t.Fatalf("response has a length (%d); the test needs a chunked one", resp.ContentLength)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if tc.wantErr != errors.Is(err, limits.ErrTooLarge) || (!tc.wantErr && len(b) != 1000) || int64(len(b)) > tc.max+1 {
			t.Errorf("limit %d: read %d bytes, error %v", tc.max, len(b), err)
		}
	}
}

func TestGuardUpgradesPlainHTTP(t *testing.T) {
	var got []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = append(got, r.URL.Scheme+"://"+r.URL.Host)
		return &http.Response{StatusCode: 200, Body: http.NoBody, ContentLength: 0, Request: r}, nil
	})
	g := &guard{next: rt, insecure: map[string]bool{"10.0.0.1:5000": true}, max: 10}
	for _, u := range []string{"http://10.0.0.1:5000/v2/", "http://10.0.0.2:5000/v2/", "http://localhost:5000/v2/", "https://r.example/v2/"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if _, err := g.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"http://10.0.0.1:5000", "https://10.0.0.2:5000", "https://localhost:5000", "https://r.example"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("schemes sent %v, want %v", got, want)
	}
	req, _ := http.NewRequest(http.MethodGet, "ftp://r.example/x", nil)
	if _, err := g.RoundTrip(req); !errors.Is(err, errScheme) {
		t.Errorf("ftp: %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
