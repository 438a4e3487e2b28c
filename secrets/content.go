package secrets

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/redact"
	"github.com/hallmark-dev/hallmark/secrets/rules"
)

// chunkSize is how much text is handed to the detector at once. Chunks end
// at a line break (and never inside a PEM block that fits in a chunk).
const chunkSize = 16 << 10

// chunkOverlap is how much of a chunk cut inside an over-long line the
// next chunk repeats, so that a credential up to this long that straddles
// the cut is seen whole. Findings that start in the repeated part are left
// to the next chunk, and the next chunk drops a finding of the same rule
// ending where one already reported ends.
const chunkOverlap = 1 << 10

// binarySniff is how many leading bytes decide whether content is binary.
const binarySniff = 8000

// content searches up to MaxFileBytes of r for credentials.
func (w *walker) content(ctx context.Context, chain []string, r *bufio.Reader, size int64) error {
	lr := &io.LimitedReader{R: r, N: w.s.lim.MaxFileBytes}
	bufLen := chunkSize
	if size >= 0 && size < chunkSize {
		bufLen = int(size) + 1
	}
	// The buffer goes back to the pool on return: what outlives a chunk
	// is copied (the text to a string, the carry to its own slice).
	pooled := w.s.chunks.Get().(*[]byte)
	defer w.s.chunks.Put(pooled)
	buf := (*pooled)[:bufLen]
	var (
		carry    []byte
		repeated int // bytes of carry that the previous chunk searched too
		lineBase int // lines before the current chunk
		col      int // bytes of the chunk's first line before the chunk
		base     int // offset of the chunk in the content
		seen     []seenEnd
		binary   bool
		first    = true
		scope    = w.s.det.Scope(w.rulePath(chain))
	)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(lr, buf)
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return w.fail(ctx, chain, "reading", err)
		}
		head := repeated
		data := buf[:n] // searched as a copy (string) before buf is reused
		if len(carry) > 0 {
			data = append(carry, data...)
		}
		carry, repeated = nil, 0
		if first {
			binary = bytes.IndexByte(data[:min(len(data), binarySniff)], 0) >= 0
			first = false
		}
		if binary {
			data = printable(data)
		}
		next := len(data) // where the next chunk starts
		midLine := false
		if !eof {
			cut := safeCut(data)
			if cut == len(data) && len(data) > 2*chunkOverlap && data[len(data)-1] != '\n' {
				midLine = true
				next = len(data) - chunkOverlap
				carry, repeated = bytes.Clone(data[next:]), chunkOverlap
			} else {
				carry = bytes.Clone(data[cut:])
				data, next = data[:cut], cut
			}
		}
		if len(data) > 0 {
			c := chunk{text: string(data), lineBase: lineBase, col: col, base: base, head: head, next: next, seen: seen}
			seen = w.detect(ctx, chain, scope, c, binary)
			lineBase += bytes.Count(data[:next], []byte{'\n'})
		}
		if midLine {
			col += next
		} else {
			col = 0
		}
		base += next
		if eof {
			break
		}
	}
	if lr.N == 0 {
		if _, err := r.ReadByte(); err == nil {
			w.note(chain, fmt.Sprintf("only the first %d bytes were searched (limit)", w.s.lim.MaxFileBytes))
		}
	}
	return nil
}

// printable maps bytes outside printable ASCII to line breaks, so that rules
// see the strings embedded in a binary one per line.
func printable(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c == '\t' || (c >= 0x20 && c < 0x7f) {
			out[i] = c
		} else {
			out[i] = '\n'
		}
	}
	return out
}

// safeCut returns where to end a chunk: before an unterminated PEM block
// that starts after the chunk's first half, else after the last line break.
func safeCut(b []byte) int {
	nl := bytes.LastIndexByte(b, '\n')
	if nl < 0 {
		return len(b)
	}
	if begin := bytes.LastIndex(b, []byte("-----BEGIN")); begin > len(b)/2 && bytes.LastIndex(b, []byte("-----END")) < begin {
		if ls := bytes.LastIndexByte(b[:begin], '\n'); ls >= 0 {
			return ls + 1
		}
	}
	return nl + 1
}

// allowComment is Hallmark's inline waiver; the reason is required.
var allowComment = regexp.MustCompile(`hallmark:allow-secret\b(?:[ \t]+reason:[ \t]*([^\n]*?))?[ \t]*(?:\*/|-->|#}|%>)?[ \t]*\r?$`)

// rulePath is the path the rules see for the content at chain: the innermost
// member's name, or the top-level file's.
func (w *walker) rulePath(chain []string) string {
	if len(chain) > 0 {
		return chain[len(chain)-1]
	}
	return w.top
}

// chunk is one piece of a file's content handed to the rules.
type chunk struct {
	text     string
	lineBase int // lines before the chunk
	col      int // bytes of the chunk's first line before the chunk
	base     int // offset of the chunk in the content
	// head is how many leading bytes repeat the end of the previous chunk,
	// next where the next chunk starts (len(text) if it repeats nothing).
	head, next int
	seen       []seenEnd // findings of the previous chunk that end in head
}

// seenEnd is a finding reported from a chunk's overlap: its rule and where
// it ends in the content.
type seenEnd struct {
	rule string
	end  int
}

// detect runs the rules over one chunk of text and records findings. It
// returns the findings that end in the part the next chunk repeats.
func (w *walker) detect(ctx context.Context, chain []string, scope *rules.Scope, c chunk, binary bool) []seenEnd {
	text := c.text
	var seen []seenEnd
	for _, m := range scope.Find(ctx, text) {
		if m.Start >= c.next {
			continue // the next chunk sees it with what follows
		}
		if m.Start < c.head && slices.Contains(c.seen, seenEnd{m.RuleID, c.base + m.End}) {
			continue // reported from the previous chunk
		}
		if m.End > c.next {
			seen = append(seen, seenEnd{m.RuleID, c.base + m.End})
		}
		f := newFinding(m, w.loc(chain))
		if binary {
			f.Message += " in binary content (line unknown)"
		} else if m.Line > 0 {
			f.Location.Line = c.lineBase + m.Line
			f.Location.Column = m.Column
			if m.Line == 1 {
				f.Location.Column += c.col
			}
		}
		if !binary && m.Line > 0 {
			reason, found := inlineAllow(text, m.Line)
			switch {
			case reason != "":
				f.Suppressed, f.SuppressedReason = true, "inline comment: "+reason
			case found:
				f.Message += "; an inline hallmark:allow-secret comment was ignored because it gives no reason"
			}
		}
		if !f.Suppressed && m.RuleID == privateKeyRule && encryptedKey(m.Secret) {
			f.Severity = finding.SeverityInfo
			f.Suppressed, f.SuppressedReason = true, "encrypted private key: unusable without its passphrase, which is not stored with it"
		}
		if !f.Suppressed {
			if reason, ok := w.s.allow.match(&f, m.Secret); ok {
				f.Suppressed, f.SuppressedReason = true, "allowlist: "+reason
			}
		}
		f.Message += "; fingerprint " + Fingerprint(f)
		w.out = append(w.out, f)
	}
	return seen
}

// inlineAllow looks for a waiver comment on line n of text or the line
// before it. found reports a comment even when it has no reason.
func inlineAllow(text string, n int) (reason string, found bool) {
	for _, l := range []int{n, n - 1} {
		line, ok := lineOf(text, l)
		if !ok || !strings.Contains(line, "hallmark:allow-secret") {
			continue
		}
		found = true
		if sm := allowComment.FindStringSubmatch(line); sm != nil && strings.TrimSpace(sm[1]) != "" {
			return strings.TrimSpace(sm[1]), true
		}
	}
	return "", found
}

// lineOf returns 1-based line n of text.
func lineOf(text string, n int) (string, bool) {
	if n < 1 {
		return "", false
	}
	for i := 1; i < n; i++ {
		j := strings.IndexByte(text, '\n')
		if j < 0 {
			return "", false
		}
		text = text[j+1:]
	}
	if j := strings.IndexByte(text, '\n'); j >= 0 {
		text = text[:j]
	}
	return text, true
}

// Rule IDs whose findings are critical: private keys and cloud-provider
// credentials, which usually grant broad, long-lived access.
var critical = map[string]bool{
	"private-key": true, "aws-access-token": true, "aws-secret-access-key": true,
	"gcp-service-account-key": true, "azure-storage-account-key": true,
	"azure-ad-client-secret": true, "alibaba-secret-key": true,
}

// Rule IDs whose findings are medium: generic patterns with more false
// positives, and JWTs, which are usually short-lived.
var medium = map[string]bool{
	"generic-api-key": true, "jwt": true, "jwt-base64": true, "curl-auth-header": true,
}

// Severity returns the severity Hallmark gives a finding of a secret rule:
// critical for private keys and cloud-provider credentials, medium for the
// generic high-entropy rule and JWTs, high for every other credential.
func Severity(ruleID string) finding.Severity {
	switch {
	case critical[ruleID]:
		return finding.SeverityCritical
	case medium[ruleID]:
		return finding.SeverityMedium
	}
	return finding.SeverityHigh
}

// IncompleteRule is the rule ID of findings about input left unscanned.
const IncompleteRule = "hallmark-scan-incomplete"

func incomplete(loc finding.Location, msg string) finding.Finding {
	return finding.Finding{
		RuleID:      IncompleteRule,
		Title:       "Part of the input was not scanned for secrets",
		Severity:    finding.SeverityUnknown,
		Message:     msg,
		Location:    loc,
		Remediation: "Scan the unscanned part separately, raise the scan limits if the input is trusted, or investigate an archive that exceeds them (a zip bomb is itself a finding).",
		Rationale:   "The scanner cannot tell whether unscanned content holds credentials.",
	}
}

func newFinding(m rules.Match, loc finding.Location) finding.Finding {
	f := finding.Finding{
		RuleID:      m.RuleID,
		Title:       m.Description,
		Severity:    Severity(m.RuleID),
		Message:     "redacted value " + redact.Mask(m.Secret),
		Location:    loc,
		Evidence:    redact.Mask(m.Secret),
		Remediation: "Revoke and rotate the credential, remove it from the source, its history and any built artifact, and supply it at run time from a secret store. If it is a deliberate fake, waive it with an allowlist entry or an inline hallmark:allow-secret comment giving the reason.",
		Rationale:   "A credential stored in source, a build context or an image can be read by everyone who can read the artifact, for as long as the artifact exists.",
	}
	if !m.Hallmark {
		f.References = []string{"gitleaks:" + m.RuleID}
	}
	if m.Decoded {
		f.Message += ", found after decoding base64/hex/percent-encoded content"
	}
	return f
}
