package misconfig

import (
	"bytes"
	"path"
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// shCmd is one simple command of a shell script: its words with quotes
// removed (expansions kept as text, e.g. "$HOME") and its prefix variable
// assignments.
type shCmd struct {
	args    []string
	assigns map[string]string
	line    int // 1-based, within the script
}

// name is the command's base name, skipping sudo/env wrappers.
func (c shCmd) name() string {
	a := c.realArgs()
	if len(a) == 0 {
		return ""
	}
	return path.Base(a[0])
}

// realArgs returns the words from the command proper: "sudo -E apt-get
// install x" gives [apt-get install x].
func (c shCmd) realArgs() []string {
	a := c.args
	for len(a) > 0 {
		switch path.Base(a[0]) {
		case "sudo", "env", "command", "exec", "nohup", "time":
			a = a[1:]
			for len(a) > 0 && (strings.HasPrefix(a[0], "-") || strings.Contains(a[0], "=")) {
				a = a[1:]
			}
			continue
		}
		return a
	}
	return a
}

// shScript is a parsed shell script.
type shScript struct {
	cmds []shCmd
	// pipes are pairs (writer commands, first reader command) of each pipe.
	pipes []shPipe
	// substituted are commands whose argument is built from a command
	// substitution or process substitution, with the text of that argument
	// ("bash <(curl ...)", "sh -c "$(wget ...)"").
	substituted []shSubst
}

type shPipe struct {
	from []shCmd
	to   shCmd
}

type shSubst struct {
	cmd  shCmd
	text string
}

// parseShell parses script. It never fails: a script the parser rejects is
// split on the usual separators instead, which is good enough for the
// command-name checks.
func parseShell(script string) shScript {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "")
	if err != nil {
		return fallbackShell(script)
	}
	var s shScript
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.CallExpr:
			c := callCmd(n)
			s.cmds = append(s.cmds, c)
			for _, w := range n.Args {
				for _, p := range w.Parts {
					switch p.(type) {
					case *syntax.CmdSubst, *syntax.ProcSubst:
						s.substituted = append(s.substituted, shSubst{cmd: c, text: printNode(p)})
					case *syntax.DblQuoted:
						for _, q := range p.(*syntax.DblQuoted).Parts {
							if _, ok := q.(*syntax.CmdSubst); ok {
								s.substituted = append(s.substituted, shSubst{cmd: c, text: printNode(q)})
							}
						}
					}
				}
			}
		case *syntax.DeclClause:
			// export/declare/local/readonly: keep as a command whose
			// arguments are "name=value" words.
			c := shCmd{line: int(n.Pos().Line()), args: []string{n.Variant.Value}}
			for _, a := range n.Args {
				if a.Name == nil {
					continue
				}
				v := ""
				if a.Value != nil {
					v = wordValue(a.Value)
				}
				c.args = append(c.args, a.Name.Value+"="+v)
			}
			s.cmds = append(s.cmds, c)
		case *syntax.BinaryCmd:
			if n.Op == syntax.Pipe || n.Op == syntax.PipeAll {
				from := callsIn(n.X)
				to := callsIn(n.Y)
				if len(from) > 0 && len(to) > 0 {
					s.pipes = append(s.pipes, shPipe{from: from, to: to[0]})
				}
			}
		}
		return true
	})
	return s
}

func callsIn(n syntax.Node) []shCmd {
	var out []shCmd
	syntax.Walk(n, func(n syntax.Node) bool {
		if c, ok := n.(*syntax.CallExpr); ok {
			out = append(out, callCmd(c))
		}
		return true
	})
	return out
}

func callCmd(n *syntax.CallExpr) shCmd {
	c := shCmd{line: int(n.Pos().Line())}
	for _, a := range n.Assigns {
		if a.Name == nil {
			continue
		}
		if c.assigns == nil {
			c.assigns = map[string]string{}
		}
		v := ""
		if a.Value != nil {
			v = wordValue(a.Value)
		}
		c.assigns[a.Name.Value] = v
	}
	for _, w := range n.Args {
		c.args = append(c.args, wordValue(w))
	}
	return c
}

// wordValue renders a word with quoting removed; expansions stay as text.
func wordValue(w *syntax.Word) string {
	var b strings.Builder
	for _, p := range w.Parts {
		partValue(&b, p)
	}
	return b.String()
}

func partValue(b *strings.Builder, p syntax.WordPart) {
	switch p := p.(type) {
	case *syntax.Lit:
		b.WriteString(p.Value)
	case *syntax.SglQuoted:
		b.WriteString(p.Value)
	case *syntax.DblQuoted:
		for _, q := range p.Parts {
			partValue(b, q)
		}
	default:
		b.WriteString(printNode(p))
	}
}

func printNode(n syntax.Node) string {
	var buf bytes.Buffer
	if err := syntax.NewPrinter(syntax.Minify(false)).Print(&buf, n); err != nil {
		return ""
	}
	return buf.String()
}

var fallbackSplit = regexp.MustCompile(`&&|\|\||;|\n`)

// fallbackShell splits on separators and whitespace, keeping single pipes.
func fallbackShell(script string) shScript {
	var s shScript
	line := 1
	for _, seg := range fallbackSplit.Split(script, -1) {
		parts := strings.Split(seg, "|")
		var prev []shCmd
		for i, part := range parts {
			c := shCmd{line: line}
			for _, f := range strings.Fields(part) {
				c.args = append(c.args, strings.Trim(f, `"'`))
			}
			if len(c.args) == 0 {
				continue
			}
			s.cmds = append(s.cmds, c)
			if i > 0 && len(prev) > 0 {
				s.pipes = append(s.pipes, shPipe{from: prev, to: c})
			}
			prev = []shCmd{c}
		}
		line += strings.Count(seg, "\n")
	}
	return s
}

// Shell command facts shared by the Dockerfile and Actions rules.

var shells = map[string]bool{"sh": true, "bash": true, "zsh": true, "dash": true, "ksh": true, "ash": true,
	"python": true, "python3": true, "perl": true, "ruby": true, "node": true, "php": true, "pwsh": true, "iex": true}

var downloaders = map[string]bool{"curl": true, "wget": true, "fetch": true, "iwr": true, "Invoke-WebRequest": true}

var downloadRE = regexp.MustCompile(`\b(curl|wget)\b`)

// pipeToShell returns the commands of s that run downloaded code directly:
// "curl … | sh", "wget -O- … | sudo bash", "bash <(curl …)", "sh -c "$(curl …)"".
func (s shScript) pipeToShell() []shCmd {
	var out []shCmd
	for _, p := range s.pipes {
		if !shells[p.to.name()] {
			continue
		}
		for _, f := range p.from {
			if downloaders[f.name()] {
				out = append(out, p.to)
				break
			}
		}
	}
	for _, sub := range s.substituted {
		if shells[sub.cmd.name()] && downloadRE.MatchString(sub.text) {
			out = append(out, sub.cmd)
		}
	}
	return out
}
