package diff_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/repro/diff"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// fixtureBins compiles every fixture program once per test binary run.
func fixtureBins(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		var dir string
		dir, buildErr = os.MkdirTemp("", "hallmark-fixtures-")
		if buildErr != nil {
			return
		}
		binDir = dir
		args := []string{"build", "-o", dir + string(filepath.Separator)}
		for _, name := range []string{"buildtime", "random", "maporder", "tarmtime", "ziporder", "umask"} {
			args = append(args, "./testdata/fixtures/"+name)
		}
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = &exec.ExitError{}
			buildErr = err
			binDir = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build fixtures: %v\n%s", buildErr, binDir)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" && buildErr == nil {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// run executes a fixture program (optionally through sh, for the umask).
func run(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// untilDiffer runs produce until two outputs differ, for fixtures whose
// instability (map iteration order) can, rarely, repeat by chance.
func untilDiffer(t *testing.T, produce func(out string)) (string, string) {
	t.Helper()
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	produce(a)
	da, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		b := filepath.Join(dir, "b"+string(rune('0'+i%10))+string(rune('a'+i/10)))
		produce(b)
		db, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if string(da) != string(db) {
			return a, b
		}
	}
	t.Fatal("fixture output never changed in 50 runs")
	return "", ""
}

func writeTree(t *testing.T, dir string, mtime time.Time) {
	t.Helper()
	files := map[string]string{"src/main.c": "int main(void) { return 0; }\n", "README": "fixture tree\n", "doc/notes.txt": "notes\n"}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A checkout made at another time: every file and directory gets it.
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, mtime, mtime)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func goBuild(t *testing.T, trimpath bool, out string) {
	t.Helper()
	src, err := os.ReadFile("testdata/fixtures/hello/main.go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/hello\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"build", "-o", out}
	if trimpath {
		args = append(args, "-trimpath")
	}
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", dir, err, out)
	}
}

// TestFixtures builds each deliberately non-reproducible fixture twice under
// different conditions and checks that the explainer finds the difference
// and attributes it to the right cause, and that the reproducible variants
// compare equal.
func TestFixtures(t *testing.T) {
	bins := fixtureBins(t)
	bin := func(name string) string { return filepath.Join(bins, name) }
	tests := []struct {
		name       string
		pair       func(t *testing.T) (string, string)
		wantCauses []diff.Cause // nil: identical
		wantKind   diff.Kind
	}{
		{
			name: "build time",
			pair: func(t *testing.T) (string, string) {
				dir := t.TempDir()
				a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
				run(t, nil, bin("buildtime"), a)
				run(t, nil, bin("buildtime"), b)
				return a, b
			},
			wantCauses: []diff.Cause{diff.CauseTimestamp},
			wantKind:   diff.KindText,
		},
		{
			name: "random bytes",
			pair: func(t *testing.T) (string, string) {
				dir := t.TempDir()
				a, b := filepath.Join(dir, "a.bin"), filepath.Join(dir, "b.bin")
				run(t, nil, bin("random"), a)
				run(t, nil, bin("random"), b)
				return a, b
			},
			wantCauses: []diff.Cause{diff.CauseRandomness},
			wantKind:   diff.KindBytes,
		},
		{
			name: "map iteration order",
			pair: func(t *testing.T) (string, string) {
				return untilDiffer(t, func(out string) { run(t, nil, bin("maporder"), out) })
			},
			wantCauses: []diff.Cause{diff.CauseOrdering},
			wantKind:   diff.KindText,
		},
		{
			name: "tar with real mtimes",
			pair: func(t *testing.T) (string, string) {
				srcA, srcB, dir := t.TempDir(), t.TempDir(), t.TempDir()
				writeTree(t, srcA, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
				writeTree(t, srcB, time.Date(2026, 3, 2, 11, 30, 0, 0, time.UTC))
				a, b := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar")
				run(t, nil, bin("tarmtime"), srcA, a)
				run(t, nil, bin("tarmtime"), srcB, b)
				return a, b
			},
			wantCauses: []diff.Cause{diff.CauseTimestamp},
			wantKind:   diff.KindMetadata,
		},
		{
			name: "zip with unstable member order",
			pair: func(t *testing.T) (string, string) {
				return untilDiffer(t, func(out string) { run(t, nil, bin("ziporder"), out) })
			},
			wantCauses: []diff.Cause{diff.CauseFileOrder},
			wantKind:   diff.KindOrder,
		},
		{
			name: "file modes follow the umask",
			pair: func(t *testing.T) (string, string) {
				wa, wb, dir := t.TempDir(), t.TempDir(), t.TempDir()
				a, b := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar")
				const sh = `umask "$1"; shift; exec "$@"`
				run(t, nil, "sh", "-c", sh, "sh", "022", bin("umask"), wa, a)
				run(t, nil, "sh", "-c", sh, "sh", "002", bin("umask"), wb, b)
				return a, b
			},
			wantCauses: []diff.Cause{diff.CauseFileMode},
			wantKind:   diff.KindMetadata,
		},
		{
			name: "go build path without -trimpath",
			pair: func(t *testing.T) (string, string) {
				dir := t.TempDir()
				a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
				goBuild(t, false, a)
				goBuild(t, false, b)
				return a, b
			},
			wantCauses: []diff.Cause{diff.CauseBuildPath},
			wantKind:   diff.KindPaths,
		},
		{
			name: "reproducible: go build -trimpath in two directories",
			pair: func(t *testing.T) (string, string) {
				dir := t.TempDir()
				a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
				goBuild(t, true, a)
				goBuild(t, true, b)
				return a, b
			},
		},
		{
			name: "reproducible: tar honouring SOURCE_DATE_EPOCH",
			pair: func(t *testing.T) (string, string) {
				srcA, srcB, dir := t.TempDir(), t.TempDir(), t.TempDir()
				writeTree(t, srcA, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
				writeTree(t, srcB, time.Date(2026, 3, 2, 11, 30, 0, 0, time.UTC))
				a, b := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar")
				env := []string{"SOURCE_DATE_EPOCH=1700000000"}
				run(t, env, bin("tarmtime"), srcA, a)
				run(t, env, bin("tarmtime"), srcB, b)
				return a, b
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.pair(t)
			rep, err := diff.Files(t.Context(), a, b)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantCauses == nil {
				if !rep.Identical || len(rep.Differences) != 0 {
					t.Fatalf("want identical, got %d differences: %+v", len(rep.Differences), rep.Differences)
				}
				return
			}
			if rep.Identical {
				t.Fatal("want a difference, report says identical")
			}
			if diff := cmp.Diff(tt.wantCauses, rep.Causes()); diff != "" {
				t.Errorf("causes (-want +got):\n%s\nreport: %+v", diff, rep.Differences)
			}
			if !slices.ContainsFunc(rep.Differences, func(d diff.Difference) bool { return d.Kind == tt.wantKind }) {
				t.Errorf("no difference of kind %s in %+v", tt.wantKind, rep.Differences)
			}
		})
	}
}
