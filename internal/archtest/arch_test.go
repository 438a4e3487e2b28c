package archtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/hallmark-dev/hallmark"

type pkg struct {
	ImportPath string
	Dir        string
	Doc        string
	Name       string
	GoFiles    []string
	Imports    []string
	// TestImports and XTestImports are the imports of the package's tests.
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	touchTree(t)
	cmd := exec.Command("go", "list", "-e", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if len(p.GoFiles) == 0 { // e.g. a package whose files are all build-tagged
			continue
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func rel(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, module), "/") }

// importRules: an import path prefix and the packages (path prefixes,
// relative to the module) allowed to import it.
var importRules = []struct {
	prefix  string
	allowed []string
}{
	{"github.com/open-policy-agent/opa", []string{"policy"}},
	{"k8s.io/", []string{"admission"}},
	{"sigs.k8s.io/", []string{"admission"}},
	// oci is the registry client: only it talks to registries and holds
	// credentials (other packages may parse references with pkg/name).
	{"github.com/google/go-containerregistry/pkg/v1/remote", []string{"oci"}},
	{"github.com/google/go-containerregistry/pkg/authn", []string{"oci"}},
	{"github.com/google/go-containerregistry/pkg/crane", []string{"oci"}},
	{"github.com/google/go-containerregistry/pkg/v1/google", []string{"oci"}},
	{"github.com/google/go-containerregistry/pkg/registry", []string{"oci/ocitest"}},
	{"modernc.org/sqlite", []string{"store/sqlite"}},
	{"github.com/jackc/pgx", []string{"store/postgres"}},
	// The CLI and the server are adapters over the domain packages: only
	// main imports the CLI, only the CLI (for `serve`) imports the server,
	// so the server never imports the CLI and no domain package either.
	{module + "/internal/cli", []string{"cmd/hallmark"}},
	{module + "/internal/server", []string{"internal/cli"}},
}

// libraryInternals are the internal packages a library package may import:
// the shared bounds, the strict JSON decoder, the terminal escaper, the
// expiring cache and the hardened git runner are helpers of the libraries themselves, kept internal so
// that they are not Hallmark's public API (as sigstore-go keeps
// internal/limits). tooltest finds the peer tools for the xxxtest helpers.
var libraryInternals = map[string]bool{
	module + "/internal/limits":     true,
	module + "/internal/strictjson": true,
	module + "/internal/textsafe":   true,
	module + "/internal/ttlcache":   true,
	module + "/internal/gitexec":    true,
}

func TestLibrariesImportOnlyTheirInternalHelpers(t *testing.T) {
	for _, p := range listPackages(t) {
		r := rel(p.ImportPath)
		if strings.HasPrefix(r, "cmd/") || strings.HasPrefix(r, "internal/") {
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/internal/") || libraryInternals[imp] {
				continue
			}
			if imp == module+"/internal/tooltest" && strings.HasSuffix(r, "test") {
				continue
			}
			t.Errorf("%s imports %s; a library may import only %v (docs/architecture.md)", p.ImportPath, imp, sortedKeys(libraryInternals))
		}
	}
}

// adapterBudgets bounds the non-test Go lines of the CLI and the server,
// which translate flags and HTTP into calls of the domain packages and hold
// no domain logic of their own (docs/architecture.md). The numbers are the
// sizes once issue 17 had moved the workflows (rebuild, build orchestration,
// recheck, deployments, gate assembly, TEE opening, the audit archive) into
// their domain packages, plus about 2% (CLI 7,865 lines, server 2,329).
// Lower them when code leaves; raise them only with a reason in the commit.
// The server's was raised by 30 for GET /v1/deployments/{id}/vsa, an
// endpoint whose work is in gate.VSAIssuer.
var adapterBudgets = map[string]int{
	"internal/cli":    8020,
	"internal/server": 2400,
}

func TestAdaptersStayThin(t *testing.T) {
	seen := 0
	for _, p := range listPackages(t) {
		budget, ok := adapterBudgets[rel(p.ImportPath)]
		if !ok {
			continue
		}
		seen++
		lines := 0
		for _, f := range p.GoFiles {
			b, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			lines += bytes.Count(b, []byte("\n"))
		}
		t.Logf("%s: %d non-test lines (budget %d)", rel(p.ImportPath), lines, budget)
		if lines > budget {
			t.Errorf("%s has %d non-test lines, over its budget of %d: move the domain logic into its domain package (docs/architecture.md)",
				rel(p.ImportPath), lines, budget)
		}
	}
	if seen != len(adapterBudgets) {
		t.Errorf("found %d of the %d budgeted packages", seen, len(adapterBudgets))
	}
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, rel(k))
	}
	slices.Sort(out)
	return out
}

func allowedBy(pkgPath string, allowed []string) bool {
	for _, a := range allowed {
		if pkgPath == strings.TrimSuffix(a, "/") || strings.HasPrefix(pkgPath, strings.TrimSuffix(a, "/")+"/") {
			return true
		}
	}
	return false
}

func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		for _, imp := range slices.Concat(p.Imports, p.TestImports, p.XTestImports) {
			for _, r := range importRules {
				// Tests may use third-party libraries directly (an in-process
				// registry), but not the CLI or the server.
				if !slices.Contains(p.Imports, imp) && !strings.HasPrefix(r.prefix, module+"/") {
					continue
				}
				if strings.HasPrefix(imp, r.prefix) && !allowedBy(rel(p.ImportPath), r.allowed) {
					t.Errorf("%s imports %s; only %v may (docs/architecture.md)", p.ImportPath, imp, r.allowed)
				}
			}
		}
	}
}

func TestEveryPackageHasADocComment(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s has no package doc comment (add a doc.go)", p.ImportPath)
		}
	}
}

// forbiddenInLibraries are calls that belong to the process, not to a
// library: exiting, reading the environment or flags, a global logger.
var forbiddenInLibraries = map[string]bool{
	"os.Exit": true, "os.Getenv": true, "os.LookupEnv": true, "os.Environ": true,
	"flag.Parse": true, "log.Fatal": true, "log.Fatalf": true, "log.Printf": true, "log.Println": true,
	"slog.SetDefault": true, "slog.Info": true, "slog.Warn": true, "slog.Error": true, "slog.Debug": true,
}

func TestLibrariesDoNotOwnTheProcess(t *testing.T) {
	for _, p := range listPackages(t) {
		r := rel(p.ImportPath)
		if strings.HasPrefix(r, "cmd/") || strings.HasPrefix(r, "internal/") || strings.HasPrefix(r, "bench/") {
			continue
		}
		if strings.HasSuffix(r, "test") { // xxxtest helpers run only inside tests (pgtest reads its DSN)
			continue
		}
		for _, f := range p.GoFiles {
			path := filepath.Join(p.Dir, f)
			file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range file.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "init" {
					t.Errorf("%s: func init() registers global state; build registries in internal/cli", path)
				}
			}
			ast.Inspect(file, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && forbiddenInLibraries[id.Name+"."+sel.Sel.Name] {
					t.Errorf("%s: library calls %s.%s; take it as a parameter instead", path, id.Name, sel.Sel.Name)
				}
				return true
			})
		}
	}
}

// TestREADMECommandsExist keeps the README honest: every `hallmark X`
// command it shows in a code block is a real command.
func TestREADMECommandsExist(t *testing.T) {
	readme, err := exec.Command("cat", "../../README.md").Output()
	if err != nil {
		t.Skip("no README yet")
	}
	help, err := exec.Command("go", "run", "../../cmd/hallmark", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("hallmark --help: %v\n%s", err, help)
	}
	inBlock := false
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "```") {
			inBlock = !inBlock
			continue
		}
		if !inBlock {
			continue
		}
		line = strings.TrimPrefix(line, "$ ")
		fields := strings.Fields(line)
		if len(fields) < 2 || (fields[0] != "hallmark" && fields[0] != "./bin/hallmark") {
			continue
		}
		sub := fields[1]
		if strings.HasPrefix(sub, "-") {
			continue
		}
		if !bytes.Contains(help, []byte("\n  "+sub+" ")) {
			t.Errorf("README shows `hallmark %s`, which is not a command", sub)
		}
	}
}

// touchTree reads every directory of the module so that go test's cache
// notices added or changed files (it cannot see what `go list` read).
func touchTree(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			_, err := os.Stat(path)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
