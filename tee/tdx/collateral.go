package tdx

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/go-tdx-guest/pcs"
)

// Collateral is Intel PCS collateral cached for offline verification: the
// bodies the PCS API returns and the issuer chains it sends in headers (PEM).
type Collateral struct {
	// TCBInfo is the body of /tdx/certification/v4/tcb?fmspc=... .
	TCBInfo []byte
	// TCBInfoIssuerChain is the PEM chain of the TCB-Info-Issuer-Chain header.
	TCBInfoIssuerChain []byte
	// QEIdentity is the body of /tdx/certification/v4/qe/identity.
	QEIdentity []byte
	// QEIdentityIssuerChain is the PEM chain of the SGX-Enclave-Identity-Issuer-Chain header.
	QEIdentityIssuerChain []byte
	// PCKCRL is the DER body of /sgx/certification/v4/pckcrl?ca=...&encoding=der.
	PCKCRL []byte
	// PCKCRLIssuerChain is the PEM chain of the SGX-PCK-CRL-Issuer-Chain header.
	PCKCRLIssuerChain []byte
	// RootCRL is the DER of the Intel SGX root CA CRL.
	RootCRL []byte
}

func (c *Collateral) validate() error {
	for name, b := range map[string][]byte{
		"TCBInfo": c.TCBInfo, "TCBInfoIssuerChain": c.TCBInfoIssuerChain,
		"QEIdentity": c.QEIdentity, "QEIdentityIssuerChain": c.QEIdentityIssuerChain,
		"PCKCRL": c.PCKCRL, "PCKCRLIssuerChain": c.PCKCRLIssuerChain, "RootCRL": c.RootCRL,
	} {
		if len(b) == 0 {
			return fmt.Errorf("tdx: collateral %s is empty", name)
		}
	}
	return nil
}

// cachedGetter answers go-tdx-guest's PCS requests from cached collateral and
// refuses every other URL, so verification never touches the network.
type cachedGetter struct{ c *Collateral }

func header(key string, pem []byte) map[string][]string {
	return map[string][]string{key: {url.QueryEscape(string(pem))}}
}

// Get implements trust.HTTPSGetter.
func (g cachedGetter) Get(u string) (map[string][]string, []byte, error) {
	switch {
	case strings.Contains(u, "/tdx/certification/v4/tcb?"):
		return header(pcs.TcbInfoIssuerChainPhrase, g.c.TCBInfoIssuerChain), g.c.TCBInfo, nil
	case strings.HasSuffix(u, "/tdx/certification/v4/qe/identity"):
		return header(pcs.SgxQeIdentityIssuerChainPhrase, g.c.QEIdentityIssuerChain), g.c.QEIdentity, nil
	case strings.Contains(u, "/sgx/certification/v4/pckcrl?"):
		return header(pcs.SgxPckCrlIssuerChainPhrase, g.c.PCKCRLIssuerChain), g.c.PCKCRL, nil
	case strings.HasSuffix(u, "/IntelSGXRootCA.der"):
		return nil, g.c.RootCRL, nil
	}
	return nil, nil, fmt.Errorf("tdx: offline verification has no cached collateral for %s", u)
}

// GetContext implements trust.ContextHTTPSGetter.
func (g cachedGetter) GetContext(ctx context.Context, u string) (map[string][]string, []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return g.Get(u)
}
