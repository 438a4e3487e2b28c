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
	// Person names who holds the key, so that several keys of one person
	// count as one approver; "" when the file does not say.
	Person string
}

// Trust is a parsed trust file.
type Trust struct {
	keys                []Key
	byID                map[string]*Key
	identities          []Identity
	byIdentity          map[string]*Identity
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
		Person       string   `yaml:"person"`
	} `yaml:"keys"`
	Identities []identityDoc `yaml:"identities"`
	TEE        struct {
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
	t := &Trust{byID: map[string]*Key{}, byIdentity: map[string]*Identity{}}
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
		roles, err := parseRoles(where, k.Roles)
		if err != nil {
			return nil, err
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
		t.keys = append(t.keys, Key{Name: k.Name, Public: pub, Roles: roles, Person: k.Person})
	}
	for i := range t.keys {
		t.byID[t.keys[i].Public.ID()] = &t.keys[i]
	}
	if err := t.parseIdentities(doc.Identities); err != nil {
		return nil, err
	}
	return t, nil
}

// parseRoles checks role names.
func parseRoles(where string, names []string) ([]Role, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: %s: no roles", ErrBadFile, where)
	}
	var roles []Role
	for _, r := range names {
		if !slices.Contains(KnownRoles(), Role(r)) {
			return nil, fmt.Errorf("%w: %s: %w %q (want one of %v)", ErrBadFile, where, ErrUnknownRole, r, KnownRoles())
		}
		if !slices.Contains(roles, Role(r)) {
			roles = append(roles, Role(r))
		}
	}
	return roles, nil
}

// New builds a trust set in code (tests, single-key use).
func New(ks ...Key) *Trust {
	t := &Trust{byID: map[string]*Key{}, byIdentity: map[string]*Identity{}}
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

// All returns every trusted key and identity, whatever its roles, for
// signature checks.
func (t *Trust) All() *attest.KeySet {
	var ks []*keys.PublicKey
	for _, k := range t.keys {
		ks = append(ks, k.Public)
	}
	set := attest.NewKeySet(ks...)
	for _, id := range t.identities {
		set.AddIdentities(id.Identity)
	}
	return set
}

// WithRole returns the keys and identities trusted for role.
func (t *Trust) WithRole(role Role) *attest.KeySet {
	var ks []*keys.PublicKey
	for _, k := range t.keys {
		if slices.Contains(k.Roles, role) {
			ks = append(ks, k.Public)
		}
	}
	set := attest.NewKeySet(ks...)
	for _, id := range t.identities {
		if slices.Contains(id.Roles, role) {
			set.AddIdentities(id.Identity)
		}
	}
	return set
}

// Roles returns the roles of the signer with the given ID: a key ID, or
// "identity:NAME" for a trusted identity (nil if untrusted).
func (t *Trust) Roles(signerID string) []Role {
	var roles []Role
	if k, ok := t.byID[signerID]; ok {
		roles = k.Roles
	} else if id, ok := t.identity(signerID); ok {
		roles = id.Roles
	} else {
		return nil
	}
	out := slices.Clone(roles)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Name returns the label of the key or identity with the given signer ID.
func (t *Trust) Name(signerID string) string {
	if k, ok := t.byID[signerID]; ok {
		return k.Name
	}
	if id, ok := t.identity(signerID); ok {
		return id.Name
	}
	return ""
}

// Person returns who the trust file says holds the signer with the given
// ID ("" when it does not say).
func (t *Trust) Person(signerID string) string {
	if k, ok := t.byID[signerID]; ok {
		return k.Person
	}
	if id, ok := t.identity(signerID); ok {
		return id.Person
	}
	return ""
}

// Has reports whether keyID is trusted for role.
func (t *Trust) Has(keyID string, role Role) bool {
	return slices.Contains(t.Roles(keyID), role)
}
