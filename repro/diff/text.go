package diff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// readBounded reads all of s when it is at most limit bytes long.
func readBounded(s *source, limit int64) ([]byte, bool, error) {
	if s.size > limit {
		return nil, false, nil
	}
	if s.inMem {
		return s.data, true, nil
	}
	rc, err := s.reader()
	if err != nil {
		return nil, false, err
	}
	defer rc.Close()
	data, err := limits.ReadAll(rc, limit, "text")
	if errors.Is(err, limits.ErrTooLarge) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// compareText reports a unified diff of two text (or JSON) files. Files
// larger than the text limit are left to the byte comparison.
func (c *comparer) compareText(ctx context.Context, p string, a, b *source) error {
	da, okA, err := readBounded(a, c.cfg.maxText)
	if err != nil {
		return err
	}
	db, okB, err := readBounded(b, c.cfg.maxText)
	if err != nil {
		return err
	}
	if !okA || !okB {
		c.note("%s: larger than the text limit %d; compared as bytes", displayPath(p), c.cfg.maxText)
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ta, tb, isJSON := string(da), string(db), false
	if ja, jb, ok := jsonPair(da, db); ok {
		var va, vb any
		decA := json.NewDecoder(bytes.NewReader(da))
		decA.UseNumber()
		decB := json.NewDecoder(bytes.NewReader(db))
		decB.UseNumber()
		if decA.Decode(&va) == nil && decB.Decode(&vb) == nil && reflect.DeepEqual(va, vb) {
			c.add(Difference{Path: p, Kind: KindText, Field: "json", Offset: -1, Causes: []Cause{CauseOrdering},
				Detail: "same JSON value, serialised differently (key order or whitespace)"})
			return nil
		}
		ta, tb, isJSON = ja, jb, true
	}
	d := c.textDiff(ta, tb)
	d.Path = p
	if isJSON {
		d.Field = "json"
		d.Detail = "JSON re-indented before comparison; " + d.Detail
	}
	c.add(d)
	return nil
}

// jsonPair returns both documents indented when both are JSON objects or
// arrays.
func jsonPair(a, b []byte) (string, string, bool) {
	isDoc := func(d []byte) bool {
		t := bytes.TrimSpace(d)
		return len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t)
	}
	if !isDoc(a) || !isDoc(b) {
		return "", "", false
	}
	var ia, ib bytes.Buffer
	if json.Indent(&ia, bytes.TrimSpace(a), "", "  ") != nil || json.Indent(&ib, bytes.TrimSpace(b), "", "  ") != nil {
		return "", "", false
	}
	ia.WriteByte('\n')
	ib.WriteByte('\n')
	return ia.String(), ib.String(), true
}

// Bounds on the line-by-line alignment: difflib's matcher is quadratic in
// the worst case, so only the differing middle of two texts (after trimming
// common leading and trailing lines) is aligned, and only when small enough;
// each hunk is classified on at most maxClassify bytes.
const (
	maxMatchLines = 4000
	maxClassify   = 64 << 10
	diffContext   = 3
)

var reHunk = regexp.MustCompile(`(?m)^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@`)

// textDiff builds a KindText difference with a unified diff and the causes
// inferred from each changed hunk.
func (c *comparer) textDiff(a, b string) Difference {
	la, lb := splitLines(a), splitLines(b)
	pre := 0
	for pre < len(la) && pre < len(lb) && la[pre] == lb[pre] {
		pre++
	}
	suf := 0
	for suf < len(la)-pre && suf < len(lb)-pre && la[len(la)-1-suf] == lb[len(lb)-1-suf] {
		suf++
	}
	ma, mb := la[pre:len(la)-suf], lb[pre:len(lb)-suf]
	aligned := len(ma) <= maxMatchLines && len(mb) <= maxMatchLines
	ops := []difflib.OpCode{{Tag: 'r', I1: 0, I2: len(ma), J1: 0, J2: len(mb)}}
	positional := !aligned && len(ma) == len(mb)
	switch {
	case aligned:
		ops = difflib.NewMatcher(ma, mb).GetOpCodes()
	case positional:
		// Same number of lines: pair them by position, in linear time.
		ops = ops[:0]
		for i := 0; i < len(ma); {
			if ma[i] == mb[i] {
				i++
				continue
			}
			j := i
			for j < len(ma) && ma[j] != mb[j] {
				j++
			}
			ops = append(ops, difflib.OpCode{Tag: 'r', I1: i, I2: j, J1: i, J2: j})
			i = j
		}
	}
	now := c.cfg.now()
	var causes []Cause
	var removed, added []string
	unexplained := 0
	for _, op := range ops {
		if op.Tag == 'e' {
			continue
		}
		removed = append(removed, ma[op.I1:op.I2]...)
		added = append(added, mb[op.J1:op.J2]...)
		ca, cb := joinBounded(ma[op.I1:op.I2]), joinBounded(mb[op.J1:op.J2])
		cs, ok := classifyText(ca, cb, now)
		if !ok {
			unexplained++
			// A large hunk that masking does not fully explain is a real
			// content change; tokens it happens to contain prove nothing.
			if op.I2-op.I1 > 10 || op.J2-op.J1 > 10 {
				cs = nil
			}
		}
		for _, cause := range cs {
			if !slices.Contains(causes, cause) {
				causes = append(causes, cause)
			}
		}
	}
	slices.Sort(removed)
	slices.Sort(added)
	if len(removed) > 0 && slices.Equal(removed, added) {
		// Only moved lines: the content is the same, its order is not.
		causes, unexplained = []Cause{CauseOrdering}, 0
	}
	var text string
	if aligned {
		// Diff a window of the trimmed middle plus context, then shift the
		// hunk line numbers back to whole-file positions.
		start := max(pre-diffContext, 0)
		wa := la[start:min(len(la)-suf+diffContext, len(la))]
		wb := lb[start:min(len(lb)-suf+diffContext, len(lb))]
		var out strings.Builder
		_ = difflib.WriteUnifiedDiff(&out, difflib.UnifiedDiff{A: wa, B: wb, FromFile: "a", ToFile: "b", Context: diffContext})
		text = reHunk.ReplaceAllStringFunc(out.String(), func(h string) string {
			m := reHunk.FindStringSubmatch(h)
			ia, _ := strconv.Atoi(m[1])
			ib, _ := strconv.Atoi(m[3])
			return fmt.Sprintf("@@ -%d%s +%d%s @@", ia+start, m[2], ib+start, m[4])
		})
	} else if positional {
		var out strings.Builder
		out.WriteString("--- a\n+++ b\n")
		for _, op := range ops {
			fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n", pre+op.I1+1, op.I2-op.I1, pre+op.J1+1, op.J2-op.J1)
			for _, l := range ma[op.I1:op.I2] {
				out.WriteString("-" + l)
			}
			for _, l := range mb[op.J1:op.J2] {
				out.WriteString("+" + l)
			}
			if out.Len() > 1<<20 {
				break
			}
		}
		text = out.String()
	} else {
		var out strings.Builder
		fmt.Fprintf(&out, "--- a\n+++ b\n@@ -%d,%d +%d,%d @@ (too large to align line by line)\n", pre+1, len(ma), pre+1, len(mb))
		for _, l := range ma[:min(len(ma), c.cfg.maxDiffLines/2)] {
			out.WriteString("-" + l)
		}
		for _, l := range mb[:min(len(mb), c.cfg.maxDiffLines/2)] {
			out.WriteString("+" + l)
		}
		text = out.String()
	}
	lines := 0
	for i := range len(text) {
		if text[i] == '\n' {
			lines++
			if lines == c.cfg.maxDiffLines {
				text = text[:i+1] + "... (diff truncated)\n"
				break
			}
		}
	}
	detail := fmt.Sprintf("%d and %d lines; first difference at line %d", len(la), len(lb), pre+1)
	if unexplained > 0 && len(causes) > 0 {
		detail += fmt.Sprintf("; %d hunk(s) not fully explained", unexplained)
	}
	return Difference{Kind: KindText, Offset: -1, Diff: text, Causes: causes, Detail: detail}
}

// joinBounded joins lines, keeping at most maxClassify bytes.
func joinBounded(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		if b.Len()+len(l) > maxClassify {
			b.WriteString(l[:min(len(l), maxClassify-b.Len())])
			break
		}
		b.WriteString(l)
	}
	return b.String()
}

// splitLines splits text into lines that keep their newline; unlike
// difflib.SplitLines it adds no empty line after a final newline.
func splitLines(s string) []string {
	lines := difflib.SplitLines(s)
	if strings.HasSuffix(s, "\n") {
		lines = lines[:len(lines)-1]
	}
	return lines
}
