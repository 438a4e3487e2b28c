package tpm

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"

	"github.com/google/go-tpm-tools/client"
	"google.golang.org/protobuf/proto"

	"github.com/hallmark-dev/hallmark/tee"
)

// Collector obtains TPM attestations (quotes over every allocated PCR bank,
// the AK and the event log) with report data as the quote's qualifying data.
// It does not own the TPM: the caller opens and closes rw.
type Collector struct {
	rw       io.ReadWriter
	ak       func(io.ReadWriter) (*client.Key, error)
	eventLog []byte
}

var _ tee.Collector = (*Collector)(nil)

// CollectorOption configures a [Collector].
type CollectorOption func(*collectorConfig) error

type collectorConfig struct {
	ak       func(io.ReadWriter) (*client.Key, error)
	eventLog []byte
}

// WithAttestationKey chooses how the AK is loaded, e.g.
// client.GceAttestationKeyECC on GCE (whose AK certificate then travels in
// the attestation). The default, client.AttestationKeyECC, has no certificate:
// verify such evidence with [WithTrustedAKs].
func WithAttestationKey(load func(io.ReadWriter) (*client.Key, error)) CollectorOption {
	return func(c *collectorConfig) error {
		if load == nil {
			return errors.New("tpm: nil attestation key loader")
		}
		c.ak = load
		return nil
	}
}

// WithEventLog supplies the TCG event log instead of reading it from the
// kernel (securityfs), e.g. for a TPM simulator.
func WithEventLog(log []byte) CollectorOption {
	return func(c *collectorConfig) error {
		c.eventLog = log
		return nil
	}
}

// NewCollector returns a collector using the TPM at rw.
func NewCollector(rw io.ReadWriter, opts ...CollectorOption) (*Collector, error) {
	if rw == nil {
		return nil, errors.New("tpm: nil TPM")
	}
	c := collectorConfig{ak: client.AttestationKeyECC}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	return &Collector{rw: rw, ak: c.ak, eventLog: c.eventLog}, nil
}

// Platform returns tee.TPM.
func (*Collector) Platform() tee.Platform { return tee.TPM }

// Collect quotes the TPM's PCRs with SHA-256(reportData) as qualifying data
// (tee.QuotedReportData: TPMs cap qualifying data at their largest digest)
// and returns the serialized attest.Attestation.
func (c *Collector) Collect(ctx context.Context, reportData [tee.ReportDataSize]byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ak, err := c.ak(c.rw)
	if err != nil {
		return nil, fmt.Errorf("tpm: load attestation key: %w", err)
	}
	defer ak.Close()
	att, err := ak.Attest(client.AttestOpts{Nonce: tee.QuotedReportData(tee.TPM, reportData), TCGEventLog: c.eventLog})
	if err != nil {
		return nil, fmt.Errorf("tpm: attest: %w", err)
	}
	out, err := proto.Marshal(att)
	if err != nil {
		return nil, fmt.Errorf("tpm: encode attestation: %w", err)
	}
	return out, nil
}

// AKPublic returns the public key of the attestation key the collector uses,
// to enrol it with a verifier ([WithTrustedAKs]).
func (c *Collector) AKPublic() (crypto.PublicKey, error) {
	ak, err := c.ak(c.rw)
	if err != nil {
		return nil, fmt.Errorf("tpm: load attestation key: %w", err)
	}
	defer ak.Close()
	return ak.PublicKey(), nil
}
