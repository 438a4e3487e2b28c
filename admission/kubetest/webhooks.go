package kubetest

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

// RegisterWebhooks creates the ValidatingWebhookConfiguration or
// MutatingWebhookConfiguration in file (YAML, as shipped) with what an
// installation fills in: caBundle set to caPEM, and the service port of
// every webhook set to port, where the test serves them. Everything else
// (paths, selectors, rules, failurePolicy, timeouts) is registered as
// written. It returns the configuration's name.
func (s *APIServer) RegisterWebhooks(t testing.TB, file string, caPEM []byte, port int32) string {
	t.Helper()
	y, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var head struct{ Kind string }
	if err := yaml.Unmarshal(y, &head); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	setClient := func(cc *admissionregistrationv1.WebhookClientConfig) {
		cc.CABundle = caPEM
		if cc.Service != nil {
			cc.Service.Port = &port
		}
	}
	var obj any
	var name, path string
	switch head.Kind {
	case "ValidatingWebhookConfiguration":
		var c admissionregistrationv1.ValidatingWebhookConfiguration
		if err := yaml.UnmarshalStrict(y, &c); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i := range c.Webhooks {
			setClient(&c.Webhooks[i].ClientConfig)
		}
		obj, name, path = &c, c.Name, "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
	case "MutatingWebhookConfiguration":
		var c admissionregistrationv1.MutatingWebhookConfiguration
		if err := yaml.UnmarshalStrict(y, &c); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i := range c.Webhooks {
			setClient(&c.Webhooks[i].ClientConfig)
		}
		obj, name, path = &c, c.Name, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"
	default:
		t.Fatalf("%s: kind %q is not a webhook configuration", file, head.Kind)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Do(t.Context(), http.MethodPost, path, "", b); err != nil {
		t.Fatalf("register %s: %v", file, err)
	}
	return name
}
