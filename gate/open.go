package gate

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/trust"
)

// ErrKeyRole means the signing key does not have the gate role in the
// trust file: the decisions it signed would be read back by nobody.
var ErrKeyRole = errors.New("signing key lacks the gate role")

// Setup is what Open assembles a gate from: the same inputs whether the
// gate runs in `hallmark gate`, `hallmark recheck` or `hallmark serve`.
type Setup struct {
	// TrustFile is the path of the trust file: the keys trusted for each
	// role and, when it names them, the TEE reference values.
	TrustFile string
	// Policies maps each environment to its policy spec
	// (policy.LoadSpec: builtin, builtin:NAME, a preset file, Rego).
	Policies map[string]string
	// Project, when not nil, parameterises the built-in presets
	// (policy.WithProject).
	Project *policy.Project
	// Key signs the VSAs and decision records; it must have the gate role
	// in the trust file.
	Key *keys.PrivateKey
	// KeyName names the key in errors (its file, or a flag and its file).
	KeyName string
	// TEE verifies TEE attestations (tee/verifiers.Offline is the usual
	// choice); nil lists TEE evidence as ignored. The reference values its
	// measurements must match come from the trust file, and are set in the
	// presets of every environment (policy.WithTEEReference).
	TEE *tee.Registry
}

// SetupError says which input of a Setup is unusable.
type SetupError struct {
	// Input is "trust file", "TEE reference values", "policy" or "key".
	Input string
	// Err is the cause (a *policy.SpecError for "policy", wrapping
	// ErrKeyRole for a key without the gate role).
	Err error
}

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// Loaded is what Load reads and compiles from a Setup: everything a gate
// judges with, without the key it signs with. A dry run (compliance
// reports) needs no more.
type Loaded struct {
	// Trust is the trust file.
	Trust *trust.Trust
	// Policies holds the compiled policy of each environment.
	Policies map[string]*policy.Policy
	// TEE and TEERefs are Setup.TEE and the trust file's reference values.
	TEE     *tee.Registry
	TEERefs *tee.ReferenceValues
}

// Load loads the trust file and the TEE reference values it names, and
// compiles every environment's policy with those reference values (and the
// project's parameters). Setup.Key is not used. An unusable input yields a
// *SetupError.
func Load(ctx context.Context, s Setup) (*Loaded, error) {
	tr, err := trust.Load(s.TrustFile)
	if err != nil {
		return nil, &SetupError{Input: "trust file", Err: err}
	}
	refs, err := ReferenceValues(tr)
	if err != nil {
		return nil, &SetupError{Input: "TEE reference values", Err: err}
	}
	var specOpts []policy.SpecOption
	if s.Project != nil {
		specOpts = append(specOpts, policy.WithProject(*s.Project))
	}
	if refs != nil {
		reference := map[string]map[string][]string{}
		for plat, r := range refs.Platforms {
			reference[string(plat)] = r.Measurements
		}
		specOpts = append(specOpts, policy.WithTEEReference(reference))
	}
	pols, err := policy.LoadSpecs(ctx, s.Policies, specOpts...)
	if err != nil {
		return nil, &SetupError{Input: "policy", Err: err}
	}
	return &Loaded{Trust: tr, Policies: pols, TEE: s.TEE, TEERefs: refs}, nil
}

// Open assembles the gate from s over st: what Load loads, and the key,
// which must have the gate role in the trust file. opts configure the gate
// as for New. An unusable input yields a *SetupError.
func Open(ctx context.Context, st store.Store, s Setup, opts ...Option) (*Gate, error) {
	l, err := Load(ctx, s)
	if err != nil {
		return nil, err
	}
	if s.Key == nil {
		return nil, &SetupError{Input: "key", Err: errors.New("gate: no signing key for decision records")}
	}
	// Decisions are read back (deployments, recheck) only when a gate-role
	// key signed them: a gate key without the role would record decisions
	// nobody can list.
	if id := s.Key.Public().ID(); !l.Trust.Has(id, trust.RoleGate) {
		return nil, &SetupError{Input: "key", Err: fmt.Errorf("%w: %s (key ID %s) does not have the %q role in the trust file %s: add it there (roles: [gate]), or the decisions it signs would be neither listed by deployments ls nor rechecked",
			ErrKeyRole, s.KeyName, id, trust.RoleGate, s.TrustFile)}
	}
	if l.TEE != nil {
		opts = append([]Option{WithTEE(l.TEE, l.TEERefs)}, opts...)
	}
	return New(st, l.Trust, l.Policies, s.Key, opts...)
}

// ReferenceValues reads the TEE reference values the trust file names, nil
// when it names none.
func ReferenceValues(tr *trust.Trust) (*tee.ReferenceValues, error) {
	if tr.ReferenceValuesPath == "" {
		return nil, nil
	}
	f, err := limits.OpenFile(tr.ReferenceValuesPath)
	if err != nil {
		return nil, fmt.Errorf("trust file reference values: %w", err)
	}
	defer f.Close()
	refs, err := tee.LoadReferenceValues(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tr.ReferenceValuesPath, err)
	}
	return refs, nil
}

// Trust returns the trust file the gate verifies evidence against.
func (g *Gate) Trust() *trust.Trust { return g.trust }

// Store is the evidence store the gate reads and records decisions in.
func (g *Gate) Store() store.Store { return g.store }

// Policies returns the compiled policy of each environment.
func (g *Gate) Policies() map[string]*policy.Policy { return maps.Clone(g.policies) }

// TEE returns the TEE verifiers and reference values the gate re-verifies
// TEE attestations with (nil when it lists them as ignored).
func (g *Gate) TEE() (*tee.Registry, *tee.ReferenceValues) { return g.tee, g.teeRefs }
