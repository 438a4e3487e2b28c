package secrets

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"strings"
	"testing"
)

// fuzzSeeds returns small valid archives of each kind, nested too.
func fuzzSeeds(t testing.TB) [][]byte {
	text := []byte("aws_access_key_id = AKIAQ3EGRT5YBXCKWD7M\npassword = x\n")
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, n := range []string{"a.txt", "dir/b.env"} {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(text)), Typeflag: tar.TypeReg})
		tw.Write(text)
	}
	tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tb.Bytes())
	zw.Close()
	var zb bytes.Buffer
	z := zip.NewWriter(&zb)
	w, _ := z.Create("inner.tgz")
	w.Write(gz.Bytes())
	w, _ = z.Create("c.properties")
	w.Write(text)
	z.Close()
	seeds := [][]byte{text, tb.Bytes(), gz.Bytes(), zb.Bytes(), {}, []byte("PK\x03\x04"), []byte("\x1f\x8b")}
	if b, err := os.ReadFile("testdata/archives/env.sh.bz2"); err == nil {
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzStream feeds arbitrary bytes to the archive-recursing reader that
// every scanned file goes through: it must never panic, and must stay within
// its limits.
func FuzzStream(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	s, err := New(Config{Limits: Limits{MaxExpandedBytes: 16 << 20, MaxMembers: 2000, MaxBufferedBytes: 4 << 20, MaxFileBytes: 4 << 20, MaxDepth: 4}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w := &walker{s: s, top: "input"}
		err := w.stream(t.Context(), nil, bytes.NewReader(data), bytes.NewReader(data), int64(len(data)), 0)
		if _, ok := err.(*limitError); err != nil && !ok {
			t.Fatalf("stream: unexpected error %v", err)
		}
		if w.expanded > s.lim.MaxExpandedBytes+64<<10 || w.members > s.lim.MaxMembers+1 {
			t.Fatalf("limits exceeded: %d bytes, %d members", w.expanded, w.members)
		}
		for _, fd := range w.out {
			if fd.RuleID == "" || fd.Location.Path != "input" {
				t.Fatalf("malformed finding %+v", fd)
			}
		}
	})
}

// FuzzParseAllowlist checks that arbitrary allowlist files are rejected or
// accepted without panicking.
func FuzzParseAllowlist(f *testing.F) {
	f.Add("version: 1\nentries:\n  - reason: r\n    paths: ['^a/']\n    rules: [x]\n    fingerprints: ['a:b:1']\n    regexes: ['^k$']\n")
	f.Add("version: 1\n")
	f.Add("{")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAllowlist(strings.NewReader(s))
		if err == nil && a == nil {
			t.Fatal("nil allowlist without error")
		}
	})
}
