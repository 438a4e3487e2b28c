package materials

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/hallmark-dev/hallmark/digest"
)

// parseGoSum reads go.sum. Only module content lines ("mod ver h1:...")
// become dependencies; "/go.mod" lines pin just a go.mod file that the
// module graph read, not code that was built. The h1 hash is the SHA-256
// dirhash of the module zip and is recorded under digest.DirHash in hex.
func parseGoSum(file string, data []byte) ([]Dependency, error) {
	var deps []Dependency
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("%w: want 3 fields, got %d", ErrMalformed, len(f))}
		}
		mod, ver, sum := f[0], f[1], f[2]
		if strings.HasSuffix(ver, "/go.mod") {
			continue
		}
		b64, ok := strings.CutPrefix(sum, "h1:")
		if !ok {
			return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("%w: unknown hash %q", ErrMalformed, sum)}
		}
		h, err := b64ToHex(b64, 32)
		if err != nil {
			return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
		}
		ns, name := "", mod
		if i := strings.LastIndex(mod, "/"); i >= 0 {
			ns, name = mod[:i], mod[i+1:]
		}
		deps = append(deps, Dependency{PURL: purl("golang", ns, name, ver), Digest: digest.Set{digest.DirHash: h}})
		if len(deps) > MaxDependencies {
			return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("%w: more than %d dependencies", ErrTooLarge, MaxDependencies)}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{File: file, Line: line, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
	}
	return deps, nil
}
