package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// Sigstore bundles attached to images, the way cosign attaches them with
// --new-bundle-format: an OCI 1.1 artifact manifest whose artifactType and
// only layer are the bundle, whose config is the empty JSON descriptor, and
// whose subject is the image manifest.
const (
	// BundleMediaType is the media type of a Sigstore bundle v0.3.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// EmptyMediaType is the OCI empty descriptor's media type ("{}").
	EmptyMediaType = "application/vnd.oci.empty.v1+json"
	// AnnotationBundleContent says what the bundle holds ("dsse-envelope").
	AnnotationBundleContent = "dev.sigstore.bundle.content"
	// AnnotationPredicateType is the in-toto predicate type of the bundle's statement.
	AnnotationPredicateType = "dev.sigstore.bundle.predicateType"
	// AnnotationCreated is when the artifact manifest was made.
	AnnotationCreated = "org.opencontainers.image.created"
)

// ErrReferrer is an attached artifact that is not a usable bundle: too
// large, the wrong shape, bytes not matching their digest.
var ErrReferrer = errors.New("bad referrer")

// Referrer is a bundle attached to an image, as listed by the registry.
type Referrer struct {
	// Digest is the artifact manifest's digest.
	Digest v1.Hash
	// ArtifactType is the manifest's artifact type.
	ArtifactType string
	// PredicateType is the annotation the attacher set; unverified.
	PredicateType string
	// Annotations are the manifest's annotations as listed; unverified.
	Annotations map[string]string
}

type artifactManifest struct {
	SchemaVersion int64             `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        v1.Descriptor     `json:"config"`
	Layers        []v1.Descriptor   `json:"layers"`
	Subject       *v1.Descriptor    `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// Attach stores bundle in the registry as a referrer of the image img
// (a digest reference, as Image returns in Ref), with predicateType and
// created as annotations. On registries without the referrers API the
// referrers tag ("sha256-HEX") is updated instead, as the OCI 1.1
// distribution specification prescribes. It returns the artifact
// manifest's digest. Attaching the same bundle at the same time twice
// gives the same digest and one referrer.
func (r *Resolver) Attach(ctx context.Context, img name.Digest, bundle []byte, predicateType string, created time.Time) (v1.Hash, error) {
	if int64(len(bundle)) > limits.MaxBundleBytes {
		return v1.Hash{}, fmt.Errorf("attach to %s: bundle: %w", img, limits.ErrTooLarge)
	}
	img, err := r.insecureDigest(img)
	if err != nil {
		return v1.Hash{}, err
	}
	opts := r.remoteOptions(ctx)
	head, err := remote.Head(img, opts...)
	if err != nil {
		return v1.Hash{}, &ResolveError{Ref: img.String(), Err: r.explain(classify(err), err)}
	}
	empty := static.NewLayer([]byte("{}"), EmptyMediaType)
	layer := static.NewLayer(bundle, BundleMediaType)
	for _, l := range []v1.Layer{empty, layer} {
		if err := remote.WriteLayer(img.Context(), l, opts...); err != nil {
			return v1.Hash{}, &ResolveError{Ref: img.String(), Err: r.explain(classify(err), fmt.Errorf("upload blob: %w", err))}
		}
	}
	ld, _ := layer.Digest()
	ed, _ := empty.Digest()
	m := artifactManifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: BundleMediaType,
		Config:  v1.Descriptor{MediaType: EmptyMediaType, Digest: ed, Size: 2},
		Layers:  []v1.Descriptor{{MediaType: BundleMediaType, Digest: ld, Size: int64(len(bundle))}},
		Subject: &v1.Descriptor{MediaType: head.MediaType, Digest: head.Digest, Size: head.Size},
		Annotations: map[string]string{
			AnnotationBundleContent: "dsse-envelope",
			AnnotationCreated:       created.UTC().Format(time.RFC3339),
		},
	}
	if predicateType != "" {
		m.Annotations[AnnotationPredicateType] = predicateType
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return v1.Hash{}, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Put(img.Context().Digest(h.String()), rawManifest{raw, types.OCIManifestSchema1}, opts...); err != nil {
		return v1.Hash{}, &ResolveError{Ref: img.String(), Err: r.explain(classify(err), fmt.Errorf("put artifact manifest: %w", err))}
	}
	return h, nil
}

func (r *Resolver) insecureDigest(d name.Digest) (name.Digest, error) {
	if !r.cfg.insecure[strings.ToLower(d.Context().RegistryStr())] {
		return d, nil
	}
	nd, err := name.NewDigest(d.String(), name.Insecure)
	if err != nil {
		return d, &ResolveError{Ref: d.String(), Err: fmt.Errorf("%w: %v", ErrInvalidReference, err)}
	}
	return nd, nil
}

// Referrers lists the Sigstore bundles attached to the image img (a digest
// reference), through the referrers API or, where the registry lacks it,
// the referrers tag. At most max are returned (DefaultMaxReferrers when
// max <= 0), newest annotation first; more is an error rather than a
// silent cut, so that a flood of referrers cannot hide the one that counts.
func (r *Resolver) Referrers(ctx context.Context, img name.Digest, max int) ([]Referrer, error) {
	if max <= 0 {
		max = DefaultMaxReferrers
	}
	img, err := r.insecureDigest(img)
	if err != nil {
		return nil, err
	}
	// No WithFilter: registries that report the config media type as the
	// artifact type (go-containerregistry's own, against the OCI 1.1 rule
	// that a manifest's artifactType comes first) would hide every bundle.
	idx, err := remote.Referrers(img, r.remoteOptions(ctx)...)
	if err != nil {
		return nil, &ResolveError{Ref: img.String(), Err: r.explain(classify(err), fmt.Errorf("list referrers: %w", err))}
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, &ResolveError{Ref: img.String(), Err: fmt.Errorf("%w: referrers index: %w", ErrRegistry, err)}
	}
	var out []Referrer
	for _, d := range im.Manifests {
		// A bundle, or an artifact whose type the registry took from the
		// empty config and whose annotations say it holds a bundle;
		// FetchBundle checks the manifest itself.
		if d.ArtifactType != BundleMediaType && (d.ArtifactType != EmptyMediaType || d.Annotations[AnnotationBundleContent] == "") {
			continue
		}
		out = append(out, Referrer{Digest: d.Digest, ArtifactType: d.ArtifactType, PredicateType: d.Annotations[AnnotationPredicateType], Annotations: d.Annotations})
	}
	if len(out) > max {
		return nil, &ResolveError{Ref: img.String(), Err: fmt.Errorf("%w: %d bundles attached, more than the limit of %d", ErrReferrer, len(out), max)}
	}
	slices.SortStableFunc(out, func(a, b Referrer) int {
		if c := strings.Compare(b.Annotations[AnnotationCreated], a.Annotations[AnnotationCreated]); c != 0 {
			return c
		}
		return strings.Compare(a.Digest.String(), b.Digest.String())
	})
	return out, nil
}

// FetchBundle reads the bundle of one referrer of the image img: the
// artifact manifest (checked against its digest) and its single bundle
// layer (checked against its digest, at most limits.MaxBundleBytes). The
// bundle is unverified: verify it like any other before it counts.
func (r *Resolver) FetchBundle(ctx context.Context, img name.Digest, ref Referrer) ([]byte, error) {
	img, err := r.insecureDigest(img)
	if err != nil {
		return nil, err
	}
	mref := img.Context().Digest(ref.Digest.String())
	opts := r.remoteOptions(ctx)
	desc, err := remote.Get(mref, opts...)
	if err != nil {
		return nil, &ResolveError{Ref: mref.String(), Err: r.explain(classify(err), err)}
	}
	if desc.Digest != ref.Digest {
		return nil, &ResolveError{Ref: mref.String(), Err: fmt.Errorf("%w: manifest digest %s", ErrReferrer, desc.Digest)}
	}
	var m artifactManifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return nil, &ResolveError{Ref: mref.String(), Err: fmt.Errorf("%w: %w", ErrReferrer, err)}
	}
	if m.ArtifactType != BundleMediaType {
		return nil, &ResolveError{Ref: mref.String(), Err: fmt.Errorf("%w: artifact type %q, not a Sigstore bundle", ErrReferrer, m.ArtifactType)}
	}
	if m.Subject == nil || m.Subject.Digest.String() != img.DigestStr() {
		return nil, &ResolveError{Ref: mref.String(), Err: fmt.Errorf("%w: its subject is not %s", ErrReferrer, img.DigestStr())}
	}
	var layer *v1.Descriptor
	for k, l := range m.Layers {
		if l.MediaType == BundleMediaType {
			if layer != nil {
				return nil, &ResolveError{Ref: mref.String(), Err: fmt.Errorf("%w: more than one bundle layer", ErrReferrer)}
			}
			layer = &m.Layers[k]
		}
	}
	if layer == nil {
		return nil, &ResolveError{Ref: mref.String(), Err: fmt.Errorf("%w: no %s layer", ErrReferrer, BundleMediaType)}
	}
	if layer.Size > limits.MaxBundleBytes {
		return nil, &ResolveError{Ref: mref.String(), Err: fmt.Errorf("%w: bundle of %d bytes: %w", ErrReferrer, layer.Size, limits.ErrTooLarge)}
	}
	l, err := remote.Layer(img.Context().Digest(layer.Digest.String()), opts...)
	if err != nil {
		return nil, &ResolveError{Ref: mref.String(), Err: r.explain(classify(err), err)}
	}
	rc, err := l.Compressed() // verifies the digest as it reads
	if err != nil {
		return nil, &ResolveError{Ref: mref.String(), Err: r.explain(classify(err), err)}
	}
	defer rc.Close()
	b, err := limits.ReadAll(rc, limits.MaxBundleBytes, "bundle "+layer.Digest.String())
	if err != nil {
		return nil, &ResolveError{Ref: mref.String(), Err: fmt.Errorf("%w: %w", classify(err), err)}
	}
	if h, _, _ := v1.SHA256(bytes.NewReader(b)); h != layer.Digest {
		return nil, &ResolveError{Ref: mref.String(), Err: fmt.Errorf("%w: bundle bytes hash to %s, not %s", ErrReferrer, h, layer.Digest)}
	}
	return b, nil
}
