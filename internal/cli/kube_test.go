package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/admission/kubetest"
	"github.com/hallmark-dev/hallmark/oci/ocitest"
)

// TestAdmissionBehindKubeAPIServer registers the shipped webhook
// configurations (deploy/kubernetes) with a real kube-apiserver, which
// calls `hallmark serve` over mutual TLS as docs/server.md installs it, and
// checks that the cluster admits exactly what `hallmark gate` allows for
// the same images, evidence, trust and policy; then stops Hallmark and
// checks that nothing is admitted (failurePolicy: Fail).
func TestAdmissionBehindKubeAPIServer(t *testing.T) {
	dir := t.TempDir()
	servingCA := kubetest.NewCA(t, "hallmark serving CA")
	serving := servingCA.Server(t, dir, "hallmark-tls", "hallmark.hallmark-system.svc")
	clientCA := kubetest.NewCA(t, "webhook client CA")
	hallmarkPort := kubetest.FreePort(t)
	webhookClient := clientCA.Client(t, dir, "apiserver-webhook", "kube-apiserver")
	kube := kubetest.Start(t, kubetest.Config{WebhookClients: map[string]kubetest.Pair{
		fmt.Sprintf("hallmark.hallmark-system.svc:%d", hallmarkPort): webhookClient,
	}})

	// Three images in a registry: one approved for prod by a trusted key,
	// one approved by a key the trust file does not name, one with no
	// evidence. The approvals travel with the images (OCI referrers).
	reg := ocitest.NewRegistry(t)
	regCA := writeFile(t, filepath.Join(dir, "registry-ca.pem"), string(reg.CertPEM()))
	ta := newTestApp(t)
	for _, n := range []string{"alice", "eve", "gate"} {
		ta.mustRun(t, "keygen", filepath.Join(dir, n))
	}
	repo := reg.Host + "/team/app"
	digests := map[string]string{}
	for _, tag := range []string{"approved", "untrusted", "bare"} {
		digests[tag] = reg.PushImage(t, "team/app:"+tag)
	}
	ta.mustRun(t, "--registry-ca", regCA, "approve", repo+":approved", "--env", "prod", "--key", filepath.Join(dir, "alice.key"))
	ta.mustRun(t, "--registry-ca", regCA, "approve", repo+":untrusted", "--env", "prod", "--key", filepath.Join(dir, "eve.key"))
	ta.mustRun(t, "--registry-ca", regCA, "push", "--oci", repo+":approved")
	ta.mustRun(t, "--registry-ca", regCA, "push", "--oci", repo+":untrusted")

	writeFile(t, filepath.Join(dir, "trust.yaml"), "version: 1\nkeys:\n  - {name: alice, publicKey: alice.pub, roles: [approver]}\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n")
	writeFile(t, filepath.Join(dir, "prod.rego"), `package hallmark.policy

default approved := false

approved if {
	some a in input.evidence.approvals
	a.environment == input.context.environment
	a.artifact == input.artifact.digest
}

decision := {"allow": approved, "violations": [{"ruleId": "approval", "message": "no approval for prod"} | not approved]}
`)
	writeFile(t, filepath.Join(dir, "dev.rego"), "package hallmark.policy\n\ndecision := {\"allow\": true, \"violations\": []}\n")
	writeFile(t, filepath.Join(dir, "webhook-client-ca.pem"), string(clientCA.PEM))
	cfg := writeFile(t, filepath.Join(dir, "hallmark.yaml"), fmt.Sprintf(`tls: {cert: %s, key: %s}
store: {driver: sqlite, path: evidence.db}
trust: trust.yaml
policies: {prod: prod.rego, dev: dev.rego}
gate: {key: gate.key}
auth: {admissionClientCA: webhook-client-ca.pem}
admission:
  budget: 4s
  resolve: {enabled: true, timeout: 3s, caFile: registry-ca.pem}
  registryEvidence: {enabled: true, timeout: 3s}
`, serving.CertFile, serving.KeyFile))

	// What the gate decides, by the CLI, from an empty store: the server's
	// store holds no evidence either, so both see only the registry's.
	gateAllows := func(env, image string) bool {
		t.Helper()
		ta.env[StoreEnv] = filepath.Join(t.TempDir(), "store")
		code := ta.run("--registry-ca", regCA, "gate", image, "--env", env, "--trust", filepath.Join(dir, "trust.yaml"),
			"--policy", filepath.Join(dir, env+".rego"), "--key", filepath.Join(dir, "gate.key"), "--registry-evidence")
		if code != 0 && code != ExitRejected {
			t.Fatalf("hallmark gate %s --env %s: exit %d\n%s%s", image, env, code, ta.out, ta.errOut)
		}
		return code == 0
	}

	stop := serveHallmark(t, cfg, hallmarkPort, servingCA.PEM)
	kube.ServeOnLoopback(t, "hallmark-system", "hallmark")
	root := repoRoot(t)
	for _, f := range []string{"mutatingwebhook.yaml", "validatingwebhook.yaml"} {
		kube.RegisterWebhooks(t, filepath.Join(root, "deploy", "kubernetes", f), servingCA.PEM, int32(hallmarkPort))
	}
	kube.CreateNamespace(t, "shop", map[string]string{"hallmark.dev/environment": "prod"})
	kube.CreateNamespace(t, "sandbox", map[string]string{"hallmark.dev/environment": "dev"})
	kube.CreateNamespace(t, "unmapped", nil)

	ctx := t.Context()
	pinned := func(tag string) string { return repo + "@" + digests[tag] }
	createPod := func(ns, name string, dryRun bool, images ...string) ([]byte, error) {
		var cs []map[string]any
		for i, img := range images {
			cs = append(cs, map[string]any{"name": fmt.Sprintf("c%d", i), "image": img})
		}
		path := "/api/v1/namespaces/" + ns + "/pods"
		if dryRun {
			path += "?dryRun=All"
		}
		return kube.Create(ctx, path, map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": name}, "spec": map[string]any{"containers": cs}})
	}
	createDeployment := func(ns, name string, dryRun bool, image string) ([]byte, error) {
		labels := map[string]string{"app": name}
		path := "/apis/apps/v1/namespaces/" + ns + "/deployments"
		if dryRun {
			path += "?dryRun=All"
		}
		return kube.Create(ctx, path, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": name},
			"spec": map[string]any{"selector": map[string]any{"matchLabels": labels}, "template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "app", "image": image}}}}}})
	}

	// The API server picks up webhook configurations, namespaces and the
	// service asynchronously: wait (dry runs, which Hallmark does not
	// record) until both webhooks answer.
	deadline := time.Now().Add(time.Minute)
	for {
		_, podErr := createPod("shop", "probe", true, pinned("bare"))
		dep, depErr := createDeployment("shop", "probe", true, repo+":approved")
		if denial(podErr, "prod.admission.hallmark.dev") && depErr == nil && containerImage(t, dep) == repo+":approved@"+digests["approved"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhooks not in effect after a minute: pod %v; deployment %v %.300s", podErr, depErr, dep)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Pods by digest: the cluster admits exactly what the gate allows, in
	// the environment the namespace's label selects.
	for _, tc := range []struct {
		ns, env, tag string
		want         bool // what the gate must say, so the comparison cannot pass vacuously
	}{
		{"shop", "prod", "approved", true},
		{"shop", "prod", "untrusted", false},
		{"shop", "prod", "bare", false},
		{"sandbox", "dev", "bare", true},
	} {
		name := tc.ns + "-" + tc.tag
		gate := gateAllows(tc.env, pinned(tc.tag))
		if gate != tc.want {
			t.Errorf("hallmark gate %s --env %s allows: %v, want %v\n%s", tc.tag, tc.env, gate, tc.want, ta.out)
		}
		_, err := createPod(tc.ns, name, false, pinned(tc.tag))
		if admitted := err == nil; admitted != gate {
			t.Errorf("pod %s/%s (%s): admitted %v, but the gate allows: %v (%v)", tc.ns, name, tc.tag, admitted, gate, err)
		}
		if err != nil && (!denial(err, tc.env+".admission.hallmark.dev") || !strings.Contains(err.Error(), "no approval for prod")) {
			t.Errorf("pod %s/%s denied, but not by the policy of %s's validating webhook: %v", tc.ns, name, tc.env, err)
		}
	}
	// One denied image denies the pod.
	if _, err := createPod("shop", "mixed", false, pinned("approved"), pinned("bare")); !denial(err, "prod.admission.hallmark.dev") {
		t.Errorf("pod with an approved and an unapproved image: %v", err)
	}
	// A namespace without the label goes to the generic webhook, and the
	// configuration maps it to no environment: denied.
	if _, err := createPod("unmapped", "p", false, pinned("approved")); !denial(err, "admission.hallmark.dev") || !strings.Contains(err.Error(), "unmapped") {
		t.Errorf("pod in an unmapped namespace: %v", err)
	}
	// Deployments by tag: the mutating webhook pins the tag to the digest
	// the gate allowed, and the stored object names it.
	dep, err := createDeployment("shop", "web", false, repo+":approved")
	if err != nil {
		t.Fatalf("deployment of the approved image by tag: %v", err)
	}
	if got, want := containerImage(t, dep), repo+":approved@"+digests["approved"]; got != want {
		t.Errorf("stored deployment runs %s, want %s", got, want)
	}
	if _, err := createDeployment("shop", "worker", false, repo+":bare"); !denial(err, "prod.pin.hallmark.dev") || !strings.Contains(err.Error(), digests["bare"]) {
		t.Errorf("deployment of an unapproved image by tag: %v", err)
	}

	// Hallmark down: failurePolicy Fail refuses even the approved image.
	stop()
	_, err = createPod("shop", "after-stop", false, pinned("approved"))
	var se *kubetest.StatusError
	if !errors.As(err, &se) || !strings.Contains(se.Message, "failed calling webhook") {
		t.Fatalf("pod created while Hallmark is down: %v", err)
	}
	if _, err := createDeployment("shop", "after-stop", false, repo+":approved"); err == nil {
		t.Fatal("deployment created while Hallmark is down")
	}
}

// denial reports whether err is the API server refusing a request because
// webhook (by its name in the configuration) denied it.
func denial(err error, webhook string) bool {
	var se *kubetest.StatusError
	return errors.As(err, &se) && strings.Contains(se.Message, fmt.Sprintf("admission webhook %q denied the request", webhook))
}

// containerImage returns the image of a Deployment's first container.
func containerImage(t *testing.T, obj []byte) string {
	t.Helper()
	var d struct {
		Spec struct {
			Template struct {
				Spec struct{ Containers []struct{ Image string } }
			}
		}
	}
	if err := json.Unmarshal(obj, &d); err != nil || len(d.Spec.Template.Spec.Containers) == 0 {
		t.Fatalf("not a deployment (%v): %.300s", err, obj)
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// serveHallmark runs `hallmark serve --config cfg` on 127.0.0.1:port until
// the returned stop is called (or the test ends), once it answers over
// TLS with a certificate for hallmark.hallmark-system.svc.
func serveHallmark(t *testing.T, cfg string, port int, caPEM []byte) (stop func()) {
	t.Helper()
	srv := newTestApp(t)
	srv.Stderr = &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, srv.App, []string{"serve", "--config", cfg, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--memory-limit-mib", "0"})
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("hallmark serve exited %d:\n%s", code, srv.Stderr)
		}
	}
	t.Cleanup(stop)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "hallmark.hallmark-system.svc"}}}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/healthz", port))
		if err == nil {
			resp.Body.Close()
			return stop
		}
		select {
		case code := <-done:
			t.Fatalf("hallmark serve exited %d:\n%s", code, srv.Stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hallmark serve not answering: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lockedBuffer is a bytes.Buffer safe for a server's logger and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
