package redact

import (
	"context"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/hallmark-dev/hallmark/secrets/rules"
)

// Marker replaces a value masked because of its name.
const Marker = "[REDACTED]"

// Entropy thresholds for values that match no rule: a standalone token at
// least minTokenLen long made only of token characters, mixing letters and
// digits, whose Shannon entropy is at least minEntropy bits per character.
// Hex strings (git commit IDs, digests) top out at 4 bits and stay visible.
const (
	minTokenLen = 20
	minEntropy  = 4.2
)

// Redactor masks credentials. It is safe for concurrent use.
type Redactor struct {
	d *rules.Detector
}

// New returns a Redactor over the secret-detection rule set.
func New() (*Redactor, error) {
	d, err := rules.New()
	if err != nil {
		return nil, err
	}
	return &Redactor{d: d}, nil
}

// shared is the Redactor behind the package-level functions. It is built
// from constant, embedded rules and never changes after construction.
var shared = sync.OnceValues(New)

// String masks the credentials in s with the shared Redactor. If the rule
// set cannot be loaded, it fails closed and returns Marker.
func String(s string) string {
	r, err := shared()
	if err != nil {
		return Marker
	}
	return r.String(s)
}

// Env masks an environment in "NAME=value" form (as os.Environ returns it)
// with the shared Redactor; see Redactor.Env.
func Env(env []string) []string {
	r, err := shared()
	if err != nil {
		out := make([]string, len(env))
		for i, kv := range env {
			name, _, _ := strings.Cut(kv, "=")
			out[i] = name + "=" + Marker
		}
		return out
	}
	return r.Env(env)
}

// EnvMap masks an environment given as a map with the shared Redactor.
func EnvMap(env map[string]string) map[string]string {
	r, err := shared()
	if err != nil {
		out := make(map[string]string, len(env))
		for k := range env {
			out[k] = Marker
		}
		return out
	}
	return r.EnvMap(env)
}

// Env returns a copy of env with credential values masked. Entries keep
// their names and order; an entry without '=' is treated as free text.
func (r *Redactor) Env(env []string) []string {
	out := make([]string, len(env))
	for i, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			out[i] = r.String(kv)
			continue
		}
		out[i] = name + "=" + r.value(name, value)
	}
	return out
}

// EnvMap returns a copy of env with credential values masked.
func (r *Redactor) EnvMap(env map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = r.value(k, v)
	}
	return out
}

// value masks one variable's value.
func (r *Redactor) value(name, value string) string {
	if value == "" {
		return value
	}
	if SensitiveName(name) {
		return Marker
	}
	if masked := r.String(value); masked != value {
		return masked
	}
	if HighEntropy(value) {
		return "[REDACTED:high-entropy]"
	}
	return value
}

// assignment finds NAME=value and NAME: value pairs, and flag finds
// --flag=value and --flag value pairs; String masks the value when the name
// is sensitive.
var (
	assignment = regexp.MustCompile(`(?:^|[\s;&|(,{"'])\$?([A-Za-z_][\w.-]*)["']?[ \t]*[=:][ \t]*(\$?\{\{[^}\n]*\}\}|\$\{[^}\n]*\}|"[^"\n]*"|'[^'\n]*'|[^\s"';&|,)}]+)`)
	flag       = regexp.MustCompile(`(?:^|\s)--?([A-Za-z][\w.-]*)(?:=|[ \t]+)(\$?\{\{[^}\n]*\}\}|\$\{[^}\n]*\}|"[^"\n]*"|'[^'\n]*'|[^\s"';&|,)}]+)`)
)

// placeholder values are references to a secret, not the secret itself.
var placeholder = regexp.MustCompile(`^(?:\$\{?[\w.]+\}?|\$\(.*\)|\{\{.*\}\}|\$\{\{.*\}\}|<[^>]*>|\*+|\[REDACTED[^\]]*\]|true|false|null|none|)$`)

// String returns s with every credential masked: each rule match is
// replaced by "[REDACTED:<rule-id>]" and the value of each assignment or
// flag with a sensitive name (password=..., --token ...) by Marker.
func (r *Redactor) String(s string) string {
	type span struct {
		start, end int
		label      string
	}
	var spans []span
	for _, m := range r.d.Find(context.Background(), s, "") {
		label := "[REDACTED:" + m.RuleID + "]"
		start, end := m.Start, m.End
		if i := strings.Index(s[start:end], m.Secret); !m.Decoded && m.Secret != "" && i >= 0 {
			start, end = start+i, start+i+len(m.Secret)
		}
		spans = append(spans, span{start, end, label})
		// Mask other copies of a long secret too.
		if len(m.Secret) >= 8 && !m.Decoded {
			for off := 0; ; {
				i := strings.Index(s[off:], m.Secret)
				if i < 0 {
					break
				}
				spans = append(spans, span{off + i, off + i + len(m.Secret), label})
				off += i + len(m.Secret)
			}
		}
	}
	pairs := append(assignment.FindAllStringSubmatchIndex(s, -1), flag.FindAllStringSubmatchIndex(s, -1)...)
	for _, m := range pairs {
		name := s[m[2]:m[3]]
		vs, ve := m[4], m[5]
		v := s[vs:ve]
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			vs, ve = vs+1, ve-1
			v = s[vs:ve]
		}
		if SensitiveName(name) && !placeholder.MatchString(v) {
			spans = append(spans, span{vs, ve, Marker})
		}
	}
	if len(spans) == 0 {
		return s
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].start != spans[j].start {
			return spans[i].start < spans[j].start
		}
		return spans[i].end > spans[j].end
	})
	var b strings.Builder
	pos := 0
	for _, sp := range spans {
		if sp.end <= pos {
			continue
		}
		if sp.start < pos {
			sp.start = pos
		} else {
			b.WriteString(s[pos:sp.start])
		}
		b.WriteString(sp.label)
		pos = sp.end
	}
	b.WriteString(s[pos:])
	return b.String()
}

// Words that mark a variable name as holding a credential, as whole words
// of the name (split at '_', '-', '.' and lower-to-upper case changes).
var sensitiveWords = map[string]bool{
	"TOKEN": true, "TOKENS": true, "SECRET": true, "SECRETS": true,
	"PASSWORD": true, "PASSWORDS": true, "PASSWD": true, "PASS": true,
	"PASSPHRASE": true, "PWD": true, "PW": true, "KEY": true, "KEYS": true,
	"APIKEY": true, "CREDENTIAL": true, "CREDENTIALS": true, "CREDS": true,
	"AUTH": true, "AUTHORIZATION": true, "SESSION": true, "COOKIE": true,
	"COOKIES": true, "PRIVATE": true, "DSN": true, "PAT": true, "JWT": true,
	"BEARER": true, "OAUTH": true, "SALT": true, "SIGNATURE": true, "SIG": true,
	"CERTIFICATE": false, // public material; listed to document the choice
}

// Substrings that mark a name even inside a compound word (GITHUBTOKEN).
var sensitiveParts = []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL", "APIKEY", "PRIVATEKEY", "ACCESSKEY"}

// Names that contain a sensitive word but are known not to hold one.
var notSensitive = map[string]bool{"PWD": true, "OLDPWD": true}

// SensitiveName reports whether a variable, key or flag name says its value
// is a credential.
func SensitiveName(name string) bool {
	up := strings.ToUpper(strings.TrimLeft(name, "-$"))
	if notSensitive[up] {
		return false
	}
	for _, p := range sensitiveParts {
		if strings.Contains(up, p) {
			return true
		}
	}
	return slices.ContainsFunc(words(name), func(w string) bool { return sensitiveWords[w] })
}

// words splits a name into upper-case words at separators and at
// lower-to-upper case changes ("dbPassword" -> DB, PASSWORD).
func words(name string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToUpper(string(cur)))
			cur = cur[:0]
		}
	}
	var prev rune
	for _, c := range name {
		switch {
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			flush()
		case unicode.IsUpper(c) && unicode.IsLower(prev):
			flush()
			cur = append(cur, c)
		default:
			cur = append(cur, c)
		}
		prev = c
	}
	flush()
	return out
}

// HighEntropy reports whether v is a single long token of random-looking
// characters (letters and digits mixed, entropy at least 4.2 bits per
// character), the shape of an API key or password generated by a machine.
func HighEntropy(v string) bool {
	if len(v) < minTokenLen {
		return false
	}
	var letter, digit bool
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9':
			digit = true
		case strings.ContainsRune("+/=_-.~", c):
		default:
			return false
		}
	}
	return letter && digit && Entropy(v) >= minEntropy
}

// Entropy is the Shannon entropy of s in bits per byte.
func Entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	var e float64
	n := float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			e -= p * math.Log2(p)
		}
	}
	return e
}

// Mask returns a short, safe rendering of a detected secret for reports:
// the PEM header of a private key, or at most the first four characters of
// a long token followed by asterisks; short values are fully masked.
func Mask(secret string) string {
	if strings.HasPrefix(secret, "-----BEGIN") {
		if i := strings.Index(secret[len("-----BEGIN"):], "-----"); i >= 0 {
			return secret[:len("-----BEGIN")+i+5] + " " + Marker
		}
	}
	if len(secret) >= 20 && !strings.ContainsAny(secret[:4], "\n\r") {
		return secret[:4] + "********"
	}
	return "********"
}
