package attested_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/build"
	"github.com/hallmark-dev/hallmark/build/attested"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/provenance"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/tee"
	"github.com/hallmark-dev/hallmark/tee/sevsnp/sevsnptest"
	"github.com/hallmark-dev/hallmark/tee/teetest"
)

// fixture is a source tree with a one-file build, a signing key and a real
// SQLite store the recorder writes to.
func fixture(t *testing.T) (build.Spec, attested.Recorder, store.Store) {
	t.Helper()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "in.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := attesttest.Key(t, keys.ECDSAP256)
	record := func(ctx context.Context, s *intoto.Statement) (*attest.Verified, []byte, string, error) {
		b, err := attest.Sign(ctx, key, s)
		if err != nil {
			return nil, nil, "", err
		}
		v, err := attest.Verify(ctx, b, attest.NewKeySet(key.Public()))
		if err != nil {
			return nil, nil, "", err
		}
		rec, err := st.Put(ctx, v)
		return v, b, rec.ID, err
	}
	spec := build.Spec{Command: []string{"sh", "-c", "cp in.txt out.txt"}, SourceDir: src, Products: []string{"out.txt"},
		Env: []string{"PATH=/usr/bin:/bin"}, EnvAllowlist: []string{"PATH"}, Sandbox: build.SandboxOff, LogFile: filepath.Join(t.TempDir(), "build.log")}
	return spec, record, st
}

// TestRunRecordsProvenanceAndTEE: the build's provenance is recorded, and
// a quote binding it is recorded beside it with the same subjects.
func TestRunRecordsProvenanceAndTEE(t *testing.T) {
	spec, record, st := fixture(t)
	dev := sevsnptest.NewDevice(t, teetest.Today)
	open := func(ctx context.Context, p tee.Platform) (tee.Collector, tee.Verifier, error) {
		if p != tee.SEVSNP {
			return nil, nil, errors.New("not here")
		}
		return dev, dev.Verifier(t), nil
	}
	res, err := attested.Run(t.Context(), attested.Spec{Build: spec, BuilderID: provenance.DefaultBuilderID, LogName: "build.log", Record: record,
		TEE: &attested.TEE{Platforms: []tee.Platform{tee.TPM, tee.SEVSNP}, Open: open}, Now: func() time.Time { return teetest.Today }})
	if err != nil {
		t.Fatal(err)
	}
	if res.RecordID == "" || res.TEE == nil || res.TEE.RecordID == "" || res.TEE.Predicate.Platform != tee.SEVSNP {
		t.Fatalf("result %+v: want a recorded provenance and a recorded SEV-SNP attestation", res)
	}
	for _, pt := range []string{provenance.PredicateType, tee.PredicateType} {
		recs, err := st.List(t.Context(), store.Query{PredicateType: pt})
		if err != nil || len(recs) != 1 {
			t.Errorf("stored %s: %d records (%v), want 1", pt, len(recs), err)
		}
	}
}

// TestRunWithoutTEE: an optional TEE that is not there records the
// provenance and says why there is no quote; a required one fails.
func TestRunWithoutTEE(t *testing.T) {
	spec, record, _ := fixture(t)
	none := func(context.Context, tee.Platform) (tee.Collector, tee.Verifier, error) {
		return nil, nil, errors.New("no device")
	}
	res, err := attested.Run(t.Context(), attested.Spec{Build: spec, Record: record, TEE: &attested.TEE{Platforms: []tee.Platform{tee.SEVSNP}, Optional: true, Open: none}})
	if err != nil || res.RecordID == "" || res.TEE != nil || !errors.Is(res.NoTEE, attested.ErrNoTEE) {
		t.Fatalf("optional TEE absent: %+v, %v", res, err)
	}
	spec.LogFile = filepath.Join(t.TempDir(), "build.log")
	if _, err := attested.Run(t.Context(), attested.Spec{Build: spec, Record: record, TEE: &attested.TEE{Platforms: []tee.Platform{tee.SEVSNP}, Open: none}}); !errors.Is(err, attested.ErrNoTEE) {
		t.Errorf("required TEE absent: %v, want ErrNoTEE", err)
	}
}

// TestRunNoProducts: a build that names no product it made fails.
func TestRunNoProducts(t *testing.T) {
	spec, _, _ := fixture(t)
	spec.Products = nil
	spec.Command = []string{"true"}
	if _, err := attested.Run(t.Context(), attested.Spec{Build: spec}); !errors.Is(err, build.ErrNoProducts) {
		t.Errorf("no products: %v, want build.ErrNoProducts", err)
	}
}
