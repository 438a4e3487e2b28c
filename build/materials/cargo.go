package materials

import (
	"fmt"

	"github.com/BurntSushi/toml"

	"github.com/hallmark-dev/hallmark/digest"
)

type cargoLock struct {
	Package []struct {
		Name     string `toml:"name"`
		Version  string `toml:"version"`
		Source   string `toml:"source"`
		Checksum string `toml:"checksum"`
	} `toml:"package"`
}

// parseCargo reads Cargo.lock. Packages without a source are members of the
// workspace being built, not dependencies, and are skipped. The checksum is
// the sha256 of the .crate file.
func parseCargo(file string, data []byte) ([]Dependency, error) {
	var lock cargoLock
	if err := toml.Unmarshal(data, &lock); err != nil {
		return nil, &ParseError{File: file, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
	}
	var deps []Dependency
	for _, p := range lock.Package {
		if p.Source == "" || p.Name == "" || p.Version == "" {
			continue
		}
		d := Dependency{PURL: purl("cargo", "", p.Name, p.Version)}
		if p.Checksum != "" {
			h, err := checkHex(p.Checksum, 32)
			if err != nil {
				return nil, &ParseError{File: file, Err: fmt.Errorf("%w: package %s: %w", ErrMalformed, p.Name, err)}
			}
			d.Digest = digest.Set{digest.SHA256: h}
		}
		deps = append(deps, d)
	}
	return deps, nil
}
