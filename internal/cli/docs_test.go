package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsCommandLines checks every hallmark command line in the README's
// and docs' code blocks against the real command tree: the command exists
// and every flag it uses is one the command has (issue 16.11: docs drifted
// from the flags). Lines that are synopses ("[--flag X]") are left out;
// the README's "Start" section is run for real by scripts/first-hour.sh.
func TestDocsCommandLines(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(root, "README.md"))
	checked := 0
	for _, file := range files {
		for _, c := range docCommands(t, file) {
			args := shellWords(c.line)
			for i, a := range args {
				// A placeholder digest ("sha256:...", "sha256:<hex>") stands
				// for a real one, which digest flags check when parsed.
				if strings.HasPrefix(a, "sha256:") && strings.ContainsAny(a, ".<") {
					args[i] = "sha256:" + strings.Repeat("0", 64)
				}
			}
			cmd, rest, err := newRootCmd(newTestApp(t).App).Find(args)
			if err != nil || cmd.Name() == "hallmark" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
				t.Errorf("%s:%d: %q: no such command (%v)", filepath.Base(file), c.n, c.line, err)
				continue
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Errorf("%s:%d: %q: %v", filepath.Base(file), c.n, c.line, err)
			}
			checked++
		}
	}
	if checked < 30 {
		t.Errorf("checked only %d command lines: is the extraction broken?", checked)
	}
}

type docCommand struct {
	n    int
	line string
}

// docCommands returns the "hallmark ..." lines (without "$ " and without a
// trailing "# comment"; continuation lines joined) inside ``` blocks.
func docCommands(t *testing.T, file string) []docCommand {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []docCommand
	in := false
	var cur *docCommand
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			continue
		}
		if !in {
			continue
		}
		if cur != nil {
			cur.line += " " + strings.TrimSpace(line)
		} else {
			l := strings.TrimPrefix(strings.TrimSpace(line), "$ ")
			if !strings.HasPrefix(l, "hallmark ") {
				continue
			}
			cur = &docCommand{n: n, line: l}
		}
		if strings.HasSuffix(cur.line, "\\") {
			cur.line = strings.TrimSuffix(cur.line, "\\")
			continue
		}
		if i := strings.Index(cur.line, " #"); i >= 0 {
			cur.line = cur.line[:i]
		}
		if !strings.ContainsAny(cur.line, "[") {
			out = append(out, *cur)
		}
		cur = nil
	}
	return out
}

// shellWords splits a documented command line into arguments (after the
// program name), honouring double and single quotes.
func shellWords(line string) []string {
	var words []string
	var b strings.Builder
	quote := rune(0)
	inWord := false
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			b.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words[1:]
}
