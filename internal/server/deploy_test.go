package server

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestKubernetesManifests keeps deploy/kubernetes honest: the ConfigMap
// holds a configuration ParseConfig accepts, and the webhook fails closed
// with a timeout above the admission budget.
func TestKubernetesManifests(t *testing.T) {
	dir := filepath.Join("..", "..", "deploy", "kubernetes")
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "configmap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &cm); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig([]byte(cm.Data["hallmark.yaml"]), "/")
	if err != nil {
		t.Fatalf("the shipped configuration does not parse: %v", err)
	}
	var wh struct {
		Webhooks []struct {
			FailurePolicy  string   `yaml:"failurePolicy"`
			SideEffects    string   `yaml:"sideEffects"`
			TimeoutSeconds int      `yaml:"timeoutSeconds"`
			Versions       []string `yaml:"admissionReviewVersions"`
			ClientConfig   struct {
				Service struct{ Path string } `yaml:"service"`
			} `yaml:"clientConfig"`
			Rules []struct {
				Resources []string `yaml:"resources"`
			} `yaml:"rules"`
		} `yaml:"webhooks"`
	}
	b, err = os.ReadFile(filepath.Join(dir, "validatingwebhook.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &wh); err != nil {
		t.Fatal(err)
	}
	if len(wh.Webhooks) != 1 {
		t.Fatalf("%d webhooks", len(wh.Webhooks))
	}
	w := wh.Webhooks[0]
	if w.FailurePolicy != "Fail" || w.SideEffects != "None" || w.ClientConfig.Service.Path != "/admission/validate" || len(w.Versions) != 1 || w.Versions[0] != "v1" {
		t.Errorf("webhook %+v", w)
	}
	if budget := cfg.Admission.Budget.Seconds(); float64(w.TimeoutSeconds) <= budget {
		t.Errorf("timeoutSeconds %d is not above the admission budget %v", w.TimeoutSeconds, cfg.Admission.Budget)
	}
	covered := map[string]bool{}
	for _, r := range w.Rules {
		for _, res := range r.Resources {
			covered[res] = true
		}
	}
	for _, res := range []string{"pods", "pods/ephemeralcontainers", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs", "replicationcontrollers"} {
		if !covered[res] {
			t.Errorf("webhook rules miss %s", res)
		}
	}
}
