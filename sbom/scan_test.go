package sbom

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// purls returns "ecosystem purl" lines for the components of inv.
func purls(inv *Inventory) []string {
	var out []string
	for _, c := range inv.Components {
		out = append(out, c.Ecosystem+" "+c.PURL)
	}
	return out
}

func TestScanEcosystems(t *testing.T) {
	for _, tc := range []struct {
		dir       string
		extractor string
		want      []string
	}{
		{"tree/go", "go/gomod", []string{
			"Go pkg:golang/github.com/gin-gonic/gin@v1.9.1",
			"Go pkg:golang/github.com/go-playground/validator/v10@v10.14.0",
			"Go pkg:golang/golang.org/x/net@v0.10.0",
			"Go pkg:golang/golang.org/x/text@v0.14.0",
			"Go pkg:golang/stdlib@v1.22",
		}},
		{"tree/npm-v3", "javascript/packagelockjson", []string{
			"npm pkg:npm/%40babel/runtime@7.23.2",
			"npm pkg:npm/lodash@4.17.21",
			"npm pkg:npm/minimist@1.2.8",
			"npm pkg:npm/regenerator-runtime@0.14.1",
		}},
		{"tree/npm-v2", "javascript/packagelockjson", []string{
			"npm pkg:npm/cross-env@7.0.3",
			"npm pkg:npm/cross-spawn@7.0.6",
			"npm pkg:npm/isexe@2.0.0",
			"npm pkg:npm/path-key@3.1.1",
			"npm pkg:npm/shebang-command@2.0.0",
			"npm pkg:npm/shebang-regex@3.0.0",
			"npm pkg:npm/which@2.0.2",
		}},
		{"tree/yarn", "javascript/yarnlock", []string{
			"npm pkg:npm/ansi-styles@4.3.0",
			"npm pkg:npm/chalk@4.1.2",
			"npm pkg:npm/color-convert@2.0.1",
			"npm pkg:npm/color-name@1.1.4",
			"npm pkg:npm/debug@4.3.4",
			"npm pkg:npm/has-flag@4.0.0",
			"npm pkg:npm/ms@2.1.2",
			"npm pkg:npm/supports-color@7.2.0",
		}},
		{"tree/pnpm", "javascript/pnpmlock", []string{
			"npm pkg:npm/lru-cache@6.0.0",
			"npm pkg:npm/ms@2.1.3",
			"npm pkg:npm/semver@7.5.4",
			"npm pkg:npm/yallist@4.0.0",
		}},
		{"tree/python", "python/requirements", []string{
			"PyPI pkg:pypi/certifi@2023.7.22",
			"PyPI pkg:pypi/charset-normalizer@3.3.0",
			"PyPI pkg:pypi/idna@3.4",
			"PyPI pkg:pypi/requests@2.31.0",
			"PyPI pkg:pypi/urllib3@2.0.7",
		}},
		{"tree/poetry", "python/poetrylock", []string{
			"PyPI pkg:pypi/click@8.1.7",
			"PyPI pkg:pypi/flask@2.3.3",
			"PyPI pkg:pypi/itsdangerous@2.1.2",
			"PyPI pkg:pypi/jinja2@3.1.2",
			"PyPI pkg:pypi/markupsafe@2.1.3",
			"PyPI pkg:pypi/werkzeug@2.3.7",
		}},
		{"tree/pipenv", "python/pipfilelock", []string{
			"PyPI pkg:pypi/asgiref@3.7.2",
			"PyPI pkg:pypi/django@4.2.7",
			"PyPI pkg:pypi/pytest@7.4.3",
			"PyPI pkg:pypi/sqlparse@0.4.4",
		}},
		{"tree/uv", "python/uvlock", []string{
			"PyPI pkg:pypi/annotated-types@0.6.0",
			"PyPI pkg:pypi/pydantic-core@2.14.5",
			"PyPI pkg:pypi/pydantic@2.5.2",
			"PyPI pkg:pypi/typing-extensions@4.8.0",
		}},
		{"tree/rust", "rust/cargolock", []string{
			"crates.io pkg:cargo/fixture-cli@0.1.0",
			"crates.io pkg:cargo/itoa@1.0.14",
			"crates.io pkg:cargo/memchr@2.7.4",
			"crates.io pkg:cargo/serde@1.0.228",
			"crates.io pkg:cargo/serde_core@1.0.228",
		}},
		{"tree/maven", "java/pomxml", []string{
			"Maven pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.4.2",
			"Maven pkg:maven/org.apache.commons/commons-lang3@3.12.0",
			"Maven pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1",
		}},
		{"tree/gradle", "java/gradlelockfile", []string{
			"Maven pkg:maven/com.google.code.findbugs/jsr305@3.0.2",
			"Maven pkg:maven/com.google.errorprone/error_prone_annotations@2.18.0",
			"Maven pkg:maven/com.google.guava/failureaccess@1.0.1",
			"Maven pkg:maven/com.google.guava/guava@32.1.2-jre",
			"Maven pkg:maven/org.slf4j/slf4j-api@2.0.9",
		}},
		{"tree/ruby", "ruby/gemfilelock", []string{
			"RubyGems pkg:gem/mini_portile2@2.8.5",
			"RubyGems pkg:gem/nokogiri@1.15.4",
			"RubyGems pkg:gem/racc@1.7.3",
			"RubyGems pkg:gem/rack@2.2.8",
		}},
		{"rootfs-debian", "os/dpkg", []string{
			"Debian:12 pkg:deb/debian/base-files@12.4%2Bdeb12u11?arch=amd64&distro=bookworm",
			"Debian:12 pkg:deb/debian/libzstd1@1.5.4%2Bdfsg2-5?arch=amd64&distro=bookworm&source=libzstd",
			"Debian:12 pkg:deb/debian/tzdata@2025b-0%2Bdeb12u2?arch=all&distro=bookworm",
			"Debian:12 pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=bookworm&source=zlib",
		}},
		{"rootfs-alpine", "os/apk", []string{
			"Alpine:v3.19 pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=3.19.1&origin=busybox",
			"Alpine:v3.19 pkg:apk/alpine/ca-certificates-bundle@20240226-r0?arch=x86_64&distro=3.19.1&origin=ca-certificates",
			"Alpine:v3.19 pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=3.19.1&origin=musl",
			"Alpine:v3.19 pkg:apk/alpine/zlib@1.3.1-r0?arch=x86_64&distro=3.19.1&origin=zlib",
		}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			inv, err := Scan(t.Context(), filepath.Join("testdata", tc.dir))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, purls(inv)); diff != "" {
				t.Errorf("components (-want +got):\n%s", diff)
			}
			for _, c := range inv.Components {
				if !cmp.Equal(c.Extractors, []string{tc.extractor}) {
					t.Errorf("%s found by %v, want %s", c.PURL, c.Extractors, tc.extractor)
				}
				if len(c.Locations) != 1 {
					t.Errorf("%s locations = %v, want one lockfile", c.PURL, c.Locations)
				}
			}
			if len(inv.Problems) != 0 {
				t.Errorf("problems: %v", inv.Problems)
			}
		})
	}
}

// TestScanWholeTree checks that one scan of a tree holding every ecosystem
// finds the union, once each, and that identical packages from different
// lockfiles merge into one component.
func TestScanWholeTree(t *testing.T) {
	inv, err := Scan(t.Context(), "testdata/tree")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(inv.Components), 64; got != want {
		t.Errorf("got %d components, want %d", got, want)
	}
	if diff := cmp.Diff([]string{"Go", "Maven", "PyPI", "RubyGems", "crates.io", "npm"}, inv.Ecosystems()); diff != "" {
		t.Errorf("ecosystems (-want +got):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, c := range inv.Components {
		if seen[c.PURL] {
			t.Errorf("duplicate component %s", c.PURL)
		}
		seen[c.PURL] = true
	}
}

func TestScanLockfileFacts(t *testing.T) {
	inv, err := Scan(t.Context(), "testdata/tree")
	if err != nil {
		t.Fatal(err)
	}
	byPURL := map[string]Component{}
	for _, c := range inv.Components {
		byPURL[c.PURL] = c
	}
	for _, tc := range []struct {
		purl     string
		licenses []string
		hashes   []Hash
	}{
		// package-lock v3: "license" and SRI "integrity" (sha512, base64 -> hex).
		{"pkg:npm/lodash@4.17.21", []string{"MIT"}, []Hash{sha512SRI(t, "v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==")}},
		// package-lock v2.
		{"pkg:npm/isexe@2.0.0", []string{"ISC"}, nil},
		// pnpm-lock v9 resolution.integrity.
		{"pkg:npm/ms@2.1.3", nil, []Hash{sha512SRI(t, "6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==")}},
		// yarn.lock v1 integrity.
		{"pkg:npm/chalk@4.1.2", nil, []Hash{sha512SRI(t, "oKnbhFyRIXpUuez8iBMmyEa4nbj4IOQyuhc/wy9kY7/WVPcwIO9VA668Pu8RkO7+0G76SLROeyw9CpQ061i4mA==")}},
		// Cargo.lock checksum.
		{"pkg:cargo/itoa@1.0.14", nil, []Hash{{Algorithm: SHA256, Value: "d75a2a4b1b190afb6f5425f10f6a8f959d2ea0b9c2b1d79553551850539e4674"}}},
	} {
		t.Run(tc.purl, func(t *testing.T) {
			c, ok := byPURL[tc.purl]
			if !ok {
				t.Fatalf("%s not found", tc.purl)
			}
			if diff := cmp.Diff(tc.licenses, c.Licenses); diff != "" {
				t.Errorf("licenses (-want +got):\n%s", diff)
			}
			if tc.hashes != nil {
				if diff := cmp.Diff(tc.hashes, c.Hashes); diff != "" {
					t.Errorf("hashes (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// sha512SRI converts the base64 digest of an npm integrity string, copied
// from a fixture, to the hex Hash the inventory must carry.
func sha512SRI(t *testing.T, b64 string) Hash {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 64 {
		t.Fatalf("bad fixture digest %q: %v", b64, err)
	}
	return Hash{Algorithm: SHA512, Value: hex.EncodeToString(raw)}
}

// TestScanDependencyGraph checks the edges read from lockfiles that record
// them, against the fixtures' own "dependencies" lists.
func TestScanDependencyGraph(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want map[string][]string
	}{
		{"tree/npm-v2", map[string][]string{
			"pkg:npm/cross-env@7.0.3":       {"pkg:npm/cross-spawn@7.0.6"},
			"pkg:npm/cross-spawn@7.0.6":     {"pkg:npm/path-key@3.1.1", "pkg:npm/shebang-command@2.0.0", "pkg:npm/which@2.0.2"},
			"pkg:npm/shebang-command@2.0.0": {"pkg:npm/shebang-regex@3.0.0"},
			"pkg:npm/which@2.0.2":           {"pkg:npm/isexe@2.0.0"},
		}},
		{"tree/npm-v3", map[string][]string{
			"pkg:npm/%40babel/runtime@7.23.2": {"pkg:npm/regenerator-runtime@0.14.1"},
		}},
		{"tree/rust", map[string][]string{
			"pkg:cargo/fixture-cli@0.1.0": {"pkg:cargo/itoa@1.0.14", "pkg:cargo/memchr@2.7.4", "pkg:cargo/serde@1.0.228"},
			"pkg:cargo/serde@1.0.228":     {"pkg:cargo/serde_core@1.0.228"},
		}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			inv, err := Scan(t.Context(), filepath.Join("testdata", tc.dir))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, c := range inv.Components {
				if c.DependsOn != nil {
					got[c.PURL] = c.DependsOn
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("graph (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScanSourcePackages(t *testing.T) {
	got := map[string]string{}
	for _, dir := range []string{"rootfs-debian", "rootfs-alpine"} {
		inv, err := Scan(t.Context(), filepath.Join("testdata", dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range inv.Components {
			got[c.Name] = c.Source + " " + c.SourceVersion
		}
	}
	// From the fixtures' "Source:" lines (dpkg; a missing one means the
	// binary name) and "o:" lines (apk).
	want := map[string]string{
		"base-files": " ", "tzdata": " ", "libzstd1": "libzstd ", "zlib1g": "zlib ",
		"busybox": "busybox ", "ca-certificates-bundle": "ca-certificates ", "musl": "musl ", "zlib": "zlib ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("source packages (-want +got):\n%s", diff)
	}
}

func TestScanAlpineLicensesAndSupplier(t *testing.T) {
	inv, err := Scan(t.Context(), "testdata/rootfs-alpine")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, c := range inv.Components {
		got[c.Name] = [2]string{strings.Join(c.Licenses, ";"), c.Supplier}
	}
	want := map[string][2]string{
		"busybox":                {"GPL-2.0-only", "Sören Tempel <soeren+alpine@soeren-tempel.net>"},
		"ca-certificates-bundle": {"MPL-2.0 AND MIT", "Natanael Copa <ncopa@alpinelinux.org>"},
		"musl":                   {"MIT", "Timo Teräs <timo.teras@iki.fi>"},
		"zlib":                   {"Zlib", "Natanael Copa <ncopa@alpinelinux.org>"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("licences and suppliers (-want +got):\n%s", diff)
	}
}

// buildGoBinary builds testdata/gobin, a real program whose build info lists
// the modules it links, and returns its path.
func buildGoBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "gobin")
	cmd := exec.CommandContext(t.Context(), goTool, "build", "-buildvcs=false", "-trimpath", "-o", bin, "./testdata/gobin")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestScanGoBinary(t *testing.T) {
	bin := buildGoBinary(t)
	// Also check a copy without the executable bit: a file named
	// explicitly is read as a Go binary regardless.
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "gobin.data")
	if err := os.WriteFile(plain, data, 0o644); err != nil {
		t.Fatal(err)
	}
	goVersion := strings.TrimPrefix(runtime.Version(), "go")
	want := []string{
		"Go pkg:golang/github.com/google/go-cmp@v0.7.0",
		"Go pkg:golang/github.com/hallmark-dev/hallmark",
		"Go pkg:golang/golang.org/x/mod@v0.42.0",
		"Go pkg:golang/stdlib@v" + goVersion,
	}
	for _, p := range []string{bin, plain} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			inv, err := Scan(t.Context(), p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, purls(inv)); diff != "" {
				t.Errorf("components (-want +got):\n%s", diff)
			}
			if inv.Subject.Kind != "file" || len(inv.Subject.Hashes) != 1 || inv.Subject.Hashes[0].Algorithm != SHA256 {
				t.Errorf("subject = %+v, want a file with its SHA-256", inv.Subject)
			}
		})
	}
}

func TestScanErrors(t *testing.T) {
	if _, err := Scan(t.Context(), filepath.Join(t.TempDir(), "absent")); !errors.Is(err, ErrNoInput) {
		t.Errorf("missing path: err = %v, want ErrNoInput", err)
	}
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, make([]byte, 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Scan(t.Context(), big, WithMaxFileSize(1024)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized file: err = %v, want ErrTooLarge", err)
	}
	if _, err := Scan(t.Context(), "testdata/tree", WithSkipDirs("../etc")); err == nil {
		t.Error("WithSkipDirs accepted a path outside the root")
	}
}

func TestScanReportsUnreadableLockfile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(`{"lockfileVersion": 3, "packages": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := Scan(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Problems) == 0 {
		t.Errorf("a truncated package-lock.json gave no problem; components %v", purls(inv))
	}
}

// TestScanGoStdlibVersionAndCase: the standard library of a source tree is
// the toolchain that builds it, not the go directive's minimum (issue
// 16.5), and Go purls keep the module path's case, as syft writes them
// (issue 16.12).
func TestScanGoStdlibVersionAndCase(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pinned/go.mod", "module example.com/pinned\n\ngo 1.20\n\ntoolchain go1.23.4\n\nrequire github.com/Azure/go-ansiterm v0.0.0-20230124172434-306776ec8161\n")
	write("floating/go.mod", "module example.com/floating\n\ngo 1.20\n\nrequire github.com/BurntSushi/toml v1.3.2\n")
	for _, tc := range []struct {
		name string
		opts []Option
		want map[string]string
	}{
		{"with the go command", []Option{WithGoToolchain("go1.26.8")}, map[string]string{
			"pkg:golang/github.com/Azure/go-ansiterm@v0.0.0-20230124172434-306776ec8161": "",
			"pkg:golang/github.com/BurntSushi/toml@v1.3.2":                               "",
			"pkg:golang/stdlib@v1.23.4":                                                  StdlibFromToolchainDirective,
			"pkg:golang/stdlib@v1.26.8":                                                  StdlibFromGoCommand,
		}},
		{"without", nil, map[string]string{
			"pkg:golang/github.com/Azure/go-ansiterm@v0.0.0-20230124172434-306776ec8161": "",
			"pkg:golang/github.com/BurntSushi/toml@v1.3.2":                               "",
			"pkg:golang/stdlib@v1.23.4":                                                  StdlibFromToolchainDirective,
			"pkg:golang/stdlib@v1.20":                                                    StdlibFromGoDirective,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := Scan(t.Context(), dir, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, c := range inv.Components {
				got[c.PURL] = c.VersionSource
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("components (-want +got):\n%s", diff)
			}
		})
	}
}
