package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/oci/ocitest"
)

// products writes the same two build products under dir, with the given
// umask and modification time.
func imageProducts(t *testing.T, dir string, umask int, mtime time.Time) {
	t.Helper()
	old := syscall.Umask(umask)
	defer syscall.Umask(old)
	if err := os.MkdirAll(filepath.Join(dir, "dist"), 0o777); err != nil {
		t.Fatal(err)
	}
	for n, c := range map[string]string{"dist/app": "#!/bin/sh\necho app\n", "dist/app.conf": "level=info\n"} {
		p := filepath.Join(dir, n)
		mode := os.FileMode(0o666)
		if n == "dist/app" {
			mode = 0o777
		}
		if err := os.WriteFile(p, []byte(c), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

// Two assemblies of the same products on the same base, from different
// working directories, with different umasks and file times, one written
// to an OCI layout and one pushed, are the same image; the provenance
// names the image by its repository and the base, the products and the
// products' own provenance as resolved dependencies.
func TestImageAssembleReproducibleWithProvenance(t *testing.T) {
	ta := newTestApp(t)
	ta.env["SOURCE_DATE_EPOCH"] = "1700000000"
	dir := t.TempDir()
	reg := ocitest.NewRegistry(t)
	ca := writeFile(t, filepath.Join(dir, "ca.pem"), string(reg.CertPEM()))
	baseDigest := reg.Push(t, "base/distroless:v1", testImage(t))
	base := reg.Host + "/base/distroless@" + baseDigest
	key := filepath.Join(dir, "signer")
	ta.mustRun(t, "keygen", key)

	w1, w2 := filepath.Join(dir, "w1"), filepath.Join(dir, "w2")
	imageProducts(t, w1, 0o022, time.Unix(1, 0))
	imageProducts(t, w2, 0o077, time.Now())

	// The products' own provenance, as 'hallmark build' would have stored it.
	pred := writeFile(t, filepath.Join(dir, "pred.json"), `{"buildDefinition":{"buildType":"https://hallmark.dev/build/v1"}}`)
	ta.mustRun(t, "attest", "--key", key+".key", "--predicate-type", "https://slsa.dev/provenance/v1", "--predicate", pred,
		"--out", filepath.Join(dir, "app.prov.json"), filepath.Join(w1, "dist/app"))
	appProv := ta.readFile(t, filepath.Join(dir, "app.prov.json"))

	args := func(out ...string) []string {
		return append([]string{"--registry-ca", ca, "image", "--base", base,
			"--file", "dist/app=/usr/local/bin/app", "--file", "dist/app.conf=/etc/app.conf",
			"--entrypoint", "/usr/local/bin/app", "--env", "LEVEL=info", "--label", "org.opencontainers.image.title=app"}, out...)
	}
	t.Chdir(w1)
	ta.mustRun(t, args("--out", "oci:"+filepath.Join(dir, "a"))...)
	d1 := strings.TrimSpace(ta.out.String())
	ta.out.Reset()

	t.Chdir(w2)
	old := syscall.Umask(0o077)
	ta.mustRun(t, args("--out", "oci:"+filepath.Join(dir, "b"), "--push", reg.Host+"/team/app:v1",
		"--key", key+".key", "--provenance", filepath.Join(dir, "image.prov.json"))...)
	syscall.Umask(old)
	d2 := strings.TrimSpace(ta.out.String())
	if d1 != d2 || !strings.HasPrefix(d1, "sha256:") {
		t.Fatalf("two assemblies of the same inputs: %q and %q", d1, d2)
	}
	for _, l := range []string{"a", "b"} {
		img, err := oci.OpenLayout(filepath.Join(dir, l), "")
		if err != nil {
			t.Fatal(err)
		}
		if img.Digest.String() != d1 {
			t.Errorf("layout %s holds %s, printed %s", l, img.Digest, d1)
		}
		cf, err := img.Image.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Created.Unix() != 1700000000 || cf.Config.Entrypoint[0] != "/usr/local/bin/app" || cf.Config.Labels["org.opencontainers.image.title"] != "app" {
			t.Errorf("layout %s config: created %v, entrypoint %q, labels %v", l, cf.Created, cf.Config.Entrypoint, cf.Config.Labels)
		}
		if n := len(cf.RootFS.DiffIDs); n != 3 {
			t.Errorf("layout %s has %d layers, want the base's 2 and one more", l, n)
		}
	}

	// The pushed image is the same one, readable by digest.
	ta.mustRun(t, "--registry-ca", ca, "evidence", "ls", reg.Host+"/team/app@"+d1)

	// Provenance: subject the image by repository; dependencies the base
	// (by its digest), each product and the app's provenance bundle.
	repo := reg.Host + "/team/app"
	subs := storedSubjects(t, ta, "https://slsa.dev/provenance/v1")
	found := false
	for _, s := range subs {
		if s.Name == repo && "sha256:"+s.Digest["sha256"] == d1 {
			found = true
		}
	}
	if !found {
		t.Errorf("no provenance about %s@%s in %+v", repo, d1, subs)
	}
	var p struct {
		BuildDefinition struct {
			ResolvedDependencies []struct {
				URI    string            `json:"uri"`
				Digest map[string]string `json:"digest"`
			} `json:"resolvedDependencies"`
		} `json:"buildDefinition"`
	}
	if err := json.Unmarshal(extractPredicate(t, ta.readFile(t, filepath.Join(dir, "image.prov.json"))), &p); err != nil {
		t.Fatal(err)
	}
	deps := map[string]string{}
	for _, d := range p.BuildDefinition.ResolvedDependencies {
		deps[d.URI] = d.Digest["sha256"]
	}
	appSum, _, _ := v1.SHA256(strings.NewReader("#!/bin/sh\necho app\n"))
	provSum, _, _ := v1.SHA256(strings.NewReader(string(appProv)))
	want := map[string]string{
		"oci://" + reg.Host + "/base/distroless":  strings.TrimPrefix(baseDigest, "sha256:"),
		"file:dist/app":                           appSum.Hex,
		"hallmark:evidence/sha256:" + provSum.Hex: provSum.Hex,
	}
	for uri, sum := range want {
		if deps[uri] != sum {
			t.Errorf("resolved dependency %s = %q, want %q (all: %v)", uri, deps[uri], sum, deps)
		}
	}
	if _, ok := deps["file:dist/app.conf"]; !ok {
		t.Errorf("no dependency on dist/app.conf: %v", deps)
	}

	// provenance show names those inputs (it counted them as "3 from
	// lockfiles" and showed none, so the base image was nowhere).
	ta.out.Reset()
	ta.mustRun(t, "provenance", "show", "--key", key+".pub", filepath.Join(dir, "image.prov.json"))
	for _, want := range []string{
		"dependencies: 0 packages\n",
		"input:        oci://" + reg.Host + "/base/distroless " + baseDigest + " (base image)\n",
		"input:        file:dist/app sha256:" + appSum.Hex + " (product at /usr/local/bin/app)\n",
		"input:        hallmark:evidence/sha256:" + provSum.Hex + " (provenance of dist/app)\n",
	} {
		if !strings.Contains(ta.out.String(), want) {
			t.Errorf("provenance show lacks %q:\n%s", want, ta.out)
		}
	}
}

// A base named by tag alone is refused unless --base-tag-unsafe; scratch
// needs no base; a changed product is another image.
func TestImageAssembleBaseRules(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	reg := ocitest.NewRegistry(t)
	ca := writeFile(t, filepath.Join(dir, "ca.pem"), string(reg.CertPEM()))
	reg.Push(t, "base/img:v1", testImage(t))
	app := writeFile(t, filepath.Join(dir, "app"), "x")
	if code := ta.run("--registry-ca", ca, "image", "--base", reg.Host+"/base/img:v1", "--file", app+"=/app", "--out", "oci:"+filepath.Join(dir, "o")); code != ExitUsage {
		t.Fatalf("tag-only base: exit %d, want %d: %s", code, ExitUsage, ta.errOut)
	}
	if !strings.Contains(ta.errOut.String(), "--base-tag-unsafe") {
		t.Errorf("refusal does not name the way out: %s", ta.errOut)
	}
	ta.mustRun(t, "--registry-ca", ca, "image", "--base", reg.Host+"/base/img:v1", "--base-tag-unsafe", "--file", app+"=/app", "--out", "oci:"+filepath.Join(dir, "o"))
	ta.out.Reset()
	ta.mustRun(t, "image", "--file", app+"=/app", "--out", "oci:"+filepath.Join(dir, "s1"))
	s1 := ta.out.String()
	ta.out.Reset()
	writeFile(t, app, "y")
	ta.mustRun(t, "image", "--file", app+"=/app", "--out", "oci:"+filepath.Join(dir, "s2"))
	if s1 == ta.out.String() {
		t.Errorf("a changed product gave the same image %s", s1)
	}
	if code := ta.run("image", "--file", app+"=/app"); code != ExitUsage {
		t.Errorf("no --out or --push: exit %d", code)
	}
}

// diff of two images names the differing layer, the files inside it and
// the likely causes; two assemblies of the same inputs are identical.
func TestDiffImages(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	app := writeFile(t, filepath.Join(dir, "app"), "#!/bin/sh\necho one\n")
	conf := writeFile(t, filepath.Join(dir, "conf"), "a=1\n")
	build := func(out, epoch string) string {
		ta.mustRun(t, "image", "--source-date-epoch", epoch, "--file", app+"=/bin/app", "--file", conf+"=/etc/conf", "--out", "oci:"+filepath.Join(dir, out))
		return "oci:" + filepath.Join(dir, out)
	}
	a := build("a", "100")
	same := build("same", "100")
	ta.out.Reset()
	ta.mustRun(t, "diff", a, same)
	if !strings.Contains(ta.out.String(), "identical") {
		t.Errorf("same inputs not identical:\n%s", ta.out)
	}
	writeFile(t, app, "#!/bin/sh\necho two\n")
	b := build("b", "200")
	ta.out.Reset()
	if code := ta.run("diff", "--format", "json", a, b); code != ExitRejected {
		t.Fatalf("diff of different images: exit %d, want %d: %s", code, ExitRejected, ta.errOut)
	}
	var rep struct {
		Differences []struct {
			Path   string   `json:"path"`
			Kind   string   `json:"kind"`
			Field  string   `json:"field"`
			Causes []string `json:"causes"`
		} `json:"differences"`
	}
	if err := json.Unmarshal(ta.out.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %s", err, ta.out)
	}
	var appContent, confMtime, config bool
	for _, d := range rep.Differences {
		switch {
		case strings.HasPrefix(d.Path, "layer 0 ") && strings.HasSuffix(d.Path, "!bin/app") && d.Field != "mtime":
			appContent = true
		case strings.HasSuffix(d.Path, "!etc/conf") && d.Field == "mtime" && slicesContains(d.Causes, "timestamp"):
			confMtime = true
		case d.Path == "config":
			config = true
		}
	}
	if !appContent || !confMtime || !config {
		t.Errorf("app content %v, conf mtime %v, config %v in:\n%s", appContent, confMtime, config, ta.out)
	}
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Debian's docker-registry (distribution 2.8, plain HTTP when listed):
// the base is read from it by digest, the image pushed back to it is the
// one written to the layout, and diff finds the two identical.
func TestImageAssembleDistributionRegistry(t *testing.T) {
	ta := newTestApp(t)
	dir := t.TempDir()
	host := ocitest.StartDistribution(t)
	baseDigest := ocitest.PushTo(t, host+"/base/img:v1", testImage(t))
	app := writeFile(t, filepath.Join(dir, "app"), "#!/bin/sh\nexit 0\n")
	ta.mustRun(t, "--insecure-registry", host, "image", "--base", host+"/base/img@"+baseDigest,
		"--file", app+"=/app", "--entrypoint", "/app", "--out", "oci:"+filepath.Join(dir, "out"), "--push", host+"/team/app:v2")
	dg := strings.TrimSpace(ta.out.String())
	ta.out.Reset()
	ta.mustRun(t, "--insecure-registry", host, "diff", "oci:"+filepath.Join(dir, "out"), host+"/team/app:v2")
	if !strings.Contains(ta.out.String(), "identical") || !strings.Contains(ta.out.String(), dg) {
		t.Errorf("pushed image is not the layout's %s:\n%s", dg, ta.out)
	}
}
