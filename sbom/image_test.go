package sbom_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hallmark-dev/hallmark/oci/ocitest"
	"github.com/hallmark-dev/hallmark/sbom"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "image", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// debianImage is a two-layer image made of real Debian 12 package
// metadata: the base layer installs four packages, the second adds
// libssl3 and openssl (rewriting the dpkg status file, as dpkg does).
func debianImage(t *testing.T) v1.Image {
	return ocitest.Image(t, v1.Config{Env: []string{"PATH=/usr/bin"}},
		ocitest.Layer{CreatedBy: "ADD rootfs /", Files: map[string][]byte{
			"etc/os-release":      readTestdata(t, "os-release"),
			"var/lib/dpkg/status": readTestdata(t, "status.base"),
		}},
		ocitest.Layer{CreatedBy: "RUN apt-get install -y openssl", Files: map[string][]byte{
			"var/lib/dpkg/status": readTestdata(t, "status.ssl"),
		}},
	)
}

func TestScanImageDebianPackagesAndLayers(t *testing.T) {
	img := debianImage(t)
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := sbom.ScanImage(t.Context(), img, sbom.ImageSubject{Name: "registry.example/app", Digest: h})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Subject.Kind != "image" || inv.Subject.Name != "registry.example/app" || len(inv.Subject.Hashes) != 1 || inv.Subject.Hashes[0].Value != h.Hex {
		t.Errorf("subject %+v, want the image named by repository and manifest digest %s", inv.Subject, h)
	}
	layers, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	diffIDs := layers.RootFS.DiffIDs
	type row struct {
		Eco, Name, Version, Source string
		Layer                      int
		DiffID                     string
	}
	var got []row
	for _, c := range inv.Components {
		r := row{Eco: c.Ecosystem, Name: c.Name, Version: c.Version, Source: c.Source, Layer: -1}
		if c.Layer != nil {
			r.Layer, r.DiffID = c.Layer.Index, c.Layer.DiffID
		}
		got = append(got, r)
	}
	base, ssl := diffIDs[0].String(), diffIDs[1].String()
	// Versions as the real status file records them (Debian 12 point release).
	want := []row{
		{"Debian:12", "base-files", "12.4+deb12u11", "", 0, base},
		{"Debian:12", "libc6", "2.36-9+deb12u14", "glibc", 0, base},
		{"Debian:12", "libssl3", "3.0.19-1~deb12u2", "openssl", 1, ssl},
		{"Debian:12", "openssl", "3.0.19-1~deb12u2", "", 1, ssl},
		{"Debian:12", "tar", "1.34+dfsg-1.2+deb12u1", "", 0, base},
		{"Debian:12", "zlib1g", "1:1.2.13.dfsg-1", "zlib", 0, base},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("components (-want +got):\n%s", diff)
	}
}
