package provenance

import (
	"fmt"
	"strings"

	slsa02 "github.com/in-toto/attestation/go/predicates/provenance/v02"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/internal/strictjson"
)

// PredicateTypeV02 is SLSA provenance v0.2, which npm --provenance, the SLSA
// GitHub generator and cosign wrote before v1.
const PredicateTypeV02 = "https://slsa.dev/provenance/v0.2"

// Build types of GitHub Actions provenance Read understands beyond its
// generic fields.
const (
	// BuildTypeGitHubWorkflow is SLSA v1 provenance of a GitHub Actions
	// workflow run (the SLSA generator and npm).
	BuildTypeGitHubWorkflow = "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"
	// BuildTypeGitHubActions is SLSA v1 provenance of
	// actions/attest-build-provenance.
	BuildTypeGitHubActions = "https://actions.github.io/buildtypes/workflow/v1"
)

// Reading is provenance of either SLSA version and any producer, normalised
// to the facts a policy compares: builder, build type, source repository,
// ref and commit, and the workflow that ran the build.
type Reading struct {
	// Summary carries the sandbox Hallmark's builds record (Summary.Sandbox,
	// read by ReadSandbox; nil for other builders).
	Summary
	// Dependencies are the resolved dependencies (v1) or materials (v0.2).
	Dependencies []Material
}

// Material is one resolved dependency (v1) or material (v0.2): its URI and first digest
// ("sha256:…", "gitCommit:…", "sha512:…", "sha1:…").
type Material struct {
	URI, Digest string
}

// IsPredicateType reports whether t is a provenance predicate type Read
// understands.
func IsPredicateType(t string) bool { return t == PredicateType || t == PredicateTypeV02 }

// Read decodes a provenance predicate of type predicateType (v1 or v0.2) and
// normalises it: Hallmark's own build type, GitHub Actions workflows
// (attest-build-provenance, the SLSA generator, npm) and any other producer's
// generic fields. Repository URIs are returned as recorded (with "git+").
func Read(predicateType string, predicate []byte) (*Reading, error) {
	switch predicateType {
	case PredicateType:
		return readV1(predicate)
	case PredicateTypeV02:
		return readV02(predicate)
	}
	return nil, fmt.Errorf("%w: predicate type %q is not SLSA provenance v1 or v0.2", ErrInvalidFacts, predicateType)
}

func readV1(predicate []byte) (*Reading, error) {
	p, err := Parse(predicate)
	if err != nil {
		return nil, err
	}
	r := &Reading{Summary: Summarize(p)}
	bd := p.GetBuildDefinition()
	for _, d := range bd.GetResolvedDependencies() {
		r.Dependencies = append(r.Dependencies, Material{URI: d.GetUri(), Digest: firstDigest(d.GetDigest())})
	}
	// GitHub Actions: externalParameters.workflow names the repository, ref
	// and workflow file; the commit is the resolved dependency of the
	// repository.
	if wf, ok := bd.GetExternalParameters().AsMap()["workflow"].(map[string]any); ok && r.SourceURI == "" {
		repo, _ := wf["repository"].(string)
		r.SourceURI = repo
		r.Ref, _ = wf["ref"].(string)
		r.Workflow, _ = wf["path"].(string)
		for _, d := range bd.GetResolvedDependencies() {
			uri, _ := splitRef(strings.TrimPrefix(d.GetUri(), "git+"))
			if repo != "" && strings.TrimSuffix(uri, ".git") == strings.TrimSuffix(repo, ".git") {
				r.Commit = gitCommit(d.GetDigest())
				break
			}
		}
	}
	return r, nil
}

func readV02(predicate []byte) (*Reading, error) {
	if len(predicate) > MaxPredicateSize {
		return nil, fmt.Errorf("%w: predicate is %d bytes, limit %d", ErrInvalidFacts, len(predicate), MaxPredicateSize)
	}
	p := &slsa02.Provenance{}
	if err := strictjson.CheckProto(predicate, p.ProtoReflect().Descriptor()); err != nil {
		return nil, fmt.Errorf("%w: decode v0.2 predicate: %w", ErrInvalidFacts, err)
	}
	if err := protojson.Unmarshal(predicate, p); err != nil {
		return nil, fmt.Errorf("%w: decode v0.2 predicate: %w", ErrInvalidFacts, err)
	}
	if p.GetBuilder().GetId() == "" || p.GetBuildType() == "" {
		return nil, fmt.Errorf("%w: v0.2 predicate lacks builder.id or buildType", ErrInvalidFacts)
	}
	cs := p.GetInvocation().GetConfigSource()
	r := &Reading{Summary: Summary{
		BuildType:    p.GetBuildType(),
		BuilderID:    p.GetBuilder().GetId(),
		InvocationID: p.GetMetadata().GetBuildInvocationId(),
		Workflow:     cs.GetEntryPoint(),
		Isolation:    "sandbox not recorded", // v0.2 has no place for Hallmark's sandbox record
	}}
	if t := p.GetMetadata().GetBuildStartedOn(); t != nil {
		r.StartedOn = t.AsTime()
	}
	if t := p.GetMetadata().GetBuildFinishedOn(); t != nil {
		r.FinishedOn = t.AsTime()
	}
	r.SourceURI, r.Ref = splitRef(cs.GetUri())
	r.Commit = gitCommit(cs.GetDigest())
	// npm and the SLSA generator record the GitHub context too.
	env := p.GetInvocation().GetEnvironment().AsMap()
	if r.Ref == "" {
		r.Ref, _ = env["GITHUB_REF"].(string)
	}
	if r.Commit == "" {
		r.Commit, _ = env["GITHUB_SHA"].(string)
	}
	for _, m := range p.GetMaterials() {
		r.Dependencies = append(r.Dependencies, Material{URI: m.GetUri(), Digest: firstDigest(m.GetDigest())})
	}
	return r, nil
}

// splitRef splits "git+https://host/o/r@refs/heads/main" into the
// repository and the ref. Only a suffix that is a ref ("refs/…") or a
// commit splits: "git+ssh://git@host/o/r" is a repository.
func splitRef(uri string) (repo, ref string) {
	i := strings.LastIndex(uri, "@")
	if i < 0 {
		return uri, ""
	}
	if tail := uri[i+1:]; strings.HasPrefix(tail, "refs/") || isHex(tail) {
		return uri[:i], tail
	}
	return uri, ""
}

func isHex(s string) bool {
	return (len(s) == 40 || len(s) == 64) && strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

// gitCommit returns the commit of a git digest set (gitCommit, or sha1 as
// v0.2 producers wrote it).
func gitCommit(d map[string]string) string {
	if c := d["gitCommit"]; c != "" {
		return c
	}
	return d["sha1"]
}

func firstDigest(d map[string]string) string {
	for _, alg := range []string{"sha256", "gitCommit", "sha512", "sha1"} {
		if h := d[alg]; h != "" {
			return alg + ":" + h
		}
	}
	return ""
}
