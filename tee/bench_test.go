package tee_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"testing"
)

// BenchmarkVerify measures full offline verification of each real sample.
// Compare with BenchmarkBaselineECDSAP384, one P-384 signature check (the
// unit of work every platform performs at least once):
//
//	go test -run '^$' -bench 'Verify|Baseline' -benchtime 200x ./tee/
func BenchmarkVerify(b *testing.B) {
	r := registry(b)
	for _, s := range samples() {
		b.Run(string(s.platform), func(b *testing.B) {
			for b.Loop() {
				if _, err := r.Verify(b.Context(), s.platform, s.evidence, s.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBaselineECDSAP384 is the baseline for BenchmarkVerify.
func BenchmarkBaselineECDSAP384(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha512.Sum384([]byte("baseline"))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
			b.Fatal("baseline signature does not verify")
		}
	}
}
