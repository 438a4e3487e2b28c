package misconfig

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hallmark-dev/hallmark/finding"
)

// suppressRE matches "# hallmark:ignore ID[,ID...] reason: text" and the
// file-wide form "hallmark:ignore-file".
var suppressRE = regexp.MustCompile(`#\s*hallmark:(ignore-file|ignore)\b(.*)$`)

// suppression is one parsed waiver comment.
type suppression struct {
	line     int  // line of the comment
	target   int  // line it applies to; 0 for file-wide
	fileWide bool // applies to every line
	ids      []string
	reason   string
}

// parseSuppressions finds waiver comments in data. Malformed ones (no reason,
// unknown rule ID, no rule ID) become HM-SUP-001 findings and waive nothing.
func parseSuppressions(path string, data []byte, rules map[string]*Rule) ([]suppression, []finding.Finding) {
	var sups []suppression
	var bad []finding.Finding
	lines := strings.Split(string(data), "\n")
	rule := rules[RuleSuppressionNoReason]
	for i, raw := range lines {
		m := suppressRE.FindStringSubmatchIndex(raw)
		if m == nil {
			continue
		}
		lineNo := i + 1
		mode := raw[m[2]:m[3]]
		rest := raw[m[4]:m[5]]
		idPart, reason, hasReason := strings.Cut(rest, "reason:")
		reason = strings.TrimSpace(reason)
		ids := strings.FieldsFunc(idPart, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
		var known []string
		var problems []string
		for _, id := range ids {
			if _, ok := rules[id]; ok {
				known = append(known, id)
			} else {
				problems = append(problems, fmt.Sprintf("unknown rule ID %q", id))
			}
		}
		if len(ids) == 0 {
			problems = append(problems, "no rule ID given")
		}
		if !hasReason || reason == "" {
			problems = append(problems, "no reason given (write 'reason: ...')")
		}
		if len(problems) > 0 {
			bad = append(bad, rule.finding(path, lineNo, "suppression ignored: "+strings.Join(problems, "; "), strings.TrimSpace(raw[m[0]:])))
			if !hasReason || reason == "" || len(known) == 0 {
				continue
			}
		}
		s := suppression{line: lineNo, ids: known, reason: reason, fileWide: mode == "ignore-file"}
		if !s.fileWide {
			s.target = lineNo
			if strings.TrimSpace(raw[:m[0]]) == "" {
				// A comment on its own line waives the next line that is
				// neither blank nor a comment.
				s.target = 0
				for j := i + 1; j < len(lines); j++ {
					t := strings.TrimSpace(lines[j])
					if t != "" && !strings.HasPrefix(t, "#") {
						s.target = j + 1
						break
					}
				}
			}
		}
		sups = append(sups, s)
	}
	return sups, bad
}

// applySuppressions marks findings waived by sups.
func applySuppressions(fs []finding.Finding, sups []suppression) {
	for i := range fs {
		f := &fs[i]
		for _, s := range sups {
			if !s.fileWide && (s.target == 0 || s.target != f.Location.Line) {
				continue
			}
			for _, id := range s.ids {
				if id == f.RuleID {
					f.Suppressed = true
					f.SuppressedReason = fmt.Sprintf("inline suppression at line %d: %s", s.line, s.reason)
				}
			}
		}
	}
}
