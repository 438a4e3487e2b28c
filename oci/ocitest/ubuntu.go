package ocitest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// UbuntuArchive is the Ubuntu archive UbuntuDebs downloads from.
const UbuntuArchive = "http://archive.ubuntu.com/ubuntu"

// UbuntuDebs returns the .deb file of each named package of an Ubuntu
// suite's main component (amd64), e.g. suite "jammy" for Ubuntu 22.04 as
// released or "jammy-updates" for its updates. It reads the suite's
// Release file, checks main/binary-amd64/Packages.gz against the SHA256
// the Release file gives, and downloads each package's Filename from the
// archive, checking its SHA256 against the Packages entry. Files are kept
// in the DebianImage cache directory, under "ubuntu-<suite>". The Release
// file's signature is not checked: the test data is pinned by the hashes
// it chains to, not trusted for anything else. When the archive cannot be
// reached the test is skipped (it fails when CI=true).
func UbuntuDebs(t testing.TB, suite string, pkgs ...string) map[string]string {
	t.Helper()
	dir := filepath.Join(debCacheDir(t), "ubuntu-"+suite)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	debs, missing := FindDebs(dir, pkgs...)
	if len(missing) == 0 {
		return debs
	}
	ctx := t.Context()
	release, err := httpGet(ctx, UbuntuArchive+"/dists/"+suite+"/Release")
	if err != nil {
		skipOrFail(t, "the Ubuntu archive is not reachable: "+err.Error())
	}
	const index = "main/binary-amd64/Packages.gz"
	want, err := releaseSHA256(release, index)
	if err != nil {
		t.Fatalf("%s/dists/%s/Release: %v", UbuntuArchive, suite, err)
	}
	gz, err := httpGet(ctx, UbuntuArchive+"/dists/"+suite+"/"+index)
	if err != nil {
		skipOrFail(t, "the Ubuntu archive is not reachable: "+err.Error())
	}
	if got := sha256Hex(gz); got != want {
		t.Fatalf("%s %s: SHA256 %s, the Release file says %s", suite, index, got, want)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatalf("%s %s: %v", suite, index, err)
	}
	packages, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s %s: %v", suite, index, err)
	}
	stanzas := packageStanzas(packages)
	for _, p := range missing {
		st, ok := stanzas[p]
		if !ok {
			t.Fatalf("package %s is not in %s %s", p, suite, index)
		}
		filename, sum := field(st, "Filename"), field(st, "SHA256")
		if filename == "" || sum == "" {
			t.Fatalf("package %s in %s %s has no Filename or SHA256", p, suite, index)
		}
		deb, err := httpGet(ctx, UbuntuArchive+"/"+filename)
		if err != nil {
			skipOrFail(t, "the Ubuntu archive is not reachable: "+err.Error())
		}
		if got := sha256Hex(deb); got != sum {
			t.Fatalf("%s: SHA256 %s, %s %s says %s", filename, got, suite, index, sum)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(filename)), deb, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	debs, missing = FindDebs(dir, pkgs...)
	if len(missing) > 0 {
		t.Fatalf("no .deb of %s in %s after downloading", strings.Join(missing, " "), dir)
	}
	return debs
}

// debCacheDir is the directory DebianImage and UbuntuDebs keep .deb
// files in ($HALLMARK_DEB_CACHE, or ~/.cache/hallmark/debs).
func debCacheDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv(DebCacheEnv); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(home, ".cache", "hallmark", "debs")
}

// releaseSHA256 returns the SHA256 a Release file gives for path.
func releaseSHA256(release []byte, path string) (string, error) {
	in := false
	sc := bufio.NewScanner(bytes.NewReader(release))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, " ") {
			in = strings.HasPrefix(line, "SHA256:")
			continue
		}
		if f := strings.Fields(line); in && len(f) == 3 && f[2] == path {
			return f[0], nil
		}
	}
	return "", fmt.Errorf("no SHA256 for %s", path)
}

// packageStanzas splits a Packages index into its stanzas by package name
// (the first stanza of a name wins; a suite's main lists each once).
func packageStanzas(packages []byte) map[string][]byte {
	out := map[string][]byte{}
	for _, st := range bytes.Split(packages, []byte("\n\n")) {
		st = append(bytes.TrimSpace(st), '\n')
		name := field(st, "Package")
		if _, dup := out[name]; name != "" && !dup {
			out[name] = st
		}
	}
	return out
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func httpGet(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 256<<20))
}
