package osvdb_test

import (
	"archive/zip"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/vuln/osv"
	"github.com/hallmark-dev/hallmark/vuln/osvdb"
)

const fixtures = "../testdata/osv"

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// writeZip writes the fixture records under dirs (relative to fixtures)
// into an osv.dev-style all.zip: flat <ID>.json members.
func writeZip(t *testing.T, name string, dirs ...string) string {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, d := range dirs {
		files, err := filepath.Glob(filepath.Join(fixtures, d, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures in %s: %v", d, err)
		}
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			w, err := zw.Create(filepath.Base(p))
			if err != nil {
				t.Fatal(err)
			}
			w.Write(data)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return name
}

func counts(m osvdb.Meta) map[string]int {
	out := map[string]int{}
	for k, v := range m.Ecosystems {
		out[k] = v.Records
	}
	return out
}

func lookupIDs(t *testing.T, db *osvdb.DB, eco, name string) []string {
	t.Helper()
	es, err := db.Lookup(eco, name)
	if err != nil {
		t.Fatalf("Lookup(%s, %s): %v", eco, name, err)
	}
	var ids []string
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

func TestImportDirectory(t *testing.T) {
	dir := t.TempDir()
	meta, err := osvdb.Import(t.Context(), dir, fixtures, now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"Go": 3, "npm": 2, "PyPI": 2, "Maven": 1, "crates.io": 1, "RubyGems": 1, "Debian": 2, "Alpine": 1}
	if diff := cmp.Diff(want, counts(meta)); diff != "" {
		t.Errorf("records per ecosystem (-want +got):\n%s", diff)
	}
	goMeta := meta.Ecosystems["Go"]
	if goMeta.Withdrawn != 1 || !goMeta.ImportedAt.Equal(now) || goMeta.Source != fixtures || len(goMeta.SHA256) != 64 {
		t.Errorf("Go meta = %+v", goMeta)
	}
	db, err := osvdb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if diff := cmp.Diff(meta, db.Meta()); diff != "" {
		t.Errorf("Open meta differs from Import meta:\n%s", diff)
	}
	for _, tc := range []struct {
		eco, name string
		want      []string
	}{
		{"PyPI", "requests", []string{"GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"}},
		{"PyPI", "Requests", []string{"GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"}},
		{"Debian", "openssl", []string{"DSA-5103-1"}},
		{"npm", "left-pad", nil},
		{"NuGet", "anything", nil},
	} {
		got := lookupIDs(t, db, tc.eco, tc.name)
		if diff := cmp.Diff(tc.want, got, cmpSorted); diff != "" {
			t.Errorf("Lookup(%s, %s) (-want +got):\n%s", tc.eco, tc.name, diff)
		}
	}
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestImportZipReplacesOnlyItsEcosystems(t *testing.T) {
	dir := t.TempDir()
	if _, err := osvdb.Import(t.Context(), dir, fixtures, now); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(filepath.Join(dir, "eco"))
	zipPath := writeZip(t, filepath.Join(t.TempDir(), "all.zip"), "go")
	later := now.Add(time.Hour)
	meta, err := osvdb.Import(t.Context(), dir, zipPath, later)
	if err != nil {
		t.Fatal(err)
	}
	if got := meta.Ecosystems["Go"]; got.Records != 3 || !got.ImportedAt.Equal(later) || got.Source != zipPath {
		t.Errorf("Go after zip import = %+v", got)
	}
	if got := meta.Ecosystems["npm"]; !got.ImportedAt.Equal(now) || got.Records != 2 {
		t.Errorf("npm changed by a Go-only import: %+v", got)
	}
	after, _ := os.ReadDir(filepath.Join(dir, "eco"))
	if len(after) != len(before) {
		t.Errorf("eco/ has %d files after replacing Go, want %d (old Go files removed)", len(after), len(before))
	}
	db, err := osvdb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := lookupIDs(t, db, "Go", "golang.org/x/text"); !cmp.Equal(got, []string{"GO-2021-0113"}) {
		t.Errorf("Lookup after zip import = %v", got)
	}
}

func TestImportHTTPMirror(t *testing.T) {
	srcDir := t.TempDir()
	writeZip(t, filepath.Join(srcDir, "Go.zip"), "go")
	writeZip(t, filepath.Join(srcDir, "crates.io.zip"), "crates")
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		eco, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/mirror/"), "/all.zip")
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, filepath.Join(srcDir, eco+".zip"))
	}))
	defer srv.Close()

	dir := t.TempDir()
	meta, err := osvdb.Import(t.Context(), dir, srv.URL+"/mirror", now,
		osvdb.WithHTTPClient(srv.Client()), osvdb.WithEcosystems("Go", "crates.io"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"Go": 3, "crates.io": 1}, counts(meta)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/mirror/Go/all.zip", "/mirror/crates.io/all.zip"}, paths); diff != "" {
		t.Errorf("requested paths (-want +got):\n%s", diff)
	}
	if got := meta.Ecosystems["Go"].Source; got != srv.URL+"/mirror/Go/all.zip" {
		t.Errorf("Go source = %q", got)
	}

	// A mirror missing an ecosystem fails the whole import and leaves the
	// database as it was.
	_, err = osvdb.Import(t.Context(), dir, srv.URL+"/elsewhere", now.Add(time.Hour),
		osvdb.WithHTTPClient(srv.Client()), osvdb.WithEcosystems("Go"))
	if !errors.Is(err, osvdb.ErrBadSource) {
		t.Fatalf("Import from a 404 mirror: err = %v, want ErrBadSource", err)
	}
	db, err := osvdb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if diff := cmp.Diff(meta, db.Meta()); diff != "" {
		t.Errorf("failed import changed the database:\n%s", diff)
	}
	// A download larger than the limit is refused.
	_, err = osvdb.Import(t.Context(), t.TempDir(), srv.URL+"/mirror", now,
		osvdb.WithHTTPClient(srv.Client()), osvdb.WithEcosystems("Go"), osvdb.WithMaxDownload(100))
	if !errors.Is(err, osvdb.ErrLimit) {
		t.Errorf("oversized download: err = %v, want ErrLimit", err)
	}
}

func TestImportRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		opts  []osvdb.Option
		want  error
	}{
		{"not json", map[string]string{"a.json": "{"}, nil, osv.ErrInvalid},
		{"no id", map[string]string{"a.json": `{"modified":"2024-01-01T00:00:00Z"}`}, nil, osv.ErrInvalid},
		{"bad event", map[string]string{"a.json": `{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}`}, nil, osv.ErrInvalid},
		{"duplicate", map[string]string{
			"a.json": `{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"}}]}`,
			"b.json": `{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"b"}}]}`,
		}, nil, osvdb.ErrDuplicate},
		{"too large", map[string]string{"a.json": `{"id":"X-1","modified":"2024-01-01T00:00:00Z","details":"` + strings.Repeat("x", 2000) + `"}`},
			[]osvdb.Option{osvdb.WithLimits(osv.Limits{MaxBytes: 1000, MaxAffected: 10, MaxEvents: 10, MaxVersions: 10})}, osv.ErrTooLarge},
		{"too many files", map[string]string{
			"a.json": `{"id":"X-1","modified":"2024-01-01T00:00:00Z"}`,
			"b.json": `{"id":"X-2","modified":"2024-01-01T00:00:00Z"}`,
		}, []osvdb.Option{osvdb.WithMaxFiles(1)}, osvdb.ErrLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := t.TempDir()
			for n, c := range tc.files {
				if err := os.WriteFile(filepath.Join(src, n), []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			dbDir := t.TempDir()
			_, err := osvdb.Import(t.Context(), dbDir, src, now, tc.opts...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if _, err := osvdb.Open(dbDir); !errors.Is(err, osvdb.ErrNotFound) {
				t.Errorf("failed import left a database: Open err = %v", err)
			}
		})
	}
	if _, err := osvdb.Import(t.Context(), t.TempDir(), "testdata-does-not-exist", now); !errors.Is(err, osvdb.ErrBadSource) {
		t.Errorf("missing source: err = %v, want ErrBadSource", err)
	}
}

func TestOpenBrokenDatabase(t *testing.T) {
	if _, err := osvdb.Open(t.TempDir()); !errors.Is(err, osvdb.ErrNotFound) {
		t.Errorf("empty dir: err = %v, want ErrNotFound", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "meta.json"), []byte("{not json"), 0o644)
	if _, err := osvdb.Open(bad); !errors.Is(err, osvdb.ErrCorrupt) {
		t.Errorf("corrupt meta: err = %v, want ErrCorrupt", err)
	}
	// Re-importing is the fix for a corrupt database.
	if _, err := osvdb.Import(t.Context(), bad, filepath.Join(fixtures, "npm"), now); err != nil {
		t.Fatalf("re-import over a corrupt meta.json: %v", err)
	}
	if db, err := osvdb.Open(bad); err != nil {
		t.Errorf("Open after re-import: %v", err)
	} else {
		if got := counts(db.Meta()); !cmp.Equal(got, map[string]int{"npm": 2}) {
			t.Errorf("after re-import: %v", got)
		}
		db.Close()
	}

	dir := t.TempDir()
	if _, err := osvdb.Import(t.Context(), dir, fixtures, now); err != nil {
		t.Fatal(err)
	}
	err := fs.WalkDir(os.DirFS(dir), "eco", func(p string, d fs.DirEntry, err error) error {
		if strings.HasPrefix(d.Name(), "npm-") && strings.HasSuffix(p, ".jsonl") {
			return os.WriteFile(filepath.Join(dir, p), []byte("garbage\n"), 0o644)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := osvdb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Lookup("npm", "lodash"); !errors.Is(err, osvdb.ErrCorrupt) {
		t.Errorf("Lookup in a truncated record file: err = %v, want ErrCorrupt", err)
	}
}
