package verifiers_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/tdx"
	"github.com/hallmark-dev/hallmark/tee/verifiers"
)

// TestPlatforms: the offline registry verifies SEV-SNP and Nitro only; TDX
// and TPM are there when enabled.
func TestPlatforms(t *testing.T) {
	off, err := verifiers.Offline()
	if err != nil {
		t.Fatal(err)
	}
	all, err := verifiers.New(verifiers.Config{TDX: true, TDXOptions: []tdx.Option{tdx.WithoutCollateralUnsafe()}, TPM: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		reg  *tee.Registry
		name string
		want map[tee.Platform]bool
	}{
		{off, "offline", map[tee.Platform]bool{tee.SEVSNP: true, tee.Nitro: true, tee.TDX: false, tee.TPM: false}},
		{all, "all", map[tee.Platform]bool{tee.SEVSNP: true, tee.Nitro: true, tee.TDX: true, tee.TPM: true}},
	} {
		for p, want := range tc.want {
			if _, err := tc.reg.Verifier(p); (err == nil) != want {
				t.Errorf("%s registry: verifier for %s: %v, want present %v", tc.name, p, err, want)
			}
		}
	}
}
