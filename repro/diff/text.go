package diff

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
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
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(data)) > limit {
		return nil, false, nil
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

// textDiff builds a KindText difference with a unified diff and the causes
// inferred from each changed hunk.
func (c *comparer) textDiff(a, b string) Difference {
	la, lb := splitLines(a), splitLines(b)
	m := difflib.NewMatcher(la, lb)
	now := c.cfg.now()
	var causes []Cause
	var removed, added []string
	unexplained := 0
	for _, op := range m.GetOpCodes() {
		if op.Tag == 'e' {
			continue
		}
		ca, cb := strings.Join(la[op.I1:op.I2], ""), strings.Join(lb[op.J1:op.J2], "")
		removed = append(removed, la[op.I1:op.I2]...)
		added = append(added, lb[op.J1:op.J2]...)
		cs, ok := classifyText(ca, cb, now)
		if !ok {
			unexplained++
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
	var out strings.Builder
	_ = difflib.WriteUnifiedDiff(&out, difflib.UnifiedDiff{A: la, B: lb, FromFile: "a", ToFile: "b", Context: 3})
	text, lines := out.String(), 0
	for i := range len(text) {
		if text[i] == '\n' {
			lines++
			if lines == c.cfg.maxDiffLines {
				text = text[:i+1] + "... (diff truncated)\n"
				break
			}
		}
	}
	detail := fmt.Sprintf("%d and %d lines", len(la), len(lb))
	if unexplained > 0 && len(causes) > 0 {
		detail += fmt.Sprintf("; %d hunk(s) not fully explained", unexplained)
	}
	return Difference{Kind: KindText, Offset: -1, Diff: text, Causes: causes, Detail: detail}
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
