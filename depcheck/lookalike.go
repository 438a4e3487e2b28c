package depcheck

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"
)

//go:embed popular/*.txt
var popularFS embed.FS

// popularFiles maps OSV ecosystem names to the embedded list of popular
// names for that ecosystem.
var popularFiles = map[string]string{
	"npm":       "popular/npm.txt",
	"PyPI":      "popular/pypi.txt",
	"Go":        "popular/go.txt",
	"crates.io": "popular/crates.txt",
	"RubyGems":  "popular/rubygems.txt",
	"Maven":     "popular/maven.txt",
}

// Popular returns the popular package names shipped with Hallmark, per OSV
// ecosystem, each list sorted.
func Popular() map[string][]string {
	out := map[string][]string{}
	for eco, file := range popularFiles {
		data, err := popularFS.ReadFile(file)
		if err != nil {
			continue // embedded at build time; cannot be missing
		}
		out[eco] = parseNameList(data, eco)
	}
	return out
}

func parseNameList(data []byte, eco string) []string {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, normalizeName(line, eco))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

var pypiSeparators = regexp.MustCompile(`[-_.]+`)

// normalizeName puts a package name in the form its registry treats as
// identical: PEP 503 for PyPI, lower case for npm, crates.io and RubyGems.
func normalizeName(name, eco string) string {
	switch eco {
	case "PyPI":
		return pypiSeparators.ReplaceAllString(strings.ToLower(name), "-")
	case "npm", "crates.io", "RubyGems":
		return strings.ToLower(name)
	}
	return name
}

// Look-alike kinds, from most to least specific.
const (
	KindSeparator     = "separator"     // '-', '_', '.' added, removed or swapped: crossenv, cross_env
	KindTransposition = "transposition" // two adjacent characters swapped: reqeusts
	KindOmission      = "omission"      // one character left out: reqests
	KindDuplication   = "duplication"   // one character doubled: expresss
	KindScope         = "scope"         // npm scope confusion: types-node, @bable/core
	KindEditDistance  = "edit-distance" // within the policy's edit distance
)

type lookalikeIndex struct {
	popular     map[string][]string        // ecosystem -> names
	set         map[string]map[string]bool // ecosystem -> name set
	maxDistance int
	minLength   int
}

func newLookalikeIndex(popular map[string][]string, maxDistance, minLength int) *lookalikeIndex {
	idx := &lookalikeIndex{popular: popular, set: map[string]map[string]bool{}, maxDistance: maxDistance, minLength: minLength}
	for eco, names := range popular {
		idx.set[eco] = map[string]bool{}
		for _, n := range names {
			idx.set[eco][n] = true
		}
	}
	return idx
}

// lookalike returns the popular name that name imitates and how, or "".
func (idx *lookalikeIndex) lookalike(eco, name string) (target, kind string) {
	eco, _, _ = strings.Cut(eco, ":")
	n := normalizeName(name, eco)
	if idx.set[eco][n] || len(n) < idx.minLength {
		return "", ""
	}
	best, bestKind, bestRank := "", "", len(kindRank)
	for _, p := range idx.popular[eco] {
		k := classify(n, p, eco, idx.maxDistance)
		if k == "" {
			continue
		}
		if r := slices.Index(kindRank, k); r < bestRank {
			best, bestKind, bestRank = p, k, r
		}
	}
	return best, bestKind
}

var kindRank = []string{KindSeparator, KindTransposition, KindOmission, KindDuplication, KindScope, KindEditDistance}

// classify says how candidate n imitates popular name p, or "".
func classify(n, p, eco string, maxDistance int) string {
	if n == p {
		return ""
	}
	if stripSeparators(n) == stripSeparators(p) {
		return KindSeparator
	}
	switch {
	case isTransposition(n, p):
		return KindTransposition
	case len(n)+1 == len(p) && isDeletion(p, n):
		return KindOmission
	case len(n) == len(p)+1 && isDuplication(n, p):
		return KindDuplication
	}
	if eco == "npm" && isScopeConfusion(n, p) {
		return KindScope
	}
	if len(p) >= 4 && maxDistance > 0 && levenshtein.ComputeDistance(n, p) <= maxDistance {
		return KindEditDistance
	}
	return ""
}

func stripSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' {
			return -1
		}
		return r
	}, s)
}

func isTransposition(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
}

// isDeletion reports whether short is long with one character removed.
func isDeletion(long, short string) bool {
	for i := range len(long) {
		if long[:i]+long[i+1:] == short {
			return true
		}
	}
	return false
}

// isDuplication reports whether long is short with one character doubled.
func isDuplication(long, short string) bool {
	for i := 1; i < len(long); i++ {
		if long[i] == long[i-1] && long[:i]+long[i+1:] == short {
			return true
		}
	}
	return false
}

// isScopeConfusion reports an npm name that drops, flattens or misspells
// the scope of a popular scoped package: "types-node" or "typesnode" for
// "@types/node", "@bable/core" for "@babel/core".
func isScopeConfusion(n, p string) bool {
	scope, bare, ok := splitScope(p)
	if !ok {
		return false
	}
	if nScope, nBare, nOK := splitScope(n); nOK {
		return nBare == bare && nScope != scope && levenshtein.ComputeDistance(nScope, scope) <= 1
	}
	return n == scope+"-"+bare || n == scope+bare || n == scope+"."+bare
}

func splitScope(name string) (scope, bare string, ok bool) {
	rest, ok := strings.CutPrefix(name, "@")
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, "/")
}

func mergePopular(base map[string][]string, extra map[string][]string) (map[string][]string, error) {
	out := maps.Clone(base)
	for eco, names := range extra {
		if _, known := popularFiles[eco]; !known {
			return nil, fmt.Errorf("unknown ecosystem %q (want one of %s)", eco, strings.Join(slices.Sorted(maps.Keys(popularFiles)), ", "))
		}
		merged := slices.Clone(out[eco])
		for _, n := range names {
			merged = append(merged, normalizeName(strings.TrimSpace(n), eco))
		}
		slices.Sort(merged)
		out[eco] = slices.Compact(merged)
	}
	return out, nil
}
