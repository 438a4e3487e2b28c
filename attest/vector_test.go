package attest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"math/big"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/hallmark-dev/hallmark/keys"
)

// dsseSpecKey is the public key of the DSSE specification's test vector
// (protocol.md): ECDSA P-256, X and Y as decimal integers.
func dsseSpecKey(t *testing.T) *keys.PublicKey {
	t.Helper()
	x, _ := new(big.Int).SetString("46950820868899156662930047687818585632848591499744589407958293238635476079160", 10)
	y, _ := new(big.Int).SetString("5640078356564379163099075877009565129882514886557779369047442380624545832820", 10)
	pub, err := keys.NewPublicKey(&ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y})
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestPAEMatchesSpec(t *testing.T) {
	got := string(dsse.PAE("http://example.com/HelloWorld", []byte("hello world")))
	if want := "DSSEv1 29 http://example.com/HelloWorld 11 hello world"; got != want {
		t.Fatalf("PAE = %q, want %q", got, want)
	}
}
