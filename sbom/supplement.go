package sbom

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"
)

// lockFacts are the per-package facts a lockfile records and scalibr's
// extractor does not return.
type lockFacts struct {
	licenses []string
	hashes   []Hash
	deps     []string // name@version of the packages this one depends on
}

// supplements reads lockfiles a second time for licences and hashes, once
// per file, confined to the scanned root.
type supplements struct {
	root     *os.Root
	maxSize  int64
	logger   *slog.Logger
	cache    map[string]map[string]lockFacts // location -> name@version -> facts
	problems []Problem
}

func newSupplements(root *os.Root, maxSize int64, logger *slog.Logger) *supplements {
	return &supplements{root: root, maxSize: maxSize, logger: logger, cache: map[string]map[string]lockFacts{}}
}

func (s *supplements) apply(ctx context.Context, c *Component) {
	for _, loc := range c.Locations {
		var decode func([]byte) (map[string]lockFacts, error)
		switch base(loc) {
		case "package-lock.json", "npm-shrinkwrap.json":
			decode = parseNPMLock
		case "Cargo.lock":
			decode = parseCargoLock
		case "pnpm-lock.yaml":
			decode = parsePNPMLock
		case "yarn.lock":
			decode = parseYarnLock
		default:
			continue
		}
		facts, ok := s.cache[loc]
		if !ok {
			data, err := s.read(loc)
			if err == nil {
				facts, err = decode(data)
			}
			if err != nil {
				perr := &ParseError{Path: loc, Err: err}
				s.problems = append(s.problems, Problem{Path: loc, Extractor: "hallmark/lockfacts", Message: perr.Error()})
				s.logger.WarnContext(ctx, "cannot read lockfile metadata", "path", loc, "error", err)
			}
			s.cache[loc] = facts
		}
		f := facts[c.Name+"@"+c.Version]
		c.Licenses = append(c.Licenses, f.licenses...)
		c.Hashes = append(c.Hashes, f.hashes...)
		for _, d := range f.deps {
			c.DependsOn = append(c.DependsOn, loc+"\x00"+d)
		}
	}
}

func (s *supplements) read(loc string) ([]byte, error) {
	f, err := s.root.Open(filepath.FromSlash(loc))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readBounded(f, s.maxSize)
}

func readBounded(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return data, nil
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

// parseNPMLock returns licences and integrity hashes keyed by name@version.
func parseNPMLock(data []byte) (map[string]lockFacts, error) {
	var l npmLock
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, err
	}
	out := map[string]lockFacts{}
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
		var f lockFacts
		if lic := npmLicense(e.License); lic != "" {
			f.licenses = []string{lic}
		}
		f.hashes = sriHashes(e.Integrity)
		for _, deps := range []map[string]string{e.Dependencies, e.OptionalDependencies} {
			for d := range deps {
				if r, ok := npmResolve(l, p, d); ok {
					f.deps = append(f.deps, r)
				}
			}
		}
		k := name + "@" + e.Version
		prev := out[k]
		prev.licenses = append(prev.licenses, f.licenses...)
		prev.hashes = append(prev.hashes, f.hashes...)
		prev.deps = append(prev.deps, f.deps...)
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

// sriHashes decodes a Subresource Integrity string ("sha512-<base64>", more
// than one separated by spaces) into hex hashes, ignoring unknown algorithms.
func sriHashes(sri string) []Hash {
	var out []Hash
	for _, tok := range strings.Fields(sri) {
		alg, b64, ok := strings.Cut(tok, "-")
		if !ok {
			continue
		}
		var a HashAlgorithm
		var n int
		switch alg {
		case "sha1":
			a, n = SHA1, 20
		case "sha256":
			a, n = SHA256, 32
		case "sha512":
			a, n = SHA512, 64
		default:
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != n {
			continue
		}
		out = append(out, Hash{Algorithm: a, Value: hex.EncodeToString(raw)})
	}
	return out
}

// parseCargoLock returns the SHA-256 checksums of registry crates keyed by
// name@version.
func parseCargoLock(data []byte) (map[string]lockFacts, error) {
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
	out := map[string]lockFacts{}
	for _, p := range l.Package {
		var f lockFacts
		sum := strings.ToLower(p.Checksum)
		if b, err := hex.DecodeString(sum); err == nil && len(b) == 32 {
			f.hashes = []Hash{{Algorithm: SHA256, Value: sum}}
		}
		// A dependency is "name" when one version is locked, else
		// "name version" (optionally followed by "(source)").
		for _, d := range p.Dependencies {
			fields := strings.Fields(d)
			switch {
			case len(fields) >= 2:
				f.deps = append(f.deps, fields[0]+"@"+fields[1])
			case len(fields) == 1 && len(versions[fields[0]]) == 1:
				f.deps = append(f.deps, fields[0]+"@"+versions[fields[0]][0])
			}
		}
		out[p.Name+"@"+p.Version] = f
	}
	return out, nil
}

// parsePNPMLock returns integrity hashes from pnpm-lock.yaml (lockfile
// versions 5 to 9) keyed by name@version.
func parsePNPMLock(data []byte) (map[string]lockFacts, error) {
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
	out := map[string]lockFacts{}
	for key, p := range l.Packages {
		name, version := p.Name, p.Version
		if name == "" || version == "" {
			name, version = pnpmKey(key)
		}
		if name == "" || version == "" {
			continue
		}
		if hs := sriHashes(p.Resolution.Integrity); len(hs) > 0 {
			out[name+"@"+version] = lockFacts{hashes: hs}
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

// parseYarnLock returns integrity hashes from a classic (v1) yarn.lock keyed
// by name@version. Berry lockfiles record a checksum of Yarn's own zip
// archive rather than of the registry tarball, so they yield nothing.
func parseYarnLock(data []byte) (map[string]lockFacts, error) {
	out := map[string]lockFacts{}
	var name, version, integrity string
	flush := func() {
		if name != "" && version != "" {
			if hs := sriHashes(integrity); len(hs) > 0 {
				out[name+"@"+version] = lockFacts{hashes: hs}
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
