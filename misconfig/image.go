package misconfig

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// imageRef is what the image rules need to know about an image reference.
type imageRef struct {
	raw      string
	repo     string // registry/repository, e.g. "index.docker.io/library/nginx"
	registry string // e.g. "index.docker.io", "ghcr.io"
	tag      string // "" when absent
	digest   bool
	// unresolved is set when the reference contains variables ($X, ${X})
	// and cannot be judged statically.
	unresolved bool
}

// parseImage splits an image reference. ok is false when it is not a valid
// reference at all.
func parseImage(s string) (imageRef, bool) {
	ref := imageRef{raw: s}
	if strings.ContainsAny(s, "${}") {
		ref.unresolved = true
		return ref, true
	}
	nameTag := s
	if i := strings.Index(s, "@"); i >= 0 {
		ref.digest = strings.HasPrefix(s[i+1:], "sha256:") || strings.HasPrefix(s[i+1:], "sha512:")
		nameTag = s[:i]
	}
	// A tag follows the last ':' after the last '/'.
	if i := strings.LastIndex(nameTag, ":"); i > strings.LastIndex(nameTag, "/") {
		ref.tag = nameTag[i+1:]
	}
	r, err := name.ParseReference(s)
	if err != nil {
		return ref, false
	}
	ref.repo = r.Context().Name()
	ref.registry = r.Context().RegistryStr()
	return ref, true
}

// allowed reports whether the image comes from an allowlisted registry or
// repository prefix. "docker.io" and "index.docker.io" are the same.
func (r imageRef) allowed(allow []string) bool {
	repo := normaliseDockerHub(r.repo)
	for _, a := range allow {
		a = normaliseDockerHub(strings.TrimSuffix(a, "/"))
		if repo == a || strings.HasPrefix(repo, a+"/") {
			return true
		}
	}
	return false
}

func normaliseDockerHub(s string) string {
	if rest, ok := strings.CutPrefix(s, "index.docker.io"); ok {
		return "docker.io" + rest
	}
	return s
}
