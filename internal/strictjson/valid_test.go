package strictjson

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// checkCases are inputs whose verdict matters: keys equal only once
// unescaped, objects past the small-set size, nesting at the limit.
var checkCases = []struct {
	in   string
	want error // nil, ErrDuplicateKey or ErrSyntax
}{
	{`{"a":1,"b":[1,2,{"a":2}]}`, nil},
	{`{"a":1,"a":2}`, ErrDuplicateKey},
	{`{"a":1,"\u0061":2}`, ErrDuplicateKey},
	{`{"é":1,"\u00e9":2}`, ErrDuplicateKey},
	{"{\"\xff\":1,\"\\ufffd\":2}", ErrDuplicateKey}, // invalid UTF-8 reads as U+FFFD
	{`{"a\"b":1,"a\\b":2}`, nil},
	{`{"a\\":1,"b":2,"a\\":3}`, ErrDuplicateKey},
	{`[{"x":1},{"x":1}]`, nil},
	{`{"o":{"a":1},"p":{"a":1}}`, nil},
	{` {"a" : [ 1 , "]" , {"}":null} ] } `, nil},
	{manyKeys(40, ""), nil},
	{manyKeys(40, "k3"), ErrDuplicateKey},
	{manyKeys(40, "k39"), ErrDuplicateKey},
	{nested(128), nil},
	{nested(129), ErrSyntax},
	{`{"a":1} {"b":2}`, ErrSyntax},
	{`{"a":1,}`, ErrSyntax},
	{``, ErrSyntax},
	{`"s"`, nil},
	{`-1.5e3`, nil},
	{`true`, nil},
}

func TestCheckValidAgreesWithTokens(t *testing.T) {
	for _, c := range checkCases {
		fast, slow := Check([]byte(c.in)), checkTokens([]byte(c.in))
		if !errors.Is(fast, c.want) && !(c.want == nil && fast == nil) {
			t.Errorf("Check(%.60q) = %v, want %v", c.in, fast, c.want)
		}
		if class(fast) != class(slow) {
			t.Errorf("Check(%.60q) = %v; the token walk says %v", c.in, fast, slow)
		}
	}
}

// FuzzCheckAgrees: the byte walk and the token walk give every input the
// same verdict.
func FuzzCheckAgrees(f *testing.F) {
	for _, c := range checkCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, slow := Check(b), checkTokens(b)
		if class(fast) != class(slow) {
			t.Fatalf("Check = %v; the token walk says %v", fast, slow)
		}
	})
}

func class(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrDuplicateKey):
		return "duplicate"
	default:
		return "syntax"
	}
}

func manyKeys(n int, again string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	if again != "" {
		fmt.Fprintf(&b, `%q:0,`, again)
	}
	b.WriteString(`"end":true}`)
	return b.String()
}

func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
}

// BenchmarkCheck compares the byte walk with the token walk it replaced,
// on a real npm lockfile of the repository's test data (177 KB).
func BenchmarkCheck(b *testing.B) {
	doc, err := os.ReadFile("../../depcheck/testdata/popular-app/package-lock.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, walk := range []struct {
		name  string
		check func([]byte) error
	}{{"bytes", Check}, {"tokens", checkTokens}} {
		b.Run(walk.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if err := walk.check(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
