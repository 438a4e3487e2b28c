package cli

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/policy/policytest"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/compliance"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/server"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
	"github.com/hallmark-dev/hallmark/vuln"
	"github.com/hallmark-dev/hallmark/web"
)

var servePolicy = policytest.AdmissionPolicy

// TestServerClientCommands drives push, evidence ls --server, deployments
// ls --server and recheck --config against a real TLS server.
func TestServerClientCommands(t *testing.T) {
	dir := t.TempDir()
	pass := "hm-test-canary-passphrase"
	token := "hm-test-canary-token-0000"
	adminToken := "hm-test-canary-token-admin"
	gk, approver, scanner, stranger := attesttest.Key(t, keys.Ed25519), attesttest.Key(t, keys.Ed25519), attesttest.Key(t, keys.Ed25519), attesttest.Key(t, keys.Ed25519)
	for name, k := range map[string]*keys.PrivateKey{"gate": gk, "alice": approver, "scanner": scanner} {
		if _, _, err := keys.WriteFiles(filepath.Join(dir, name), k, []byte(pass)); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: alice, publicKey: alice.pub, roles: [approver]}\n  - {name: scanner, publicKey: scanner.pub, roles: [scanner]}\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n")
	writeFile(t, filepath.Join(dir, "policy.rego"), servePolicy)
	cfgPath := writeFile(t, filepath.Join(dir, "hallmark.yaml"), fmt.Sprintf(`store: {driver: sqlite, path: evidence.db}
trust: trust.yaml
policies: {prod: policy.rego}
gate: {key: gate.key}
auth: {insecureAnonymousAdmission: true, tokens: [{name: ci, sha256: %s, role: uploader}, {name: ops, sha256: %s, role: admin}]}
admission: {defaultEnvironment: prod}
`, server.HashToken(token), server.HashToken(adminToken)))
	cfg, err := server.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.Open(t.Context(), cfg, func(string) string { return pass },
		server.WithDashboardFrom(func(st store.Store, g *gate.Gate) (http.Handler, error) {
			return web.New(st, g.Trust(), web.WithCompliance(web.Compliance{Policies: g.Policies(), Decisions: compliance.StoreDecisions(st, g.Trust(), nil)}))
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewTLSServer(s.Handler())
	defer ts.Close()
	ca := writeFile(t, filepath.Join(dir, "ca.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})))

	sha := func(s string) (string, attest.Subject) {
		sub := attesttest.Subject("app-"+s, []byte(s))
		return "sha256:" + sub.Digest["sha256"], sub
	}
	dA, subA := sha("A")
	dB, subB := sha("B")
	bundle := func(name string, k *keys.PrivateKey, pt string, pred any, sub attest.Subject) string {
		return writeFile(t, filepath.Join(dir, name), string(attesttest.Bundle(t, k, pt, pred, sub)))
	}
	approve := func(d string) gate.Approval {
		a, err := gate.NewApproval(digest.MustParse(d), "prod", "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	apA := bundle("a.json", approver, gate.ApprovalPredicateType, approve(dA), subA)
	apB := bundle("b.json", approver, gate.ApprovalPredicateType, approve(dB), subB)
	forged := bundle("forged.json", stranger, gate.ApprovalPredicateType, approve(dA), subA)

	ta := newTestApp(t)
	ta.env[TokenEnv] = token
	remote := []string{"--server", ts.URL, "--ca", ca}

	ta.mustRun(t, append([]string{"push", apA, apB}, remote...)...)
	if n := strings.Count(ta.out.String(), gate.ApprovalPredicateType); n != 2 {
		t.Fatalf("push printed %d records:\n%s", n, ta.out)
	}
	// #16.8: push also takes the ID (or a unique prefix) of local evidence.
	local, err := ta.openStore(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	dL, subL := sha("pushed-by-id")
	rec, err := local.Put(t.Context(), attesttest.Verified(t, approver, gate.ApprovalPredicateType, approve(dL), subL))
	local.Close()
	if err != nil {
		t.Fatal(err)
	}
	ta.mustRun(t, append([]string{"push", strings.TrimPrefix(rec.ID, "sha256:")[:10]}, remote...)...)
	if !strings.HasPrefix(ta.out.String(), rec.ID+"\t"+gate.ApprovalPredicateType) {
		t.Fatalf("push by ID prefix printed:\n%s", ta.out)
	}
	if code := ta.run(append([]string{"push", forged}, remote...)...); code != ExitRejected || !strings.Contains(ta.errOut.String(), "does not verify") {
		t.Fatalf("push of a forged bundle: exit %d, %s", code, ta.errOut)
	}
	delete(ta.env, TokenEnv)
	if code := ta.run(append([]string{"push", apA}, remote...)...); code != ExitUsage {
		t.Fatalf("push without a token: exit %d, %s", code, ta.errOut)
	}
	ta.env[TokenEnv] = token
	if code := ta.run("push", apA, "--server", ts.URL); code != ExitEnvironment || !strings.Contains(ta.errOut.String(), "certificate") {
		t.Fatalf("push to a server whose CA is not trusted: exit %d, %s", code, ta.errOut)
	}

	ta.mustRun(t, append([]string{"evidence", "ls", "--subject", dA, "--format", "json"}, remote...)...)
	var recs []json.RawMessage
	if err := json.Unmarshal(ta.out.Bytes(), &recs); err != nil || len(recs) != 1 {
		t.Fatalf("evidence ls --server: %v, %s", err, ta.out)
	}
	var listed struct{ ID string }
	json.Unmarshal(recs[0], &listed)
	ta.mustRun(t, append([]string{"evidence", "show", listed.ID, "--bundle"}, remote...)...)
	if want, _ := os.ReadFile(apA); !bytes.Equal(ta.out.Bytes(), want) {
		t.Fatalf("evidence show --bundle --server printed other bytes than were pushed:\n%s", ta.out)
	}
	ta.mustRun(t, append([]string{"evidence", "show", listed.ID}, remote...)...)
	if !strings.Contains(ta.out.String(), `"statement"`) || !strings.Contains(ta.out.String(), gate.ApprovalPredicateType) {
		t.Fatalf("evidence show --server:\n%s", ta.out)
	}

	// A pipeline asks the server's gate: allowed (approved, and the
	// uploaded scan is clean enough)...
	for _, d := range []string{dA, dB} {
		ta.mustRun(t, append([]string{"gate", d, "--env", "prod", "--requester", "pipeline-7"}, remote...)...)
		if !strings.HasPrefix(ta.out.String(), "ALLOW  "+d+" -> prod") || !strings.Contains(ta.out.String(), "recorded: decision") {
			t.Fatalf("gate --server %s:\n%s", d, ta.out)
		}
	}
	// ...denied, with the forged approval (uploaded first) listed as
	// not counting...
	dC, _ := sha("C")
	if code := ta.run(append([]string{"gate", dC, "--env", "prod", "--bundle", apA}, remote...)...); code != ExitRejected ||
		!strings.Contains(ta.out.String(), "DENY  "+dC) || !strings.Contains(ta.out.String(), "x [") {
		t.Fatalf("gate --server for an unapproved artifact: exit %d\n%s%s", code, ta.out, ta.errOut)
	}
	// ...and refused as a usage error when local-only flags are mixed in.
	if code := ta.run(append([]string{"gate", dA, "--env", "prod", "--key", "gate.key"}, remote...)...); code != ExitUsage || !strings.Contains(ta.errOut.String(), "--key cannot be used with --server") {
		t.Fatalf("gate --server --key: exit %d, %s", code, ta.errOut)
	}
	if code := ta.run(append([]string{"gate", dA, "--env", "staging"}, remote...)...); code != ExitBadInput || !strings.Contains(ta.errOut.String(), "staging") {
		t.Fatalf("gate --server for an environment the server has no policy for: exit %d, %s", code, ta.errOut)
	}
	ta.mustRun(t, append([]string{"deployments", "ls", "--env", "prod"}, remote...)...)
	if n := strings.Count(ta.out.String(), "allow"); n != 2 || !strings.Contains(ta.out.String(), "pipeline-7") {
		t.Fatalf("deployments ls --server shows %d allows:\n%s", n, ta.out)
	}

	// The dashboard is mounted under /ui/ and shows the decisions.
	uiReq, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/ui/deployments", nil)
	uiReq.Header.Set("Authorization", "Bearer "+token)
	resp, err := ts.Client().Do(uiReq)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") != web.ContentSecurityPolicy || !strings.Contains(string(page), dA[:20]) {
		t.Fatalf("dashboard: %d %q\n%.500s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), page)
	}
	// Its compliance page judges with the server's policy and lists the
	// decision the gate recorded.
	uiReq, _ = http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/ui/artifacts/"+dA+"/compliance?env=prod", nil)
	uiReq.Header.Set("Authorization", "Bearer "+token)
	if resp, err = ts.Client().Do(uiReq); err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "<dt>Decisions recorded</dt><dd>1</dd>") || !strings.Contains(string(page), "SLSA-BUILD-L1") {
		t.Fatalf("dashboard compliance page: %d\n%s", resp.StatusCode, page)
	}

	// Gate checks deploy nothing: nothing to recheck until a pod running
	// A and B is admitted.
	ta.mustRun(t, append([]string{"deployments", "ls", "--deployed", "--format", "json"}, remote...)...)
	if strings.TrimSpace(ta.out.String()) != "[]" {
		t.Fatalf("deployed before any admission:\n%s", ta.out)
	}
	review := fmt.Sprintf(`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u-1",
		"kind": {"group": "", "version": "v1", "kind": "Pod"}, "namespace": "shop", "name": "web", "operation": "CREATE",
		"object": {"spec": {"containers": [{"name": "a", "image": "registry.example.com/a@%s"}, {"name": "b", "image": "registry.example.com/b@%s"}]}}}}`, dA, dB)
	reviewResp, err := ts.Client().Post(ts.URL+"/admission/validate", "application/json", strings.NewReader(review))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(reviewResp.Body)
	reviewResp.Body.Close()
	if !strings.Contains(string(answer), `"allowed":true`) {
		t.Fatalf("admission review: %s", answer)
	}
	ta.mustRun(t, append([]string{"deployments", "ls", "--deployed"}, remote...)...)
	if n := strings.Count(ta.out.String(), "Pod/web"); n != 2 || !strings.Contains(ta.out.String(), "shop") {
		t.Fatalf("deployments ls --deployed --server:\n%s", ta.out)
	}
	// The review recorded decisions without VSAs; deployments vsa
	// --server has the server issue one, signed by its gate key.
	ta.mustRun(t, append([]string{"deployments", "ls", "--format", "json", "--artifact", dA}, remote...)...)
	var admitted []gate.Deployment
	if err := json.Unmarshal(ta.out.Bytes(), &admitted); err != nil || len(admitted) == 0 || admitted[0].Source != gate.AdmissionSource || admitted[0].VSA != "" {
		t.Fatalf("newest decision about A: %v %+v, want the admission's, without a VSA", err, admitted)
	}
	ta.mustRun(t, append([]string{"deployments", "vsa", admitted[0].ID}, remote...)...)
	tr, err := trust.Load(filepath.Join(dir, "trust.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := attest.Verify(t.Context(), ta.out.Bytes(), tr.All()); err != nil || v.PredicateType != gate.VSAPredicateType || gate.CheckRecordSigner(v, tr) != nil {
		t.Fatalf("deployments vsa --server: %v %+v\n%s", err, v, ta.out)
	}

	// Nothing would change yet...
	ta.env[PasswordEnv] = pass
	ta.mustRun(t, "recheck", "--config", cfgPath)
	// ...until a critical vulnerability is reported for B.
	now := time.Now().UTC()
	scan := vuln.VulnsPredicate{Scanner: vuln.PredicateScanner{URI: "https://hallmark.dev/scanners/vuln",
		Result: []vuln.PredicateResult{{ID: "CVE-2026-0002", Severity: []vuln.PredicateSeverity{{Method: "hallmark", Score: "critical"}}}}},
		Metadata: vuln.PredicateMetadata{ScanStartedOn: now, ScanFinishedOn: now}}
	ta.mustRun(t, append([]string{"push", bundle("scan.json", scanner, vuln.PredicateType, scan, subB)}, remote...)...)
	code := ta.run("recheck", "--config", cfgPath)
	if code != ExitRejected || !strings.Contains(ta.out.String(), "DENY") || !strings.Contains(ta.out.String(), "CVE-2026-0002") || strings.Count(ta.out.String(), "allow") != 1 {
		t.Fatalf("recheck after new vulnerability data: exit %d\n%s%s", code, ta.out, ta.errOut)
	}
	// The same through the server: the verdicts are recorded, so the
	// token needs the admin role.
	if code := ta.run(append([]string{"recheck"}, remote...)...); code != ExitUsage || !strings.Contains(ta.errOut.String(), "admin") {
		t.Fatalf("recheck --server with an uploader token: exit %d, %s", code, ta.errOut)
	}
	ta.env[TokenEnv] = adminToken
	code = ta.run(append([]string{"recheck", "--env", "prod", "--format", "json"}, remote...)...)
	var rs []gate.Recheck
	if err := json.Unmarshal(ta.out.Bytes(), &rs); code != ExitRejected || err != nil || len(rs) != 2 {
		t.Fatalf("recheck --server: exit %d, %v\n%s%s", code, err, ta.out, ta.errOut)
	}
	for _, r := range rs {
		if denied := r.Artifact.Digest.String() == dB; r.Allowed == denied || (denied && !strings.Contains(fmt.Sprint(r.Violations), "CVE-2026-0002")) {
			t.Errorf("recheck --server: %+v", r)
		}
	}
	if code := ta.run(append([]string{"recheck", "--env", "moon"}, remote...)...); code != ExitBadInput || !strings.Contains(ta.errOut.String(), "moon") {
		t.Fatalf("recheck --server for an environment without a policy: exit %d, %s", code, ta.errOut)
	}
	if code := ta.run(append([]string{"recheck", "--key", "gate.key"}, remote...)...); code != ExitUsage {
		t.Fatalf("recheck --server --key: exit %d, %s", code, ta.errOut)
	}
	// --incremental is asked of the server (which reads its own vulnDB;
	// this one names none), no longer refused by the CLI.
	if code := ta.run(append([]string{"recheck", "--incremental"}, remote...)...); code != ExitBadInput || !strings.Contains(ta.errOut.String(), "vulnDB") {
		t.Fatalf("recheck --server --incremental without a server vulnDB: exit %d, %s", code, ta.errOut)
	}
	if code := ta.run(append([]string{"recheck", "--incremental", "--db", "osv"}, remote...)...); code != ExitUsage {
		t.Fatalf("recheck --server --incremental --db: exit %d, %s", code, ta.errOut)
	}
}

func TestServeRefusesPlainHTTPOffLoopback(t *testing.T) {
	ta := newTestApp(t)
	if code := ta.run("serve"); code != ExitUsage {
		t.Fatalf("serve without --config: exit %d", code)
	}
	dir := t.TempDir()
	k := attesttest.Key(t, keys.Ed25519)
	keys.WriteFiles(filepath.Join(dir, "gate"), k, []byte("test-pass"))
	writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n")
	cfg := writeFile(t, filepath.Join(dir, "c.yaml"), "store: {driver: sqlite, path: e.db}\ntrust: trust.yaml\npolicies: {dev: builtin}\ngate: {key: gate.key}\nauth: {insecureAnonymousAdmission: true}\n")
	code := ta.run("serve", "--config", cfg, "--listen", "0.0.0.0:0", "--insecure-http")
	if code != ExitUsage || !strings.Contains(ta.errOut.String(), "loopback") {
		t.Fatalf("plain HTTP on 0.0.0.0: exit %d, %s", code, ta.errOut)
	}
	code = ta.run("serve", "--config", cfg, "--listen", "127.0.0.1:0")
	if code != ExitUsage || !strings.Contains(ta.errOut.String(), "tls.cert") {
		t.Fatalf("no TLS and no flag: exit %d, %s", code, ta.errOut)
	}
}
