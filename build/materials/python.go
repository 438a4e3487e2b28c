package materials

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/hallmark-dev/hallmark/digest"
)

type poetryFile struct {
	File string `toml:"file"`
	Hash string `toml:"hash"`
}

type poetryLock struct {
	Package []struct {
		Name    string       `toml:"name"`
		Version string       `toml:"version"`
		Files   []poetryFile `toml:"files"`
	} `toml:"package"`
	Metadata struct {
		Files map[string][]poetryFile `toml:"files"`
	} `toml:"metadata"`
}

// parsePoetry reads poetry.lock in both layouts: file hashes per package
// (lock format 2) or under [metadata.files] (format 1). A package lists one
// hash per distribution file; the first sha256 in lockfile order is
// recorded (pip and poetry accept any listed file, so this names one
// allowed artifact, not necessarily the one installed).
func parsePoetry(file string, data []byte) ([]Dependency, error) {
	var lock poetryLock
	if err := toml.Unmarshal(data, &lock); err != nil {
		return nil, &ParseError{File: file, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
	}
	var deps []Dependency
	for _, p := range lock.Package {
		if p.Name == "" || p.Version == "" {
			continue
		}
		files := p.Files
		if len(files) == 0 {
			files = lock.Metadata.Files[p.Name]
		}
		var hashes []string
		for _, f := range files {
			hashes = append(hashes, f.Hash)
		}
		d, err := firstPipHash(hashes)
		if err != nil {
			return nil, &ParseError{File: file, Err: fmt.Errorf("%w: package %s: %w", ErrMalformed, p.Name, err)}
		}
		deps = append(deps, Dependency{PURL: pypiPURL(p.Name, p.Version), Digest: d})
	}
	return deps, nil
}

// reqLine matches a pinned requirement "name[extras]==version".
var reqLine = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*===?\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)`)

// parseRequirements reads a pip requirements file. Only requirements pinned
// with == (or ===) name a version and become dependencies; option lines
// (-r, --index-url, ...) are skipped and never recorded, since index URLs
// can carry credentials. A --hash=sha256:... option gives the digest.
func parseRequirements(file string, data []byte) ([]Dependency, error) {
	var deps []Dependency
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line, start := 0, 0
	var logical strings.Builder
	flush := func() error {
		text := logical.String()
		logical.Reset()
		if i := strings.Index(text, " #"); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") || strings.HasPrefix(text, "-") {
			return nil
		}
		m := reqLine.FindStringSubmatch(text)
		if m == nil {
			return nil // unpinned, a URL or a path: no version to record
		}
		var hashes []string
		for _, f := range strings.Fields(text) {
			if h, ok := strings.CutPrefix(f, "--hash="); ok {
				hashes = append(hashes, h)
			}
		}
		d, err := firstPipHash(hashes)
		if err != nil {
			return &ParseError{File: file, Line: start, Err: fmt.Errorf("%w: %s: %w", ErrMalformed, m[1], err)}
		}
		deps = append(deps, Dependency{PURL: pypiPURL(m[1], m[3]), Digest: d})
		if len(deps) > MaxDependencies {
			return &ParseError{File: file, Line: start, Err: fmt.Errorf("%w: more than %d dependencies", ErrTooLarge, MaxDependencies)}
		}
		return nil
	}
	for sc.Scan() {
		line++
		if logical.Len() == 0 {
			start = line
		}
		text := sc.Text()
		if cont, ok := strings.CutSuffix(strings.TrimRight(text, " \t\r"), `\`); ok {
			logical.WriteString(cont + " ")
			continue
		}
		logical.WriteString(text)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return deps, nil
}

// firstPipHash turns the first "sha256:<hex>" of a list into a digest set;
// other algorithms are ignored. A malformed sha256 is an error.
func firstPipHash(hashes []string) (digest.Set, error) {
	for _, h := range hashes {
		alg, val, ok := strings.Cut(h, ":")
		if !ok || alg != digest.SHA256 {
			continue
		}
		v, err := checkHex(val, 32)
		if err != nil {
			return nil, err
		}
		return digest.Set{digest.SHA256: v}, nil
	}
	return nil, nil
}

// pypiPURL normalises the name as PEP 503 and the purl spec ask.
func pypiPURL(name, version string) string {
	n := strings.ToLower(name)
	n = strings.NewReplacer("_", "-", ".", "-").Replace(n)
	return purl("pypi", "", n, version)
}
