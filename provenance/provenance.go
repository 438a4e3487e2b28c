package provenance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hallmark-dev/hallmark/digest"
)

// Well-known URIs.
const (
	// PredicateType is the SLSA provenance v1 predicate type.
	PredicateType = "https://slsa.dev/provenance/v1"
	// BuildType identifies a build run by `hallmark build`; docs/build.md
	// documents its external and internal parameters.
	BuildType = "https://hallmark.dev/build/v1"
	// DefaultBuilderID names a build run by hallmark on the local machine.
	DefaultBuilderID = "https://hallmark.dev/builders/local/v1"
)

// ErrInvalidFacts reports facts that cannot make a valid provenance.
var ErrInvalidFacts = errors.New("provenance: invalid build facts")

// Source describes the source tree a build ran from.
type Source struct {
	// URI is the repository URI (without credentials), for example
	// "git+https://github.com/o/r"; empty when unknown.
	URI string
	// Commit is the hex git commit ID; empty when not a git checkout.
	Commit string
	// Ref is the git ref that was checked out ("refs/heads/main"); empty
	// when HEAD was detached.
	Ref string
	// Dirty reports uncommitted changes in the tree when the build command
	// started (after the preparation steps).
	Dirty bool
	// ModifiedByBuild lists tracked files the build command itself
	// changed: what it built may not be the commit either.
	ModifiedByBuild []string
	// DirHash, when set, summarises the files of the tree as it was built
	// (see digest.Listing.DirHash); it pins a dirty tree that the commit
	// alone does not.
	DirHash string
	// ExternalSymlinks lists symbolic links in the tree that point outside
	// it ("path -> target"); they were recorded, not followed.
	ExternalSymlinks []string
}

// Sandbox describes the isolation actually applied to a build. It is
// recorded as internalParameters.sandbox under these JSON names and read
// back by [ReadSandbox].
type Sandbox struct {
	// Requested is the mode asked for: "on", "off" or "auto".
	Requested string `json:"requested"`
	// Applied reports whether the command ran inside the sandbox.
	Applied bool `json:"applied"`
	// Namespaces lists the Linux namespaces the command ran in.
	Namespaces []string `json:"namespaces,omitempty"`
	// Network reports whether the command could reach the network.
	Network bool `json:"network"`
	// ReadOnlySource reports that the source tree was mounted read-only.
	ReadOnlySource bool `json:"readOnlySource"`
	// WritableDirs lists the directories (relative to the source root when
	// inside it) the command could write to.
	WritableDirs []string `json:"writableDirs,omitempty"`
	// ReadOnlyMounts lists extra read-only paths, such as the module cache.
	ReadOnlyMounts []string `json:"readOnlyMounts,omitempty"`
	// FallbackReason says why a requested sandbox was not applied.
	FallbackReason string `json:"fallbackReason,omitempty"`
	// SharedWritable lists the writable paths that outlive the build and
	// other builds can use too (cache directories, output directories that
	// already held files): through them one build can influence another.
	SharedWritable []string `json:"sharedWritable,omitempty"`
}

// Hermetic reports whether the build ran sandboxed without network.
func (s *Sandbox) Hermetic() bool { return s != nil && s.Applied && !s.Network }

// Artifact names a file by path and digest: a product, a toolchain binary
// or a byproduct.
type Artifact struct {
	Name   string
	Digest digest.Set
}

// Dependency is something the build consumed, named by URI (a purl for
// package dependencies) and, when known, a digest.
type Dependency struct {
	URI    string
	Digest digest.Set
	// Origin says where it was found, for example "go.sum".
	Origin string
}

// Step is a recorded command run before the build, such as fetching
// dependencies.
type Step struct {
	Command []string `json:"command"`
	// Network reports whether the step could reach the network.
	Network bool `json:"network"`
}

// Facts is everything recorded about one successful build.
type Facts struct {
	// BuilderID defaults to DefaultBuilderID.
	BuilderID string
	// InvocationID is unique per run (a UUID).
	InvocationID string
	// Command is the command and its arguments.
	Command []string
	// WorkDir is the working directory relative to the source root.
	WorkDir string
	Source  Source
	Sandbox Sandbox
	// SourceDateEpoch is the value given to the build, in Unix seconds.
	SourceDateEpoch int64
	// Env holds the allowlisted variables passed to the build whose values
	// are safe to record; Redacted names the allowlisted variables whose
	// values looked like credentials and are never recorded.
	Env      map[string]string
	Redacted []string
	// Prepare lists the steps run before the build.
	Prepare []Step
	// OutputFixes lists the changes made to the outputs before hashing
	// them ("dist/tool: cleared setuid", "dist/fifo: removed FIFO"),
	// recorded as internalParameters.outputFixes.
	OutputFixes []string
	// OutputDirs are the build's output directories (relative to the
	// source root), recorded as internalParameters.outputDirs whether or
	// not the build was sandboxed: a rebuild looks for products there.
	OutputDirs []string
	// Dependencies come from lockfiles; Toolchain from executed binaries.
	Dependencies []Dependency
	Toolchain    []Artifact
	// Log is the build log byproduct.
	Log        *Artifact
	StartedOn  time.Time
	FinishedOn time.Time
	// Products become the Statement subjects.
	Products []Artifact
}

// Predicate builds the SLSA v1 provenance predicate for f.
func Predicate(f Facts) (*slsa.Provenance, error) {
	if len(f.Command) == 0 {
		return nil, fmt.Errorf("%w: empty command", ErrInvalidFacts)
	}
	if f.InvocationID == "" {
		return nil, fmt.Errorf("%w: empty invocation ID", ErrInvalidFacts)
	}
	builderID := f.BuilderID
	if builderID == "" {
		builderID = DefaultBuilderID
	}
	ext, err := structpb.NewStruct(externalParameters(f))
	if err != nil {
		return nil, fmt.Errorf("provenance: external parameters: %w", err)
	}
	internal, err := structpb.NewStruct(internalParameters(f))
	if err != nil {
		return nil, fmt.Errorf("provenance: internal parameters: %w", err)
	}
	deps, err := resolvedDependencies(f)
	if err != nil {
		return nil, err
	}
	md := &slsa.BuildMetadata{InvocationId: f.InvocationID}
	if !f.StartedOn.IsZero() {
		md.StartedOn = timestamppb.New(f.StartedOn.UTC())
	}
	if !f.FinishedOn.IsZero() {
		md.FinishedOn = timestamppb.New(f.FinishedOn.UTC())
	}
	run := &slsa.RunDetails{Builder: &slsa.Builder{Id: builderID}, Metadata: md}
	if f.Log != nil {
		run.Byproducts = append(run.Byproducts, &intoto.ResourceDescriptor{
			Name: f.Log.Name, Digest: f.Log.Digest, MediaType: "text/plain"})
	}
	p := &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{
			BuildType:            BuildType,
			ExternalParameters:   ext,
			InternalParameters:   internal,
			ResolvedDependencies: deps,
		},
		RunDetails: run,
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFacts, err)
	}
	return p, nil
}

// Statement builds an in-toto Statement v1 whose subjects are f.Products
// and whose predicate is the provenance of f.
func Statement(f Facts) (*intoto.Statement, error) {
	if len(f.Products) == 0 {
		return nil, fmt.Errorf("%w: no products", ErrInvalidFacts)
	}
	p, err := Predicate(f)
	if err != nil {
		return nil, err
	}
	pred, err := toStruct(p)
	if err != nil {
		return nil, err
	}
	st := &intoto.Statement{Type: intoto.StatementTypeUri, PredicateType: PredicateType, Predicate: pred}
	for _, a := range sortedArtifacts(f.Products) {
		if _, ok := a.Digest[digest.SHA256]; !ok {
			return nil, fmt.Errorf("%w: product %s has no sha256", ErrInvalidFacts, a.Name)
		}
		st.Subject = append(st.Subject, &intoto.ResourceDescriptor{Name: a.Name, Digest: a.Digest})
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFacts, err)
	}
	return st, nil
}

func externalParameters(f Facts) map[string]any {
	src := map[string]any{"dirty": f.Source.Dirty}
	if f.Source.URI != "" {
		src["uri"] = f.Source.URI
	}
	if f.Source.Commit != "" {
		src["commit"] = f.Source.Commit
	}
	if f.Source.Ref != "" {
		src["ref"] = f.Source.Ref
	}
	if len(f.Source.ModifiedByBuild) > 0 {
		src["modifiedByBuild"] = strs(f.Source.ModifiedByBuild)
	}
	wd := f.WorkDir
	if wd == "" {
		wd = "."
	}
	return map[string]any{
		"command": strs(f.Command),
		"workdir": wd,
		"source":  src,
	}
}

func internalParameters(f Facts) map[string]any {
	sb := map[string]any{
		"requested":      f.Sandbox.Requested,
		"applied":        f.Sandbox.Applied,
		"network":        f.Sandbox.Network,
		"readOnlySource": f.Sandbox.ReadOnlySource,
	}
	if len(f.Sandbox.Namespaces) > 0 {
		sb["namespaces"] = strs(f.Sandbox.Namespaces)
	}
	if len(f.Sandbox.WritableDirs) > 0 {
		sb["writableDirs"] = strs(f.Sandbox.WritableDirs)
	}
	if len(f.Sandbox.ReadOnlyMounts) > 0 {
		sb["readOnlyMounts"] = strs(f.Sandbox.ReadOnlyMounts)
	}
	if len(f.Sandbox.SharedWritable) > 0 {
		sb["sharedWritable"] = strs(f.Sandbox.SharedWritable)
	}
	if f.Sandbox.FallbackReason != "" {
		sb["fallbackReason"] = f.Sandbox.FallbackReason
	}
	env := map[string]any{}
	names := make([]string, 0, len(f.Env)+len(f.Redacted))
	for k, v := range f.Env {
		env[k] = v
		names = append(names, k)
	}
	names = append(names, f.Redacted...)
	slices.Sort(names)
	m := map[string]any{
		"sandbox":         sb,
		"sourceDateEpoch": fmt.Sprint(f.SourceDateEpoch),
		"envAllowlist":    strs(slices.Compact(names)),
		"env":             env,
	}
	if len(f.Redacted) > 0 {
		r := slices.Sorted(slices.Values(f.Redacted))
		m["redactedEnv"] = strs(r)
	}
	if len(f.Prepare) > 0 {
		var steps []any
		for _, s := range f.Prepare {
			steps = append(steps, map[string]any{"command": strs(s.Command), "network": s.Network})
		}
		m["prepare"] = steps
	}
	if len(f.OutputFixes) > 0 {
		m["outputFixes"] = strs(f.OutputFixes)
	}
	if len(f.OutputDirs) > 0 {
		m["outputDirs"] = strs(f.OutputDirs)
	}
	return m
}

func resolvedDependencies(f Facts) ([]*intoto.ResourceDescriptor, error) {
	var out []*intoto.ResourceDescriptor
	if f.Source.Commit != "" || f.Source.URI != "" || f.Source.DirHash != "" {
		rd := &intoto.ResourceDescriptor{Uri: f.Source.URI}
		rd.Digest = map[string]string{}
		ann := map[string]*structpb.Value{}
		// A digest set names one artifact: a tree that was not the commit
		// (dirty, or changed by the build) is not named by the commit's
		// ID. The commit it started from is an annotation then.
		if dirty := f.Source.Dirty || len(f.Source.ModifiedByBuild) > 0; f.Source.Commit != "" && !dirty {
			rd.Digest[digest.GitCommit] = f.Source.Commit
		} else if f.Source.Commit != "" {
			ann["dirty"] = structpb.NewBoolValue(true)
			ann["baseCommit"] = structpb.NewStringValue(f.Source.Commit)
		}
		if f.Source.DirHash != "" {
			rd.Digest[digest.DirHash] = f.Source.DirHash
		}
		if f.Source.URI == "" {
			rd.Name = "source"
		}
		if len(f.Source.ExternalSymlinks) > 0 {
			links, err := structpb.NewList(strs(f.Source.ExternalSymlinks))
			if err != nil {
				return nil, fmt.Errorf("provenance: external symlinks: %w", err)
			}
			ann["externalSymlinks"] = structpb.NewListValue(links)
		}
		if len(ann) > 0 {
			rd.Annotations = &structpb.Struct{Fields: ann}
		}
		out = append(out, rd)
	}
	deps := slices.Clone(f.Dependencies)
	slices.SortFunc(deps, func(a, b Dependency) int {
		return strings.Compare(a.URI+"\x00"+a.Origin, b.URI+"\x00"+b.Origin)
	})
	for _, d := range deps {
		if d.URI == "" {
			return nil, fmt.Errorf("%w: dependency without URI (from %s)", ErrInvalidFacts, d.Origin)
		}
		rd := &intoto.ResourceDescriptor{Uri: d.URI, Digest: d.Digest}
		if d.Origin != "" {
			rd.Annotations = &structpb.Struct{Fields: map[string]*structpb.Value{"origin": structpb.NewStringValue(d.Origin)}}
		}
		out = append(out, rd)
	}
	for _, a := range sortedArtifacts(f.Toolchain) {
		out = append(out, &intoto.ResourceDescriptor{Name: a.Name, Uri: "file://" + a.Name, Digest: a.Digest,
			Annotations: &structpb.Struct{Fields: map[string]*structpb.Value{"role": structpb.NewStringValue("toolchain")}}})
	}
	return out, nil
}

func sortedArtifacts(as []Artifact) []Artifact {
	s := slices.Clone(as)
	slices.SortFunc(s, func(a, b Artifact) int { return strings.Compare(a.Name, b.Name) })
	return s
}

func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
