package tlog_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/tlog"
	"github.com/hallmark-dev/hallmark/tlog/tlogtest"
)

func onlyLog(t *testing.T, raw []byte) *root.TransparencyLog {
	t.Helper()
	tr, err := tlog.ParseRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range tr.RekorLogs() {
		return l
	}
	t.Fatal("no log in the root")
	return nil
}

// TestMonitor runs the monitor against a real rekor-tiles log: growth is
// consistent; a fork, a shrink, a foreign checkpoint key, an altered entry
// and an index beyond the tree are all reported.
func TestMonitor(t *testing.T) {
	l := tlogtest.StartLog(t)
	raw, err := tlog.NewRoot([]tlog.Log{{BaseURL: l.URL, PublicKey: l.PublicKey, ValidFrom: l.Started.Add(-time.Minute)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tlog.NewMonitor(onlyLog(t, raw), l.ReadURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := attesttest.Key(t, keys.ECDSAP256)
	var entries []*protobundle.Bundle
	sign := func(s string) {
		st, err := attest.NewStatement([]attest.Subject{attesttest.Subject("a", []byte(s))}, "https://example.com/p/v1", []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		b, err := attest.Sign(t.Context(), k, st, attest.WithTransparencyLog(l.URL))
		if err != nil {
			t.Fatal(err)
		}
		var pb protobundle.Bundle
		if err := protojson.Unmarshal(b, &pb); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, &pb)
	}
	sign("1")
	sign("2")
	cp1, err := m.Latest(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sign("3")
	cp2, err := m.Latest(t.Context(), cp1)
	if err != nil {
		t.Fatalf("grown log: %v", err)
	}
	if cp2.Size != 3 {
		t.Fatalf("size %d after three entries", cp2.Size)
	}
	for _, pb := range entries {
		e := pb.GetVerificationMaterial().GetTlogEntries()[0]
		if err := m.Included(t.Context(), cp2, uint64(e.GetLogIndex()), e.GetCanonicalizedBody()); err != nil {
			t.Errorf("entry %d: %v", e.GetLogIndex(), err)
		}
	}

	forked := *cp1
	forked.Hash = append([]byte{}, cp1.Hash...)
	forked.Hash[0] ^= 1
	if _, err := m.Latest(t.Context(), &forked); !errors.Is(err, tlog.ErrInconsistent) {
		t.Errorf("fork: %v", err)
	}
	sameSize := *cp2
	sameSize.Hash = forked.Hash
	if _, err := m.Latest(t.Context(), &sameSize); !errors.Is(err, tlog.ErrInconsistent) {
		t.Errorf("two roots for one size: %v", err)
	}
	bigger := *cp2
	bigger.Size += 5
	if _, err := m.Latest(t.Context(), &bigger); !errors.Is(err, tlog.ErrInconsistent) {
		t.Errorf("shrunk log: %v", err)
	}
	e := entries[0].GetVerificationMaterial().GetTlogEntries()[0]
	body := append([]byte{}, e.GetCanonicalizedBody()...)
	body[len(body)/2] ^= 1
	if err := m.Included(t.Context(), cp2, uint64(e.GetLogIndex()), body); !errors.Is(err, tlog.ErrNotIncluded) {
		t.Errorf("altered entry: %v", err)
	}
	if err := m.Included(t.Context(), cp2, cp2.Size, e.GetCanonicalizedBody()); !errors.Is(err, tlog.ErrNotIncluded) {
		t.Errorf("index beyond the tree: %v", err)
	}

	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	raw, err = tlog.NewRoot([]tlog.Log{{BaseURL: l.URL, PublicKey: other.Public(), ValidFrom: l.Started}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := tlog.NewMonitor(onlyLog(t, raw), l.StorageDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := foreign.Latest(t.Context(), nil); !errors.Is(err, tlog.ErrCheckpoint) {
		t.Errorf("checkpoint from a key the root does not trust: %v", err)
	}
}
