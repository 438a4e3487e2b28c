package tlog_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/tlog"
)

func TestNewRootRoundTrip(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	raw, err := tlog.NewRoot([]tlog.Log{{BaseURL: "https://log.example:8443", PublicKey: k.Public(), ValidFrom: from}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := tlog.LoadRoot(p)
	if err != nil {
		t.Fatal(err)
	}
	id, err := tlog.LogID("log.example", k.Public())
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.RekorLogs()) != 1 {
		t.Fatalf("%d logs", len(tr.RekorLogs()))
	}
	for _, l := range tr.RekorLogs() {
		if string(l.ID) != string(id) || l.BaseURL != "https://log.example:8443" || !l.ValidityPeriodStart.Equal(from) {
			t.Errorf("log %+v", l)
		}
	}

	for name, logs := range map[string][]tlog.Log{
		"no host":       {{BaseURL: "/path", PublicKey: k.Public(), ValidFrom: from}},
		"no valid-from": {{BaseURL: "https://log.example", PublicKey: k.Public()}},
	} {
		if _, err := tlog.NewRoot(logs, nil); !errors.Is(err, tlog.ErrTrustedRoot) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := tlog.ParseRoot([]byte(strings.Repeat(" ", tlog.MaxRootBytes+1))); !errors.Is(err, tlog.ErrTooLarge) {
		t.Errorf("oversized root: %v", err)
	}
}
