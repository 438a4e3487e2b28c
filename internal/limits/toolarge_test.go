package limits_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/build/materials"
	"github.com/hallmark-dev/hallmark/depcheck"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/misconfig"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/provenance"
	"github.com/hallmark-dev/hallmark/repro/diff"
	"github.com/hallmark-dev/hallmark/sbom"
	"github.com/hallmark-dev/hallmark/secrets"
	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tlog"
	"github.com/hallmark-dev/hallmark/vuln/osv"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
	"github.com/hallmark-dev/hallmark/vuln/vex"
)

// TestTooLargeAcrossPackages feeds every package's decoder an input over
// its bound: one errors.Is(err, limits.ErrTooLarge) must recognise them
// all, and the message must still say which input it was.
func TestTooLargeAcrossPackages(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte(" "), n), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	spaces := func(n int) []byte { return bytes.Repeat([]byte(" "), n) }
	bigFile := write("big.bin", 100)
	bigKey := write("key.pub", 64<<10+1)
	dockerfile := write("tree/Dockerfile", 2048)
	write("tree/b/Dockerfile", 10)
	for _, tc := range []struct {
		name, mention string
		run           func() error
	}{
		{"sbom scan of a file", "big.bin", func() error {
			_, err := sbom.Scan(t.Context(), bigFile, sbom.WithMaxFileSize(10))
			return err
		}},
		{"misconfig file", "Dockerfile", func() error {
			_, err := misconfig.Scan(t.Context(), filepath.Dir(dockerfile), misconfig.Config{MaxFileSize: 1024})
			return err
		}},
		{"misconfig file count", "candidate files", func() error {
			_, err := misconfig.Scan(t.Context(), filepath.Dir(dockerfile), misconfig.Config{MaxFiles: 1, MaxFileSize: 1 << 20})
			return err
		}},
		{"misconfig configuration", "configuration", func() error {
			_, err := misconfig.ParseConfig(bytes.NewReader(spaces(2 << 20)))
			return err
		}},
		{"lockfile", "go.sum", func() error {
			_, err := materials.Parse("go.sum", spaces(materials.MaxLockfileSize+1))
			return err
		}},
		{"dependency policy", "policy file", func() error {
			_, err := depcheck.ParsePolicy(spaces(depcheck.MaxPolicySize + 1))
			return err
		}},
		{"TEE reference values", "reference", func() error {
			_, err := tee.LoadReferenceValues(bytes.NewReader(spaces(tee.MaxReferenceValues + 1)))
			return err
		}},
		{"OSV record", "OSV record", func() error {
			_, err := osv.Decode(strings.NewReader(`{"id":"GHSA-x"}`), "record.json", osv.Limits{MaxBytes: 4})
			return err
		}},
		{"VEX document", "VEX document", func() error {
			_, err := vex.Decode(strings.NewReader(`{"statements":[]}`), "vex.json", vex.Limits{MaxBytes: 4})
			return err
		}},
		{"trusted root", "trusted root", func() error {
			_, err := tlog.ParseRoot(spaces(tlog.MaxRootBytes + 1))
			return err
		}},
		{"key file", "key.pub", func() error {
			_, err := keys.LoadPublicKeyFile(bigKey)
			return err
		}},
		{"tree entries", "too many entries", func() error {
			_, err := digest.Tree(t.Context(), filepath.Dir(dockerfile), digest.WithMaxFiles(1))
			return err
		}},
		{"policy preset", "preset", func() error {
			_, err := policy.ParsePreset(spaces(policy.MaxPresetSize + 1))
			return err
		}},
		{"provenance predicate", "predicate", func() error {
			_, err := provenance.Parse(spaces(provenance.MaxPredicateSize + 1))
			return err
		}},
		{"secrets allowlist", "allowlist", func() error {
			_, err := secrets.ParseAllowlist(bytes.NewReader(spaces(4 << 20)))
			return err
		}},
		{"docker config", "config", func() error {
			_, err := oci.ParseDockerConfig(spaces(oci.MaxDockerConfigBytes + 1))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, limits.ErrTooLarge) {
				t.Fatalf("err = %v, want limits.ErrTooLarge", err)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("err = %q, want it to name %q", err, tc.mention)
			}
		})
	}
}

// TestPackageSentinelsAreTooLarge checks the sentinels packages export
// for their own bounds: each is, or wraps, limits.ErrTooLarge.
func TestPackageSentinelsAreTooLarge(t *testing.T) {
	for name, err := range map[string]error{
		"sbom.ErrTooLarge":          sbom.ErrTooLarge,
		"misconfig.ErrTooLarge":     misconfig.ErrTooLarge,
		"misconfig.ErrTooManyFiles": misconfig.ErrTooManyFiles,
		"materials.ErrTooLarge":     materials.ErrTooLarge,
		"depcheck.ErrTooLarge":      depcheck.ErrTooLarge,
		"tee.ErrTooLarge":           tee.ErrTooLarge,
		"osv.ErrTooLarge":           osv.ErrTooLarge,
		"vex.ErrTooLarge":           vex.ErrTooLarge,
		"osvdb.ErrLimit":            osvdb.ErrLimit,
		"diff.ErrLimit":             diff.ErrLimit,
		"digest.ErrTooManyFiles":    digest.ErrTooManyFiles,
		"tlog.ErrTooLarge":          tlog.ErrTooLarge,
	} {
		if !errors.Is(err, limits.ErrTooLarge) {
			t.Errorf("errors.Is(%s, limits.ErrTooLarge) = false", name)
		}
	}
	// A sentinel of its own stays distinguishable and keeps its words.
	if errors.Is(limits.ErrTooLarge, osvdb.ErrLimit) || osvdb.ErrLimit.Error() != "OSV import source exceeds limit" {
		t.Errorf("osvdb.ErrLimit = %q, want its own sentinel", osvdb.ErrLimit)
	}
}

// TestFIFORefusedAcrossPackages names a FIFO where packages read a file:
// each refuses it at once with ErrNotRegular. tlog.LoadRoot and osvdb.Open
// used os.Open, which waits for a writer for ever.
func TestFIFORefusedAcrossPackages(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(fifoDir string) error
	}{
		{"trusted root", func(dir string) error {
			_, err := tlog.LoadRoot(filepath.Join(dir, "meta.json"))
			return err
		}},
		{"OSV database meta.json", func(dir string) error {
			_, err := osvdb.Open(dir)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := syscall.Mkfifo(filepath.Join(dir, "meta.json"), 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			done := make(chan error, 1)
			go func() { done <- tc.run(dir) }()
			select {
			case err := <-done:
				if !errors.Is(err, limits.ErrNotRegular) {
					t.Errorf("err = %v, want limits.ErrNotRegular", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("blocked on a FIFO")
			}
		})
	}
}
