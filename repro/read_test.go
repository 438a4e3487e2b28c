package repro_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/repro"
)

func TestReadVouches(t *testing.T) {
	a, b := digest.Sum256([]byte("a")), digest.Sum256([]byte("b"))
	prod := func(name string, built, expected digest.Digest, ok bool) string {
		s := `{"name":"` + name + `","digest":{"sha256":"` + built.Hex() + `"},"runDigests":[],"reproducible":` + map[bool]string{true: "true", false: "false"}[ok]
		if !expected.IsZero() {
			s += `,"expected":{"sha256":"` + expected.Hex() + `"}`
		}
		return s + "}"
	}
	pred := func(result string, products ...string) []byte {
		return []byte(`{"rebuilder":{"id":"r"},"command":["make"],"runs":2,"variations":[],"products":[` + strings.Join(products, ",") +
			`],"result":"` + result + `","startedOn":"2026-01-01T00:00:00Z","finishedOn":"2026-01-01T00:01:00Z"}`)
	}
	for _, tc := range []struct {
		name              string
		pred              []byte
		relevant, matched bool
	}{
		{"expected and rebuilt", pred("reproducible", prod("app", a, a, true)), true, true},
		{"expected, rebuilt differs", pred("not-reproducible", prod("app", b, a, false)), true, false},
		{"rebuilt as the artifact but expected another", pred("not-reproducible", prod("app", a, b, false)), false, false},
		// Without expectations a product counts only when the whole check
		// agreed (the dashboard used to show this one as matched).
		{"no expectation, check not reproducible", pred("not-reproducible", prod("app", a, digest.Digest{}, true), prod("lib", b, digest.Digest{}, false)), true, false},
		{"no expectation, check reproducible", pred("reproducible", prod("app", a, digest.Digest{}, true)), true, true},
		{"not mentioned", pred("reproducible", prod("lib", b, b, true)), false, false},
		// The gate compared hex case-insensitively; a digest has one
		// spelling, the one repro writes.
		{"upper-case hex", []byte(strings.ReplaceAll(string(pred("reproducible", prod("app", a, a, true))), a.Hex(), strings.ToUpper(a.Hex()))), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := repro.Read(tc.pred)
			if err != nil {
				t.Fatal(err)
			}
			if relevant, matched := p.Vouches(a); relevant != tc.relevant || matched != tc.matched {
				t.Errorf("Vouches = %t, %t; want %t, %t", relevant, matched, tc.relevant, tc.matched)
			}
		})
	}
	for _, bad := range []string{`{"result":"reproducible","extra":1}`, `{"Result":"reproducible"}`, `{"runs":1,"runs":2}`, `[`} {
		if _, err := repro.Read([]byte(bad)); !errors.Is(err, repro.ErrMalformedPredicate) {
			t.Errorf("Read(%s) = %v, want ErrMalformedPredicate", bad, err)
		}
	}
}

// FuzzRead: Read never panics, and what it accepts Vouches can read.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"products":[{"name":"a","digest":{"sha256":"00"},"runDigests":[],"reproducible":true}],"result":"reproducible"}`))
	f.Add([]byte(`{"products":[{"expected":null}]}`))
	d := digest.Sum256([]byte("a"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := repro.Read(b)
		if err != nil {
			if !errors.Is(err, repro.ErrMalformedPredicate) {
				t.Fatalf("Read error %v does not wrap ErrMalformedPredicate", err)
			}
			return
		}
		_, _ = p.Vouches(d)
	})
}
