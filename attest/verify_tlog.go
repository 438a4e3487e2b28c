package attest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/hallmark-dev/hallmark/keys"
)

// ErrTransparency: the bundle's transparency log entries or timestamps do
// not verify against the trusted root, or there are fewer than required.
var ErrTransparency = errors.New("transparency log or timestamp verification failed")

// transparencyConfig is the part of verification that checks log entries
// and timestamps against a Sigstore trusted root.
type transparencyConfig struct {
	root         root.TrustedMaterial
	logs, stamps int // thresholds; -1 until set
	// stampsAsked is the timestamp threshold as given (-1: not given);
	// keyless verification counts log entries' times as timestamps too.
	stampsAsked int
}

// WithTrustedRoot also verifies the bundle's transparency log entries
// (inclusion proof against a checkpoint signed by a log of the root, entry
// body matching this envelope, signature and key) and RFC 3161 timestamps
// (signed by a timestamp authority of the root, within its validity, over
// this signature), offline, with sigstore-go's verifier. By default it
// requires one entry from a trusted log when the root has logs and one
// timestamp when it has timestamp authorities; see WithLogThreshold and
// WithTimestampThreshold. The signing key must be valid at each verified
// time. Verified.Time is then the earliest verified timestamp.
func WithTrustedRoot(tm root.TrustedMaterial) VerifyOption {
	return func(c *verifyConfig) error {
		if tm == nil {
			return errors.New("attest.WithTrustedRoot: nil trusted root")
		}
		c.tl.root = tm
		return nil
	}
}

// WithLogThreshold requires entries in at least n distinct trusted logs
// (0: entries are not required). It needs WithTrustedRoot.
func WithLogThreshold(n int) VerifyOption {
	return func(c *verifyConfig) error {
		if n < 0 {
			return fmt.Errorf("log threshold %d: must not be negative", n)
		}
		c.tl.logs = n
		return nil
	}
}

// WithTimestampThreshold requires at least n verified RFC 3161 timestamps
// (0: timestamps are not required, and keys are checked at the current
// time). It needs WithTrustedRoot.
func WithTimestampThreshold(n int) VerifyOption {
	return func(c *verifyConfig) error {
		if n < 0 {
			return fmt.Errorf("timestamp threshold %d: must not be negative", n)
		}
		c.tl.stamps = n
		return nil
	}
}

// validate fills in the default thresholds and rejects thresholds given
// without a root.
func (c *transparencyConfig) validate() error {
	if c.root == nil {
		if c.logs > 0 || c.stamps > 0 {
			return errors.New("attest: a log or timestamp threshold needs WithTrustedRoot (which logs and authorities to trust)")
		}
		return nil
	}
	if c.logs < 0 {
		c.logs = min(1, len(c.root.RekorLogs()))
	}
	if c.stamps < 0 {
		c.stamps = min(1, len(c.root.TimestampingAuthorities()))
	}
	return nil
}

// transparency is what verifying the log entries and timestamps yields.
type transparency struct {
	times   []time.Time
	entries int
}

// check verifies raw's log entries and timestamps; signers are the keys
// whose signatures verified. Without a root it checks nothing.
func (c *transparencyConfig) check(raw []byte, signers []*keys.PublicKey) (transparency, error) {
	if c.root == nil {
		return transparency{}, nil
	}
	var pb protobundle.Bundle
	if err := protoJSON.Unmarshal(raw, &pb); err != nil || pb.GetMediaType() == "" {
		return transparency{}, fmt.Errorf("%w: a bare DSSE envelope carries no log entries or timestamps", ErrTransparency)
	}
	b, err := bundle.NewBundle(&pb)
	if err != nil {
		return transparency{}, fmt.Errorf("%w: %v", ErrTransparency, err)
	}
	byID := map[string]*keys.PublicKey{}
	for _, k := range signers {
		byID[k.ID()] = k
	}
	keyMaterial := root.NewTrustedPublicKeyMaterial(func(hint string) (root.TimeConstrainedVerifier, error) {
		k, ok := byID[hint]
		if !ok {
			return nil, fmt.Errorf("key %s is not among the verified signers", hint)
		}
		v, err := k.Verifier()
		if err != nil {
			return nil, err
		}
		return root.NewExpiringKey(v, time.Time{}, time.Time{}), nil
	})
	// Entries the bundle carries from trusted logs must verify even when no
	// threshold asks for them: an entry that does not hold is an attack on
	// the evidence, not a missing proof.
	logs := c.root.RekorLogs()
	present := 0
	for _, e := range pb.GetVerificationMaterial().GetTlogEntries() {
		if _, ok := logs[hex.EncodeToString(e.GetLogId().GetKeyId())]; ok {
			present++
		}
	}
	var vopts []verify.VerifierOption
	if n := max(c.logs, present); n > 0 {
		vopts = append(vopts, verify.WithTransparencyLog(n))
	}
	if c.stamps > 0 {
		vopts = append(vopts, verify.WithSignedTimestamps(c.stamps))
	} else {
		vopts = append(vopts, verify.WithCurrentTime())
	}
	v, err := verify.NewVerifier(root.TrustedMaterialCollection{c.root, keyMaterial}, vopts...)
	if err != nil {
		return transparency{}, fmt.Errorf("%w: %v", ErrTransparency, err)
	}
	res, err := v.Verify(b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithKey()))
	if err != nil {
		return transparency{}, fmt.Errorf("%w: %v", ErrTransparency, err)
	}
	var out transparency
	for _, ts := range res.VerifiedTimestamps {
		if ts.Type == "TimestampAuthority" {
			out.times = append(out.times, ts.Timestamp.UTC())
		}
	}
	sort.Slice(out.times, func(i, j int) bool { return out.times[i].Before(out.times[j]) })
	// sigstore-go checks a log key's validity only against a Rekor v1
	// integrated time; Rekor v2 entries have none, so check each trusted
	// log's key against the verified time (the current time without one).
	at := time.Now()
	if len(out.times) > 0 {
		at = out.times[0]
	}
	for _, e := range pb.GetVerificationMaterial().GetTlogEntries() {
		l, ok := logs[hex.EncodeToString(e.GetLogId().GetKeyId())]
		if !ok {
			continue // skipped by sigstore-go too: not counted
		}
		out.entries++ // sigstore-go verified every entry of a trusted log
		if !l.ValidityPeriodStart.IsZero() && at.Before(l.ValidityPeriodStart) || !l.ValidityPeriodEnd.IsZero() && at.After(l.ValidityPeriodEnd) {
			return transparency{}, fmt.Errorf("%w: the key of log %s is not valid at %s (valid %s to %s)", ErrTransparency, l.BaseURL,
				at.Format(time.RFC3339), l.ValidityPeriodStart.Format(time.RFC3339), l.ValidityPeriodEnd.Format(time.RFC3339))
		}
	}
	return out, nil
}
