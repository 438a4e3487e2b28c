package admission

import "errors"

// ErrNoEnvironment is returned for a namespace no mapping covers.
var ErrNoEnvironment = errors.New("namespace maps to no environment")

// Environments maps a namespace to the environment whose policy applies.
// An AdmissionReview carries the namespace's name only, not its labels.
// Live labels reach the webhook through the API server instead: one
// webhook registration per environment selects namespaces by label and
// calls that environment's path (see Webhook.ValidatorFor); a static copy
// of the labels (NamespaceLabels) in the configuration also works.
type Environments struct {
	// Namespaces maps namespace names directly to environments; it wins
	// over labels.
	Namespaces map[string]string
	// Label is the namespace label whose value names the environment
	// (e.g. "hallmark.dev/environment").
	Label string
	// NamespaceLabels holds each namespace's labels.
	NamespaceLabels map[string]map[string]string
	// Default is the environment for namespaces nothing else maps; empty
	// means such namespaces are denied.
	Default string
}

// Environment returns the environment of a namespace.
func (e Environments) Environment(namespace string) (string, error) {
	return e.For(namespace, "")
}

// For returns the environment of a namespace for a review that arrived on
// the path of environment selected ("" for the generic path): an explicit
// Namespaces entry wins (the operator pinned it), then selected (the API
// server chose it from the namespace's live labels), then the static
// labels, then Default.
func (e Environments) For(namespace, selected string) (string, error) {
	if env, ok := e.Namespaces[namespace]; ok && env != "" {
		return env, nil
	}
	if selected != "" {
		return selected, nil
	}
	if e.Label != "" {
		if env := e.NamespaceLabels[namespace][e.Label]; env != "" {
			return env, nil
		}
	}
	if e.Default != "" {
		return e.Default, nil
	}
	return "", ErrNoEnvironment
}
