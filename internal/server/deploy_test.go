package server

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// selector is a webhook's namespaceSelector.
type selector struct {
	MatchLabels      map[string]string `yaml:"matchLabels"`
	MatchExpressions []struct {
		Key      string   `yaml:"key"`
		Operator string   `yaml:"operator"`
		Values   []string `yaml:"values"`
	} `yaml:"matchExpressions"`
}

// matches applies a label selector as the API server does: every label
// and expression must hold; NotIn and DoesNotExist hold for a missing key.
func (s selector) matches(t *testing.T, labels map[string]string) bool {
	for k, v := range s.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	for _, e := range s.MatchExpressions {
		v, ok := labels[e.Key]
		switch e.Operator {
		case "In":
			if !ok || !slices.Contains(e.Values, v) {
				return false
			}
		case "NotIn":
			if ok && slices.Contains(e.Values, v) {
				return false
			}
		case "Exists":
			if !ok {
				return false
			}
		case "DoesNotExist":
			if ok {
				return false
			}
		default:
			t.Fatalf("selector operator %q", e.Operator)
		}
	}
	return true
}

// checkWebhook checks every webhook of a configuration, and that each
// namespace reaches exactly one of them: a namespace labelled for an
// environment the configuration has a policy for reaches that
// environment's path, every other namespace (no label, an unknown value)
// the generic path, and Hallmark's own namespace none.
func checkWebhook(t *testing.T, file, path, reinvocation string, cfg *Config) {
	t.Helper()
	var wh struct {
		Kind     string `yaml:"kind"`
		Webhooks []struct {
			Name               string   `yaml:"name"`
			FailurePolicy      string   `yaml:"failurePolicy"`
			SideEffects        string   `yaml:"sideEffects"`
			TimeoutSeconds     int      `yaml:"timeoutSeconds"`
			ReinvocationPolicy string   `yaml:"reinvocationPolicy"`
			Versions           []string `yaml:"admissionReviewVersions"`
			ClientConfig       struct {
				Service struct{ Path string } `yaml:"service"`
			} `yaml:"clientConfig"`
			NamespaceSelector selector `yaml:"namespaceSelector"`
			Rules             []struct {
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
	if len(wh.Webhooks) != len(cfg.Policies)+1 {
		t.Fatalf("%s: %d webhooks, want one per environment (%d) and the generic one", file, len(wh.Webhooks), len(cfg.Policies))
	}
	for _, w := range wh.Webhooks {
		if w.FailurePolicy != "Fail" || w.SideEffects != "NoneOnDryRun" || len(w.Versions) != 1 || w.Versions[0] != "v1" ||
			w.ReinvocationPolicy != reinvocation {
			t.Errorf("%s: webhook %s: %+v", file, w.Name, w)
		}
		if env, ok := strings.CutPrefix(w.ClientConfig.Service.Path, path+"/"); ok {
			if _, known := cfg.Policies[env]; !known {
				t.Errorf("%s: webhook %s calls %s, but the configuration has no policy for %q", file, w.Name, w.ClientConfig.Service.Path, env)
			}
		} else if w.ClientConfig.Service.Path != path {
			t.Errorf("%s: webhook %s calls %s", file, w.Name, w.ClientConfig.Service.Path)
		}
		if budget := cfg.Admission.Budget.Seconds(); float64(w.TimeoutSeconds) <= budget {
			t.Errorf("%s: webhook %s: timeoutSeconds %d is not above the admission budget %v", file, w.Name, w.TimeoutSeconds, cfg.Admission.Budget)
		}
		covered := map[string]bool{}
		for _, r := range w.Rules {
			for _, res := range r.Resources {
				covered[res] = true
			}
		}
		for _, res := range []string{"pods", "pods/ephemeralcontainers", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs", "replicationcontrollers"} {
			if !covered[res] {
				t.Errorf("%s: webhook %s rules miss %s", file, w.Name, res)
			}
		}
	}
	const label = "hallmark.dev/environment"
	cases := map[string]map[string]string{
		"":   {"kubernetes.io/metadata.name": "unlabelled"},
		"qa": {"kubernetes.io/metadata.name": "qa", label: "qa"},
	}
	for env := range cfg.Policies {
		cases[path+"/"+env] = map[string]string{"kubernetes.io/metadata.name": "ns-" + env, label: env}
	}
	for want, labels := range cases {
		if want == "" || want == "qa" {
			want = path
		}
		var got []string
		for _, w := range wh.Webhooks {
			if w.NamespaceSelector.matches(t, labels) {
				got = append(got, w.ClientConfig.Service.Path)
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: namespace with labels %v reaches %v, want exactly %s", file, labels, got, want)
		}
	}
	for _, w := range wh.Webhooks {
		if w.NamespaceSelector.matches(t, map[string]string{"kubernetes.io/metadata.name": "hallmark-system", label: "prod"}) {
			t.Errorf("%s: webhook %s reviews Hallmark's own namespace (it could not start if Hallmark were down)", file, w.Name)
		}
	}
}
