package tdx

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-tdx-guest/pcs"

	"github.com/hallmark-dev/hallmark/tee"
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

// checkIssued refuses collateral used before it was issued: go-tdx-guest
// checks only that TCB info, QE identity and CRLs have not expired
// (nextUpdate), so collateral dated after the verification time would
// otherwise pass, though it could not have existed then.
func (c *Collateral) checkIssued(at time.Time) error {
	var tcb pcs.TdxTcbInfo
	if err := json.Unmarshal(c.TCBInfo, &tcb); err != nil {
		return fail("collateral.tcb_info", tee.ErrMalformed, "%v", err)
	}
	var qe pcs.QeIdentity
	if err := json.Unmarshal(c.QEIdentity, &qe); err != nil {
		return fail("collateral.qe_identity", tee.ErrMalformed, "%v", err)
	}
	dates := []struct {
		field  string
		issued time.Time
	}{
		{"collateral.tcb_info", tcb.TcbInfo.IssueDate},
		{"collateral.qe_identity", qe.EnclaveIdentity.IssueDate},
	}
	for _, crl := range []struct {
		field string
		der   []byte
	}{{"collateral.pck_crl", c.PCKCRL}, {"collateral.root_crl", c.RootCRL}} {
		l, err := x509.ParseRevocationList(crl.der)
		if err != nil {
			return fail(crl.field, tee.ErrMalformed, "%v", err)
		}
		dates = append(dates, struct {
			field  string
			issued time.Time
		}{crl.field, l.ThisUpdate})
	}
	for _, d := range dates {
		if d.issued.IsZero() {
			return fail(d.field, tee.ErrMalformed, "no issue date")
		}
		if at.Before(d.issued) {
			return fail(d.field, tee.ErrExpired, "not yet valid at %s: issued %s", at.UTC().Format(time.RFC3339), d.issued.UTC().Format(time.RFC3339))
		}
	}
	return nil
}
