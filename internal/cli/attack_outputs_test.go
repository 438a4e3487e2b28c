//go:build linux

package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAttackBuildLeavesSpecialFiles reproduces a build (run as root, as
// these tests are) that leaves a setuid-root executable, setgid and sticky
// entries, a FIFO, a socket and (without the sandbox) a device node in its
// output directory. The products must keep no special bits, the special
// files must be gone, and the output and the provenance must say so.
func TestAttackBuildLeavesSpecialFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the attack is a setuid-root product")
	}
	script := `cp /bin/true dist/suid && chmod 4755 dist/suid &&
cp /bin/true dist/sgid && chmod 2755 dist/sgid &&
mkdir dist/shared && chmod 3777 dist/shared && echo x > dist/shared/f &&
mkfifo dist/pipe &&
python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("dist/sock")'`
	for _, mode := range []string{"on", "off"} {
		t.Run("sandbox "+mode, func(t *testing.T) {
			ta := newTestApp(t)
			ta.env["PATH"] = "/usr/bin:/bin"
			src := t.TempDir()
			t.Chdir(src)
			s := script
			if mode == "off" {
				s += " && mknod dist/null c 1 3"
			}
			out := t.TempDir()
			ta.mustRun(t, "build", "--out", out, "--output-dir", "dist", "--sandbox", mode, "--", "sh", "-c", s)
			for _, name := range []string{"suid", "sgid", "shared"} {
				fi, err := os.Lstat(filepath.Join(src, "dist", name))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
					t.Errorf("dist/%s kept special bits: %v", name, fi.Mode())
				}
			}
			gone := []string{"pipe", "sock"}
			if mode == "off" {
				gone = append(gone, "null")
			}
			for _, name := range gone {
				if _, err := os.Lstat(filepath.Join(src, "dist", name)); err == nil {
					t.Errorf("dist/%s is still in the output directory", name)
				}
			}
			for _, want := range []string{"dist/suid: cleared setuid", "dist/sgid: cleared setgid", "dist/shared: cleared setgid,sticky", "dist/pipe: removed FIFO", "dist/sock: removed socket"} {
				if !strings.Contains(ta.errOut.String(), want) {
					t.Errorf("build output does not say %q:\n%s", want, ta.errOut)
				}
			}
			prov, err := os.ReadFile(filepath.Join(out, "provenance.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(prov), `"outputFixes"`) || !strings.Contains(string(prov), "dist/suid: cleared setuid") {
				t.Errorf("provenance does not record the output fixes:\n%s", prov)
			}
		})
	}
}

// TestAttackBuildProductPathEscapes reproduces builds that make host files
// look like products: a symbolic link inside the output directory that a
// product glob walks through, and (without the sandbox) an output
// directory replaced by a link to a host directory. Both must fail, and
// the host file's digest must not appear as a product.
func TestAttackBuildProductPathEscapes(t *testing.T) {
	host := t.TempDir()
	secret := writeFile(t, filepath.Join(host, "secret.txt"), "host-only canary 5d1e\n")
	sum := sha256.Sum256([]byte("host-only canary 5d1e\n"))
	hostDigest := hex.EncodeToString(sum[:])
	_ = secret
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"glob through link (sandbox on)", []string{"--sandbox", "on", "--output-dir", "dist", "--products", "dist/sub/*", "--", "ln", "-s", host, "dist/sub"}},
		{"output dir replaced by link (sandbox off)", []string{"--sandbox", "off", "--output-dir", "dist", "--", "sh", "-c", "rm -rf dist && ln -s " + host + " dist"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t)
			ta.env["PATH"] = "/usr/bin:/bin"
			t.Chdir(t.TempDir())
			out := t.TempDir()
			code := ta.run(append([]string{"build", "--out", out}, tc.args...)...)
			if code == ExitOK {
				t.Errorf("build recorded files outside the source tree as products:\n%s", ta.errOut)
			}
			if strings.Contains(ta.errOut.String(), hostDigest) {
				t.Errorf("a host file's digest was reported as a product:\n%s", ta.errOut)
			}
			if !strings.Contains(ta.errOut.String(), "leaves the source tree") {
				t.Errorf("error does not say the output leaves the source tree:\n%s", ta.errOut)
			}
		})
	}
}

// TestAttackBuildRewritesProductAfterHashing reproduces an unsandboxed
// build that leaves a background process behind to replace its product
// after hallmark hashed it, so the signed digest no longer matches the
// file. Hallmark must end the build's process group when the build exits.
func TestAttackBuildRewritesProductAfterHashing(t *testing.T) {
	ta := newTestApp(t)
	ta.env["PATH"] = "/usr/bin:/bin"
	src := t.TempDir()
	t.Chdir(src)
	out := t.TempDir()
	ta.mustRun(t, "build", "--out", out, "--output-dir", "dist", "--sandbox", "off", "--", "sh", "-c",
		`echo good > dist/app; (sleep 1; echo tampered > dist/app) >/dev/null 2>&1 </dev/null &`)
	time.Sleep(2 * time.Second)
	got, err := os.ReadFile(filepath.Join(src, "dist", "app"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "good\n" {
		t.Errorf("product rewritten after it was hashed: %q", got)
	}
}

// TestAttackBuildLogLinkOverwritesHostFile reproduces an earlier build that
// planted build.log as a symbolic link in an output directory later used as
// --out: the next build truncated and overwrote the link's target.
func TestAttackBuildLogLinkOverwritesHostFile(t *testing.T) {
	ta := newTestApp(t)
	ta.env["PATH"] = "/usr/bin:/bin"
	victim := writeFile(t, filepath.Join(t.TempDir(), "victim"), "precious\n")
	t.Chdir(t.TempDir())
	ta.mustRun(t, "build", "--out", t.TempDir(), "--output-dir", "dist", "--sandbox", "on", "--", "sh", "-c", "ln -s "+victim+" dist/build.log && echo x > dist/a")
	ta.run("build", "--out", "dist", "--output-dir", "dist", "--sandbox", "on", "--", "sh", "-c", "echo built > dist/app")
	if got, _ := os.ReadFile(victim); string(got) != "precious\n" {
		t.Errorf("the build log was written through a planted link: victim now %q", got)
	}
}
