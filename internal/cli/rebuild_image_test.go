package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/tooltest"
)

// rebuild of a build whose products are images (buildah's OCI layout and
// oci-archive) compares manifest digests, keeps the rebuilt layout (a
// directory) for `hallmark diff`, and names the differing image when the
// build is not reproducible. buildah makes user namespaces of its own, which
// the sandbox refuses, so the builds run with --sandbox off.
func TestRebuildImageProducts(t *testing.T) {
	buildah := tooltest.Find(t, "buildah")
	fx := newRebuildFixture(t)
	ta := fx.ta
	ta.env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
	writeFile(t, filepath.Join(fx.repo, ".gitignore"), "out/\n")
	writeFile(t, filepath.Join(fx.repo, "hello.txt"), "hello\n")
	writeFile(t, filepath.Join(fx.repo, "fixed.sh"), buildahScript(buildah, "echo fixed"))
	writeFile(t, filepath.Join(fx.repo, "dated.sh"), buildahScript(buildah, "date +%s%N"))
	gitIn(t, fx.repo, "add", ".")
	gitIn(t, fx.repo, "commit", "-q", "-m", "image builds")
	gitIn(t, fx.clone, "pull", "-q")

	for _, tc := range []struct {
		script       string
		reproducible bool
	}{{"fixed.sh", true}, {"dated.sh", false}} {
		t.Run(tc.script, func(t *testing.T) {
			t.Chdir(fx.repo)
			os.RemoveAll(filepath.Join(fx.repo, "out"))
			evidence := filepath.Join(t.TempDir(), "evidence")
			ta.mustRun(t, "build", "--sandbox", "off", "--key", fx.key("builder")+".key", "--out", evidence, "--output-dir", "out", "--", "sh", tc.script)
			manifest := manifestOf(t, filepath.Join(fx.repo, "out", "layout"))
			rbOut := filepath.Join(t.TempDir(), "rebuild")
			code := fx.rebuild(t, "--bundle", filepath.Join(evidence, "provenance.bundle.json"), "--builder-key", fx.key("builder")+".pub", "--sandbox", "off", "--out", rbOut)
			kept := filepath.Join(rbOut, "products", "out", "layout")
			if tc.reproducible {
				if code != 0 {
					t.Fatalf("rebuild: exit %d\n%s\n%s", code, ta.out, ta.errOut)
				}
				for _, want := range []string{"ok       localhost/hello " + manifest, "image out/layout manifest " + manifest, "image out/hello.tar manifest " + manifest} {
					if !strings.Contains(ta.out.String(), want) {
						t.Errorf("rebuild output lacks %q:\n%s", want, ta.out)
					}
				}
				if got := manifestOf(t, kept); got != manifest {
					t.Errorf("the kept rebuilt layout names %s, want %s", got, manifest)
				}
				if _, err := os.Stat(filepath.Join(rbOut, "products", "out", "hello.tar")); err != nil {
					t.Error(err)
				}
				t.Chdir(fx.repo)
				ta.mustRun(t, "diff", "oci:out/layout", "oci:"+kept)
				return
			}
			if code != ExitRejected {
				t.Fatalf("rebuild: exit %d, want %d\n%s\n%s", code, ExitRejected, ta.out, ta.errOut)
			}
			rebuilt := manifestOf(t, kept)
			for _, want := range []string{
				"DIFFERS  localhost/hello rebuilt " + rebuilt + ", expected " + manifest,
				"compare: hallmark diff localhost/hello@" + manifest + " oci:" + kept,
				"compare: hallmark diff localhost/hello@" + manifest + " docker-archive:" + filepath.Join(rbOut, "products", "out", "hello.tar"),
			} {
				if !strings.Contains(ta.out.String(), want) {
					t.Errorf("rebuild output lacks %q:\n%s", want, ta.out)
				}
			}
			t.Chdir(fx.repo)
			if code := ta.run("diff", "oci:out/layout", "oci:"+kept); code != ExitRejected || !strings.Contains(ta.out.String(), "stamp.txt") {
				t.Errorf("diff of the original and rebuilt layouts: exit %d\n%s%s", code, ta.out, ta.errOut)
			}
		})
	}
}
