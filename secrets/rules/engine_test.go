package rules_test

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hallmark-dev/hallmark/secrets/rules"
)

// sample returns a string that the rule's regular expression matches.
func sample(r *rand.Rand, rule rules.Rule) string {
	re, err := syntax.Parse(rule.Regex, syntax.Perl)
	if err != nil {
		return ""
	}
	var b strings.Builder
	rules.RuleSample.Write(r, re.Simplify(), &b)
	return b.String()
}

var fillers = []string{
	"package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
	`{"id":"GO-2023-1234","modified":"2024-01-02T03:04:05Z","aliases":["CVE-2023-0001","GHSA-abcd-efgh-ijkl"],"details":"An attacker can cause a token parser to panic","affected":[{"package":{"name":"github.com/example/mod","ecosystem":"Go"}}],"references":[{"type":"FIX","url":"https://github.com/example/mod/commit/0123456789abcdef0123456789abcdef01234567"}]}` + "\n",
	"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n  password: cGFzc3dvcmQxMjM0NTY3ODkw\n",
	"export API_KEY=${API_KEY:-}\nauth_token = os.environ['TOKEN']\n",
	"github.com/example/mod v1.2.3 h1:abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ=\n",
	// go.sum lines whose module names hold keywords: waived by Hallmark's
	// line allowlist (also with \r\n, at the end of a text without a line
	// break, and not when the hash is one character too long).
	"example.com/apikey/token v1.0.0 h1:b9Iv0HNLzZQYZKSmfsmeHhukv8bkmciVFZsnC4uNMec=\nexample.com/mod/key1 v1.1.0 h1:5d6uxfHPZHO8Juo33mJNjfwfjdxJj7vH0btsVOm/UhF=\r\n",
	"example.com/mod/key2 v1.2.0 h1:tt/euW4x01UkCk5bBhle4jaQRomn4Cece86RmUwMP7dX=\nexample.com/auth/secret v1.0.0 h1:wsC1DsfQNDihiIU32ddfh+zWnsJAj9xMIJS8M0qFh9A=",
	"var x=function(a,b){return a.key+b.token};var secret_access=1;" + strings.Repeat("a.b(c);", 30) + "\n",
	"# heading\n\nSome prose about access keys, passwords and credentials.\n\n",
	"url = \"https://user:p%40ssw0rd%21@example.com/path?sig=abc%2Bdef\"\n",
	"\\u0041\\u0042 U+0043 " + strings.Repeat("deadbeef", 5) + " " + hex.EncodeToString([]byte("token=abcdef0123456789XYZ")) + "\n",
}

// corpus builds texts with every rule's sample planted in varied contexts:
// alone on a line, after an assignment, inside JSON, on one long line,
// base64-, hex- and percent-encoded, and next to each other.
func corpus(t testing.TB, seed uint64) []string {
	det, err := rules.New()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 7))
	var samples []string
	for _, rule := range det.Rules() {
		if rule.Regex == "" {
			continue
		}
		for range 2 {
			samples = append(samples, sample(r, rule))
		}
	}
	var texts []string
	var long strings.Builder
	for i, s := range samples {
		f := fillers[i%len(fillers)]
		var b strings.Builder
		b.WriteString(f)
		switch i % 7 {
		case 0:
			b.WriteString(s + "\n")
		case 1:
			fmt.Fprintf(&b, "secret_key = \"%s\"\n", s)
		case 2:
			fmt.Fprintf(&b, `{"token": "%s", "note": "x"}`+"\n", s)
		case 3:
			fmt.Fprintf(&b, "data: %s\n", base64.StdEncoding.EncodeToString([]byte("key="+s)))
		case 4:
			fmt.Fprintf(&b, "v=%s\n", hex.EncodeToString([]byte(s)))
		case 5:
			fmt.Fprintf(&b, "q=%s\n", url.QueryEscape("password: "+s))
		case 6:
			b.WriteString(s + " " + samples[(i+1)%len(samples)] + "\n")
		}
		b.WriteString(fillers[(i+3)%len(fillers)])
		texts = append(texts, b.String())
		fmt.Fprintf(&long, "%s;%q;", f[:min(len(f), 40)], s)
	}
	texts = append(texts, long.String(), strings.Join(texts[:50], ""), strings.Join(fillers, ""))
	return texts
}

func findBoth(t testing.TB, fast, ref *rules.Detector, text, path string) (got, want []rules.Match) {
	return fast.Find(t.Context(), text, path), ref.Find(t.Context(), text, path)
}

// TestEngineMatchesGitleaks: the default engine finds exactly what gitleaks'
// detector finds, rule by rule, on a corpus with a sample of every rule, at
// decoding depth 1 (which includes the undecoded pass).
func TestEngineMatchesGitleaks(t *testing.T) {
	for _, depth := range []int{1} {
		fast, err := rules.New(rules.DecodeDepth(depth))
		if err != nil {
			t.Fatal(err)
		}
		ref, err := rules.New(rules.DecodeDepth(depth), rules.GitleaksEngine())
		if err != nil {
			t.Fatal(err)
		}
		texts := corpus(t, uint64(depth))
		ruleSeen := map[string]bool{}
		decoded := 0
		for i, text := range texts {
			path := []string{"src/app.go", "config/settings.json", "deploy/secret.yaml", "", "node_modules/x/index.js"}[i%5]
			got, want := findBoth(t, fast, ref, text, path)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("depth %d text %d (%s): engine differs from gitleaks (-gitleaks +engine):\n%s", depth, i, path, diff)
			}
			for _, m := range got {
				ruleSeen[m.RuleID] = true
				if m.Decoded {
					decoded++
				}
			}
		}
		if len(ruleSeen) < 150 {
			t.Errorf("depth %d: only %d rules matched in the corpus; the comparison is too thin", depth, len(ruleSeen))
		}
		if depth > 0 && decoded == 0 {
			t.Errorf("depth %d: no finding after decoding; the decoding path is not compared", depth)
		}
		t.Logf("depth %d: %d texts, %d rules matched, %d decoded findings", depth, len(texts), len(ruleSeen), decoded)
	}
}

// FuzzEngine compares the default engine with gitleaks' detector on
// arbitrary text.
func FuzzEngine(f *testing.F) {
	for _, s := range corpus(f, 99)[:300] {
		f.Add(s)
	}
	for _, s := range fillers {
		f.Add(s)
	}
	f.Add("K\u212aey=abcdefghijklmnop0123456789 \u017fecret=abcdefghijklmnopqrstu0123")
	fast, err := rules.New()
	if err != nil {
		f.Fatal(err)
	}
	ref, err := rules.New(rules.GitleaksEngine())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 64<<10 {
			return
		}
		got, want := findBoth(t, fast, ref, text, "f.txt")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("engine differs from gitleaks (-gitleaks +engine):\n%s", diff)
		}
	})
}
