package attest

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/sigstore/sigstore-go/pkg/sign"
)

// SignOption changes how Sign makes a bundle.
type SignOption func(*signConfig) error

type signConfig struct {
	tlogs []sign.Transparency
	tsas  []*sign.TimestampAuthority
}

// rekorV2 is the Rekor API version Hallmark logs to: rekor-tiles.
const rekorV2 = 2

// WithTransparencyLog logs the signed bundle in the Rekor v2 (rekor-tiles)
// log at baseURL and puts the returned entry, with its inclusion proof and
// signed checkpoint, into the bundle's tlogEntries. The DSSE envelope is
// logged as a hashedrekord v0.0.2 entry over its PAE, as Sigstore clients
// do; this needs a prehashing key (ECDSA or RSA: pure Ed25519 cannot be
// logged in Rekor v2). Give it more than once to log in several logs.
func WithTransparencyLog(baseURL string) SignOption {
	return func(c *signConfig) error {
		if err := checkServiceURL("transparency log", baseURL); err != nil {
			return err
		}
		c.tlogs = append(c.tlogs, sign.NewRekor(&sign.RekorOptions{BaseURL: baseURL, Version: rekorV2, Timeout: 30 * time.Second}))
		return nil
	}
}

// WithTimestampAuthority asks the RFC 3161 timestamp authority at url (its
// full endpoint, e.g. https://timestamp.sigstore.dev/api/v1/timestamp) for a
// timestamp over the signature and puts it into the bundle's
// timestampVerificationData. Give it more than once for several.
func WithTimestampAuthority(url string) SignOption {
	return func(c *signConfig) error {
		if err := checkServiceURL("timestamp authority", url); err != nil {
			return err
		}
		c.tsas = append(c.tsas, sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: url, Timeout: 30 * time.Second, Retries: 1}))
		return nil
	}
}

func checkServiceURL(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s URL is empty", what)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s URL %q: %w", what, s, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%s URL %q: want http(s)://host[:port]/...", what, s)
	}
	return nil
}

func newSignConfig(opts []SignOption) (*signConfig, error) {
	c := &signConfig{}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("attest: nil SignOption")
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}
