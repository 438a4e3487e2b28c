package admission

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ErrUnsupportedKind is returned for an object whose kind carries no pod
// template the webhook knows how to read.
var ErrUnsupportedKind = errors.New("unsupported kind")

// ErrMalformed is returned for a request or object that cannot be read.
var ErrMalformed = errors.New("malformed admission request")

// ErrNotDigest is returned for an image referenced by tag only.
var ErrNotDigest = errors.New("image is not referenced by digest")

// Image is one container image of a pod spec.
type Image struct {
	// Container names the container; Field is where it sits
	// ("containers", "initContainers", "ephemeralContainers").
	Container, Field string
	// Ref is the image reference as written.
	Ref string
}

// podTemplateKinds maps a kind to how its pod spec is reached.
var podTemplateKinds = map[string]func([]byte) (*corev1.PodSpec, error){
	"Pod": func(b []byte) (*corev1.PodSpec, error) {
		var o struct {
			Spec *corev1.PodSpec `json:"spec"`
		}
		return decodeSpec(b, &o, func() *corev1.PodSpec { return o.Spec })
	},
	"Deployment":            templateSpec,
	"StatefulSet":           templateSpec,
	"DaemonSet":             templateSpec,
	"ReplicaSet":            templateSpec,
	"ReplicationController": templateSpec,
	"Job":                   templateSpec,
	"PodTemplate": func(b []byte) (*corev1.PodSpec, error) {
		var o struct {
			Template *corev1.PodTemplateSpec `json:"template"`
		}
		return decodeSpec(b, &o, func() *corev1.PodSpec {
			if o.Template == nil {
				return nil
			}
			return &o.Template.Spec
		})
	},
	"CronJob": func(b []byte) (*corev1.PodSpec, error) {
		var o struct {
			Spec *struct {
				JobTemplate *struct {
					Spec *struct {
						Template *corev1.PodTemplateSpec `json:"template"`
					} `json:"spec"`
				} `json:"jobTemplate"`
			} `json:"spec"`
		}
		return decodeSpec(b, &o, func() *corev1.PodSpec {
			if o.Spec == nil || o.Spec.JobTemplate == nil || o.Spec.JobTemplate.Spec == nil || o.Spec.JobTemplate.Spec.Template == nil {
				return nil
			}
			return &o.Spec.JobTemplate.Spec.Template.Spec
		})
	},
}

func templateSpec(b []byte) (*corev1.PodSpec, error) {
	var o struct {
		Spec *struct {
			Template *corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	return decodeSpec(b, &o, func() *corev1.PodSpec {
		if o.Spec == nil || o.Spec.Template == nil {
			return nil
		}
		return &o.Spec.Template.Spec
	})
}

func decodeSpec(b []byte, into any, get func() *corev1.PodSpec) (*corev1.PodSpec, error) {
	if err := json.Unmarshal(b, into); err != nil {
		return nil, fmt.Errorf("%w: object: %v", ErrMalformed, err)
	}
	s := get()
	if s == nil {
		return nil, fmt.Errorf("%w: object has no pod spec", ErrMalformed)
	}
	return s, nil
}

// Images returns every image of the object of the given kind, in the order
// containers, init containers, ephemeral containers.
func Images(kind string, object []byte) ([]Image, error) {
	get, ok := podTemplateKinds[kind]
	if !ok {
		return nil, fmt.Errorf("%w %q (want Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob or PodTemplate)", ErrUnsupportedKind, kind)
	}
	spec, err := get(object)
	if err != nil {
		return nil, err
	}
	var out []Image
	for _, c := range spec.Containers {
		out = append(out, Image{Container: c.Name, Field: "containers", Ref: c.Image})
	}
	for _, c := range spec.InitContainers {
		out = append(out, Image{Container: c.Name, Field: "initContainers", Ref: c.Image})
	}
	for _, c := range spec.EphemeralContainers {
		out = append(out, Image{Container: c.Name, Field: "ephemeralContainers", Ref: c.Image})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: pod spec has no containers", ErrMalformed)
	}
	return out, nil
}

// Digest returns the "sha256:<hex>" digest an image reference pins, or
// ErrNotDigest when it names a tag only.
func Digest(ref string) (string, error) {
	i := strings.LastIndex(ref, "@")
	if i < 0 {
		return "", fmt.Errorf("%w: %q (write it as NAME@sha256:<64 hex digits>)", ErrNotDigest, ref)
	}
	d := strings.ToLower(ref[i+1:])
	alg, h, _ := strings.Cut(d, ":")
	if i == 0 || alg != "sha256" || len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%w: %q has a malformed digest (want @sha256:<64 hex digits>)", ErrNotDigest, ref)
	}
	return d, nil
}
