package keys

import (
	"crypto"
	"crypto/elliptic"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

func TestGenerateRoundTrip(t *testing.T) {
	for _, alg := range Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k, err := Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(t.TempDir(), "signer")
			keyPath, pubPath, err := WriteFiles(name, k, []byte("correct horse"))
			if err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(keyPath)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s mode = %v, want 0600", keyPath, st.Mode().Perm())
			}
			raw, _ := os.ReadFile(keyPath)
			if !containsString(raw, "ENCRYPTED SIGSTORE PRIVATE KEY") {
				t.Errorf("key file is not an encrypted sigstore key:\n%s", raw)
			}
			back, err := LoadPrivateKeyFile(keyPath, []byte("correct horse"))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := LoadPublicKeyFile(pubPath)
			if err != nil {
				t.Fatal(err)
			}
			if back.Public().ID() != k.Public().ID() || pub.ID() != k.Public().ID() {
				t.Errorf("key IDs differ: %s %s %s", back.Public().ID(), pub.ID(), k.Public().ID())
			}
			if _, err := LoadPrivateKeyFile(keyPath, []byte("wrong")); !errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("wrong passphrase: err = %v, want ErrWrongPassphrase", err)
			}
			if _, _, err := WriteFiles(name, k, []byte("x")); !errors.Is(err, ErrKeyExists) {
				t.Errorf("overwrite: err = %v, want ErrKeyExists", err)
			}
		})
	}
}

func TestEmptyPassphraseRefused(t *testing.T) {
	k, err := Generate(ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.MarshalEncrypted(nil); !errors.Is(err, ErrEmptyPassphrase) {
		t.Fatalf("err = %v, want ErrEmptyPassphrase", err)
	}
	enc, err := k.MarshalEncrypted(nil, WithEmptyPassphraseUnsafe())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePrivateKey(enc, nil); err != nil {
		t.Fatalf("empty-passphrase key did not load: %v", err)
	}
}

// TestSigstoreLibraryInterop shows the file format is the one cosign and the
// sigstore library use, in both directions.
func TestSigstoreLibraryInterop(t *testing.T) {
	pass := []byte("interop-pass")
	pf := func(bool) ([]byte, error) { return pass, nil }

	// Hallmark writes, sigstore reads.
	k, err := Generate(ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := k.MarshalEncrypted(pass)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(enc, pf)
	if err != nil {
		t.Fatalf("sigstore could not load a hallmark key: %v", err)
	}
	if !priv.(crypto.Signer).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Signer().Public()) {
		t.Error("sigstore loaded a different key")
	}

	// Sigstore (as cosign generate-key-pair does) writes, Hallmark reads.
	privPEM, pubPEM, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), pf)
	if err != nil {
		t.Fatal(err)
	}
	hk, err := ParsePrivateKey(privPEM, pass)
	if err != nil {
		t.Fatalf("hallmark could not load a sigstore key: %v", err)
	}
	hp, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if hk.Public().ID() != hp.ID() {
		t.Error("private and public key IDs differ")
	}
}

func TestParseRejectsPlaintextAndGarbage(t *testing.T) {
	k, _ := Generate(ECDSAP256)
	plain, err := cryptoutils.MarshalPrivateKeyToPEM(k.Signer())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePrivateKey(plain, []byte("x")); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("plaintext key: err = %v, want ErrUnsupportedKey", err)
	}
	if _, err := ParsePrivateKey([]byte("not pem"), []byte("x")); !errors.Is(err, ErrNotPEM) {
		t.Errorf("garbage: err = %v, want ErrNotPEM", err)
	}
	if _, err := ParsePublicKey([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")); err == nil {
		t.Error("bad public key accepted")
	}
	if _, err := Generate("dsa"); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("dsa: err = %v", err)
	}
}

func containsString(b []byte, s string) bool { return strings.Contains(string(b), s) }
