package secrets_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/secrets"
	"github.com/hallmark-dev/hallmark/secrets/secretstest"
)

// key renders what a test expects of a finding.
func key(f finding.Finding) string {
	s := secrets.Where(f.Location) + " " + f.RuleID
	if f.Suppressed {
		s += " (suppressed)"
	}
	return s
}

func keys(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, key(f))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func scan(t *testing.T, path string, cfg secrets.Config) []finding.Finding {
	t.Helper()
	fs, err := secrets.Scan(t.Context(), path, cfg)
	if err != nil {
		t.Fatalf("Scan(%s): %v", path, err)
	}
	return fs
}

// assertNoLeak renders findings the ways a report does (JSON and every
// field as text) and checks that no canary secret appears.
func assertNoLeak(t *testing.T, fs []finding.Finding, cs []secretstest.Canary) {
	t.Helper()
	js, err := json.Marshal(fs)
	if err != nil {
		t.Fatal(err)
	}
	text := string(js) + fmt.Sprintf("%+v", fs)
	for _, c := range cs {
		for _, n := range c.Needles {
			if strings.Contains(text, n) {
				t.Errorf("report leaks part of canary %q: %.6s…", c.Name, n)
			}
		}
	}
}

func slug(s string) string { return strings.ReplaceAll(s, " ", "-") }

// canaryFiles returns one file per canary, the credential on line 3 or later.
func canaryFiles(cs []secretstest.Canary) ([]entry, []string) {
	var es []entry
	var want []string
	for _, c := range cs {
		name := "conf/" + slug(c.Name) + ".txt"
		es = append(es, entry{name, []byte("# service configuration\n\n" + c.Text)})
		for _, r := range c.Rules {
			want = append(want, name+" "+r)
		}
	}
	return es, want
}

func TestScanTree(t *testing.T) {
	cs := secretstest.Canaries(t, 42)
	dir := t.TempDir()
	es, want := canaryFiles(cs)
	for _, e := range es {
		writeFile(t, filepath.Join(dir, e.name), e.data)
	}
	// A clean file and a symlink to a secret outside the tree, which must
	// not be followed.
	writeFile(t, filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"))
	outside := filepath.Join(t.TempDir(), "outside.txt")
	writeFile(t, outside, []byte(cs[0].Text))
	if err := os.Symlink(outside, filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	fs := scan(t, dir, secrets.Config{})
	slices.Sort(want)
	if diff := cmp.Diff(slices.Compact(want), keys(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range fs {
		if f.Location.Line < 3 || f.Location.Column < 1 {
			t.Errorf("%s: line %d column %d, want line >= 3", key(f), f.Location.Line, f.Location.Column)
		}
		if f.Evidence == "" || f.Severity == finding.SeverityUnknown || f.Title == "" {
			t.Errorf("%s: incomplete finding %+v", key(f), f)
		}
	}
	assertNoLeak(t, fs, cs)
}

func TestScanLineNumbers(t *testing.T) {
	cs := secretstest.Canaries(t, 5)
	gh := cs[2] // github pat, one line
	dir := t.TempDir()
	// Put the token far down a large file, past several detector chunks.
	var b strings.Builder
	for i := range 50_000 {
		fmt.Fprintf(&b, "line %d of filler text\n", i+1)
	}
	b.WriteString(gh.Text)
	writeFile(t, filepath.Join(dir, "big.log"), []byte(b.String()))
	fs := scan(t, dir, secrets.Config{})
	if len(fs) != 1 || fs[0].Location.Line != 50_001 || fs[0].RuleID != "github-pat" {
		t.Fatalf("got %+v, want one github-pat finding on line 50001", fs)
	}
}

func TestScanArchives(t *testing.T) {
	cs := secretstest.Canaries(t, 9)
	aws, gh, pem := cs[0], cs[2], cs[7]
	awsFile := entry{"app/.aws/credentials", []byte(aws.Text)}
	ghFile := entry{"ci/env.sh", []byte("#!/bin/sh\n" + gh.Text)}
	pemFile := entry{"etc/ssl/private/server.key", []byte(pem.Text)}
	for _, tc := range []struct {
		name  string
		file  string
		data  func(t *testing.T) []byte
		want  []string
		limit secrets.Limits
	}{{
		name: "tar", file: "rootfs.tar",
		data: func(t *testing.T) []byte { return tarBytes(t, awsFile, ghFile) },
		want: []string{"rootfs.tar!app/.aws/credentials aws-access-token", "rootfs.tar!ci/env.sh github-pat"},
	}, {
		name: "tar.gz", file: "context.tar.gz",
		data: func(t *testing.T) []byte { return gzipBytes(t, tarBytes(t, pemFile)) },
		want: []string{"context.tar.gz!etc/ssl/private/server.key private-key"},
	}, {
		name: "tgz without a telling name", file: "blob",
		data: func(t *testing.T) []byte { return gzipBytes(t, tarBytes(t, awsFile)) },
		want: []string{"blob!app/.aws/credentials aws-access-token"},
	}, {
		name: "tar.zst", file: "layer.tar.zst",
		data: func(t *testing.T) []byte { return zstdBytes(t, tarBytes(t, ghFile)) },
		want: []string{"layer.tar.zst!ci/env.sh github-pat"},
	}, {
		name: "gzip of plain text", file: "env.sh.gz",
		data: func(t *testing.T) []byte { return gzipBytes(t, ghFile.data) },
		want: []string{"env.sh.gz github-pat"},
	}, {
		name: "zip", file: "bundle.zip",
		data: func(t *testing.T) []byte { return zipBytes(t, awsFile, ghFile) },
		want: []string{"bundle.zip!app/.aws/credentials aws-access-token", "bundle.zip!ci/env.sh github-pat"},
	}, {
		name: "jar inside a tar", file: "image.tar",
		data: func(t *testing.T) []byte {
			jar := zipBytes(t, entry{"META-INF/MANIFEST.MF", []byte("Manifest-Version: 1.0\n")}, entry{"application.properties", []byte("db.url=jdbc:x\n" + gh.Text)})
			return tarBytes(t, entry{"opt/app/app.jar", jar}, entry{"etc/hostname", []byte("box\n")})
		},
		want: []string{"image.tar!opt/app/app.jar!application.properties github-pat"},
	}, {
		name: "tar.gz in zip in tar", file: "release.tar",
		data: func(t *testing.T) []byte {
			inner := gzipBytes(t, tarBytes(t, pemFile))
			z := zipBytes(t, entry{"dist/ctx.tgz", inner})
			return tarBytes(t, entry{"./release/bundle.zip", z})
		},
		want: []string{"release.tar!release/bundle.zip!dist/ctx.tgz!etc/ssl/private/server.key private-key"},
	}, {
		name: "nesting deeper than the limit", file: "deep.tar",
		data: func(t *testing.T) []byte {
			b := tarBytes(t, ghFile)
			for range 3 {
				b = tarBytes(t, entry{"inner.tar", b})
			}
			return b
		},
		limit: secrets.Limits{MaxDepth: 2},
		want:  []string{"deep.tar!inner.tar!inner.tar " + secrets.IncompleteRule},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, tc.file), tc.data(t))
			fs := scan(t, dir, secrets.Config{Limits: tc.limit})
			if diff := cmp.Diff(tc.want, keys(fs)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			// The same archive given as a single file is scanned the same way.
			if diff := cmp.Diff(keys(fs), keys(scan(t, filepath.Join(dir, tc.file), secrets.Config{Limits: tc.limit}))); diff != "" {
				t.Errorf("scanning the file directly differs (-dir +file):\n%s", diff)
			}
			assertNoLeak(t, fs, cs)
		})
	}
}

// testImage builds a two-layer image whose second layer and whose config
// environment hold canary credentials.
func testImage(t *testing.T, cs []secretstest.Canary) v1.Image {
	t.Helper()
	base := static.NewLayer(gzipBytes(t, tarBytes(t, entry{"etc/os-release", []byte("ID=hallmark\n")})), types.DockerLayer)
	app := static.NewLayer(gzipBytes(t, tarBytes(t, entry{"srv/app/config.yaml", []byte("github:\n  " + strings.TrimSpace(cs[2].Text) + "\n")})), types.DockerLayer)
	img, err := mutate.AppendLayers(empty.Image, base, app)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, v1.Config{Env: []string{"PATH=/usr/bin", "AWS_ACCESS_KEY_ID=" + cs[0].EnvValue}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestScanImages(t *testing.T) {
	cs := secretstest.Canaries(t, 13)
	img := testImage(t, cs)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	appDigest, _ := layers[1].Digest()
	cfgDigest, _ := img.ConfigName()

	t.Run("OCI layout directory", func(t *testing.T) {
		dir := t.TempDir()
		p, err := layout.Write(dir, empty.Index)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AppendImage(img); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"blobs/sha256/" + cfgDigest.Hex + " aws-access-token",
			"blobs/sha256/" + appDigest.Hex + "!srv/app/config.yaml github-pat",
		}
		fs := scan(t, dir, secrets.Config{})
		if diff := cmp.Diff(want, keys(fs)); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
		assertNoLeak(t, fs, cs)
	})
	t.Run("docker save tarball", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "image.tar")
		ref, err := name.ParseReference("registry.example/app:1")
		if err != nil {
			t.Fatal(err)
		}
		if err := tarball.WriteToFile(file, ref, img); err != nil {
			t.Fatal(err)
		}
		fs := scan(t, file, secrets.Config{})
		want := []string{
			"image.tar!" + appDigest.Hex + ".tar.gz!srv/app/config.yaml github-pat",
			"image.tar!" + cfgDigest.String() + " aws-access-token",
		}
		slices.Sort(want)
		if diff := cmp.Diff(want, keys(fs)); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
		assertNoLeak(t, fs, cs)
	})
}
