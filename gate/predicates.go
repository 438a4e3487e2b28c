package gate

import (
	"fmt"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/policy"
)

// Predicate types the gate reads and writes.
const (
	// ApprovalPredicateType is a signed approval to deploy one artifact to
	// one environment.
	ApprovalPredicateType = "https://hallmark.dev/attestation/approval/v1"
	// DecisionPredicateType is the record of one deployment decision.
	DecisionPredicateType = "https://hallmark.dev/attestation/deployment-decision/v1"
	// VSAPredicateType is the SLSA Verification Summary Attestation.
	VSAPredicateType = "https://slsa.dev/verification_summary/v1"
	// DefaultVerifierID names this gate in VSAs unless configured.
	DefaultVerifierID = "https://hallmark.dev/gate/v1"
)

// Approval is the approval predicate. Artifact is written "sha256:<hex>";
// the approver is the signing key, so it is not repeated here.
type Approval struct {
	Artifact    digest.Digest `json:"artifact"`
	Environment string        `json:"environment"`
	Comment     string        `json:"comment,omitempty"`
	ApprovedAt  time.Time     `json:"approvedAt"`
}

// NewApproval builds an approval predicate, checking its inputs.
func NewApproval(artifact digest.Digest, environment, comment string, at time.Time) (Approval, error) {
	if err := checkDigest(artifact); err != nil {
		return Approval{}, err
	}
	if strings.TrimSpace(environment) == "" {
		return Approval{}, fmt.Errorf("approval: empty environment")
	}
	return Approval{Artifact: artifact, Environment: environment, Comment: comment, ApprovedAt: at.UTC()}, nil
}

// checkDigest accepts what the gate decides on: a sha256 digest, the
// algorithm of file, image and evidence subjects, or a sha512 digest, which
// is how npm provenance names a package tarball.
func checkDigest(d digest.Digest) error {
	if alg := d.Algorithm(); alg != digest.SHA256 && alg != digest.SHA512 {
		return fmt.Errorf("%w: %q (want sha256:<64 hex digits> or sha512:<128 hex digits>)", ErrBadDigest, d)
	}
	return nil
}

// Decision is the deployment-decision predicate: what was asked, what was
// answered and on which evidence, so deployments can be audited afterwards.
type Decision struct {
	Artifact    policy.Artifact    `json:"artifact"`
	Environment string             `json:"environment"`
	Allowed     bool               `json:"allowed"`
	Violations  []policy.Violation `json:"violations"`
	Policy      PolicyRef          `json:"policy"`
	Evidence    []string           `json:"evidence"`
	Ignored     []policy.Ignored   `json:"ignored"`
	DecidedAt   time.Time          `json:"decidedAt"`
	Requester   string             `json:"requester,omitempty"`
	Source      string             `json:"source,omitempty"`
	Workload    *Workload          `json:"workload,omitempty"`
	SLSALevel   int                `json:"slsaBuildLevel"`
	// VerifiedLevels are the levels the policy verified, as a VSA lists
	// them: a VSA derived from the decision later says the same.
	VerifiedLevels []string `json:"verifiedLevels,omitempty"`
	// VSA is the ID of the VSA signed with the decision, if one was.
	VSA string `json:"vsa,omitempty"`
}

// Workload is the Kubernetes object an admission review asked about: what
// counts as deployed is per environment and workload (docs/server.md).
type Workload struct {
	Namespace string `json:"namespace"`
	Kind      string `json:"kind"`
	// Name is empty for an object created with generateName (the pods of
	// a ReplicaSet).
	Name string `json:"name,omitempty"`
	// Review is the UID of the AdmissionReview the decision answered: a
	// review is admitted only if every digest of it was allowed.
	Review string `json:"review,omitempty"`
}

// KindName is "Kind/name", or "Kind" for an object named by the API
// server (generateName).
func (w Workload) KindName() string {
	if w.Name == "" {
		return w.Kind
	}
	return w.Kind + "/" + w.Name
}

// PolicyRef names a policy by URI and SHA-256 digest.
type PolicyRef struct {
	URI    string `json:"uri"`
	Digest string `json:"digest"`
}

// vsa is the SLSA verification_summary v1 predicate.
type vsa struct {
	Verifier           vsaVerifier       `json:"verifier"`
	TimeVerified       time.Time         `json:"timeVerified"`
	ResourceURI        string            `json:"resourceUri"`
	Policy             vsaRef            `json:"policy"`
	InputAttestations  []vsaRef          `json:"inputAttestations"`
	VerificationResult string            `json:"verificationResult"`
	VerifiedLevels     []string          `json:"verifiedLevels"`
	DependencyLevels   map[string]uint64 `json:"dependencyLevels"`
	SLSAVersion        string            `json:"slsaVersion"`
}

type vsaVerifier struct {
	ID string `json:"id"`
}

type vsaRef struct {
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest"`
}

// newVSA derives the VSA of decision d: everything it says is in the
// decision, so a VSA issued later for a recorded decision says the same.
func newVSA(verifierID string, d Decision) vsa {
	v := vsa{
		Verifier:           vsaVerifier{ID: verifierID},
		TimeVerified:       d.DecidedAt.UTC(),
		ResourceURI:        resourceURI(d.Artifact),
		Policy:             vsaRef{URI: d.Policy.URI, Digest: map[string]string{"sha256": d.Policy.Digest}},
		InputAttestations:  []vsaRef{},
		VerificationResult: "FAILED",
		VerifiedLevels:     []string{},
		DependencyLevels:   map[string]uint64{},
		SLSAVersion:        "1.0",
	}
	if d.Allowed {
		v.VerificationResult = "PASSED"
	}
	v.VerifiedLevels = append(v.VerifiedLevels, d.VerifiedLevels...)
	for _, id := range d.Evidence {
		alg, hexValue, _ := strings.Cut(id, ":")
		v.InputAttestations = append(v.InputAttestations, vsaRef{URI: "hallmark:evidence/" + id, Digest: map[string]string{alg: hexValue}})
	}
	return v
}
