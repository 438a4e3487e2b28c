package host_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/tlog"
	"github.com/hallmark-dev/hallmark/tlog/host"
)

const predType = "https://example.com/p/v1"

// services is a log and a TSA from one directory, mounted as `hallmark
// serve` mounts them (/tlog and /tsa) on a loopback HTTP server.
type services struct {
	logURL, tsaURL string
	log            *host.Log
	tsa            *host.TSA
	root           []byte
	srv            *httptest.Server
}

func start(t testing.TB, dir string) *services {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	hs, err := host.Open(t.Context(), host.Config{URL: "http://" + srv.Listener.Addr().String(), Dir: dir, Passphrase: []byte("test-pass"), Log: true, TSA: true})
	if err != nil {
		t.Fatal(err)
	}
	s := &services{logURL: hs.LogURL, tsaURL: hs.TSAURL, log: hs.Log, tsa: hs.TSA, root: hs.Root, srv: srv}
	mux := http.NewServeMux()
	for prefix, h := range hs.Mounts() {
		mux.Handle(prefix+"/", http.StripPrefix(prefix, h))
	}
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(func() { s.close(t) })
	return s
}

func (s *services) close(t testing.TB) {
	if s.srv == nil {
		return
	}
	s.srv.Close()
	// Cleanups run after t.Context() is cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.log.Close(ctx); err != nil {
		t.Error(err)
	}
	s.srv = nil
}

func sign(t *testing.T, k *keys.PrivateKey, s *services, content string) []byte {
	t.Helper()
	st, err := attest.NewStatement([]attest.Subject{attesttest.Subject("app", []byte(content))}, predType, []byte(`{"n":"`+content+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := attest.Sign(t.Context(), k, st, attest.WithTransparencyLog(s.logURL), attest.WithTimestampAuthority(s.tsaURL))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHostedServices logs and timestamps bundles with Hallmark's signer
// (sigstore-go's Rekor v2 and TSA clients) against the hosted log and TSA,
// and verifies them offline with Hallmark and with sigstore-go alone
// against the trusted root, monitors the log over HTTP across a restart,
// and rejects a bundle whose entry was tampered with.
func TestHostedServices(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	k := attesttest.Key(t, keys.ECDSAP256)
	ks := attest.NewKeySet(k.Public())
	var logged [][]byte
	for _, c := range []string{"a", "b", "c"} {
		logged = append(logged, sign(t, k, s, c))
	}
	tr, err := tlog.ParseRoot(s.root)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range logged {
		v, err := attest.Verify(t.Context(), b, ks, attest.WithTrustedRoot(tr))
		if err != nil {
			t.Fatalf("bundle %d: %v", i, err)
		}
		if v.LogEntries != 1 || len(v.Timestamps) != 1 {
			t.Fatalf("bundle %d: %d log entries, %d timestamps; want 1 and 1", i, v.LogEntries, len(v.Timestamps))
		}
		if d := time.Since(v.Time); d < 0 || d > time.Minute {
			t.Errorf("bundle %d: verified time %s", i, v.Time)
		}
	}
	good := logged[2]
	var pb protobundle.Bundle
	if err := protojson.Unmarshal(good, &pb); err != nil {
		t.Fatal(err)
	}
	entry := pb.GetVerificationMaterial().GetTlogEntries()[0]
	if entry.GetLogIndex() != 2 || entry.GetKindVersion().GetKind() != "hashedrekord" || entry.GetKindVersion().GetVersion() != "0.0.2" {
		t.Fatalf("entry: index %d, %s %s; want 2, hashedrekord 0.0.2", entry.GetLogIndex(), entry.GetKindVersion().GetKind(), entry.GetKindVersion().GetVersion())
	}
	if len(entry.GetInclusionProof().GetHashes()) == 0 {
		t.Fatal("the third entry's proof has no hashes")
	}

	t.Run("sigstore-go verifies the same bundle", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "b.json")
		if err := os.WriteFile(path, good, 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := bundle.LoadJSONFromPath(path)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := k.Public().Verifier()
		if err != nil {
			t.Fatal(err)
		}
		km := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return root.NewExpiringKey(pk, time.Time{}, time.Time{}), nil
		})
		sv, err := verify.NewVerifier(root.TrustedMaterialCollection{tr, km}, verify.WithTransparencyLog(1), verify.WithSignedTimestamps(1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sv.Verify(b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithKey())); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("tampered entry", func(t *testing.T) {
		for name, mutate := range map[string]func(*protobundle.Bundle){
			"entry for another bundle": func(b *protobundle.Bundle) {
				var other protobundle.Bundle
				if err := protojson.Unmarshal(logged[1], &other); err != nil {
					t.Fatal(err)
				}
				b.VerificationMaterial.TlogEntries = other.VerificationMaterial.TlogEntries
			},
			"proof hash": func(b *protobundle.Bundle) {
				b.GetVerificationMaterial().GetTlogEntries()[0].GetInclusionProof().Hashes[0][0] ^= 1
			},
			"checkpoint signature": func(b *protobundle.Bundle) {
				cp := b.GetVerificationMaterial().GetTlogEntries()[0].GetInclusionProof().GetCheckpoint()
				c := []byte(cp.Envelope)
				c[strings.LastIndex(cp.Envelope, " ")+5] ^= 1
				cp.Envelope = string(c)
			},
		} {
			t.Run(name, func(t *testing.T) {
				var c protobundle.Bundle
				if err := protojson.Unmarshal(good, &c); err != nil {
					t.Fatal(err)
				}
				mutate(&c)
				raw, err := protojson.Marshal(&c)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := attest.Verify(t.Context(), raw, ks, attest.WithTrustedRoot(tr)); !errors.Is(err, attest.ErrTransparency) {
					t.Fatalf("got %v, want ErrTransparency", err)
				}
			})
		}
	})

	t.Run("monitor across a restart", func(t *testing.T) {
		l := tr.RekorLogs()[hexID(tr)]
		m, err := tlog.NewMonitor(l, s.logURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := m.Latest(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Size != 3 {
			t.Fatalf("checkpoint size %d, want 3", cp.Size)
		}
		if err := m.Included(t.Context(), cp, uint64(entry.GetLogIndex()), entry.GetCanonicalizedBody()); err != nil {
			t.Fatal(err)
		}
		// The same directory serves the same log, key and TSA after a
		// restart, and the log only grows.
		s.close(t)
		s2 := start(t, dir)
		if !bytes.Equal(s2.log.ID(), s.log.ID()) || !s2.tsa.Chain()[0].Equal(s.tsa.Chain()[0]) {
			t.Fatal("the log key or the TSA certificate changed across a restart")
		}
		b := sign(t, k, s2, "d")
		if _, err := attest.Verify(t.Context(), b, ks, attest.WithTrustedRoot(tr)); err != nil {
			t.Fatal(err)
		}
		m2, err := tlog.NewMonitor(l, s2.logURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		cp2, err := m2.Latest(t.Context(), cp)
		if err != nil {
			t.Fatal(err)
		}
		if cp2.Size != 4 {
			t.Fatalf("checkpoint size %d after a restart, want 4", cp2.Size)
		}
	})
}

func hexID(tr *root.TrustedRoot) string {
	for id := range tr.RekorLogs() {
		return id
	}
	return ""
}

// TestTSARequests checks that the TSA answers what timestamp-server
// answers and refuses what it refuses.
func TestTSARequests(t *testing.T) {
	s := start(t, t.TempDir())
	digest := sha256.Sum256([]byte("sig"))
	post := func(ct string, body []byte) *http.Response {
		t.Helper()
		resp, err := http.Post(s.tsaURL, ct, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	req, err := timestamp.CreateRequest(bytes.NewReader([]byte("sig")), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true})
	if err != nil {
		t.Fatal(err)
	}
	resp := post("application/timestamp-query", req)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/timestamp-reply" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	ts, err := timestamp.ParseResponse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ts.HashedMessage, digest[:]) || !ts.Certificates[0].Equal(s.tsa.Chain()[0]) {
		t.Errorf("timestamp over %x by %s", ts.HashedMessage, ts.Certificates[0].Subject)
	}

	sha1Req, err := timestamp.CreateRequest(bytes.NewReader([]byte("sig")), &timestamp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		ct   string
		body []byte
		want int
	}{
		"weak hash":    {"application/timestamp-query", sha1Req, http.StatusBadRequest},
		"not DER":      {"application/timestamp-query", []byte("hello"), http.StatusBadRequest},
		"content type": {"application/json", req, http.StatusUnsupportedMediaType},
		"too large":    {"application/timestamp-query", make([]byte, host.MaxTimestampRequestBytes+1), http.StatusRequestEntityTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			if got := post(c.ct, c.body).StatusCode; got != c.want {
				t.Errorf("status %d, want %d", got, c.want)
			}
		})
	}
}

// TestLogOriginBound refuses to reopen a log under another host name: its
// checkpoints and entries' log IDs are bound to the origin.
func TestLogOriginBound(t *testing.T) {
	dir := t.TempDir()
	open := func(url string) (*host.Services, error) {
		return host.Open(t.Context(), host.Config{URL: url, Dir: dir, Passphrase: []byte("p"), Log: true})
	}
	s, err := open("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, host.LogStorageName, "checkpoint")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the log published no checkpoint")
		}
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := open("http://localhost:1"); !errors.Is(err, host.ErrOrigin) {
		t.Fatalf("reopened under another origin: %v", err)
	}
	s, err = open("http://127.0.0.1:2") // another port: the same origin
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}
