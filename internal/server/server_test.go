package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/trust"
	"github.com/hallmark-dev/hallmark/vuln"
)

// Fixture digests (admission/testdata/README.md).
const (
	digestA = "sha256:0c1196ea055ea23e31107bb2a5e4623c136b09309d9d469363ecfe6984b6de37"
	digestB = "sha256:a22f7639e80e8d43eb0104bf8d9914013c66ea04766834566d633ff3726b5ed5"
	digestC = "sha256:87887e5af0b8cc4b42328939418e3a1a41121731dd8cd50b66a1b8ecec1bb0e3"
)

// Test tokens: obviously fake canary values.
const (
	uploaderToken = "hm-test-canary-uploader-0000"
	readerToken   = "hm-test-canary-reader-0000"
	adminToken    = "hm-test-canary-admin-0000"
)

// world is the keys and trust a test server runs with.
type world struct {
	gateKey, approver, scanner, stranger *keys.PrivateKey
	trust                                *trust.Trust
}

func newWorld(t testing.TB) *world {
	w := &world{
		gateKey:  attesttest.Key(t, keys.Ed25519),
		approver: attesttest.Key(t, keys.Ed25519),
		scanner:  attesttest.Key(t, keys.Ed25519),
		stranger: attesttest.Key(t, keys.Ed25519),
	}
	w.trust = trust.New(
		trust.Key{Name: "alice", Public: w.approver.Public(), Roles: []trust.Role{trust.RoleApprover}},
		trust.Key{Name: "scanner", Public: w.scanner.Public(), Roles: []trust.Role{trust.RoleScanner}},
		trust.Key{Name: "gate", Public: w.gateKey.Public(), Roles: []trust.Role{trust.RoleGate}},
	)
	return w
}

func subject(digest string) attest.Subject {
	return attest.Subject{Name: "registry.example.com/payments/api", Digest: map[string]string{"sha256": strings.TrimPrefix(digest, "sha256:")}}
}

// approval is a bundle approving digest for env, signed by key.
func approval(t testing.TB, key *keys.PrivateKey, dg, env, comment string) []byte {
	a, err := gate.NewApproval(digest.MustParse(dg), env, comment, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return attesttest.Bundle(t, key, gate.ApprovalPredicateType, a, subject(dg))
}

// criticalVuln is a vulnerability scan of digest reporting one critical.
func criticalVuln(t testing.TB, key *keys.PrivateKey, digest, id string) []byte {
	return vulnScan(t, key, digest, id, "critical")
}

// criticalVulnLow is a scan by the world's scanner reporting one low finding.
func criticalVulnLow(t testing.TB, w *world, digest, id string) []byte {
	return vulnScan(t, w.scanner, digest, id, "low")
}

func vulnScan(t testing.TB, key *keys.PrivateKey, digest, id, severity string) []byte {
	now := time.Now().UTC()
	p := vuln.VulnsPredicate{
		Scanner: vuln.PredicateScanner{URI: "https://hallmark.dev/scanners/vuln", DB: vuln.PredicateDB{LastUpdate: now},
			Result: []vuln.PredicateResult{{ID: id, Severity: []vuln.PredicateSeverity{{Method: "hallmark", Score: severity}}}}},
		Metadata: vuln.PredicateMetadata{ScanStartedOn: now, ScanFinishedOn: now},
	}
	return attesttest.Bundle(t, key, vuln.PredicateType, p, subject(digest))
}

func testConfig(t testing.TB, extra string) *Config {
	yml := fmt.Sprintf(`
store: {driver: sqlite, path: evidence.db}
trust: trust.yaml
policies: {prod: testdata/policy.rego, staging: testdata/policy.rego}
gate: {key: gate.key}
auth:
  insecureAnonymousAdmission: true
  tokens:
    - {name: ci, sha256: %s, role: uploader}
    - {name: auditor, sha256: %s, role: reader}
    - {name: ops, sha256: %s, role: admin}
admission:
  namespaces: {payments: prod}
  environmentLabel: hallmark.dev/environment
  namespaceLabels: {reports: {hallmark.dev/environment: staging}}
%s`, HashToken(uploaderToken), HashToken(readerToken), HashToken(adminToken), extra)
	c, err := ParseConfig([]byte(yml), ".")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// start serves a server over st with real TLS and returns its URL and a
// client trusting its certificate.
func start(t *testing.T, w *world, cfg *Config, st store.Store) (*Server, *httptest.Server) {
	t.Helper()
	pols, err := policy.LoadSpecs(t.Context(), cfg.Policies)
	if err != nil {
		t.Fatal(err)
	}
	gopts, err := GateOptions(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gate.New(st, w.trust, pols, w.gateKey, gopts...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, st, w.trust, g)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

func openSQLite(t testing.TB) store.Store {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "evidence.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// call sends a request and decodes a JSON answer into out (if not nil).
func call(t *testing.T, ts *httptest.Server, method, path, token string, body []byte, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: answer is not JSON (%v): %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func TestUploadIsVerifiedAndAuthenticated(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig(t, "limits: {maxUploadBytes: 8192}")
	st := openSQLite(t)
	_, ts := start(t, w, cfg, st)
	good := approval(t, w.approver, digestA, "prod", "")
	huge := approval(t, w.approver, digestA, "prod", strings.Repeat("x", 9000))
	tests := []struct {
		name       string
		token      string
		body       []byte
		wantStatus int
		wantErr    string
		stored     bool
	}{
		{"anonymous", "", good, 401, "authentication required", false},
		{"unknown token", "hm-test-canary-nobody", good, 401, "invalid bearer token", false},
		{"reader may not write", readerToken, good, 403, "needs uploader", false},
		{"untrusted signer", uploaderToken, approval(t, w.stranger, digestA, "prod", ""), 422, "does not verify", false},
		{"not a bundle", uploaderToken, []byte(`{"hello": "world"}`), 422, "does not verify", false},
		{"oversized", uploaderToken, huge, 413, "limit", false},
		{"uploader", uploaderToken, good, 201, "", true},
		{"admin, again (idempotent)", adminToken, good, 201, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out struct {
				ID    string `json:"id"`
				Error string `json:"error"`
			}
			status := call(t, ts, "POST", "/v1/bundles", tc.token, tc.body, &out)
			if status != tc.wantStatus || !strings.Contains(out.Error, tc.wantErr) {
				t.Fatalf("status %d error %q, want %d %q", status, out.Error, tc.wantStatus, tc.wantErr)
			}
			recs, err := st.List(t.Context(), store.Query{Subject: digest.MustParse(digestA)})
			if err != nil {
				t.Fatal(err)
			}
			if tc.stored != (len(recs) == 1) {
				t.Fatalf("store holds %d records, stored=%v", len(recs), tc.stored)
			}
			if tc.stored && out.ID != recs[0].ID {
				t.Errorf("answered ID %s, stored %s", out.ID, recs[0].ID)
			}
		})
	}
}

func TestReadsOpenOrAuthenticated(t *testing.T) {
	w := newWorld(t)
	for _, open := range []bool{false, true} {
		t.Run(fmt.Sprintf("openReads=%v", open), func(t *testing.T) {
			cfg := testConfig(t, fmt.Sprintf("  # reads\n"))
			cfg.Auth.OpenReads = open
			st := openSQLite(t)
			_, ts := start(t, w, cfg, st)
			bundle := approval(t, w.approver, digestA, "prod", "")
			if s := call(t, ts, "POST", "/v1/bundles", uploaderToken, bundle, nil); s != 201 {
				t.Fatalf("upload: %d", s)
			}
			want := 401
			if open {
				want = 200
			}
			for _, path := range []string{"/v1/evidence?subject=" + digestA, "/v1/deployments", "/metrics"} {
				req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+path, nil)
				resp, err := ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("anonymous GET %s: %d, want %d", path, resp.StatusCode, want)
				}
			}
			var recs []store.Record
			if s := call(t, ts, "GET", "/v1/evidence?subject="+digestA+"&type="+gate.ApprovalPredicateType+"&signer="+w.approver.Public().ID(), readerToken, nil, &recs); s != 200 || len(recs) != 1 {
				t.Fatalf("reader listing: %d, %d records", s, len(recs))
			}
			var ev Evidence
			var got, wantB bytes.Buffer
			if s := call(t, ts, "GET", "/v1/evidence/"+recs[0].ID, readerToken, nil, &ev); s != 200 || json.Compact(&got, ev.Bundle) != nil || json.Compact(&wantB, bundle) != nil || got.String() != wantB.String() {
				t.Fatalf("GET evidence by ID: %d, bundle %s", s, ev.Bundle)
			}
			req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/v1/evidence/"+recs[0].ID+"?format=bundle", nil)
			req.Header.Set("Authorization", "Bearer "+readerToken)
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Equal(raw, bundle) {
				t.Errorf("?format=bundle did not return the stored bytes")
			}
			if s := call(t, ts, "GET", "/v1/evidence/sha256:"+strings.Repeat("0", 64), readerToken, nil, nil); s != 404 {
				t.Errorf("missing evidence: %d, want 404", s)
			}
			if s := call(t, ts, "GET", "/v1/evidence?subject=nocolon", readerToken, nil, nil); s != 400 {
				t.Errorf("bad subject: %d, want 400", s)
			}
			if s := call(t, ts, "GET", "/v1/evidence?since=yesterday", readerToken, nil, nil); s != 400 {
				t.Errorf("bad since: %d, want 400", s)
			}
		})
	}
}

func TestGateAndDeployments(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig(t, "")
	st := openSQLite(t)
	_, ts := start(t, w, cfg, st)
	call(t, ts, "POST", "/v1/bundles", uploaderToken, approval(t, w.approver, digestA, "prod", ""), nil)

	ask := func(dg, env, token string) (int, GateAnswer) {
		var a GateAnswer
		// By hand, so that malformed digests reach the server.
		b, _ := json.Marshal(map[string]string{"digest": dg, "environment": env, "requester": "release-42"})
		return call(t, ts, "POST", "/v1/gate", token, b, &a), a
	}
	if s, a := ask(digestA, "prod", uploaderToken); s != 200 || !a.Allowed || a.Decision == "" || a.VSA == "" {
		t.Fatalf("approved digest: %d %+v", s, a)
	}
	s, a := ask(digestC, "prod", uploaderToken)
	if s != 200 || a.Allowed || len(a.Violations) != 1 || a.Violations[0].RuleID != "approvals.missing" {
		t.Fatalf("unapproved digest: %d %+v", s, a)
	}
	if s, _ := ask(digestA, "moon", uploaderToken); s != 400 {
		t.Errorf("unknown environment: %d, want 400", s)
	}
	if s, _ := ask("sha256:abc", "prod", uploaderToken); s != 400 {
		t.Errorf("bad digest: %d, want 400", s)
	}
	// The old handler lower-cased the digest and decided; the API takes the
	// one spelling that the store, the gate and the dashboard use.
	if s, _ := ask("sha256:"+strings.ToUpper(strings.TrimPrefix(digestA, "sha256:")), "prod", uploaderToken); s != 400 {
		t.Errorf("upper-case digest: %d, want 400", s)
	}
	if s, _ := ask(digestA, "prod", ""); s != 401 {
		t.Errorf("anonymous gate request: %d, want 401", s)
	}
	var ds []gate.Deployment
	if s := call(t, ts, "GET", "/v1/deployments?env=prod", readerToken, nil, &ds); s != 200 {
		t.Fatalf("deployments: %d", s)
	}
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("%s %s allowed=%v %s %s", d.Artifact.Digest, d.Environment, d.Allowed, d.Source, d.Requester))
	}
	// Newest first.
	want := []string{digestC + " prod allowed=false api ci release-42", digestA + " prod allowed=true api ci release-42"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deployments (-want +got):\n%s", diff)
	}
	if s := call(t, ts, "GET", "/v1/deployments?artifact="+digestC, readerToken, nil, &ds); s != 200 || len(ds) != 1 {
		t.Errorf("deployments by artifact: %d, %d", s, len(ds))
	}
}

func review(t *testing.T, ts *httptest.Server, fixture string) (int, string, bool) {
	t.Helper()
	return reviewAt(t, ts, "/admission/validate", fixture)
}

func reviewAt(t *testing.T, ts *httptest.Server, path, fixture string) (int, string, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Response struct {
			UID     string `json:"uid"`
			Allowed bool   `json:"allowed"`
			Status  struct {
				Message string `json:"message"`
			} `json:"status"`
		} `json:"response"`
	}
	s := call(t, ts, "POST", path, "", b, &out)
	return s, out.Response.Status.Message, out.Response.Allowed
}

// TestAdmissionEnvironmentPaths: the per-environment paths the webhook
// registrations call (deploy/kubernetes) decide under that environment.
func TestAdmissionEnvironmentPaths(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig(t, "")
	st := openSQLite(t)
	_, ts := start(t, w, cfg, st)
	for _, b := range [][]byte{approval(t, w.approver, digestA, "prod", ""), approval(t, w.approver, digestC, "prod", "")} {
		if s := call(t, ts, "POST", "/v1/bundles", uploaderToken, b, nil); s != 201 {
			t.Fatalf("upload: %d", s)
		}
	}
	// The cronjob's namespace is staging by the configuration's static
	// labels, where A and C are not approved; on the prod path they are.
	if s, msg, ok := reviewAt(t, ts, "/admission/validate", "cronjob.json"); s != 200 || ok {
		t.Fatalf("generic path: %d %v %s", s, ok, msg)
	}
	if s, msg, ok := reviewAt(t, ts, "/admission/validate/prod", "cronjob.json"); s != 200 || !ok {
		t.Fatalf("prod path: %d %v %s", s, ok, msg)
	}
	if s, msg, ok := reviewAt(t, ts, "/admission/validate/moon", "cronjob.json"); s != 200 || ok || !strings.Contains(msg, "moon") {
		t.Fatalf("path of an environment without a policy: %d %v %s", s, ok, msg)
	}
	ds, _, err := gate.Deployments(t.Context(), st, w.trust, gate.DeploymentQuery{Environment: "prod"})
	if err != nil || len(ds) != 2 {
		t.Fatalf("prod decisions: %d, %v", len(ds), err)
	}
}

func TestAdmissionRecordsDecisions(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig(t, "")
	st := openSQLite(t)
	_, ts := start(t, w, cfg, st)
	for _, b := range [][]byte{
		approval(t, w.approver, digestA, "prod", ""), approval(t, w.approver, digestB, "prod", ""),
		approval(t, w.approver, digestA, "staging", ""),
	} {
		if s := call(t, ts, "POST", "/v1/bundles", uploaderToken, b, nil); s != 201 {
			t.Fatalf("upload: %d", s)
		}
	}
	if s, msg, ok := review(t, ts, "pod.json"); s != 200 || !ok {
		t.Fatalf("approved pod: %d %v %s", s, ok, msg)
	}
	if s, msg, ok := review(t, ts, "pod.json"); s != 200 || !ok {
		t.Fatalf("approved pod again (cache): %d %v %s", s, ok, msg)
	}
	s, msg, ok := review(t, ts, "cronjob.json")
	if s != 200 || ok || !strings.Contains(msg, "approvals.missing") || !strings.Contains(msg, digestC) {
		t.Fatalf("cronjob with an unapproved init container: %d %v %s", s, ok, msg)
	}
	if s, msg, ok := review(t, ts, "pod-tag.json"); s != 200 || ok || !strings.Contains(msg, "nginx:1.27") {
		t.Fatalf("tag-only image: %d %v %s", s, ok, msg)
	}
	ds, _, err := gate.Deployments(t.Context(), st, w.trust, gate.DeploymentQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("%s %s %v %s", d.Artifact.Digest.String()[:15], d.Environment, d.Allowed, d.Source))
	}
	// The second pod review was answered from the cache; the cronjob's A
	// and C were both asked (concurrently: sorted here); the tag-only pod
	// never reached the gate.
	slices.Sort(got)
	want := []string{digestA[:15] + " prod true admission", digestB[:15] + " prod true admission",
		digestA[:15] + " staging true admission", digestC[:15] + " staging false admission"}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded admission decisions (-want +got):\n%s", diff)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+readerToken)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{
		`hallmark_admission_reviews_total{cached="true",result="allowed"} 1`,
		`hallmark_admission_reviews_total{cached="false",result="allowed"} 1`,
		`hallmark_admission_reviews_total{cached="false",result="denied"} 1`,
		`hallmark_admission_reviews_total{cached="false",result="tag_only"} 1`,
		`hallmark_uploads_total{result="stored"} 3`,
		`hallmark_http_request_duration_seconds_count{route="POST /admission/validate"} 4`,
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, body)
		}
	}
}

// TestAdmissionToken: with admissionToken, a review needs a token allowed
// to write (uploader or admin), whether or not reads are open. Attack: with
// openReads, an anonymous review used to be decided and recorded, the
// caller choosing the digest, namespace, environment and requester.
func TestAdmissionToken(t *testing.T) {
	w := newWorld(t)
	b, err := os.ReadFile(filepath.Join("testdata", "pod.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, open := range []bool{false, true} {
		t.Run(fmt.Sprintf("openReads=%v", open), func(t *testing.T) {
			cfg := testConfig(t, "")
			cfg.Auth.AdmissionToken, cfg.Auth.InsecureAnonymousAdmission, cfg.Auth.OpenReads = true, false, open
			st := openSQLite(t)
			_, ts := start(t, w, cfg, st)
			for _, c := range []struct {
				name, token string
				want        int
			}{
				{"anonymous", "", 401},
				{"unknown token", "hm-test-canary-nobody", 401},
				{"reader token", readerToken, 403},
			} {
				for _, path := range []string{"/admission/validate", "/admission/validate/prod", "/admission/mutate", "/admission/mutate/prod"} {
					if s := call(t, ts, "POST", path, c.token, b, nil); s != c.want {
						t.Errorf("%s on %s: %d, want %d", c.name, path, s, c.want)
					}
				}
			}
			if recs := gateRecords(t, st); len(recs) != 0 {
				t.Fatalf("refused reviews left %d records: %v", len(recs), recs)
			}
			for _, tok := range []string{uploaderToken, adminToken} {
				if s := call(t, ts, "POST", "/admission/validate/prod", tok, b, nil); s != 200 {
					t.Errorf("admission with a writing token: %d, want 200", s)
				}
			}
			ds, _, err := gate.Deployments(t.Context(), st, w.trust, gate.DeploymentQuery{})
			if err != nil || len(ds) == 0 {
				t.Fatalf("an authenticated review recorded nothing (%v)", err)
			}
			for _, d := range ds {
				// The token's name is recorded with the review's userInfo,
				// which the caller writes.
				if !strings.HasPrefix(d.Requester, "ci ") && !strings.HasPrefix(d.Requester, "ops ") {
					t.Errorf("requester %q does not name the token", d.Requester)
				}
			}
		})
	}
}

func TestHealthAndCrossOrigin(t *testing.T) {
	w := newWorld(t)
	st := openSQLite(t)
	_, ts := start(t, w, testConfig(t, ""), st)
	var h map[string]string
	if s := call(t, ts, "GET", "/healthz", "", nil, &h); s != 200 || h["status"] != "ok" {
		t.Fatalf("healthz: %d %v", s, h)
	}
	if s := call(t, ts, "GET", "/livez", "", nil, &h); s != 200 || h["status"] != "ok" {
		t.Fatalf("livez: %d %v", s, h)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "POST", ts.URL+"/v1/bundles", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+uploaderToken)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site browser POST: %d, want 403", resp.StatusCode)
	}
	st.Close() // the store going away makes the service unhealthy
	if s := call(t, ts, "GET", "/livez", "", nil, &h); s != 200 {
		t.Errorf("livez with a closed store: %d, want 200 (a store outage must not restart the process)", s)
	}
	if s := call(t, ts, "GET", "/healthz", "", nil, &h); s != 503 {
		t.Errorf("healthz with a closed store: %d, want 503", s)
	}
}

func TestPlainHTTPOnlyOnLoopbackWithFlag(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig(t, "")
	st := openSQLite(t)
	pols, _ := policy.LoadSpecs(t.Context(), cfg.Policies)
	g, _ := gate.New(st, w.trust, pols, w.gateKey)
	s, err := New(cfg, st, w.trust, g)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr     string
		insecure bool
	}{{"0.0.0.0:0", true}, {"127.0.0.1:0", false}, {"[::]:0", true}, {"example.com:80", true}} {
		if err := s.Run(t.Context(), tc.addr, tc.insecure); !errors.Is(err, ErrInsecure) {
			t.Errorf("Run(%s, insecure=%v) = %v, want ErrInsecure", tc.addr, tc.insecure, err)
		}
	}
	// On loopback with the flag it serves, and stops cleanly when the
	// context ends.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil || resp.StatusCode != 200 {
		t.Fatalf("plain HTTP on loopback: status %d, shutdown %v", resp.StatusCode, err)
	}
}

func TestOpenFromConfigFile(t *testing.T) {
	dir := t.TempDir()
	w := newWorld(t)
	pass := "hm-test-canary-passphrase"
	if _, _, err := keys.WriteFiles(filepath.Join(dir, "gate"), w.gateKey, []byte(pass)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.WriteFiles(filepath.Join(dir, "alice"), w.approver, []byte(pass)); err != nil {
		t.Fatal(err)
	}
	trustYAML := "version: 1\nkeys:\n  - {name: alice, publicKey: alice.pub, roles: [approver]}\n"
	os.WriteFile(filepath.Join(dir, "trust.yaml"), []byte(trustYAML+"  - {name: gate, publicKey: gate.pub, roles: [gate]}\n"), 0o600)
	pol, _ := os.ReadFile("testdata/policy.rego")
	os.WriteFile(filepath.Join(dir, "policy.rego"), pol, 0o600)
	certPEM, keyPEM := selfSigned(t)
	os.WriteFile(filepath.Join(dir, "tls.crt"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "tls.key"), keyPEM, 0o600)
	conf := fmt.Sprintf(`listen: 127.0.0.1:0
tls: {cert: tls.crt, key: tls.key}
store: {driver: sqlite, path: data/evidence.db}
trust: trust.yaml
policies: {prod: policy.rego, dev: builtin:dev}
gate: {key: gate.key, passphraseEnv: TEST_GATE_PASS}
auth:
  openReads: true
  admissionClientCA: cluster-ca.pem
  tokens: [{name: ci, sha256: %s, role: uploader}]
admission: {defaultEnvironment: prod, budget: 2s, cacheTTL: 30s, cacheSize: 100}
`, HashToken(uploaderToken))
	caPEM, apiServerCert := clientCA(t)
	os.WriteFile(filepath.Join(dir, "cluster-ca.pem"), caPEM, 0o600)
	_, strangerCert := clientCA(t) // issued by another CA
	path := filepath.Join(dir, "hallmark.yaml")
	os.WriteFile(path, []byte(conf), 0o600)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), cfg, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "TEST_GATE_PASS") {
		t.Fatalf("Open without the passphrase: %v", err)
	}
	s, err := Open(t.Context(), cfg, func(k string) string {
		if k == "TEST_GATE_PASS" {
			return pass
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tlsCfg, err := s.tlsConfig("127.0.0.1:0", false)
	if err != nil || tlsCfg == nil {
		t.Fatalf("TLS from the configuration: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, tlsCfg) }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // self-signed test certificate
	req, _ := http.NewRequestWithContext(t.Context(), "POST", "https://"+ln.Addr().String()+"/v1/bundles", bytes.NewReader(approval(t, w.approver, digestA, "prod", "")))
	req.Header.Set("Authorization", "Bearer "+uploaderToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("upload over TLS without a client certificate: %d", resp.StatusCode)
	}
	// Admission reviews need the API server's client certificate (mTLS).
	pod, err := os.ReadFile(filepath.Join("testdata", "pod.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cert *tls.Certificate
		want int
	}{{"no client certificate", nil, 401}, {"a certificate from another CA", &strangerCert, 0}, {"the API server's certificate", &apiServerCert, 200}} {
		tlsc := &tls.Config{InsecureSkipVerify: true} // self-signed test certificate
		if tc.cert != nil {
			tlsc.Certificates = []tls.Certificate{*tc.cert}
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsc}}
		req, _ := http.NewRequestWithContext(t.Context(), "POST", "https://"+ln.Addr().String()+"/admission/validate", bytes.NewReader(pod))
		resp, err := c.Do(req)
		if tc.want == 0 { // the TLS handshake itself refuses an unknown issuer
			if err == nil {
				resp.Body.Close()
				t.Errorf("admission with %s: %d, want the handshake refused", tc.name, resp.StatusCode)
			}
			continue
		}
		if err != nil {
			t.Fatalf("admission with %s: %v", tc.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("admission with %s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "evidence.db")); err != nil {
		t.Errorf("store path not resolved against the configuration's directory: %v", err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	base := "store: {driver: sqlite, path: e.db}\ntrust: t.yaml\npolicies: {prod: builtin}\ngate: {key: g.key}\n"
	anon := "auth: {insecureAnonymousAdmission: true}\n"
	tests := []struct{ name, yml, want string }{
		{"unknown field", base + "colour: blue\n", "colour"},
		{"no trust", "store: {driver: sqlite, path: e.db}\npolicies: {prod: builtin}\ngate: {key: g.key}\n", "trust"},
		{"bad driver", strings.Replace(base, "driver: sqlite", "driver: mysql", 1), "store.driver"},
		{"postgres without dsn", "store: {driver: postgres}\ntrust: t.yaml\npolicies: {prod: builtin}\ngate: {key: g.key}\n", "dsn"},
		{"bad token hash", base + "auth: {insecureAnonymousAdmission: true, tokens: [{name: x, sha256: abc, role: admin}]}\n", "64 lower-case hex"},
		// The old check lower-cased the hash; sha256sum prints lower case,
		// the one spelling digest.New reads.
		{"upper-case token hash", base + "auth: {insecureAnonymousAdmission: true, tokens: [{name: x, sha256: " + strings.Repeat("A", 64) + ", role: admin}]}\n", "write hex digits in lower case"},
		{"bad role", base + "auth: {insecureAnonymousAdmission: true, tokens: [{name: x, sha256: " + strings.Repeat("a", 64) + ", role: root}]}\n", "role"},
		{"admission without a credential", base, "the admission endpoints need a credential"},
		{"anonymous admission and a credential", base + "auth: {insecureAnonymousAdmission: true, admissionToken: true}\n", "contradicts"},
		{"client CA without TLS", base + "auth: {admissionClientCA: ca.pem}\n", "need TLS"},
		{"unmapped env", base + anon + "admission: {namespaces: {payments: staging}}\n", "no policy"},
		{"half TLS", base + anon + "tls: {cert: c.pem}\n", "tls"},
		{"budget too long", base + anon + "admission: {budget: 40s}\n", "budget"},
		{"resolve slower than the budget", base + anon + "admission: {budget: 2s, resolve: {enabled: true, timeout: 2s}}\n", "admission.resolve.timeout"},
		{"resolve settings while disabled", base + anon + "admission: {resolve: {insecureRegistries: [r.local:5000]}}\n", "enabled is false"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yml), "/etc/hallmark")
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrConfig mentioning %q", err, tc.want)
			}
		})
	}
	c, err := ParseConfig([]byte(base+anon), "/etc/hallmark")
	if err != nil {
		t.Fatal(err)
	}
	if c.Trust != "/etc/hallmark/t.yaml" || c.Policies["prod"] != "builtin" || c.Listen != DefaultListen {
		t.Errorf("resolved config: %+v", c)
	}
}

func TestHashToken(t *testing.T) {
	// SHA-256("abc") from FIPS 180-2.
	if got := HashToken("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashToken(abc) = %s", got)
	}
}

// TestRecheckReportsNowDenied: recheck re-evaluates what admission reviews
// allowed, through POST /v1/recheck, and keeps doing so whatever is decided
// later about the same digests. Attack (issue 20 item 3): once B was denied
// by POST /v1/gate (or in another namespace) after new vulnerability data,
// the latest decision was a deny and recheck no longer reported B, though
// the admitted pod still ran it.
func TestRecheckReportsNowDenied(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig(t, "")
	st := openSQLite(t)
	_, ts := start(t, w, cfg, st)
	for _, b := range [][]byte{approval(t, w.approver, digestA, "prod", ""), approval(t, w.approver, digestB, "prod", "")} {
		call(t, ts, "POST", "/v1/bundles", uploaderToken, b, nil)
	}
	ask := func(d string) bool {
		var a GateAnswer
		b, _ := json.Marshal(GateRequest{Digest: digest.MustParse(d), Environment: "prod"})
		call(t, ts, "POST", "/v1/gate", uploaderToken, b, &a)
		return a.Allowed
	}
	if !ask(digestA) || ask(digestC) { // checks, not deployments
		t.Fatal("gate API verdicts")
	}
	var before RecheckAnswer
	if s := call(t, ts, "POST", "/v1/recheck", adminToken, nil, &before); s != 200 || len(before.Rechecked) != 0 {
		t.Fatalf("recheck before any admission: %d %+v", s, before)
	}
	// The pod (A and B) is admitted into payments (prod).
	if s, msg, ok := review(t, ts, "pod.json"); s != 200 || !ok {
		t.Fatalf("review: %d %v %s", s, ok, msg)
	}
	// New vulnerability data arrives for B; B is then denied by the API
	// and in another namespace of prod.
	if c := call(t, ts, "POST", "/v1/bundles", uploaderToken, criticalVuln(t, w.scanner, digestB, "CVE-2026-0001"), nil); c != 201 {
		t.Fatalf("upload scan: %d", c)
	}
	if ask(digestB) {
		t.Fatal("B allowed with a critical vulnerability")
	}
	if s, msg, ok := reviewAt(t, ts, "/admission/validate/prod", "pod-other-namespace.json"); s != 200 || ok {
		t.Fatalf("review in another namespace: %d %v %s", s, ok, msg)
	}
	var deployed DeployedAnswer
	if s := call(t, ts, "GET", "/v1/deployed?env=prod", readerToken, nil, &deployed); s != 200 || len(deployed.Running) != 2 {
		t.Fatalf("GET /v1/deployed: %d %+v", s, deployed)
	}
	for round := range 2 { // a second recheck must not treat the first's records as deployments
		var ans RecheckAnswer
		if s := call(t, ts, "POST", "/v1/recheck", adminToken, nil, &ans); s != 200 {
			t.Fatalf("recheck: %d", s)
		}
		var got []string
		for _, r := range ans.Rechecked {
			line := fmt.Sprintf("%s %s allowed=%v", r.Artifact.Digest.String()[:15], r.Environment, r.Allowed)
			for _, wl := range r.Workloads {
				line += " in " + wl.Namespace + "/" + wl.Kind
			}
			for _, v := range r.Violations {
				line += " " + v.RuleID + ": " + v.Message
			}
			got = append(got, line)
		}
		want := []string{digestA[:15] + " prod allowed=true in payments/Pod", digestB[:15] + " prod allowed=false in payments/Pod vulns.critical: critical vulnerability CVE-2026-0001"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("round %d (-want +got):\n%s", round, diff)
		}
	}
}

// TestStoreOutageFailsClosed: with the store gone, uploads are not
// acknowledged, the gate API and the webhook deny, and health says so.
func TestStoreOutageFailsClosed(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig(t, "")
	cfg.Admission.CacheTTL = 0 // no cache: every review reaches the gate
	st := openSQLite(t)
	_, ts := start(t, w, cfg, st)
	for _, b := range [][]byte{approval(t, w.approver, digestA, "prod", ""), approval(t, w.approver, digestB, "prod", "")} {
		call(t, ts, "POST", "/v1/bundles", uploaderToken, b, nil)
	}
	if s, msg, ok := review(t, ts, "pod.json"); s != 200 || !ok {
		t.Fatalf("before the outage: %d %v %s", s, ok, msg)
	}
	st.Close()
	var e struct{ Error string }
	if s := call(t, ts, "POST", "/v1/bundles", uploaderToken, approval(t, w.approver, digestC, "prod", ""), &e); s != 503 {
		t.Errorf("upload during the outage: %d %s, want 503", s, e.Error)
	}
	var a GateAnswer
	b, _ := json.Marshal(GateRequest{Digest: digest.MustParse(digestA), Environment: "prod"})
	if s := call(t, ts, "POST", "/v1/gate", uploaderToken, b, &a); s != 200 || a.Allowed || !strings.Contains(a.Error, "failed closed") {
		t.Errorf("gate during the outage: %d %+v", s, a)
	}
	if s, msg, ok := review(t, ts, "pod.json"); s != 200 || ok || !strings.Contains(msg, "gate failed closed") {
		t.Errorf("admission during the outage: %d %v %s", s, ok, msg)
	}
}

// TestRequestTimeout: every request runs under the configured deadline.
func TestRequestTimeout(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig(t, "limits: {requestTimeout: 1ns}")
	_, ts := start(t, w, cfg, openSQLite(t))
	var e struct{ Error string }
	if s := call(t, ts, "GET", "/v1/evidence", readerToken, nil, &e); s != 503 || !strings.Contains(e.Error, "deadline") {
		t.Fatalf("listing past the request deadline: %d %q, want 503 naming the deadline", s, e.Error)
	}
	if s, msg, ok := review(t, ts, "pod.json"); s != 200 || ok {
		t.Fatalf("admission past the request deadline: %d %v %s", s, ok, msg)
	}
}

// metricsText reads /metrics with the reader token.
func metricsText(t *testing.T, ts *httptest.Server) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+readerToken)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// TestGateDecisionsCountedPerSource: hallmark_gate_decisions_total counts
// every gate evaluation the server makes, labelled by its source, not only
// those of POST /v1/gate (issue 16 item 12).
func TestGateDecisionsCountedPerSource(t *testing.T) {
	w := newWorld(t)
	st := openSQLite(t)
	_, ts := start(t, w, testConfig(t, ""), st)
	for _, b := range [][]byte{approval(t, w.approver, digestA, "prod", ""), approval(t, w.approver, digestB, "prod", "")} {
		if s := call(t, ts, "POST", "/v1/bundles", uploaderToken, b, nil); s != 201 {
			t.Fatalf("upload: %d", s)
		}
	}
	// A dry run first (the real review's allows would answer it from the
	// cache), then the real review: two digests each.
	if s := call(t, ts, "POST", "/admission/validate", "", podReview(t, `"dryRun": false`, `"dryRun": true`), nil); s != 200 {
		t.Fatalf("dry-run review: %d", s)
	}
	if s, msg, ok := review(t, ts, "pod.json"); s != 200 || !ok {
		t.Fatalf("review: %d %v %s", s, ok, msg)
	}
	b, _ := json.Marshal(GateRequest{Digest: digest.MustParse(digestC), Environment: "prod"})
	if s := call(t, ts, "POST", "/v1/gate", uploaderToken, b, nil); s != 200 {
		t.Fatalf("gate: %d", s)
	}
	if s := call(t, ts, "POST", "/v1/recheck", adminToken, nil, nil); s != 200 {
		t.Fatalf("recheck: %d", s)
	}
	body := metricsText(t, ts)
	for _, line := range []string{
		`hallmark_gate_decisions_total{source="admission_dry_run",verdict="allow"} 2`,
		`hallmark_gate_decisions_total{source="admission",verdict="allow"} 2`,
		`hallmark_gate_decisions_total{source="api",verdict="deny"} 1`,
		`hallmark_gate_decisions_total{source="recheck",verdict="allow"} 2`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, body)
		}
	}
}
