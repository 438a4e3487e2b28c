package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// toJSONL writes every *.json file under dir as one compact line of out,
// in name order: the same records as the tree, as one file.
func toJSONL(dir, out string) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		buf.WriteByte('\n')
		if _, err := f.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return f.Close()
}

// key identifies a finding across the two tools: file (relative to the
// scanned input), line and rule.
type key struct {
	file string
	line int
	rule string
}

func (k key) String() string { return fmt.Sprintf("%s:%d %s", k.file, k.line, k.rule) }

// diffFindings compares a gitleaks JSON report with a Hallmark JSON report
// of the same input (prefix is what gitleaks puts before paths relative to
// the input) and prints the findings only one of them has.
func diffFindings(w io.Writer, glPath, hmPath, prefix string) error {
	var gl []struct {
		RuleID, File string
		StartLine    int
	}
	var hm struct {
		Findings []struct {
			RuleID     string
			Suppressed bool
			Location   struct {
				Path, Member string
				Line         int
			}
		}
	}
	for _, x := range []struct {
		p string
		v any
	}{{glPath, &gl}, {hmPath, &hm}} {
		b, err := os.ReadFile(x.p)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, x.v); err != nil {
			return fmt.Errorf("%s: %w", x.p, err)
		}
	}
	gs, hs := map[key]int{}, map[key]int{}
	for _, f := range gl {
		file := strings.TrimPrefix(strings.TrimPrefix(filepath.ToSlash(f.File), prefix), "/")
		gs[key{file, f.StartLine, f.RuleID}]++
	}
	for _, f := range hm.Findings {
		file := f.Location.Path
		if f.Location.Member != "" {
			file += "!" + f.Location.Member
		}
		hs[key{file, f.Location.Line, f.RuleID}]++
	}
	only := func(a, b map[key]int) []string {
		var out []string
		for k, n := range a {
			if b[k] < n {
				out = append(out, k.String())
			}
		}
		slices.Sort(out)
		return out
	}
	og, oh := only(gs, hs), only(hs, gs)
	fmt.Fprintf(w, "  findings: gitleaks %d, hallmark %d; only gitleaks %d, only hallmark %d\n", len(gl), len(hm.Findings), len(og), len(oh))
	for _, s := range og[:min(len(og), 15)] {
		fmt.Fprintf(w, "    only gitleaks: %s\n", s)
	}
	for _, s := range oh[:min(len(oh), 15)] {
		fmt.Fprintf(w, "    only hallmark: %s\n", s)
	}
	return nil
}
