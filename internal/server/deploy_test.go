package server

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestKubernetesManifests keeps deploy/kubernetes honest: the ConfigMap
// holds a configuration ParseConfig accepts, and both webhooks (validating,
// and mutating with reinvocation) fail closed with a timeout above the
// admission budget and are applied by the kustomization.
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
	if !cfg.Admission.Resolve.Enabled {
		t.Error("the shipped configuration ships a mutating webhook but does not resolve tags")
	}
	for _, m := range []struct{ file, path, reinvocation string }{
		{"validatingwebhook.yaml", "/admission/validate", ""},
		{"mutatingwebhook.yaml", "/admission/mutate", "IfNeeded"},
	} {
		checkWebhook(t, filepath.Join(dir, m.file), m.path, m.reinvocation, cfg)
	}
	b, err = os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"mutatingwebhook.yaml", "validatingwebhook.yaml"} {
		if !slices.Contains(k.Resources, f) {
			t.Errorf("kustomization.yaml does not apply %s", f)
		}
	}
}

func checkWebhook(t *testing.T, file, path, reinvocation string, cfg *Config) {
	t.Helper()
	var wh struct {
		Kind     string `yaml:"kind"`
		Webhooks []struct {
			FailurePolicy      string   `yaml:"failurePolicy"`
			SideEffects        string   `yaml:"sideEffects"`
			TimeoutSeconds     int      `yaml:"timeoutSeconds"`
			ReinvocationPolicy string   `yaml:"reinvocationPolicy"`
			Versions           []string `yaml:"admissionReviewVersions"`
			ClientConfig       struct {
				Service struct{ Path string } `yaml:"service"`
			} `yaml:"clientConfig"`
			Rules []struct {
				Resources []string `yaml:"resources"`
			} `yaml:"rules"`
		} `yaml:"webhooks"`
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &wh); err != nil {
		t.Fatal(err)
	}
	if len(wh.Webhooks) != 1 {
		t.Fatalf("%s: %d webhooks", file, len(wh.Webhooks))
	}
	w := wh.Webhooks[0]
	if w.FailurePolicy != "Fail" || w.SideEffects != "None" || w.ClientConfig.Service.Path != path || len(w.Versions) != 1 || w.Versions[0] != "v1" ||
		w.ReinvocationPolicy != reinvocation {
		t.Errorf("%s: webhook %+v", file, w)
	}
	if budget := cfg.Admission.Budget.Seconds(); float64(w.TimeoutSeconds) <= budget {
		t.Errorf("%s: timeoutSeconds %d is not above the admission budget %v", file, w.TimeoutSeconds, cfg.Admission.Budget)
	}
	covered := map[string]bool{}
	for _, r := range w.Rules {
		for _, res := range r.Resources {
			covered[res] = true
		}
	}
	for _, res := range []string{"pods", "pods/ephemeralcontainers", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs", "replicationcontrollers"} {
		if !covered[res] {
			t.Errorf("%s: webhook rules miss %s", file, res)
		}
	}
}
