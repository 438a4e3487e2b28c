package provenance

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/internal/strictjson"
)

// MaxPredicateSize bounds a provenance predicate read by Parse.
const MaxPredicateSize = 16 << 20

// Parse decodes and validates an SLSA v1 provenance predicate (the
// "predicate" object of a statement). Unknown fields are rejected.
func Parse(predicate []byte) (*slsa.Provenance, error) {
	if len(predicate) > MaxPredicateSize {
		return nil, fmt.Errorf("%w: predicate %w (%d bytes, limit %d)", ErrInvalidFacts, limits.ErrTooLarge, len(predicate), MaxPredicateSize)
	}
	p := &slsa.Provenance{}
	// protojson accepts proto field names ("build_definition") that no JSON
	// reader of the SLSA schema looks for, and keys differing in case from
	// a field are unknown to it: refuse both with an error that says so.
	if err := strictjson.CheckProto(predicate, p.ProtoReflect().Descriptor()); err != nil {
		return nil, fmt.Errorf("%w: decode predicate: %w", ErrInvalidFacts, err)
	}
	if err := protojson.Unmarshal(predicate, p); err != nil {
		return nil, fmt.Errorf("%w: decode predicate: %w", ErrInvalidFacts, err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFacts, err)
	}
	return p, nil
}

// Summary is the readable gist of a provenance predicate.
type Summary struct {
	BuildType    string
	BuilderID    string
	InvocationID string
	Command      []string
	WorkDir      string
	SourceURI    string
	Commit       string
	Ref          string
	// Workflow is the CI workflow file that ran the build
	// (".github/workflows/release.yml"); empty when not recorded.
	Workflow string
	Dirty    bool
	// ModifiedByBuild lists the tracked files the build command changed.
	ModifiedByBuild []string
	// SharedWritable lists the writable paths the build shared with other
	// builds (sandbox.sharedWritable).
	SharedWritable []string
	// Sandbox is the isolation recorded in internalParameters.sandbox; nil
	// when the provenance records none or a malformed one (then Isolation
	// says which). Policy, dashboard and CLI all read it from here.
	Sandbox *Sandbox
	// Isolation describes the sandbox as recorded, for example
	// "sandbox (user, mount, pid, uts, ipc, net), network off".
	Isolation  string
	StartedOn  time.Time
	FinishedOn time.Time
	// Dependencies counts the resolved dependencies that are packages
	// (purls, as read from lockfiles).
	Dependencies int
	// Inputs are the other resolved dependencies, in recorded order: what
	// an image assembly names (the base image, each product file, the
	// products' provenance bundles) or another builder's non-package inputs.
	Inputs    []Input
	Toolchain []string
}

// Input is one resolved dependency that is not a package.
type Input struct {
	URI    string // its URI, else its name
	Digest string // "ALG:HEX" of its first digest in sorted order; empty when none
	Origin string // the "origin" annotation, e.g. "base image"
}

// Summarize extracts a Summary from a parsed predicate. Fields a builder
// other than hallmark did not record are left empty.
func Summarize(p *slsa.Provenance) Summary {
	bd, rd := p.GetBuildDefinition(), p.GetRunDetails()
	s := Summary{
		BuildType:    bd.GetBuildType(),
		BuilderID:    rd.GetBuilder().GetId(),
		InvocationID: rd.GetMetadata().GetInvocationId(),
	}
	if t := rd.GetMetadata().GetStartedOn(); t != nil {
		s.StartedOn = t.AsTime()
	}
	if t := rd.GetMetadata().GetFinishedOn(); t != nil {
		s.FinishedOn = t.AsTime()
	}
	ext := bd.GetExternalParameters().AsMap()
	for _, c := range asSlice(ext["command"]) {
		if str, ok := c.(string); ok {
			s.Command = append(s.Command, str)
		}
	}
	s.WorkDir, _ = ext["workdir"].(string)
	if src, ok := ext["source"].(map[string]any); ok {
		s.SourceURI, _ = src["uri"].(string)
		s.Commit, _ = src["commit"].(string)
		s.Ref, _ = src["ref"].(string)
		s.Dirty, _ = src["dirty"].(bool)
		s.ModifiedByBuild = stringList(src["modifiedByBuild"])
	}
	sb, err := ReadSandbox(p)
	switch {
	case err != nil:
		s.Isolation = "sandbox record unreadable: " + err.Error()
	case sb == nil:
		s.Isolation = "sandbox not recorded"
	default:
		s.Sandbox, s.Isolation, s.SharedWritable = sb, sb.String(), sb.SharedWritable
	}
	for _, d := range bd.GetResolvedDependencies() {
		if role := d.GetAnnotations().GetFields()["role"]; role.GetStringValue() == "toolchain" {
			s.Toolchain = append(s.Toolchain, d.GetName())
			continue
		}
		if d.GetDigest()["gitCommit"] != "" || d.GetAnnotations().GetFields()["baseCommit"] != nil {
			continue // the source itself
		}
		if strings.HasPrefix(d.GetUri(), "pkg:") {
			s.Dependencies++
			continue
		}
		in := Input{URI: d.GetUri(), Origin: d.GetAnnotations().GetFields()["origin"].GetStringValue()}
		if in.URI == "" {
			in.URI = d.GetName() // a source tree without a commit: "source"
		}
		if algs := slices.Sorted(maps.Keys(d.GetDigest())); len(algs) > 0 {
			in.Digest = algs[0] + ":" + d.GetDigest()[algs[0]]
		}
		s.Inputs = append(s.Inputs, in)
	}
	return s
}

// ReadSandbox reads internalParameters.sandbox, the isolation a Hallmark
// build records. It returns nil when the provenance records no sandbox
// object (another builder's; a bare "sandbox": true is no record), and an
// error when the object is there but malformed: keys are matched with
// exact case, as in all signed JSON.
func ReadSandbox(p *slsa.Provenance) (*Sandbox, error) {
	v, ok := p.GetBuildDefinition().GetInternalParameters().GetFields()["sandbox"]
	if !ok || v.GetStructValue() == nil {
		return nil, nil
	}
	raw, err := protojson.Marshal(v.GetStructValue())
	if err != nil {
		return nil, fmt.Errorf("%w: internalParameters.sandbox: %w", ErrInvalidFacts, err)
	}
	var sb Sandbox
	if err := strictjson.Decode(raw, &sb, strictjson.AllowUnknownKeys()); err != nil {
		return nil, fmt.Errorf("%w: internalParameters.sandbox: %w", ErrInvalidFacts, err)
	}
	return &sb, nil
}

// String describes the isolation for people, for example
// "sandbox (user, mount, pid), network off, source read-only".
func (s *Sandbox) String() string {
	if s == nil {
		return "sandbox not recorded"
	}
	if !s.Applied {
		out := "no sandbox (requested " + s.Requested + ")"
		if s.FallbackReason != "" {
			out += ", fell back: " + s.FallbackReason
		}
		return out
	}
	out := "sandbox (" + strings.Join(s.Namespaces, ", ") + "), network off"
	if s.Network {
		out = "sandbox (" + strings.Join(s.Namespaces, ", ") + "), network on"
	}
	if s.ReadOnlySource {
		out += ", source read-only"
	}
	if len(s.SharedWritable) > 0 {
		out += ", shared writable " + fmt.Sprint(s.SharedWritable)
	}
	return out
}

// stringList returns the string elements of a JSON array.
func stringList(v any) []string {
	var out []string
	for _, e := range asSlice(v) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
