package gate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	ggcrname "github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/policy"
)

// ErrIndex is an image index whose platforms could not be listed: the
// gate fails closed (denies) rather than decide without knowing them.
var ErrIndex = errors.New("image index unavailable")

// MaxIndexPlatforms bounds the platform manifests the gate reads evidence
// for; an index listing more is refused (fail closed).
const MaxIndexPlatforms = 64

// IndexPlatformsRule is the rule ID of the violation the gate adds when
// scan evidence about an index's platforms leaves a platform uncovered.
const IndexPlatformsRule = "index.platforms"

// Platform is one platform manifest an image index lists.
type Platform struct {
	// Digest is the platform manifest's digest.
	Digest digest.Digest
	// Name is the platform as os/arch[/variant].
	Name string
}

func (p Platform) String() string { return p.Name + " (" + p.Digest.String() + ")" }

// IndexResolver lists the platform manifests of an image index, read from
// its registry or layout (bounded, like every registry read).
type IndexResolver interface {
	// Platforms returns the platform manifests the artifact called name
	// with digest d lists when d is an image index, and none otherwise.
	Platforms(ctx context.Context, name string, d digest.Digest) ([]Platform, error)
}

// WithIndexResolver lets the gate decide about image indexes: scan
// evidence (SBOM, vulnerabilities, secrets, misconfigurations) about a
// platform manifest the index lists counts for the index, and when such
// evidence of a kind does not cover every platform (and no evidence of
// that kind is about the index itself) the gate denies with an
// index.platforms violation naming the uncovered platforms. Approvals,
// provenance, rebuilds and TEE evidence must name the index itself. When r
// fails, Evaluate fails (a deny) and says why.
func WithIndexResolver(r IndexResolver) Option {
	return func(c *config) error {
		if r == nil {
			return errors.New("gate.WithIndexResolver: nil resolver")
		}
		c.index = r
		return nil
	}
}

// ResolvesIndexes reports whether the gate was built WithIndexResolver.
func (g *Gate) ResolvesIndexes() bool { return g.index != nil }

// PlatformsOf names the platform manifests an index lists
// (oci.Image.ListedPlatforms, oci.Resolver.IndexPlatforms).
func PlatformsOf(ds []v1.Descriptor) ([]Platform, error) {
	out := make([]Platform, 0, len(ds))
	for _, m := range ds {
		pd, err := digest.Parse(m.Digest.String())
		if err != nil {
			return nil, fmt.Errorf("platform manifest %s: %w", m.Digest, err)
		}
		out = append(out, Platform{Digest: pd, Name: oci.PlatformImage{Platform: m.Platform}.String()})
	}
	return out, nil
}

// registryIndexCacheSize bounds the platform lists RegistryIndexes keeps.
const registryIndexCacheSize = 1024

// RegistryIndexes is an IndexResolver for any image: it reads the manifest
// the artifact's name (an image reference, as the admission webhook gets
// it) and digest denote from its registry through r, every access setting
// of r applying (credentials, CAs, plain-HTTP registries, bounds,
// timeout). A registry that cannot be read fails the evaluation (the gate
// denies and says why), whether or not the image is an index. Answers are
// kept by repository and digest, which name immutable content.
func RegistryIndexes(r *oci.Resolver) IndexResolver {
	c, _ := lru.New[string, []Platform](registryIndexCacheSize) // a positive size never fails
	return registryIndexes{r: r, cache: c}
}

type registryIndexes struct {
	r     *oci.Resolver
	cache *lru.Cache[string, []Platform]
}

func (x registryIndexes) Platforms(ctx context.Context, name string, d digest.Digest) ([]Platform, error) {
	key := name + "@" + d.String()
	if ref, err := ggcrname.ParseReference(name); err == nil {
		key = ref.Context().Name() + "@" + d.String()
	}
	if ps, ok := x.cache.Get(key); ok {
		return ps, nil
	}
	ds, err := x.r.IndexPlatforms(ctx, name, d)
	if err != nil {
		return nil, fmt.Errorf("cannot tell whether it is an index: %w", err)
	}
	ps, err := PlatformsOf(ds)
	if err != nil {
		return nil, err
	}
	x.cache.Add(key, ps)
	return ps, nil
}

// platformKinds are the evidence kinds a platform's evidence counts for
// an index: what is inside each platform image.
var platformKinds = map[string]bool{"sbom": true, "vulns": true, "secrets": true, "misconfig": true}

// platforms lists the platforms of req's artifact when it is an index.
func (g *Gate) platforms(ctx context.Context, req Request) ([]Platform, error) {
	if g.index == nil {
		return nil, nil
	}
	ps, err := g.index.Platforms(ctx, req.Artifact.Name, req.Artifact.Digest)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrIndex, req.Artifact.Digest, err)
	}
	if len(ps) > MaxIndexPlatforms {
		return nil, fmt.Errorf("%w: %s lists %d platform manifests, more than the %d the gate reads", ErrIndex, req.Artifact.Digest, len(ps), MaxIndexPlatforms)
	}
	for _, p := range ps {
		if err := checkDigest(p.Digest); err != nil {
			return nil, fmt.Errorf("%w: %s: platform %s: %w", ErrIndex, req.Artifact.Digest, p.Name, err)
		}
	}
	return ps, nil
}

// coverage records which platforms of an index each scan kind covers.
type coverage struct {
	platforms []Platform
	index     map[string]bool            // kind -> evidence about the index itself
	covered   map[string]map[string]bool // kind -> platform digest -> covered
}

func newCoverage(ps []Platform) *coverage {
	return &coverage{platforms: ps, index: map[string]bool{}, covered: map[string]map[string]bool{}}
}

// platformOf returns the platform of the index whose digest matches, if any.
func (c *coverage) platformOf(has func(alg, hex string) bool) (Platform, bool) {
	for _, p := range c.platforms {
		if has(p.Digest.Algorithm(), p.Digest.Hex()) {
			return p, true
		}
	}
	return Platform{}, false
}

func (c *coverage) add(kind string, p *Platform) {
	if !platformKinds[kind] {
		return
	}
	if p == nil {
		c.index[kind] = true
		return
	}
	if c.covered[kind] == nil {
		c.covered[kind] = map[string]bool{}
	}
	c.covered[kind][p.Digest.String()] = true
}

// violations names, per kind with evidence about some platforms but not
// all (and none about the index), the platforms left uncovered.
func (c *coverage) violations(index digest.Digest) []policy.Violation {
	var out []policy.Violation
	for kind, cov := range c.covered {
		if c.index[kind] {
			continue
		}
		var missing, have []string
		for _, p := range c.platforms {
			if cov[p.Digest.String()] {
				have = append(have, p.Name)
			} else {
				missing = append(missing, p.String())
			}
		}
		for _, m := range missing {
			out = append(out, policy.Violation{
				RuleID:      IndexPlatformsRule,
				Message:     fmt.Sprintf("index %s: no trusted %s evidence for platform %s; it covers only %s", index, kind, m, strings.Join(have, ", ")),
				Remediation: "scan every platform the index lists (hallmark sbom/scan on the index cover them all) and sign the results with a trusted scanner key",
			})
		}
	}
	return out
}

// denyUncovered adds the coverage violations to dec.
func denyUncovered(dec *policy.Decision, vs []policy.Violation) {
	if len(vs) == 0 {
		return
	}
	dec.Allow = false
	dec.Violations = append(dec.Violations, vs...)
	sort.SliceStable(dec.Violations, func(i, j int) bool {
		a, b := dec.Violations[i], dec.Violations[j]
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		return a.Message < b.Message
	})
}
