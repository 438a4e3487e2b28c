package keys

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// ErrKeyExists is returned by WriteFiles when NAME.key or NAME.pub exists.
var ErrKeyExists = errors.New("key file already exists")

// WriteFiles writes NAME.key (encrypted, mode 0600) and NAME.pub (mode 0644).
// It never overwrites an existing file, so a typo cannot destroy a key.
func WriteFiles(name string, k *PrivateKey, passphrase []byte, opts ...MarshalOption) (keyPath, pubPath string, err error) {
	keyPath, pubPath = name+".key", name+".pub"
	enc, err := k.MarshalEncrypted(passphrase, opts...)
	if err != nil {
		return "", "", err
	}
	if err := writeNew(keyPath, enc, 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, k.Public().MarshalPEM(), 0o644); err != nil {
		_ = os.Remove(keyPath)
		return "", "", err
	}
	return keyPath, pubPath, nil
}

func writeNew(path string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrKeyExists, path)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	// The umask may have widened nothing but could have narrowed; make the
	// mode exact so a private key is never group- or world-readable.
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}

// LoadPrivateKeyFile reads and decrypts a private key file.
func LoadPrivateKeyFile(path string, passphrase []byte) (*PrivateKey, error) {
	b, err := limits.ReadFile(path, maxKeyFile)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	k, err := ParsePrivateKey(b, passphrase)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	return k, nil
}

// LoadPublicKeyFile reads a PEM public key file.
func LoadPublicKeyFile(path string) (*PublicKey, error) {
	b, err := limits.ReadFile(path, maxKeyFile)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return k, nil
}

// maxKeyFile bounds key files: an RSA-4096 PEM is under 4 KiB.
const maxKeyFile = 64 << 10
