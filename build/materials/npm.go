package materials

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hallmark-dev/hallmark/digest"
)

type npmLock struct {
	LockfileVersion int                   `json:"lockfileVersion"`
	Packages        map[string]npmPackage `json:"packages"`
	Dependencies    map[string]npmV1Dep   `json:"dependencies"`
}

type npmPackage struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Integrity string `json:"integrity"`
	Link      bool   `json:"link"`
}

type npmV1Dep struct {
	Version      string              `json:"version"`
	Integrity    string              `json:"integrity"`
	Dependencies map[string]npmV1Dep `json:"dependencies"`
}

// parseNPM reads package-lock.json / npm-shrinkwrap.json, version 1 (the
// nested "dependencies" tree) and versions 2 and 3 (the flat "packages"
// map, preferred when present). The project itself, workspace links and
// entries without a version are skipped. The strongest SRI integrity hash
// (sha512, else sha256, else sha1) becomes the digest.
func parseNPM(file string, data []byte) ([]Dependency, error) {
	var lock npmLock
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, &ParseError{File: file, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
	}
	var deps []Dependency
	add := func(name, version, integrity string) error {
		if v, ok := strings.CutPrefix(version, "npm:"); ok {
			// An alias such as "npm:@scope/pkg@1.2.3" names the real package.
			i := strings.LastIndex(v, "@")
			if i <= 0 {
				return nil
			}
			name, version = v[:i], v[i+1:]
		}
		if name == "" || version == "" {
			return nil
		}
		ns, n := "", name
		if strings.HasPrefix(name, "@") {
			if i := strings.Index(name, "/"); i > 0 {
				ns, n = name[:i], name[i+1:]
			}
		}
		d, err := sriDigest(integrity)
		if err != nil {
			return fmt.Errorf("%s@%s: %w", name, version, err)
		}
		deps = append(deps, Dependency{PURL: purl("npm", ns, n, version), Digest: d})
		if len(deps) > MaxDependencies {
			return fmt.Errorf("%w: more than %d dependencies", ErrTooLarge, MaxDependencies)
		}
		return nil
	}
	if len(lock.Packages) > 0 {
		for key, p := range lock.Packages {
			if key == "" || p.Link {
				continue
			}
			i := strings.LastIndex(key, "node_modules/")
			if i < 0 {
				continue // a workspace member, not a dependency
			}
			name := key[i+len("node_modules/"):]
			if p.Name != "" {
				name = p.Name
			}
			if err := add(name, p.Version, p.Integrity); err != nil {
				return nil, &ParseError{File: file, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
			}
		}
		return deps, nil
	}
	var walk func(map[string]npmV1Dep, int) error
	walk = func(m map[string]npmV1Dep, depth int) error {
		if depth > 64 {
			return fmt.Errorf("dependencies nested deeper than 64")
		}
		for name, d := range m {
			if err := add(name, d.Version, d.Integrity); err != nil {
				return err
			}
			if err := walk(d.Dependencies, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(lock.Dependencies, 0); err != nil {
		return nil, &ParseError{File: file, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
	}
	return deps, nil
}

// sriDigest picks the strongest hash of a Subresource Integrity string.
func sriDigest(sri string) (digest.Set, error) {
	best, bestRank := "", 0
	var bestAlg string
	for _, tok := range strings.Fields(sri) {
		alg, val, ok := strings.Cut(tok, "-")
		if !ok {
			continue
		}
		rank, size := 0, 0
		switch alg {
		case "sha512":
			rank, size = 3, 64
		case "sha256":
			rank, size = 2, 32
		case "sha1":
			rank, size = 1, 20
		default:
			continue
		}
		if rank <= bestRank {
			continue
		}
		h, err := b64ToHex(val, size)
		if err != nil {
			return nil, fmt.Errorf("integrity %s: %w", alg, err)
		}
		best, bestRank, bestAlg = h, rank, alg
	}
	if bestRank == 0 {
		return nil, nil
	}
	return digest.Set{bestAlg: best}, nil
}
