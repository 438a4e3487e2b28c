package host

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/keys"
)

// File names in a services directory (see OpenLogKey and OpenTSAKey).
const (
	// LogKeyName is the log's checkpoint key: LogKeyName+".key"
	// (encrypted, 0600) and LogKeyName+".pub".
	LogKeyName = "log"
	// LogStorageName is the tessera POSIX storage of the log's tiles.
	LogStorageName = "log"
	// TSAKeyName is the TSA's signing key: TSAKeyName+".key" and
	// TSAKeyName+".pub".
	TSAKeyName = "tsa"
	// TSAChainFile is the TSA's certificate chain, PEM, leaf first.
	TSAChainFile = "tsa-chain.pem"
	// TrustedRootFile is the trusted root that trusts them.
	TrustedRootFile = "trusted_root.json"
)

// maxChainBytes bounds a certificate chain file.
const maxChainBytes = 1 << 20

// OpenLogKey loads the log's checkpoint key from dir (LogKeyName.key,
// decrypted with passphrase), generating an ECDSA P-256 key there on the
// first start. It also returns when the key was created (the modification
// time of its public key file, which is written once), the start of its
// validity in the trusted root.
func OpenLogKey(dir string, passphrase []byte) (*keys.PrivateKey, time.Time, error) {
	k, err := openKey(dir, LogKeyName, passphrase)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("log key: %w", err)
	}
	st, err := os.Stat(filepath.Join(dir, LogKeyName+".pub"))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("log key: %w", err)
	}
	return k, st.ModTime().UTC().Truncate(time.Second), nil
}

// OpenTSAKey loads the TSA's signing key and certificate chain from dir
// (TSAKeyName.key and TSAChainFile). On the first start it generates an
// ECDSA P-256 key and a chain for it (NewChain) and stores both.
func OpenTSAKey(dir string, passphrase []byte) (*keys.PrivateKey, []byte, error) {
	k, err := openKey(dir, TSAKeyName, passphrase)
	if err != nil {
		return nil, nil, fmt.Errorf("TSA key: %w", err)
	}
	path := filepath.Join(dir, TSAChainFile)
	f, err := limits.OpenFile(path)
	switch {
	case err == nil:
		defer f.Close()
		raw, err := limits.ReadAll(f, maxChainBytes, path)
		if err != nil {
			return nil, nil, fmt.Errorf("TSA chain: %w", err)
		}
		return k, raw, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("TSA chain: %w", err)
	}
	chain, err := NewChain(k.Signer(), time.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("TSA chain: %w", err)
	}
	raw, err := cryptoutils.MarshalCertificatesToPEM(chain)
	if err != nil {
		return nil, nil, fmt.Errorf("TSA chain: %w", err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return nil, nil, fmt.Errorf("TSA chain: %w", err)
	}
	return k, raw, nil
}

// ParseChain decodes a PEM certificate chain, leaf first.
func ParseChain(raw []byte) ([]*x509.Certificate, error) {
	certs, err := cryptoutils.LoadCertificatesFromPEM(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("certificate chain: %w", err)
	}
	if len(certs) == 0 {
		return nil, errors.New("certificate chain: no PEM certificates")
	}
	return certs, nil
}

func openKey(dir, name string, passphrase []byte) (*keys.PrivateKey, error) {
	path := filepath.Join(dir, name+".key")
	k, err := keys.LoadPrivateKeyFile(path, passphrase)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if k, err = keys.Generate(keys.ECDSAP256); err != nil {
		return nil, err
	}
	if _, _, err := keys.WriteFiles(filepath.Join(dir, name), k, passphrase); err != nil {
		return nil, err
	}
	return k, nil
}
