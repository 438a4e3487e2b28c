package misconfig_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/misconfig"
)

// TestCorpus scans the hand-written corpus and compares the findings with
// testdata/corpus/expected.yaml: every expected finding must be reported
// (recall) and nothing else (precision).
func TestCorpus(t *testing.T) {
	root := filepath.Join("testdata", "corpus")
	raw, err := os.ReadFile(filepath.Join(root, "expected.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Files map[string][]string `yaml:"files"`
	}
	if err := yaml.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	cf, err := os.Open(filepath.Join("testdata", "corpus-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	cfg, err := misconfig.ParseConfig(cf)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := misconfig.Scan(t.Context(), root, cfg)
	if err != nil {
		t.Fatalf("corpus scan reported errors: %v", err)
	}
	got := map[string][]string{}
	for _, f := range fs {
		e := fmt.Sprintf("%s@%d", f.RuleID, f.Location.Line)
		if f.Suppressed {
			e += " suppressed"
		}
		got[f.Location.Path] = append(got[f.Location.Path], e)
	}

	// Every file in the corpus must have written expectations.
	var files []string
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "expected.yaml" {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := exp.Files[f]; !ok {
			t.Errorf("%s has no entry in expected.yaml", f)
		}
	}
	if len(files) < 40 {
		t.Errorf("corpus has %d files, want at least 40", len(files))
	}

	var tp, fp, fn int
	for _, path := range slices.Sorted(mapsKeys(exp.Files, got)) {
		want := slices.Clone(exp.Files[path])
		have := slices.Clone(got[path])
		for _, w := range want {
			if i := slices.Index(have, w); i >= 0 {
				tp++
				have = slices.Delete(have, i, i+1)
			} else {
				fn++
				t.Errorf("%s: expected %s, not reported", path, w)
			}
		}
		for _, h := range have {
			fp++
			t.Errorf("%s: reported %s, not expected%s", path, h, detail(fs, path, h))
		}
	}
	precision := float64(tp) / float64(max(tp+fp, 1))
	recall := float64(tp) / float64(max(tp+fn, 1))
	t.Logf("corpus: %d files, %d expected findings, %d reported; TP=%d FP=%d FN=%d precision=%.3f recall=%.3f",
		len(files), tp+fn, tp+fp, tp, fp, fn, precision, recall)
}

func mapsKeys(ms ...map[string][]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, m := range ms {
			for k := range m {
				if !seen[k] {
					seen[k] = true
					if !yield(k) {
						return
					}
				}
			}
		}
	}
}

// detail finds the message of a reported finding for error output.
func detail(fs []finding.Finding, path, entry string) string {
	for _, f := range fs {
		e := fmt.Sprintf("%s@%d", f.RuleID, f.Location.Line)
		if f.Location.Path == path && strings.HasPrefix(entry, e) {
			return " (" + f.Message + ")"
		}
	}
	return ""
}

// TestCorpusCoversEveryRule keeps the corpus honest as rules are added:
// each rule must be expected at least once somewhere in it.
func TestCorpusCoversEveryRule(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "corpus", "expected.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range misconfig.Rules() {
		if !strings.Contains(string(raw), r.ID+"@") {
			t.Errorf("rule %s (%s) is never expected in the corpus", r.ID, r.Title)
		}
	}
}
