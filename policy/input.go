package policy

import (
	"time"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/finding"
)

// Input is the document a policy sees as `input`: one artifact, the context
// of the deployment decision and the evidence about the artifact. Only
// evidence whose signature verified against a key trusted for its role
// appears under Evidence; everything else is listed under Ignored with the
// reason. Nil slices and maps are presented to Rego as empty arrays and
// objects, never as null. docs/policy.md documents every field.
type Input struct {
	Artifact Artifact  `json:"artifact"`
	Context  Context   `json:"context"`
	Evidence Evidence  `json:"evidence"`
	Ignored  []Ignored `json:"ignored"`
}

// Artifact names the artifact under decision. Its digest reaches the policy
// as the string "sha256:<hex>".
type Artifact struct {
	Digest digest.Digest `json:"digest"`
	Name   string        `json:"name"`
}

// Context is the deployment context. Time is the evaluation time: the policy
// sees it as time.now_ns(); a zero Time is refused (fail closed).
type Context struct {
	Environment string    `json:"environment"`
	Time        time.Time `json:"time"`
	Requester   string    `json:"requester"`
}

// Evidence holds the verified, trusted evidence, one array per kind.
type Evidence struct {
	Provenance []Provenance `json:"provenance"`
	Rebuilds   []Rebuild    `json:"rebuilds"`
	SBOM       []SBOM       `json:"sbom"`
	Vulns      []VulnScan   `json:"vulns"`
	Misconfig  []Scan       `json:"misconfig"`
	Secrets    []Scan       `json:"secrets"`
	TEE        []TEE        `json:"tee"`
	Approvals  []Approval   `json:"approvals"`
}

// Meta is what every evidence item carries: its ID (the digest of the bundle
// it came from, "sha256:<hex>"), who signed it, its in-toto predicate type,
// when it was made and the digests of its subjects ("sha256:<hex>").
// Logged is true when at least one transparency-log entry of its bundle
// verified against the trusted root, Timestamped when at least one RFC 3161
// timestamp did; both are false when the gate has no trusted root.
type Meta struct {
	ID            string    `json:"id"`
	Signer        Signer    `json:"signer"`
	PredicateType string    `json:"predicateType"`
	Timestamp     time.Time `json:"timestamp"`
	Subjects      []string  `json:"subjects"`
	Logged        bool      `json:"logged"`
	Timestamped   bool      `json:"timestamped"`
}

// Signer is the key or identity that signed an item and the roles the trust
// file grants it ("builder", "rebuilder", "scanner", "approver", ...).
// KeyID is the key's ID, or "identity:NAME" for a trusted identity of the
// trust file (keyless signing), whose certificate Identity then describes.
// Person is who signed: the trust file's person for the key or identity,
// else the certificate's subject, else the key ID; several keys of one
// person share it. HostedBuildLevel is the SLSA Build level the trust file
// declares for the hosted builder the identity stands for (0: none).
type Signer struct {
	KeyID            string          `json:"keyId"`
	Roles            []string        `json:"roles"`
	Person           string          `json:"person,omitempty"`
	Identity         *SignerIdentity `json:"identity,omitempty"`
	HostedBuildLevel int             `json:"hostedBuildLevel,omitempty"`
}

// SignerIdentity is the OIDC identity a verified Fulcio certificate names:
// issuer and subject, and for CI the Fulcio extensions (source repository,
// ref and commit, the workflow that was configured (BuildConfigURI) and the
// one that signed (BuildSignerURI), runner environment, trigger).
type SignerIdentity struct {
	Issuer            string `json:"issuer"`
	Subject           string `json:"subject"`
	Repository        string `json:"repository,omitempty"`
	Ref               string `json:"ref,omitempty"`
	Commit            string `json:"commit,omitempty"`
	Workflow          string `json:"workflow,omitempty"`
	BuildSigner       string `json:"buildSigner,omitempty"`
	RunnerEnvironment string `json:"runnerEnvironment,omitempty"`
	BuildTrigger      string `json:"buildTrigger,omitempty"`
}

// Provenance is SLSA v1 build provenance, normalised.
type Provenance struct {
	Meta
	Builder              Builder              `json:"builder"`
	BuildType            string               `json:"buildType"`
	ExternalParameters   ExternalParameters   `json:"externalParameters"`
	InternalParameters   InternalParameters   `json:"internalParameters"`
	ResolvedDependencies []ResolvedDependency `json:"resolvedDependencies"`
}

// Builder identifies the build platform (runDetails.builder.id).
type Builder struct {
	ID string `json:"id"`
}

// ExternalParameters are the build's external parameters that policy reads.
type ExternalParameters struct {
	Source Source `json:"source"`
}

// Source is where the build's source came from: a repository URI, a git ref
// ("refs/heads/main") and the full commit ID.
type Source struct {
	Repository string `json:"repository"`
	Ref        string `json:"ref"`
	Commit     string `json:"commit"`
	// Dirty: the tree had uncommitted changes when the build ran, so the
	// commit does not name what was built.
	Dirty bool `json:"dirty"`
	// ModifiedByBuild lists tracked files the build command itself changed.
	ModifiedByBuild []string `json:"modifiedByBuild"`
	// Workflow is the CI workflow file that ran the build, when recorded
	// (GitHub Actions: ".github/workflows/release.yml").
	Workflow string `json:"workflow,omitempty"`
}

// InternalParameters record how the build was isolated. A nil field was not
// recorded, which policy treats as not isolated.
type InternalParameters struct {
	Sandbox  *bool `json:"sandbox,omitempty"`
	Network  *bool `json:"network,omitempty"`
	Hermetic *bool `json:"hermetic,omitempty"`
	// SharedWritable lists the writable paths the build shared with other
	// builds (caches, output directories holding earlier files): through
	// them builds can influence each other, which SLSA Build L3 forbids.
	SharedWritable []string `json:"sharedWritable"`
}

// ResolvedDependency is one input of the build.
type ResolvedDependency struct {
	URI    string `json:"uri"`
	Digest string `json:"digest"`
}

// Rebuild is a reproducibility attestation: the signer rebuilt Artifact from
// its provenance and obtained Subjects; Matched says whether they include it.
type Rebuild struct {
	Meta
	Artifact string `json:"artifact"`
	Matched  bool   `json:"matched"`
	// SourceDirty: the rebuild ran from a tree with uncommitted changes
	// (or of a provenance that records one), so its agreement proves little.
	SourceDirty bool `json:"sourceDirty"`
}

// SBOM is a software bill of materials of the artifact.
type SBOM struct {
	Meta
	Format         string      `json:"format"`
	ComponentCount int         `json:"componentCount"`
	Components     []Component `json:"components"`
}

// Component is one SBOM component. Licenses are SPDX identifiers or
// expressions.
type Component struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// PURL is the package URL in canonical form (depcheck.CanonicalPURL):
	// qualifiers and subpath dropped, case folded per the purl type.
	PURL string `json:"purl"`
	// RecordedPURL is the purl as the SBOM recorded it, when it differs.
	RecordedPURL string `json:"recordedPurl,omitempty"`
	// Licenses are SPDX expressions with identifiers in canonical case.
	Licenses []string `json:"licenses"`
}

// VulnScan is a vulnerability scan of the artifact: when it ran, when its
// database was last updated, and what it found.
type VulnScan struct {
	Meta
	Scanner           string        `json:"scanner"`
	ScannedAt         time.Time     `json:"scannedAt"`
	DatabaseUpdatedAt time.Time     `json:"databaseUpdatedAt"`
	Findings          []VulnFinding `json:"findings"`
}

// VulnFinding is one vulnerability in one package. VEXStatus is the status
// from a trusted VEX statement ("not_affected", "affected", "fixed",
// "under_investigation") or empty. Suppressed reports the scanner's own
// waiver, which the built-in policy does not honour.
type VulnFinding struct {
	ID           string           `json:"id"`
	Package      string           `json:"package"`
	Severity     finding.Severity `json:"severity"`
	FixAvailable bool             `json:"fixAvailable"`
	FixedVersion string           `json:"fixedVersion"`
	VEXStatus    string           `json:"vexStatus"`
	Suppressed   bool             `json:"suppressed"`
}

// Scan is a misconfiguration or secret scan with its findings.
type Scan struct {
	Meta
	Scanner   string            `json:"scanner"`
	ScannedAt time.Time         `json:"scannedAt"`
	Findings  []finding.Finding `json:"findings"`
}

// TEE is verified TEE attestation evidence about the artifact. Measurements
// maps a measurement name ("measurement", "mr_td", "pcr7") to lower-case hex.
type TEE struct {
	Meta
	Platform     string            `json:"platform"`
	Measurements map[string]string `json:"measurements"`
	Debug        bool              `json:"debug"`
	Verified     bool              `json:"verified"`
}

// Approval is a signed approval to deploy Artifact to Environment.
type Approval struct {
	Meta
	Approver    string `json:"approver"`
	Environment string `json:"environment"`
	Artifact    string `json:"artifact"`
	Comment     string `json:"comment"`
}

// Ignored is evidence that was not used: its signature did not verify, its
// signer is not trusted for the role its kind needs, or it could not be
// parsed. Kind is the evidence kind ("provenance", "vulns", ...) when known.
type Ignored struct {
	ID            string `json:"id"`
	Kind          string `json:"kind"`
	PredicateType string `json:"predicateType"`
	KeyID         string `json:"keyId"`
	Reason        string `json:"reason"`
}
