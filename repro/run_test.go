package repro_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/build/sandbox"
	"github.com/hallmark-dev/hallmark/repro"
)

func sourceTree(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	for _, name := range []string{"a.txt", "b.txt", "c.txt", "sub/d.txt"} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// effective reports whether variation v was applied in a way the test
// builds can observe: varying only GOMAXPROCS does not change nproc.
func effective(res *repro.Result, v repro.Variation) bool {
	i := slices.IndexFunc(res.Variations, func(a repro.Applied) bool { return a.Variation == v })
	if i < 0 || !res.Variations[i].Applied {
		return false
	}
	return v != repro.VaryCPUs || strings.Contains(res.Variations[i].How, "taskset")
}

// TestRunNamesTheCulprit builds small shell "builds" that each depend on one
// condition, and checks that Run finds the build unreproducible and bisects
// to exactly that variation. Variations this machine cannot apply must
// instead leave the build reproducible and be reported as not applied.
func TestRunNamesTheCulprit(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		culprit repro.Variation // "" when the build is reproducible
	}{
		{"reproducible", `cat a.txt b.txt > out.txt`, ""},
		{"build path", `pwd > out.txt`, repro.VaryBuildPath},
		{"home", `echo "$HOME" > out.txt`, repro.VaryHome},
		{"environment", `env | grep -c HALLMARK_REPRO_EXTRA > out.txt || true`, repro.VaryEnvironment},
		{"locale", `echo "$LC_ALL" > out.txt`, repro.VaryLocale},
		{"time zone", `date +%z > out.txt`, repro.VaryTimezone},
		{"umask", `: > f && stat -c %a f > out.txt`, repro.VaryUmask},
		{"cpus", `nproc > out.txt`, repro.VaryCPUs},
		{"clock", `date -u +%Y > out.txt`, repro.VaryTime},
		{"hostname", `hostname > out.txt`, repro.VaryHostname},
		{"domain name", `cat /proc/sys/kernel/domainname > out.txt`, repro.VaryHostname},
		{"user", `id -u > out.txt`, repro.VaryUser},
		{"directory order", `ls -f . sub > out.txt`, repro.VaryFileOrder},
	}
	for _, sandboxed := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/sandboxed=%v", tt.name, sandboxed), func(t *testing.T) {
				opts := []repro.Option{repro.WithWorkDir(t.TempDir()), repro.WithEnv([]string{"PATH=" + os.Getenv("PATH")})}
				if sandboxed {
					opts = append(opts, repro.WithSandbox(repro.Sandbox{Helper: sandboxHelper(t)}))
				}
				res, err := repro.Run(t.Context(), sourceTree(t), []string{"sh", "-c", tt.script}, opts...)
				if se, ok := errors.AsType[*sandbox.SetupError](err); ok {
					t.Skipf("namespaces unavailable here: %v", se)
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.Sandboxed != sandboxed {
					t.Errorf("Sandboxed = %v, want %v", res.Sandboxed, sandboxed)
				}
				t.Logf("culprits %v, bisection %v", res.Culprits, res.Bisection)
				if !slices.ContainsFunc(res.Products, func(p repro.Product) bool { return p.Path == "out.txt" }) {
					t.Fatalf("products = %+v, want out.txt among them", res.Products)
				}
				if tt.culprit == "" || !effective(res, tt.culprit) {
					if !res.Reproducible {
						t.Fatalf("want reproducible (culprit %q effective=%v), got %+v", tt.culprit, effective(res, tt.culprit), res)
					}
					return
				}
				if res.Reproducible {
					t.Fatalf("want not reproducible, products %+v; variations %+v", res.Products, res.Variations)
				}
				if d := cmp.Diff([]repro.Variation{tt.culprit}, res.Culprits); d != "" {
					t.Errorf("culprits (-want +got):\n%s\nbisection: %+v", d, res.Bisection)
				}
			})
		}
	}
}

func TestRunNondeterministic(t *testing.T) {
	res, err := repro.Run(t.Context(), sourceTree(t), []string{"sh", "-c", "od -An -N16 -tx1 /dev/urandom > out.txt"},
		repro.WithWorkDir(t.TempDir()), repro.WithEnv([]string{"PATH=" + os.Getenv("PATH")}),
		repro.WithVariations(repro.VaryTimezone, repro.VaryHome))
	if err != nil {
		t.Fatal(err)
	}
	if res.Reproducible || !res.Nondeterministic || len(res.Culprits) != 0 {
		t.Fatalf("want nondeterministic with no culprit, got reproducible=%v nondeterministic=%v culprits=%v",
			res.Reproducible, res.Nondeterministic, res.Culprits)
	}
}

func TestRunKeepsProductsAndRecordsVariations(t *testing.T) {
	res, err := repro.Run(t.Context(), sourceTree(t), []string{"sh", "-c", "mkdir -p dist && cp a.txt dist/x.bin && date +%z > dist/tz.txt"},
		repro.WithWorkDir(t.TempDir()), repro.WithEnv([]string{"PATH=" + os.Getenv("PATH")}),
		repro.WithProducts("dist/*.bin"), repro.WithRuns(3), repro.WithoutBisect())
	if err != nil {
		t.Fatal(err)
	}
	want := []repro.Product{{Path: "dist/x.bin", Reproducible: true}}
	if d := cmp.Diff(want, res.Products, cmpIgnoreDigests); d != "" {
		t.Errorf("products (-want +got):\n%s", d)
	}
	if len(res.Products[0].Digests) != 3 || len(res.ProductDirs) != 3 {
		t.Errorf("want 3 runs recorded, got %d digests and %d product dirs", len(res.Products[0].Digests), len(res.ProductDirs))
	}
	for _, dir := range res.ProductDirs {
		if _, err := os.Stat(filepath.Join(dir, "dist/x.bin")); err != nil {
			t.Errorf("product not kept: %v", err)
		}
	}
	if len(res.Variations) != len(repro.AllVariations()) {
		t.Errorf("got %d variation records, want one per variation", len(res.Variations))
	}
	for _, a := range res.Variations {
		if !a.Applied && a.Reason == "" {
			t.Errorf("variation %s not applied without a reason", a.Variation)
		}
	}
}

func TestRunBuildFailure(t *testing.T) {
	_, err := repro.Run(t.Context(), sourceTree(t), []string{"sh", "-c", "echo broken >&2; exit 3"},
		repro.WithWorkDir(t.TempDir()), repro.WithEnv([]string{"PATH=" + os.Getenv("PATH")}))
	be, ok := errors.AsType[*repro.BuildError](err)
	if !ok || be.Run != "control" || be.Output != "broken\n" {
		t.Fatalf("err = %v, want a BuildError for the control run with its output", err)
	}
}

func TestParseVariations(t *testing.T) {
	got, err := repro.ParseVariations("timezone, umask")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]repro.Variation{repro.VaryTimezone, repro.VaryUmask}, got); d != "" {
		t.Error(d)
	}
	if _, err := repro.ParseVariations("timezone,moonphase"); !errors.Is(err, repro.ErrInvalid) {
		t.Errorf("unknown variation: err = %v, want ErrInvalid", err)
	}
}

var cmpIgnoreDigests = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Digests" }, cmp.Ignore())

// TestRunWithoutTools hides faketime, unshare, taskset and disorderfs: the
// variations that need them must be reported as not applied (or degraded)
// with a reason, and the builds still run.
func TestRunWithoutTools(t *testing.T) {
	hidden := map[string]bool{"faketime": true, "unshare": true, "taskset": true, "disorderfs": true}
	look := func(name string) (string, error) {
		if hidden[name] {
			return "", exec.ErrNotFound
		}
		return exec.LookPath(name)
	}
	res, err := repro.Run(t.Context(), sourceTree(t), []string{"sh", "-c", "hostname > out.txt; id -u >> out.txt"},
		repro.WithWorkDir(t.TempDir()), repro.WithEnv([]string{"PATH=" + os.Getenv("PATH")}), repro.WithLookPath(look))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Reproducible {
		t.Errorf("hostname and uid cannot vary without unshare, yet the build was not reproducible: %+v", res.Products)
	}
	got := map[repro.Variation]bool{}
	for _, a := range res.Variations {
		got[a.Variation] = a.Applied
		if hidden := map[repro.Variation]string{repro.VaryTime: "faketime", repro.VaryHostname: "unshare", repro.VaryUser: "unshare", repro.VaryCPUs: "taskset"}[a.Variation]; hidden != "" && !strings.Contains(a.Reason, hidden) {
			t.Errorf("%s: reason %q does not name the missing %s", a.Variation, a.Reason, hidden)
		}
	}
	want := map[repro.Variation]bool{repro.VaryTime: false, repro.VaryHostname: false, repro.VaryUser: false, repro.VaryCPUs: true, repro.VaryTimezone: true}
	for v, w := range want {
		if got[v] != w {
			t.Errorf("%s applied = %v, want %v", v, got[v], w)
		}
	}
}

// TestRunProgress: a long run says which build starts and with which
// variations, through the caller's function (issue 16.9).
func TestRunProgress(t *testing.T) {
	var lines []string
	_, err := repro.Run(t.Context(), sourceTree(t), []string{"sh", "-c", "date +%z > out.txt"},
		repro.WithWorkDir(t.TempDir()), repro.WithEnv([]string{"PATH=" + os.Getenv("PATH")}),
		repro.WithVariations(repro.VaryTimezone, repro.VaryHome),
		repro.WithProgress(func(msg string) { lines = append(lines, msg) }))
	if err != nil {
		t.Fatal(err)
	}
	// control, experiment, control again, then bisection of the two.
	want := []string{
		"build 1 (control): no variations",
		"build 2 (experiment-1): varying timezone, home",
		"build 3 (control-again): no variations",
		"build 4 (bisect): varying timezone",
		"build 5 (bisect): varying home",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if _, err := repro.Run(t.Context(), sourceTree(t), []string{"true"}, repro.WithProgress(nil)); !errors.Is(err, repro.ErrInvalid) {
		t.Errorf("nil progress: %v, want ErrInvalid", err)
	}
}

// TestRunIgnoresGitMetadata: a build that touches the checkout's .git
// (git describe refreshing the index, a hook writing a stamp) has not made
// a product there. Run hashed its runs with a private tree walker that
// included .git, so such a build was called nondeterministic; it now hashes
// with digest.Tree, which skips .git as build does.
func TestRunIgnoresGitMetadata(t *testing.T) {
	src := sourceTree(t)
	if err := os.Mkdir(filepath.Join(src, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := repro.Run(t.Context(), src, []string{"sh", "-c", "od -An -N16 -tx1 /dev/urandom > .git/stamp && cat a.txt > out.txt"},
		repro.WithWorkDir(t.TempDir()), repro.WithEnv([]string{"PATH=" + os.Getenv("PATH")}),
		repro.WithVariations(repro.VaryTimezone))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Reproducible || res.Nondeterministic {
		t.Fatalf("reproducible=%v nondeterministic=%v products=%v: .git/stamp was taken for a product",
			res.Reproducible, res.Nondeterministic, res.Products)
	}
}
