package trust

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/keys"
)

// Role is what a key is trusted to sign.
type Role string

// The roles evidence kinds need.
const (
	// RoleBuilder signs build provenance and TEE attestations of builds.
	RoleBuilder Role = "builder"
	// RoleRebuilder signs independent rebuild (reproducibility) results.
	RoleRebuilder Role = "rebuilder"
	// RoleScanner signs SBOMs and scan results.
	RoleScanner Role = "scanner"
	// RoleApprover signs deployment approvals.
	RoleApprover Role = "approver"
	// RoleGate signs verification summaries and deployment decisions.
	RoleGate Role = "gate"
)

// KnownRoles lists every role a trust file may name.
func KnownRoles() []Role {
	return []Role{RoleBuilder, RoleRebuilder, RoleScanner, RoleApprover, RoleGate}
}

// Errors for errors.Is.
var (
	ErrBadFile     = errors.New("bad trust file")
	ErrUnknownRole = errors.New("unknown role")
)

// MaxFileBytes bounds a trust file.
const MaxFileBytes = 1 << 20

// Key is one trusted key with its roles.
type Key struct {
	Name   string
	Public *keys.PublicKey
	Roles  []Role
}

// Trust is a parsed trust file.
type Trust struct {
	keys                []Key
	byID                map[string]*Key
	ReferenceValuesPath string
}

type fileDoc struct {
	Version int `yaml:"version"`
	Keys    []struct {
		Name         string   `yaml:"name"`
		PublicKey    string   `yaml:"publicKey"`
		PublicKeyPEM string   `yaml:"publicKeyPEM"`
		KeyID        string   `yaml:"keyId"`
		Roles        []string `yaml:"roles"`
	} `yaml:"keys"`
	TEE struct {
		ReferenceValues string `yaml:"referenceValues"`
	} `yaml:"tee"`
}

// Load reads a trust file; relative key paths resolve against its directory.
func Load(path string) (*Trust, error) {
	f, err := limits.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("trust file: %w", err)
	}
	defer f.Close()
	b, err := limits.ReadAll(f, MaxFileBytes, path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse decodes a trust file. baseDir resolves relative key paths.
func Parse(b []byte, baseDir string) (*Trust, error) {
	var doc fileDoc
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadFile, err)
	}
	if doc.Version != 1 {
		return nil, fmt.Errorf("%w: version %d (want 1)", ErrBadFile, doc.Version)
	}
	t := &Trust{byID: map[string]*Key{}}
	index := map[string]int{}
	if doc.TEE.ReferenceValues != "" {
		t.ReferenceValuesPath = resolve(baseDir, doc.TEE.ReferenceValues)
	}
	for i, k := range doc.Keys {
		where := fmt.Sprintf("keys[%d] (%s)", i, k.Name)
		var pub *keys.PublicKey
		var err error
		switch {
		case k.PublicKey != "" && k.PublicKeyPEM != "":
			return nil, fmt.Errorf("%w: %s: give publicKey or publicKeyPEM, not both", ErrBadFile, where)
		case k.PublicKey != "":
			pub, err = keys.LoadPublicKeyFile(resolve(baseDir, k.PublicKey))
		case k.PublicKeyPEM != "":
			pub, err = keys.ParsePublicKey([]byte(k.PublicKeyPEM))
		default:
			return nil, fmt.Errorf("%w: %s: no publicKey or publicKeyPEM", ErrBadFile, where)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadFile, where, err)
		}
		if k.KeyID != "" && k.KeyID != pub.ID() {
			return nil, fmt.Errorf("%w: %s: keyId %s does not match the key (%s)", ErrBadFile, where, k.KeyID, pub.ID())
		}
		if len(k.Roles) == 0 {
			return nil, fmt.Errorf("%w: %s: no roles", ErrBadFile, where)
		}
		var roles []Role
		for _, r := range k.Roles {
			if !slices.Contains(KnownRoles(), Role(r)) {
				return nil, fmt.Errorf("%w: %s: %w %q (want one of %v)", ErrBadFile, where, ErrUnknownRole, r, KnownRoles())
			}
			roles = append(roles, Role(r))
		}
		if i, dup := index[pub.ID()]; dup {
			// The same key listed twice: merge roles rather than guess.
			for _, r := range roles {
				if !slices.Contains(t.keys[i].Roles, r) {
					t.keys[i].Roles = append(t.keys[i].Roles, r)
				}
			}
			continue
		}
		index[pub.ID()] = len(t.keys)
		t.keys = append(t.keys, Key{Name: k.Name, Public: pub, Roles: roles})
	}
	for i := range t.keys {
		t.byID[t.keys[i].Public.ID()] = &t.keys[i]
	}
	return t, nil
}

// New builds a trust set in code (tests, single-key use).
func New(ks ...Key) *Trust {
	t := &Trust{byID: map[string]*Key{}}
	t.keys = append(t.keys, ks...)
	for i := range t.keys {
		t.byID[t.keys[i].Public.ID()] = &t.keys[i]
	}
	return t
}

func resolve(base, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// All returns every trusted key, whatever its roles, for signature checks.
func (t *Trust) All() *attest.KeySet {
	var ks []*keys.PublicKey
	for _, k := range t.keys {
		ks = append(ks, k.Public)
	}
	return attest.NewKeySet(ks...)
}

// WithRole returns the keys trusted for role.
func (t *Trust) WithRole(role Role) *attest.KeySet {
	var ks []*keys.PublicKey
	for _, k := range t.keys {
		if slices.Contains(k.Roles, role) {
			ks = append(ks, k.Public)
		}
	}
	return attest.NewKeySet(ks...)
}

// Roles returns the roles of the key with the given ID (nil if untrusted).
func (t *Trust) Roles(keyID string) []Role {
	k, ok := t.byID[keyID]
	if !ok {
		return nil
	}
	out := slices.Clone(k.Roles)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Name returns the label of the key with the given ID.
func (t *Trust) Name(keyID string) string {
	if k, ok := t.byID[keyID]; ok {
		return k.Name
	}
	return ""
}

// Has reports whether keyID is trusted for role.
func (t *Trust) Has(keyID string, role Role) bool {
	return slices.Contains(t.Roles(keyID), role)
}
