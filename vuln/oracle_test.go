package vuln_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/modfile"
	"golang.org/x/vuln/scan"

	"github.com/hallmark-dev/hallmark/sbom"
	"github.com/hallmark-dev/hallmark/vuln"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
)

// vulndbVersion is the golang.org/x/vulndb snapshot the oracle tests use.
const vulndbVersion = "golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018"

var vulndbDir = sync.OnceValues(func() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", vulndbVersion).Output()
	if err != nil {
		return "", err
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", err
	}
	if m.Error != "" || m.Dir == "" {
		return "", errors.New("go mod download: " + m.Error)
	}
	return m.Dir, nil
})

// goVulnDB returns the directory of the real Go vulnerability database
// records, skipping the test when it cannot be downloaded.
func goVulnDB(t *testing.T) string {
	t.Helper()
	dir, err := vulndbDir()
	if err != nil {
		t.Skipf("cannot download %s through the Go module proxy (%v); the real-data oracle test needs it", vulndbVersion, err)
	}
	return filepath.Join(dir, "data", "osv")
}

// goModInventory lists the requirements of a go.mod as packages: for a
// module with go >= 1.17 these are every module its packages need.
func goModInventory(t testing.TB, path string) []vuln.Package {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	repl := map[string]string{}
	for _, r := range f.Replace {
		if r.New.Version != "" && r.Old.Path == r.New.Path {
			repl[r.Old.Path] = r.New.Version
		}
	}
	var pkgs []vuln.Package
	for _, r := range f.Require {
		v := r.Mod.Version
		if rv, ok := repl[r.Mod.Path]; ok {
			v = rv
		}
		pkgs = append(pkgs, vuln.Package{Ecosystem: "Go", Name: r.Mod.Path, Version: v, PURL: "pkg:golang/" + r.Mod.Path + "@" + v})
	}
	return pkgs
}

// govulncheckModules runs govulncheck -scan module in-process on dir and
// returns OSV IDs per module (the standard library, as "stdlib", included;
// the toolchain excluded) and the modules it considered.
func govulncheckModules(t testing.TB, ctx context.Context, dir, osvDir string) (map[string][]string, []string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := scan.Command(ctx, "-C", dir, "-db", "file://"+osvDir, "-scan", "module", "-format", "json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	if err := cmd.Start(); err != nil {
		t.Fatalf("govulncheck: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("govulncheck: %v\n%s", err, stderr.String())
	}
	return parseGovulncheck(t, &stdout)
}

func parseGovulncheck(t testing.TB, r io.Reader) (map[string][]string, []string) {
	t.Helper()
	found := map[string][]string{}
	var mods []string
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			Finding *struct {
				OSV   string `json:"osv"`
				Trace []struct {
					Module string `json:"module"`
				} `json:"trace"`
			} `json:"finding"`
			SBOM *struct {
				Modules []struct {
					Path string `json:"path"`
				} `json:"modules"`
			} `json:"SBOM"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decoding govulncheck output: %v", err)
		}
		if msg.SBOM != nil {
			for _, m := range msg.SBOM.Modules {
				if m.Path != "stdlib" {
					mods = append(mods, m.Path)
				}
			}
		}
		if msg.Finding == nil || len(msg.Finding.Trace) == 0 {
			continue
		}
		mod := msg.Finding.Trace[0].Module
		if mod == "toolchain" {
			continue
		}
		found[mod] = append(found[mod], msg.Finding.OSV)
	}
	for k, v := range found {
		found[k] = uniqSorted(v)
	}
	sort.Strings(mods)
	return found, mods
}

func uniqSorted(v []string) []string {
	sort.Strings(v)
	out := v[:0]
	for i, s := range v {
		if i == 0 || s != v[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// byModule flattens a report into record IDs per module (suppressed
// findings included: the oracle knows nothing of VEX).
func byModule(rep *vuln.Report) map[string][]string {
	out := map[string][]string{}
	for _, f := range rep.Findings {
		out[f.Package.Name] = append(out[f.Package.Name], f.IDs...)
	}
	for k, v := range out {
		out[k] = uniqSorted(v)
	}
	return out
}

func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestMatchesGovulncheckOnRealGoDatabase(t *testing.T) {
	osvDir := goVulnDB(t)
	ctx := t.Context()
	dbDir := t.TempDir()
	now := time.Now()
	meta, err := osvdb.Import(ctx, dbDir, osvDir, now)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if got := meta.Ecosystems["Go"].Records; got < 4000 {
		t.Fatalf("imported %d Go records, want the ~4,800 of the real database", got)
	}
	db, err := osvdb.Open(dbDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	fixture := copyDir(t, "testdata/gomod")
	pkgs := goModInventory(t, filepath.Join(fixture, "go.mod"))
	// The standard library as sbom.Scan finds it, with the go command
	// govulncheck uses: its go.mod says go 1.22, but the tree is built
	// (and govulncheck reports it) with the go on PATH.
	goversion, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatalf("go env GOVERSION: %v", err)
	}
	inv, err := sbom.Scan(ctx, fixture, sbom.WithGoToolchain(strings.TrimSpace(string(goversion))))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range inv.Components {
		if c.Name == "stdlib" {
			pkgs = append(pkgs, vuln.Package{Ecosystem: "Go", Name: "stdlib", Version: c.Version, PURL: c.PURL})
		}
	}
	s, err := vuln.NewScanner(db, vuln.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Scan(ctx, pkgs)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	got := byModule(rep)

	want, considered := govulncheckModules(t, ctx, fixture, osvDir)
	// govulncheck considers the modules of the packages it loads on this
	// platform with default build tags; go.mod lists a superset (here
	// json-iterator and modern-go, used by gin only under the jsoniter
	// tag). Every module it considered must be in the inventory, and
	// findings are compared on the modules both considered.
	inInventory := map[string]bool{}
	for _, p := range pkgs {
		inInventory[p.Name] = true
	}
	consideredSet := map[string]bool{}
	for _, m := range considered {
		consideredSet[m] = true
		if !inInventory[m] && m != "example.com/hallmark/vulnfixture" {
			t.Errorf("govulncheck considered %s, which go.mod does not list", m)
		}
	}
	for m, ids := range got {
		if !consideredSet[m] && m != "stdlib" {
			t.Logf("%s is not in govulncheck's package graph (build tags); hallmark reports %v for it", m, ids)
			delete(got, m)
		}
	}
	for _, m := range []string{"golang.org/x/text", "golang.org/x/net", "golang.org/x/crypto", "github.com/gin-gonic/gin"} {
		if len(want[m]) == 0 {
			t.Errorf("govulncheck reports nothing for %s; the fixture no longer exercises it", m)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings per module differ from govulncheck -scan module (-govulncheck +hallmark):\n%s", diff)
	}
	n := 0
	for _, ids := range got {
		n += len(ids)
	}
	t.Logf("%d modules, %d OSV IDs, identical to govulncheck", len(got), n)
	if !strings.HasPrefix(rep.Findings[0].ID, "GO-") {
		t.Errorf("finding ID %q is not a Go database ID", rep.Findings[0].ID)
	}
}
