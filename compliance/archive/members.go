package archive

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// PredicateType is the predicate type of a manifest's signature: a
// statement whose subject is manifest.json.
const PredicateType = "https://hallmark.dev/export/v1"

// Member names.
const (
	ManifestName  = "manifest.json"
	SignatureName = "manifest.sig.json"
	ReportName    = "report.json"
	TrustName     = "trust/trust.yaml"
	RefValuesName = "trust/reference-values.yaml"
	RootName      = "trust/trusted_root.json"
	PolicyName    = "policy/policy.json"
	DataName      = "policy/data.json"
)

// Bounds on an archive ReadMembers reads.
const (
	MaxMembers     = 100000
	MaxMemberBytes = limits.MaxBundleBytes
	MaxBytes       = 2 << 30
)

// Manifest is manifest.json: the sha256 of every other member (the
// signature excepted), and which bundles belong to which artifact.
type Manifest struct {
	Type         string              `json:"type"`
	CreatedAt    time.Time           `json:"createdAt"`
	Environment  string              `json:"environment"`
	PolicyDigest string              `json:"policyDigest"`
	Artifacts    map[string][]string `json:"artifacts"`
	Members      map[string]string   `json:"members"`
	// Transparency is set when the export verified against a trusted root.
	Transparency *Transparency `json:"transparency,omitempty"`
}

// Transparency names the archived trusted root and the thresholds the
// export verified with (nil: the root's defaults), so Verify checks log
// entries and timestamps exactly as the export did.
type Transparency struct {
	TrustedRoot        string `json:"trustedRoot"`
	LogThreshold       *int   `json:"logThreshold,omitempty"`
	TimestampThreshold *int   `json:"timestampThreshold,omitempty"`
}

// PolicyDoc is policy/policy.json: the policy's modules (archived under
// policy/modules/), entrypoint and digest, and each artifact's policy input
// by digest, for `opa eval`.
type PolicyDoc struct {
	URI        string            `json:"uri"`
	Digest     string            `json:"digest"`
	Entrypoint string            `json:"entrypoint"`
	Modules    []PolicyModule    `json:"modules"`
	Inputs     map[string]string `json:"inputs"`
}

// PolicyModule is one archived Rego module: its name and its member.
type PolicyModule struct {
	Name string `json:"name"`
	File string `json:"file"`
}

// SHA256Hex is the hex sha256 of b, as the manifest lists members.
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// WriteMembers writes members as a tar archive in name order, each a
// regular file modified at at.
func WriteMembers(w io.Writer, members map[string][]byte, at time.Time) error {
	var names []string
	for n := range members {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tar.NewWriter(w)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(members[n])), ModTime: at, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(members[n]); err != nil {
			return err
		}
	}
	return tw.Close()
}

// ReadMembers reads an archive's regular files, refusing unsafe or
// duplicate names and oversized members.
func ReadMembers(r io.Reader) (map[string][]byte, error) {
	out := map[string][]byte{}
	tr := tar.NewReader(io.LimitReader(r, MaxBytes))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("member %q: not a regular file", h.Name)
		}
		if n := path.Clean(h.Name); n != h.Name || path.IsAbs(n) || strings.HasPrefix(n, "../") {
			return nil, fmt.Errorf("member %q: unsafe name", h.Name)
		}
		if _, dup := out[h.Name]; dup {
			return nil, fmt.Errorf("member %q appears twice", h.Name)
		}
		if len(out) >= MaxMembers || h.Size > MaxMemberBytes {
			return nil, fmt.Errorf("member %q: archive %w (limits: %d members, %d bytes each)", h.Name, limits.ErrTooLarge, MaxMembers, MaxMemberBytes)
		}
		b, err := limits.ReadAll(tr, MaxMemberBytes, fmt.Sprintf("member %q", h.Name))
		if err != nil {
			return nil, err
		}
		out[h.Name] = b
	}
}
