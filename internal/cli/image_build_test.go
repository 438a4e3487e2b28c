package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/tooltest"
)

// buildahScript builds a one-file image from scratch with Debian's buildah
// (in its own storage under a temporary directory, vfs driver, so nothing
// outside the build is touched) and writes it twice: as an OCI layout
// (out/layout) and as an oci-archive (out/hello.tar). stamp is a command
// whose output becomes /stamp.txt in the image.
func buildahScript(buildah, stamp string) string {
	return `set -e
S=$(mktemp -d)
B="` + buildah + ` --root $S/root --runroot $S/run --storage-driver vfs"
` + stamp + ` > stamp.txt
printf 'FROM scratch\nCOPY hello.txt stamp.txt /\n' > Containerfile
$B build -q --timestamp 0 -f Containerfile -t localhost/hello:v1 . >/dev/null
mkdir -p out
$B push -q localhost/hello:v1 oci-archive:out/hello.tar:localhost/hello:v1
$B push -q localhost/hello:v1 oci:out/layout:localhost/hello:v1
rm -rf $S Containerfile stamp.txt
`
}

// manifestOf returns the manifest digest an OCI layout's index.json names.
func manifestOf(t *testing.T, layoutDir string) string {
	t.Helper()
	var idx struct {
		Manifests []struct{ Digest string }
	}
	b, err := os.ReadFile(filepath.Join(layoutDir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &idx); err != nil || len(idx.Manifests) != 1 {
		t.Fatalf("index.json %s: %v", b, err)
	}
	return idx.Manifests[0].Digest
}

// An image written by another tool (buildah, as an OCI layout and as an
// oci-archive) is one product of `hallmark build`, digested by its
// manifest: the layout's blobs are not products, and the archive's subject
// is the image, not the tar file.
func TestBuildRecognisesImageOutputs(t *testing.T) {
	buildah := tooltest.Find(t, "buildah")
	ta := newTestApp(t)
	ta.env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
	key := filepath.Join(t.TempDir(), "builder")
	ta.mustRun(t, "keygen", key)
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "hello.txt"), "hello\n")
	t.Chdir(src)
	outDir := filepath.Join(t.TempDir(), "evidence")
	ta.mustRun(t, "build", "--key", key+".key", "--out", outDir, "--output-dir", "out", "--sandbox", "off",
		"--", "sh", "-c", buildahScript(buildah, "echo fixed"))
	manifest := manifestOf(t, filepath.Join(src, "out", "layout"))
	for _, want := range []string{
		"product out/hello.tar: image localhost/hello " + manifest + " (manifest digest)",
		"product out/layout: image localhost/hello " + manifest + " (manifest digest)",
	} {
		if !strings.Contains(ta.errOut.String(), want) {
			t.Errorf("build output lacks %q:\n%s", want, ta.errOut)
		}
	}
	if strings.Contains(ta.errOut.String(), "blobs/sha256") {
		t.Errorf("the layout's blobs are listed as products:\n%s", ta.errOut)
	}
	// The provenance's subject is the image: verify accepts the layout and
	// the archive, by manifest digest.
	bundle := filepath.Join(outDir, "provenance.bundle.json")
	ta.mustRun(t, "verify", "--key", key+".pub", "--bundle", bundle, "oci:"+filepath.Join(src, "out", "layout"))
	ta.mustRun(t, "verify", "--key", key+".pub", "--bundle", bundle, "docker-archive:"+filepath.Join(src, "out", "hello.tar"))
	ta.mustRun(t, "provenance", "show", "--key", key+".pub", bundle)
	// The layout and the archive are one image: one subject.
	if want := "built:        localhost/hello " + manifest; strings.Count(ta.out.String(), want) != 1 {
		t.Errorf("provenance show names %q %d times, want once:\n%s", want, strings.Count(ta.out.String(), want), ta.out)
	}
}

// repro of a buildah image build compares manifest digests: with
// --timestamp 0 and the same inputs the image is reproducible (though the
// copies' file times differ); with the build time in a file it is not, and
// --explain names the layer and the file inside it.
//
// buildah makes user namespaces of its own, which the repro sandbox (itself
// namespaces) refuses, so these builds run with --sandbox off.
func TestReproImageBuild(t *testing.T) {
	buildah := tooltest.Find(t, "buildah")
	ta := newTestApp(t)
	ta.env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "hello.txt"), "hello\n")

	ta.mustRun(t, "repro", "--source", src, "--sandbox", "off", "--vary", "timezone,home", "--no-bisect", "--format", "json", "--", "sh", "-c", buildahScript(buildah, "echo fixed"))
	var res struct {
		Reproducible bool
		Products     []struct {
			Path    string
			Digests []string
			Image   bool
		}
	}
	if err := json.Unmarshal(ta.out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, ta.out)
	}
	if !res.Reproducible || len(res.Products) != 2 {
		t.Fatalf("want two reproducible image products:\n%s", ta.out)
	}
	for _, p := range res.Products {
		if !p.Image || (p.Path != "out/hello.tar" && p.Path != "out/layout") {
			t.Errorf("product %+v, want the archive and the layout, as images", p)
		}
	}

	code := ta.run("repro", "--source", src, "--sandbox", "off", "--vary", "timezone", "--no-bisect", "--explain", "--", "sh", "-c", buildahScript(buildah, "date +%s%N"))
	if code != ExitRejected {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitRejected, ta.out, ta.errOut)
	}
	for _, want := range []string{"DIFF out/layout sha256:", "DIFF out/hello.tar sha256:", "!stamp.txt"} {
		if !strings.Contains(ta.out.String(), want) {
			t.Errorf("repro output lacks %q:\n%s", want, ta.out)
		}
	}
}
