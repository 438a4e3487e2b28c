package materials_test

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/build/materials"
	"github.com/hallmark-dev/hallmark/digest"
)

func parseFile(t *testing.T, file, as string) []materials.Dependency {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	deps, err := materials.Parse(as, data)
	if err != nil {
		t.Fatal(err)
	}
	return deps
}

func TestParse(t *testing.T) {
	tests := []struct {
		file, as string
		want     []materials.Dependency
	}{
		{"Cargo.lock", "Cargo.lock", []materials.Dependency{
			{PURL: "pkg:cargo/maybe-uninit@2.0.0", Digest: digest.Set{"sha256": "60302e4db3a61da70c0cb7991976248362f30319e88850c487b9b95bbf059e00"}, Origin: "Cargo.lock"},
			{PURL: "pkg:cargo/smallvec@0.6.14", Digest: digest.Set{"sha256": "b97fcaeba89edba30f044a10c6a3cc39df9c3f17d7cd829dd1446cab35f890e0"}, Origin: "Cargo.lock"},
		}},
		{"requirements.txt", "py/requirements-dev.txt", []materials.Dependency{
			{PURL: "pkg:pypi/async-timeout@5.0.1", Digest: digest.Set{"sha256": "39e3809566ff85354557ec2398b55e096c8364bacac9405a7a1fa429e77fe76c"}, Origin: "py/requirements-dev.txt"},
			{PURL: "pkg:pypi/factory-boy@3.3.1", Digest: digest.Set{"sha256": "7b1113c49736e1e9995bc2a18f4dbf2c52cf0f841103517010b1d825712ce3ca"}, Origin: "py/requirements-dev.txt"},
			{PURL: "pkg:pypi/faker@33.3.0", Origin: "py/requirements-dev.txt"},
		}},
		{"poetry-metadata.lock", "poetry.lock", []materials.Dependency{
			{PURL: "pkg:pypi/emoji@2.0.0", Digest: digest.Set{"sha256": "297fac7ec9e86f7b602792c28eb6f04819ba67ab88a34c56afcde52243a9a105"}, Origin: "poetry.lock"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if d := cmp.Diff(tt.want, parseFile(t, tt.file, tt.as)); d != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func find(deps []materials.Dependency, purl string) *materials.Dependency {
	for i := range deps {
		if deps[i].PURL == purl {
			return &deps[i]
		}
	}
	return nil
}

func TestPoetryV2(t *testing.T) {
	deps := parseFile(t, "poetry.lock", "poetry.lock")
	d := find(deps, "pkg:pypi/async-timeout@5.0.1")
	if d == nil || d.Digest["sha256"] != "39e3809566ff85354557ec2398b55e096c8364bacac9405a7a1fa429e77fe76c" {
		t.Errorf("async-timeout = %+v", d)
	}
	// Two versions of one package are both recorded.
	if find(deps, "pkg:pypi/proto-plus@1.22.0") == nil || find(deps, "pkg:pypi/proto-plus@1.23.0") == nil {
		t.Errorf("proto-plus versions missing from %v", deps)
	}
}

func TestNPM(t *testing.T) {
	for _, file := range []string{"package-lock-v1.json", "package-lock-v2.json"} {
		t.Run(file, func(t *testing.T) {
			deps := parseFile(t, file, "web/package-lock.json")
			b := find(deps, "pkg:npm/%40fake-registry/b@1.0.1")
			if b == nil {
				t.Fatalf("scoped package missing from %v", deps)
			}
			raw, _ := base64.StdEncoding.DecodeString("uocjkNUbEPBa/oFFYNq+CkWkkr4My+gJQHnB1fFqIrIQtvjbQ/4dtp/6Kmfb5SFJ/bVfAGZ8mmC+c3Bz4JISYQ==")
			if got, want := b.Digest["sha512"], hex.EncodeToString(raw); got != want {
				t.Errorf("integrity sha512 = %s, want %s", got, want)
			}
			// The alias a-dev resolves to the real package and version.
			if find(deps, "pkg:npm/%40fake-registry/a@2.3.4") == nil {
				t.Errorf("aliased package missing from %v", deps)
			}
			for _, d := range deps {
				if strings.Contains(d.PURL, "/r@") {
					t.Errorf("the project itself was recorded: %v", d)
				}
			}
		})
	}
}

// TestGoSum cross-checks every content line of a real go.sum.
func TestGoSum(t *testing.T) {
	deps := parseFile(t, "go.sum", "go.sum")
	f, err := os.Open("testdata/go.sum")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if strings.HasSuffix(fs[1], "/go.mod") {
			continue
		}
		n++
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(fs[2], "h1:"))
		if err != nil {
			t.Fatal(err)
		}
		i := strings.LastIndex(fs[0], "/")
		purl := "pkg:golang/" + fs[0][:i] + "/" + fs[0][i+1:] + "@" + fs[1]
		d := find(deps, purl)
		if d == nil || d.Digest[digest.DirHash] != hex.EncodeToString(raw) {
			t.Errorf("%s: got %+v", purl, d)
		}
	}
	if n == 0 || len(deps) != n {
		t.Errorf("got %d dependencies, want %d", len(deps), n)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, as, data string
		want           error
	}{
		{"unknown", "Makefile", "all:", materials.ErrUnknownFormat},
		{"go.sum fields", "go.sum", "example.com/m v1.0.0\n", materials.ErrMalformed},
		{"go.sum hash", "go.sum", "example.com/m v1.0.0 h1:!!!\n", materials.ErrMalformed},
		{"go.sum algorithm", "go.sum", "example.com/m v1.0.0 h9:abc=\n", materials.ErrMalformed},
		{"npm json", "package-lock.json", "{", materials.ErrMalformed},
		{"npm integrity", "package-lock.json", `{"packages":{"node_modules/x":{"version":"1.0.0","integrity":"sha512-AAAA"}}}`, materials.ErrMalformed},
		{"cargo toml", "Cargo.lock", "[[package]\n", materials.ErrMalformed},
		{"cargo checksum", "Cargo.lock", "[[package]]\nname=\"a\"\nversion=\"1\"\nsource=\"registry+x\"\nchecksum=\"abc\"\n", materials.ErrMalformed},
		{"requirements hash", "requirements.txt", "a==1 --hash=sha256:123\n", materials.ErrMalformed},
		{"poetry toml", "poetry.lock", "[[package]\n", materials.ErrMalformed},
		{"too large", "go.sum", strings.Repeat(" ", materials.MaxLockfileSize+1), materials.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := materials.Parse(tt.as, []byte(tt.data))
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse() error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	for src, dst := range map[string]string{"Cargo.lock": "rust/Cargo.lock", "requirements.txt": "requirements.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata", src))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, dst)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deps, err := materials.Read(dir, []string{"README.md", "requirements.txt", "rust/Cargo.lock"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range deps {
		got = append(got, d.Origin+" "+d.PURL)
	}
	want := []string{
		"rust/Cargo.lock pkg:cargo/maybe-uninit@2.0.0", "rust/Cargo.lock pkg:cargo/smallvec@0.6.14",
		"requirements.txt pkg:pypi/async-timeout@5.0.1", "requirements.txt pkg:pypi/factory-boy@3.3.1", "requirements.txt pkg:pypi/faker@33.3.0",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read mismatch (-want +got):\n%s", d)
	}
	if _, err := materials.Read(dir, []string{"../escape/go.sum"}); err == nil {
		t.Error("Read followed a path outside the root")
	}
}
