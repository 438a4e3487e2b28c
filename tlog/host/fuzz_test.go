package host_test

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/digitorus/timestamp"

	"github.com/hallmark-dev/hallmark/tlog/host"
)

// FuzzTSARespond feeds untrusted requests to the TSA: it answers or
// refuses with ErrTimestampRequest, never panics.
func FuzzTSARespond(f *testing.F) {
	good, err := timestamp.CreateRequest(bytes.NewReader([]byte("sig")), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	s, err := host.Open(f.Context(), host.Config{URL: "http://127.0.0.1:1", Dir: f.TempDir(), Passphrase: []byte("p"), TSA: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, req []byte) {
		resp, err := s.TSA.Respond(req)
		if err != nil {
			if !errors.Is(err, host.ErrTimestampRequest) {
				t.Fatalf("error without ErrTimestampRequest: %v", err)
			}
			return
		}
		if _, err := timestamp.ParseResponse(resp); err != nil {
			t.Fatalf("answered with an unparsable response: %v", err)
		}
	})
}

// FuzzLogEntryRequest posts untrusted bodies to the log's write API: a
// body that is not a valid, correctly signed hashedrekord request is
// refused with a client error and never reaches the log.
func FuzzLogEntryRequest(f *testing.F) {
	f.Add([]byte(`{"hashedRekordRequestV002":{"digest":"AAAA","signature":{"content":"AAAA","verifier":{"publicKey":{"rawBytes":"AAAA"},"keyDetails":"PKIX_ECDSA_P256_SHA_256"}}}}`))
	f.Add([]byte(`{"dsseRequestV002":{}}`))
	f.Add([]byte(`{`))
	s, err := host.Open(f.Context(), host.Config{URL: "http://127.0.0.1:1", Dir: f.TempDir(), Passphrase: []byte("p"), Log: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close(context.Background()) })
	h := s.Log.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/api/v2/log/entries", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(w, r)
		if w.Code < 400 || w.Code >= 500 {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
	})
}
