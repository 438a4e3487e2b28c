package secrets_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/hallmark-dev/hallmark/secrets"
)

// opensshKey builds the PEM text of an openssh-key-v1 blob with the given
// cipher name followed by random bytes (enough to look like a key).
func opensshKey(t *testing.T, cipher string) string {
	t.Helper()
	b := []byte("openssh-key-v1\x00")
	b = binary.BigEndian.AppendUint32(b, uint32(len(cipher)))
	b = append(b, cipher...)
	rnd := make([]byte, 300)
	if _, err := rand.Read(rnd); err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: append(b, rnd...)}))
}

func TestEncryptedPrivateKeys(t *testing.T) {
	rnd := make([]byte, 200)
	if _, err := rand.Read(rnd); err != nil {
		t.Fatal(err)
	}
	body := base64.StdEncoding.EncodeToString(rnd)
	for _, tc := range []struct {
		name, text     string
		wantSuppressed bool
	}{
		{"sigstore", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + body + "\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n", true},
		{"pkcs8 encrypted", "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + body + "\n-----END ENCRYPTED PRIVATE KEY-----\n", true},
		{"legacy openssl", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\n" + body + "\n-----END RSA PRIVATE KEY-----\n", true},
		{"openssh aes256-ctr", opensshKey(t, "aes256-ctr"), true},
		{"openssh none", opensshKey(t, "none"), false},
		{"rsa plain", "-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----\n", false},
		{"pkcs8 plain", "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "k.pem")
			if err := os.WriteFile(p, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			fs, err := secrets.Scan(t.Context(), p, secrets.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 1 || fs[0].RuleID != "private-key" {
				t.Fatalf("want one private-key finding, got %+v", fs)
			}
			if fs[0].Suppressed != tc.wantSuppressed {
				t.Errorf("suppressed = %v (%q), want %v", fs[0].Suppressed, fs[0].SuppressedReason, tc.wantSuppressed)
			}
		})
	}
}
