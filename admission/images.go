package admission

import (
	"errors"
	"fmt"
	"regexp"

	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"

	"github.com/hallmark-dev/hallmark/digest"
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
	// Index is the container's position in Field.
	Index int
	// Path is the JSON pointer (RFC 6901) of the container's image in the
	// object, e.g. "/spec/template/spec/containers/0/image".
	Path string
	// Ref is the image reference as written.
	Ref string
}

// workloadKind says how a kind's pod spec is read and where it sits.
type workloadKind struct {
	spec func([]byte) (*corev1.PodSpec, error)
	// path is the JSON pointer of the pod spec in the object.
	path string
}

var template = workloadKind{spec: templateSpec, path: "/spec/template/spec"}

// podTemplateKinds maps a kind to how its pod spec is reached.
var podTemplateKinds = map[string]workloadKind{
	"Pod": {path: "/spec", spec: func(b []byte) (*corev1.PodSpec, error) {
		var o struct {
			Spec *corev1.PodSpec `json:"spec"`
		}
		return decodeSpec(b, &o, func() *corev1.PodSpec { return o.Spec })
	}},
	"Deployment":            template,
	"StatefulSet":           template,
	"DaemonSet":             template,
	"ReplicaSet":            template,
	"ReplicationController": template,
	"Job":                   template,
	"PodTemplate": {path: "/template/spec", spec: func(b []byte) (*corev1.PodSpec, error) {
		var o struct {
			Template *corev1.PodTemplateSpec `json:"template"`
		}
		return decodeSpec(b, &o, func() *corev1.PodSpec {
			if o.Template == nil {
				return nil
			}
			return &o.Template.Spec
		})
	}},
	"CronJob": {path: "/spec/jobTemplate/spec/template/spec", spec: func(b []byte) (*corev1.PodSpec, error) {
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
	}},
}

// kindGroups is the API group of each kind the webhook reads: a review of
// a same-named kind from another group (a custom resource) is not one.
var kindGroups = map[string]string{
	"Pod": "", "ReplicationController": "", "PodTemplate": "",
	"Deployment": "apps", "StatefulSet": "apps", "DaemonSet": "apps", "ReplicaSet": "apps",
	"Job": "batch", "CronJob": "batch",
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
	// Field names match case-sensitively, as the API server reads them,
	// so that a patch path names the member that was read.
	if err := kjson.UnmarshalCaseSensitivePreserveInts(b, into); err != nil {
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
	k, ok := podTemplateKinds[kind]
	if !ok {
		return nil, fmt.Errorf("%w %q (want Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob or PodTemplate)", ErrUnsupportedKind, kind)
	}
	spec, err := k.spec(object)
	if err != nil {
		return nil, err
	}
	var out []Image
	add := func(field string, i int, container, ref string) {
		// Field names and indexes need no RFC 6901 escaping.
		out = append(out, Image{Container: container, Field: field, Index: i, Ref: ref,
			Path: fmt.Sprintf("%s/%s/%d/image", k.path, field, i)})
	}
	for i, c := range spec.Containers {
		add("containers", i, c.Name, c.Image)
	}
	for i, c := range spec.InitContainers {
		add("initContainers", i, c.Name, c.Image)
	}
	for i, c := range spec.EphemeralContainers {
		add("ephemeralContainers", i, c.Name, c.Image)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: pod spec has no containers", ErrMalformed)
	}
	return out, nil
}

// ErrBadReference is returned for an image reference that is not
// well-formed: NAME[:TAG][@sha256:<64 lowercase hex digits>] by the
// distribution reference grammar. It is never resolved, only denied.
var ErrBadReference = errors.New("malformed image reference")

// The distribution reference grammar (the one the kubelet and container
// runtimes parse): a name of an optional registry host and lower-case path
// components, an optional tag, an optional digest, in that order, once each.
var reference = func() *regexp.Regexp {
	const (
		domainComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
		host            = `(?:` + domainComponent + `(?:\.` + domainComponent + `)*|\[[0-9a-fA-F:.]+\])`
		domain          = host + `(?::[0-9]+)?`
		pathComponent   = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
		name            = `(?:` + domain + `/)?` + pathComponent + `(?:/` + pathComponent + `)*`
		tag             = `[\w][\w.-]{0,127}`
		digest          = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Za-z=_-]+`
	)
	return regexp.MustCompile(`^(` + name + `)(?::` + tag + `)?(?:@(` + digest + `))?$`)
}()

// maxNameLength bounds the name part of a reference, as the grammar does.
const maxNameLength = 255

// Digest returns the sha256 digest an image reference pins. It
// returns an error wrapping ErrNotDigest for a well-formed reference that
// names a tag only, and ErrBadReference for anything that is not one
// well-formed reference: several digests ("repo@sha256:A@sha256:B"), an
// upper-case or short digest, another algorithm, an empty or malformed
// name. A node pulls exactly what a well-formed reference says, so only
// such a reference can be decided on.
func Digest(ref string) (digest.Digest, error) {
	m := reference.FindStringSubmatch(ref)
	switch {
	case m == nil:
		return digest.Digest{}, fmt.Errorf("%w: %q (want NAME[:TAG]@sha256:<64 lower-case hex digits>)", ErrBadReference, ref)
	case len(m[1]) > maxNameLength:
		return digest.Digest{}, fmt.Errorf("%w: %q: name longer than %d characters", ErrBadReference, ref, maxNameLength)
	case m[2] == "":
		return digest.Digest{}, fmt.Errorf("%w: %q (write it as NAME@sha256:<64 hex digits>)", ErrNotDigest, ref)
	}
	d, err := digest.Parse(m[2])
	if err != nil || d.Algorithm() != digest.SHA256 {
		return digest.Digest{}, fmt.Errorf("%w: %q has a malformed digest (want @sha256:<64 lower-case hex digits>)", ErrBadReference, ref)
	}
	return d, nil
}
