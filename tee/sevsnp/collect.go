package sevsnp

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-sev-guest/client"
	"google.golang.org/protobuf/proto"

	"github.com/hallmark-dev/hallmark/tee"
)

// Collector obtains extended SEV-SNP reports (report plus the certificate
// chain the host provides) with report data in REPORT_DATA.
type Collector struct {
	qp client.QuoteProvider
}

var _ tee.Collector = (*Collector)(nil)

// NewCollector returns a collector over a go-sev-guest quote provider: on a
// guest, client.GetQuoteProvider(); in tests, the go-sev-guest fake device.
func NewCollector(qp client.QuoteProvider) (*Collector, error) {
	if qp == nil {
		return nil, errors.New("sevsnp: nil quote provider")
	}
	return &Collector{qp: qp}, nil
}

// Platform returns tee.SEVSNP.
func (*Collector) Platform() tee.Platform { return tee.SEVSNP }

// Collect returns a serialized sevsnp.Attestation whose REPORT_DATA is reportData.
func (c *Collector) Collect(ctx context.Context, reportData [tee.ReportDataSize]byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !c.qp.IsSupported() {
		return nil, errors.New("sevsnp: no SEV-SNP guest device on this machine")
	}
	att, err := client.GetQuoteProto(c.qp, reportData)
	if err != nil {
		return nil, fmt.Errorf("sevsnp: get extended report: %w", err)
	}
	out, err := proto.Marshal(att)
	if err != nil {
		return nil, fmt.Errorf("sevsnp: encode attestation: %w", err)
	}
	return out, nil
}
