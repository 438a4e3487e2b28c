package nitro_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/nitro"
)

// localCA is a throwaway root and signing key standing in for AWS, so that
// documents with chosen (often wrong) fields can be signed. The verifier pins
// it with WithRootFingerprintUnsafe.
type localCA struct {
	root, leaf []byte
	key        *ecdsa.PrivateKey
	issued     time.Time
}

func newLocalCA(t *testing.T) *localCA {
	t.Helper()
	issued := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rootKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test nitro root"},
		NotBefore: issued.Add(-time.Hour), NotAfter: issued.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	root, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	rootCert, _ := x509.ParseCertificate(root)
	leafKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "test enclave"},
		NotBefore: issued.Add(-time.Minute), NotAfter: issued.Add(3 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	leaf, err := x509.CreateCertificate(rand.Reader, leafTmpl, rootCert, &leafKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	return &localCA{root: root, leaf: leaf, key: leafKey, issued: issued}
}

func (ca *localCA) verifier(t *testing.T) *nitro.Verifier {
	t.Helper()
	sum := sha256.Sum256(ca.root)
	v, err := nitro.New(nitro.WithRootFingerprintUnsafe(hex.EncodeToString(sum[:])))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// doc returns a well-formed payload map that tests then spoil.
func (ca *localCA) doc() map[string]any {
	pcr := func(b byte) []byte { p := make([]byte, 48); p[0] = b; return p }
	return map[string]any{
		"module_id":   "i-test-enc",
		"digest":      "SHA384",
		"timestamp":   uint64(ca.issued.UnixMilli()),
		"pcrs":        map[uint][]byte{0: pcr(1), 1: pcr(2), 2: pcr(3)},
		"certificate": ca.leaf,
		"cabundle":    [][]byte{ca.root},
		"user_data":   []byte("user data"),
		"nonce":       []byte("nonce"),
	}
}

func (ca *localCA) sign(t *testing.T, payload map[string]any, alg cose.Algorithm, tagged bool) []byte {
	t.Helper()
	body, err := cbor.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	var key crypto.Signer = ca.key
	if alg == cose.AlgorithmES256 {
		// go-cose signs only with a key matching the header's algorithm.
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	signer, err := cose.NewSigner(alg, key)
	if err != nil {
		t.Fatal(err)
	}
	msg := cose.NewSign1Message()
	msg.Headers.Protected.SetAlgorithm(alg)
	msg.Payload = body
	if err := msg.Sign(rand.Reader, nil, signer); err != nil {
		t.Fatal(err)
	}
	var out []byte
	if tagged {
		out, err = msg.MarshalCBOR()
	} else {
		out, err = (*cose.UntaggedSign1Message)(msg).MarshalCBOR()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSyntheticDocuments(t *testing.T) {
	ca := newLocalCA(t)
	v := ca.verifier(t)
	at := ca.issued.Add(time.Minute)
	spoil := func(f func(map[string]any)) map[string]any { d := ca.doc(); f(d); return d }
	tests := []struct {
		name      string
		payload   map[string]any
		alg       cose.Algorithm
		tagged    bool
		opts      tee.VerifyOptions
		wantErr   error
		wantField string
	}{
		{name: "untagged", payload: ca.doc(), alg: cose.AlgorithmES384, opts: tee.VerifyOptions{Time: at, Nonce: []byte("nonce"), ReportData: []byte("user data")}},
		{name: "tagged", payload: ca.doc(), alg: cose.AlgorithmES384, tagged: true, opts: tee.VerifyOptions{Time: at}},
		{name: "header says ES256", payload: ca.doc(), alg: cose.AlgorithmES256, opts: tee.VerifyOptions{Time: at}, wantErr: tee.ErrSignature, wantField: "protected.alg"},
		{name: "digest not SHA384", payload: spoil(func(d map[string]any) { d["digest"] = "SHA256" }), alg: cose.AlgorithmES384, opts: tee.VerifyOptions{Time: at}, wantErr: tee.ErrMalformed, wantField: "digest"},
		{name: "no module id", payload: spoil(func(d map[string]any) { delete(d, "module_id") }), alg: cose.AlgorithmES384, opts: tee.VerifyOptions{Time: at}, wantErr: tee.ErrMalformed, wantField: "module_id"},
		{name: "no pcrs", payload: spoil(func(d map[string]any) { d["pcrs"] = map[uint][]byte{} }), alg: cose.AlgorithmES384, opts: tee.VerifyOptions{Time: at}, wantErr: tee.ErrMalformed, wantField: "pcrs"},
		{name: "short pcr", payload: spoil(func(d map[string]any) { d["pcrs"] = map[uint][]byte{0: {1, 2}} }), alg: cose.AlgorithmES384, opts: tee.VerifyOptions{Time: at}, wantErr: tee.ErrMalformed, wantField: "pcrs[0]"},
		{name: "user data too large", payload: spoil(func(d map[string]any) { d["user_data"] = make([]byte, 1025) }), alg: cose.AlgorithmES384, opts: tee.VerifyOptions{Time: at}, wantErr: tee.ErrTooLarge, wantField: "user_data"},
		{name: "empty cabundle", payload: spoil(func(d map[string]any) { d["cabundle"] = [][]byte{} }), alg: cose.AlgorithmES384, opts: tee.VerifyOptions{Time: at}, wantErr: tee.ErrMalformed, wantField: "cabundle"},
		{name: "root not pinned", payload: spoil(func(d map[string]any) { d["cabundle"] = [][]byte{ca.leaf} }), alg: cose.AlgorithmES384, opts: tee.VerifyOptions{Time: at}, wantErr: tee.ErrChain, wantField: "cabundle[0]"},
		// Sibling of #20 item 11: a document dated after the verification
		// time, within its certificate's validity, was accepted.
		{name: "document dated after the verification time", payload: spoil(func(d map[string]any) { d["timestamp"] = uint64(ca.issued.Add(2 * time.Hour).UnixMilli()) }),
			alg: cose.AlgorithmES384, opts: tee.VerifyOptions{Time: at}, wantErr: tee.ErrExpired, wantField: "timestamp"},
		{name: "leaf expired", payload: ca.doc(), alg: cose.AlgorithmES384, opts: tee.VerifyOptions{Time: ca.issued.Add(4 * time.Hour)}, wantErr: tee.ErrExpired, wantField: "certificate"},
		{name: "debug pcrs", payload: spoil(func(d map[string]any) {
			d["pcrs"] = map[uint][]byte{0: make([]byte, 48), 1: make([]byte, 48), 2: make([]byte, 48)}
		}), alg: cose.AlgorithmES384, opts: tee.VerifyOptions{Time: at}, wantErr: tee.ErrDebug, wantField: "debug"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := v.Verify(t.Context(), ca.sign(t, tc.payload, tc.alg, tc.tagged), tc.opts)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if claims.Attributes["module_id"] != "i-test-enc" || claims.Measurements["pcr0"][:2] != "01" || !claims.IssuedAt.Equal(ca.issued) {
					t.Errorf("claims %+v", claims)
				}
				return
			}
			te, ok := errors.AsType[*tee.Error](err)
			if !errors.Is(err, tc.wantErr) || !ok || te.Field != tc.wantField {
				t.Fatalf("Verify = %v, want %v on field %q", err, tc.wantErr, tc.wantField)
			}
		})
	}
}

func TestSignatureByAnotherKeyRejected(t *testing.T) {
	ca, other := newLocalCA(t), newLocalCA(t)
	// Signed by the other CA's leaf key but naming this CA's certificate.
	d := ca.doc()
	ca.key = other.key
	_, err := ca.verifier(t).Verify(t.Context(), ca.sign(t, d, cose.AlgorithmES384, false), tee.VerifyOptions{Time: ca.issued.Add(time.Minute)})
	if !errors.Is(err, tee.ErrSignature) {
		t.Fatalf("Verify = %v, want ErrSignature", err)
	}
}

// TestDocumentWithinClockSkew: a document dated a little after the
// verification time (the clocks differ) is accepted.
func TestDocumentWithinClockSkew(t *testing.T) {
	ca := newLocalCA(t)
	at := ca.issued.Add(time.Minute)
	d := ca.doc()
	d["timestamp"] = uint64(at.Add(nitro.MaxClockSkew).UnixMilli())
	if _, err := ca.verifier(t).Verify(t.Context(), ca.sign(t, d, cose.AlgorithmES384, false), tee.VerifyOptions{Time: at}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}
