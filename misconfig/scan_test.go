package misconfig_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/misconfig"
)

// writeTree creates files (path -> content) under a new temp dir.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// entries renders findings as "path RULE@line[ suppressed]" for comparison.
func entries(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		e := f.Location.Path + " " + f.RuleID + "@" + strconv.Itoa(f.Location.Line)
		if f.Suppressed {
			e += " suppressed"
		}
		out = append(out, e)
	}
	return out
}

func fileErrors(err error) []*misconfig.FileError {
	var out []*misconfig.FileError
	var walk func(error)
	walk = func(e error) {
		if fe, ok := e.(*misconfig.FileError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}

func TestScanKeepsGoingPastMalformedFiles(t *testing.T) {
	root := writeTree(t, map[string]string{
		"good/Dockerfile":            "FROM alpine:3.20\nUSER 1000\n",
		"bad/Dockerfile":             "# just a comment\nRUN echo no base image\n",
		"k8s/broken.yaml":            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n - name: x\n   image: [\n",
		".github/workflows/bad.yml":  "on: push\njobs: [\n",
		"notes/random.yaml":          "just: some\nconfig: values\n",
		"notes/invalid-not-k8s.yaml": "a: [\n",
	})
	fs, err := misconfig.Scan(t.Context(), root, misconfig.Config{})
	if diff := cmp.Diff([]string{"good/Dockerfile HM-DF-001@1"}, entries(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	fes := fileErrors(err)
	var paths []string
	for _, fe := range fes {
		paths = append(paths, fe.Path)
		if !errors.Is(fe, misconfig.ErrParse) {
			t.Errorf("%s: error does not wrap ErrParse: %v", fe.Path, fe)
		}
		if !strings.Contains(fe.Error(), fe.Path) {
			t.Errorf("error message does not name the file: %v", fe)
		}
	}
	if diff := cmp.Diff([]string{".github/workflows/bad.yml", "bad/Dockerfile", "k8s/broken.yaml"}, paths); diff != "" {
		t.Errorf("files with errors (-want +got):\n%s", diff)
	}
}

func TestScanBoundsAndSkips(t *testing.T) {
	big := "FROM alpine:3.20\n" + strings.Repeat("# padding\n", 200)
	root := writeTree(t, map[string]string{
		"big/Dockerfile":   big,
		"small/Dockerfile": "FROM alpine\nUSER 1\n",
		".git/Dockerfile":  "FROM alpine\n",
	})
	outside := writeTree(t, map[string]string{"Dockerfile": "FROM evil\n"})
	if err := os.Symlink(filepath.Join(outside, "Dockerfile"), filepath.Join(root, "Containerfile")); err != nil {
		t.Fatal(err)
	}
	fs, err := misconfig.Scan(t.Context(), root, misconfig.Config{MaxFileSize: 1024})
	if diff := cmp.Diff([]string{"small/Dockerfile HM-DF-002@1"}, entries(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	fes := fileErrors(err)
	if len(fes) != 1 || fes[0].Path != "big/Dockerfile" || !errors.Is(fes[0], misconfig.ErrTooLarge) {
		t.Errorf("errors = %v, want one ErrTooLarge for big/Dockerfile", err)
	}
}

func TestScanCancelled(t *testing.T) {
	root := writeTree(t, map[string]string{"Dockerfile": "FROM alpine\n"})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := misconfig.Scan(ctx, root, misconfig.Config{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan with cancelled context: err = %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     misconfig.Config
		wantErr  bool
	}{
		{"full", "allowedRegistries: [ghcr.io/acme]\ndisabledRules: [HM-K8S-020]\nmaxFileSize: 2048\n",
			misconfig.Config{AllowedRegistries: []string{"ghcr.io/acme"}, DisabledRules: []string{"HM-K8S-020"}, MaxFileSize: 2048}, false},
		{"empty", "", misconfig.Config{}, false},
		{"unknown field", "allowRegistries: [x]\n", misconfig.Config{}, true},
		{"unknown rule", "disabledRules: [HM-K8S-999]\n", misconfig.Config{}, true},
		{"negative size", "maxFileSize: -1\n", misconfig.Config{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := misconfig.ParseConfig(strings.NewReader(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				if !errors.Is(err, misconfig.ErrConfig) {
					t.Errorf("error does not wrap ErrConfig: %v", err)
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDisabledRulesAndAllowlist(t *testing.T) {
	df := "FROM ghcr.io/acme/base:1.0\nFROM quay.io/x/y:2\nUSER 10\n"
	fs, err := misconfig.ScanFile("Dockerfile", []byte(df), misconfig.Config{
		AllowedRegistries: []string{"ghcr.io/acme"},
		DisabledRules:     []string{misconfig.RuleDFNotDigestPinned},
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Dockerfile HM-DF-003@2"}, entries(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestSuppressions(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		want                []string
	}{
		{"next line", "Dockerfile",
			"FROM alpine:3.20@sha256:0a4eaa0eecf5f8c050e5bba433f58c052be7587ee8af3e8b3910ef9ab5fbe9f5\n# hallmark:ignore HM-DF-012 reason: base image has no other way\n\nRUN sudo true\nUSER 1\n",
			[]string{"Dockerfile HM-DF-012@4 suppressed"}},
		{"several IDs on a trailing comment", "Dockerfile",
			"FROM alpine # hallmark:ignore HM-DF-002, HM-DF-004 reason: throwaway test image\n",
			[]string{"Dockerfile HM-DF-002@1 suppressed", "Dockerfile HM-DF-004@1 suppressed"}},
		{"file wide", "Dockerfile",
			"# hallmark:ignore-file HM-DF-010 reason: distro packages are pinned by the snapshot mirror\nFROM alpine:3@sha256:0a4eaa0eecf5f8c050e5bba433f58c052be7587ee8af3e8b3910ef9ab5fbe9f5\nRUN apk add curl\nRUN apk add jq\nUSER 1\n",
			[]string{"Dockerfile HM-DF-010@3 suppressed", "Dockerfile HM-DF-010@4 suppressed"}},
		{"no reason is a finding and waives nothing", "Dockerfile",
			"# hallmark:ignore HM-DF-002\nFROM alpine\nUSER 1\n",
			[]string{"Dockerfile HM-SUP-001@1", "Dockerfile HM-DF-002@2"}},
		{"empty reason", "Dockerfile",
			"# hallmark:ignore HM-DF-002 reason:   \nFROM alpine\nUSER 1\n",
			[]string{"Dockerfile HM-SUP-001@1", "Dockerfile HM-DF-002@2"}},
		{"unknown ID reported, known ID applied", "Dockerfile",
			"# hallmark:ignore HM-DF-002,HM-XX-1 reason: pinned by the build system\nFROM alpine\nUSER 1\n",
			[]string{"Dockerfile HM-SUP-001@1", "Dockerfile HM-DF-002@2 suppressed"}},
		{"yaml", "deploy/pod.yaml",
			"apiVersion: v1\nkind: Pod\nspec:\n  # hallmark:ignore HM-K8S-004 reason: CNI agent\n  hostNetwork: true\n  automountServiceAccountToken: false\n  containers: []\n",
			[]string{"deploy/pod.yaml HM-K8S-004@5 suppressed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := misconfig.ScanFile(tc.file, []byte(tc.content), misconfig.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, entries(fs)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range fs {
				if f.Suppressed && !strings.Contains(f.SuppressedReason, "reason") && f.SuppressedReason == "" {
					t.Errorf("suppressed finding without reason: %+v", f)
				}
			}
		})
	}
}

func TestRulesCatalogue(t *testing.T) {
	seen := map[string]bool{}
	prefix := map[misconfig.FileKind]string{misconfig.KindDockerfile: "HM-DF-", misconfig.KindKubernetes: "HM-K8S-", misconfig.KindActions: "HM-GHA-", misconfig.KindAny: "HM-SUP-"}
	for _, r := range misconfig.Rules() {
		if seen[r.ID] {
			t.Errorf("duplicate rule ID %s", r.ID)
		}
		seen[r.ID] = true
		if !strings.HasPrefix(r.ID, prefix[r.Kind]) {
			t.Errorf("%s: ID does not match kind %s", r.ID, r.Kind)
		}
		if r.Title == "" || r.Rationale == "" || r.Remediation == "" || r.Severity == finding.SeverityUnknown {
			t.Errorf("%s: incomplete rule %+v", r.ID, r)
		}
	}
}

// TestNoSecretInOutput checks that literal secrets in the corpus never reach
// a finding's message or evidence.
func TestNoSecretInOutput(t *testing.T) {
	fs, err := misconfig.Scan(t.Context(), filepath.Join("testdata", "corpus"), misconfig.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Passw0rd!", "changeme123", "s3cr3t-backup", "Pa55word-2024", "sk_test_FAKE", "ZmFrZTpmYWtl"} {
		for _, f := range fs {
			if strings.Contains(f.Message, secret) || strings.Contains(f.Evidence, secret) {
				t.Errorf("%s %s leaks %q: %q / %q", f.Location.Path, f.RuleID, secret, f.Message, f.Evidence)
			}
		}
	}
}

func TestScanSingleFile(t *testing.T) {
	root := writeTree(t, map[string]string{"svc/Containerfile": "FROM alpine\nUSER 1\n"})
	fs, err := misconfig.Scan(t.Context(), filepath.Join(root, "svc", "Containerfile"), misconfig.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Containerfile HM-DF-002@1"}, entries(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestCopySecretJudgedByBuildContext: HM-DF-006 looks at what a
// credential-named COPY source is in the build context (issue 16.7).
func TestCopySecretJudgedByBuildContext(t *testing.T) {
	root := t.TempDir()
	df := "FROM scratch\nCOPY credentials credentials\nCOPY conf/credentials /etc/\nCOPY .ssh /root/.ssh\n"
	for name, text := range map[string]string{
		"Dockerfile":                 df,
		"credentials/credentials.go": "package credentials\n",
		"conf/credentials/id_rsa":    "not a real key\n",
		".ssh/config":                "Host *\n",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lines := func(fs []finding.Finding) []int {
		var out []int
		for _, f := range fs {
			if f.RuleID == "HM-DF-006" {
				out = append(out, f.Location.Line)
			}
		}
		return out
	}
	for _, target := range []string{root, filepath.Join(root, "Dockerfile")} {
		fs, err := misconfig.Scan(t.Context(), target, misconfig.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int{3, 4}, lines(fs)); diff != "" {
			t.Errorf("Scan(%s) HM-DF-006 lines (-want +got):\n%s", target, diff)
		}
	}
	// Text alone: the name decides.
	fs, err := misconfig.ScanFile("Dockerfile", []byte(df), misconfig.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{2, 3, 4}, lines(fs)); diff != "" {
		t.Errorf("ScanFile HM-DF-006 lines (-want +got):\n%s", diff)
	}
}
