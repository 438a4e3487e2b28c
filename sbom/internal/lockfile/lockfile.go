// Package lockfile reads the facts osv-scalibr's lockfile extractors drop:
// licences, integrity hashes and dependency edges from package-lock.json,
// pnpm-lock.yaml, yarn.lock and Cargo.lock. It does not link osv-scalibr, so
// that its fuzz targets run fast. Callers bound the input size.
package lockfile

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"

	"github.com/hallmark-dev/hallmark/sbom/internal/bom"
)

// Facts are what a lockfile records about one package (keyed by
// name@version) beyond its name and version.
type Facts struct {
	Licenses []string
	Hashes   []bom.Hash
	// Deps are the name@version keys of the packages this one depends on.
	Deps []string
}

// npmLock is the part of package-lock.json (lockfileVersion 2 and 3) this
// package needs: the "packages" map keyed by install path.
type npmLock struct {
	Packages map[string]struct {
		Name                 string            `json:"name"`
		Version              string            `json:"version"`
		Integrity            string            `json:"integrity"`
		License              json.RawMessage   `json:"license"`
		Link                 bool              `json:"link"`
		Dependencies         map[string]string `json:"dependencies"`
		OptionalDependencies map[string]string `json:"optionalDependencies"`
	} `json:"packages"`
}

// NPM returns licences and integrity hashes keyed by name@version.
func NPM(data []byte) (map[string]Facts, error) {
	var l npmLock
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, err
	}
	out := map[string]Facts{}
	for p, e := range l.Packages {
		if p == "" || e.Link || e.Version == "" {
			continue
		}
		name := e.Name
		if name == "" {
			name = npmNameFromPath(p)
		}
		if name == "" {
			continue
		}
		var f Facts
		if lic := npmLicense(e.License); lic != "" {
			f.Licenses = []string{lic}
		}
		f.Hashes = SRI(e.Integrity)
		for _, deps := range []map[string]string{e.Dependencies, e.OptionalDependencies} {
			for d := range deps {
				if r, ok := npmResolve(l, p, d); ok {
					f.Deps = append(f.Deps, r)
				}
			}
		}
		k := name + "@" + e.Version
		prev := out[k]
		prev.Licenses = append(prev.Licenses, f.Licenses...)
		prev.Hashes = append(prev.Hashes, f.Hashes...)
		prev.Deps = append(prev.Deps, f.Deps...)
		out[k] = prev
	}
	return out, nil
}

// npmResolve finds the installed copy of dependency dep required by the
// package installed at path from, the way Node resolves it: the nearest
// node_modules/dep walking up from the requiring package. It returns the
// copy's name@version.
func npmResolve(l npmLock, from, dep string) (string, bool) {
	dir := from
	for {
		cand := "node_modules/" + dep
		if dir != "" {
			cand = dir + "/node_modules/" + dep
		}
		if e, ok := l.Packages[cand]; ok && e.Version != "" && !e.Link {
			name := e.Name
			if name == "" {
				name = dep
			}
			return name + "@" + e.Version, true
		}
		if dir == "" {
			return "", false
		}
		i := strings.LastIndex(dir, "/node_modules/")
		if i < 0 {
			dir = ""
		} else {
			dir = dir[:i]
		}
	}
}

// npmNameFromPath returns the package name from an install path such as
// "node_modules/a/node_modules/@scope/b".
func npmNameFromPath(p string) string {
	i := strings.LastIndex(p, "node_modules/")
	if i < 0 {
		return ""
	}
	return p[i+len("node_modules/"):]
}

// npmLicense reads a "license" field, which is a string or (legacy) an
// object {"type": "MIT"}.
func npmLicense(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var o struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return strings.TrimSpace(o.Type)
	}
	return ""
}

// SRI decodes a Subresource Integrity string ("sha512-<base64>", more
// than one separated by spaces) into hex hashes, ignoring unknown algorithms.
func SRI(sri string) []bom.Hash {
	var out []bom.Hash
	for _, tok := range strings.Fields(sri) {
		alg, b64, ok := strings.Cut(tok, "-")
		if !ok {
			continue
		}
		var a bom.HashAlgorithm
		var n int
		switch alg {
		case "sha1":
			a, n = bom.SHA1, 20
		case "sha256":
			a, n = bom.SHA256, 32
		case "sha512":
			a, n = bom.SHA512, 64
		default:
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != n {
			continue
		}
		out = append(out, bom.Hash{Algorithm: a, Value: hex.EncodeToString(raw)})
	}
	return out
}

// Cargo returns the SHA-256 checksums of registry crates keyed by
// name@version.
func Cargo(data []byte) (map[string]Facts, error) {
	var l struct {
		Package []struct {
			Name         string   `toml:"name"`
			Version      string   `toml:"version"`
			Checksum     string   `toml:"checksum"`
			Dependencies []string `toml:"dependencies"`
		} `toml:"package"`
	}
	if _, err := toml.Decode(string(data), &l); err != nil {
		return nil, err
	}
	versions := map[string][]string{} // crate name -> versions in the lockfile
	for _, p := range l.Package {
		versions[p.Name] = append(versions[p.Name], p.Version)
	}
	out := map[string]Facts{}
	for _, p := range l.Package {
		var f Facts
		sum := strings.ToLower(p.Checksum)
		if b, err := hex.DecodeString(sum); err == nil && len(b) == 32 {
			f.Hashes = []bom.Hash{{Algorithm: bom.SHA256, Value: sum}}
		}
		// A dependency is "name" when one version is locked, else
		// "name version" (optionally followed by "(source)").
		for _, d := range p.Dependencies {
			fields := strings.Fields(d)
			switch {
			case len(fields) >= 2:
				f.Deps = append(f.Deps, fields[0]+"@"+fields[1])
			case len(fields) == 1 && len(versions[fields[0]]) == 1:
				f.Deps = append(f.Deps, fields[0]+"@"+versions[fields[0]][0])
			}
		}
		out[p.Name+"@"+p.Version] = f
	}
	return out, nil
}

// PNPM returns integrity hashes from pnpm-lock.yaml (lockfile
// versions 5 to 9) keyed by name@version.
func PNPM(data []byte) (map[string]Facts, error) {
	var l struct {
		Packages map[string]struct {
			Name       string `yaml:"name"`
			Version    string `yaml:"version"`
			Resolution struct {
				Integrity string `yaml:"integrity"`
			} `yaml:"resolution"`
		} `yaml:"packages"`
	}
	if err := yaml.Unmarshal(data, &l); err != nil {
		return nil, err
	}
	out := map[string]Facts{}
	for key, p := range l.Packages {
		name, version := p.Name, p.Version
		if name == "" || version == "" {
			name, version = pnpmKey(key)
		}
		if name == "" || version == "" {
			continue
		}
		if hs := SRI(p.Resolution.Integrity); len(hs) > 0 {
			out[name+"@"+version] = Facts{Hashes: hs}
		}
	}
	return out, nil
}

// pnpmKey splits a pnpm package key: "name@1.0.0" (v9), "/name@1.0.0(peer@2)"
// (v6), "/@scope/name/1.0.0" (v5).
func pnpmKey(key string) (name, version string) {
	key = strings.TrimPrefix(key, "/")
	if i := strings.IndexByte(key, '('); i >= 0 {
		key = key[:i]
	}
	if i := strings.LastIndexByte(key, '@'); i > 0 {
		return key[:i], key[i+1:]
	}
	if i := strings.LastIndexByte(key, '/'); i > 0 {
		return key[:i], key[i+1:]
	}
	return "", ""
}

// Yarn returns integrity hashes from a classic (v1) yarn.lock keyed
// by name@version. Berry lockfiles record a checksum of Yarn's own zip
// archive rather than of the registry tarball, so they yield nothing.
func Yarn(data []byte) (map[string]Facts, error) {
	out := map[string]Facts{}
	var name, version, integrity string
	flush := func() {
		if name != "" && version != "" {
			if hs := SRI(integrity); len(hs) > 0 {
				out[name+"@"+version] = Facts{Hashes: hs}
			}
		}
		name, version, integrity = "", "", ""
	}
	for line := range strings.Lines(string(data)) {
		line = strings.TrimRight(line, "\r\n")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if line[0] != ' ' {
			// A block header: one or more "name@range" specs ending in ':'.
			flush()
			first, _, _ := strings.Cut(strings.TrimSuffix(trimmed, ":"), ",")
			first = strings.Trim(strings.TrimSpace(first), `"`)
			if i := strings.LastIndexByte(first, '@'); i > 0 {
				name = first[:i]
			}
			continue
		}
		key, val, ok := strings.Cut(trimmed, " ")
		if !ok {
			continue
		}
		val = strings.Trim(strings.TrimSpace(val), `"`)
		switch key {
		case "version":
			version = val
		case "integrity":
			integrity = val
		}
	}
	flush()
	return out, nil
}
