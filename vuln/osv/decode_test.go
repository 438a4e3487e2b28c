package osv_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/vuln/osv"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		lim  osv.Limits
		want error
	}{
		{"minimal", `{"id":"X-1","modified":"2024-01-01T00:00:00Z"}`, osv.DefaultLimits, nil},
		{"trailing", `{"id":"X-1","modified":"2024-01-01T00:00:00Z"} {}`, osv.DefaultLimits, osv.ErrInvalid},
		{"bad time", `{"id":"X-1","modified":"yesterday"}`, osv.DefaultLimits, osv.ErrInvalid},
		{"unknown range type", `{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"DATE","events":[{"introduced":"0"}]}]}]}`, osv.DefaultLimits, osv.ErrInvalid},
		{"empty event", `{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{}]}]}]}`, osv.DefaultLimits, osv.ErrInvalid},
		{"too many versions", `{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"versions":["1","2","3"]}]}`, osv.Limits{MaxBytes: 1 << 20, MaxAffected: 10, MaxEvents: 10, MaxVersions: 2}, osv.ErrTooLarge},
		{"too many affected", `{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{},{},{}]}`, osv.Limits{MaxBytes: 1 << 20, MaxAffected: 2, MaxEvents: 10, MaxVersions: 2}, osv.ErrTooLarge},
		{"too large", `{"id":"X-1","modified":"2024-01-01T00:00:00Z","details":"` + strings.Repeat("a", 100) + `"}`, osv.Limits{MaxBytes: 64, MaxAffected: 2, MaxEvents: 10, MaxVersions: 2}, osv.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := osv.Decode(strings.NewReader(tc.in), tc.name, tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err != nil {
				if de, ok := errors.AsType[*osv.DecodeError](err); !ok || de.Name != tc.name {
					t.Errorf("err = %#v, want a *DecodeError naming %q", err, tc.name)
				}
			}
		})
	}
}

func TestNormalizeName(t *testing.T) {
	for _, tc := range []struct{ eco, in, want string }{
		{"PyPI", "Zope.Interface", "zope-interface"},
		{"PyPI", "typing__extensions", "typing-extensions"},
		{"npm", "Lodash", "Lodash"},
		{"Debian:12", "zlib", "zlib"},
	} {
		if got := osv.NormalizeName(tc.eco, tc.in); got != tc.want {
			t.Errorf("NormalizeName(%q, %q) = %q, want %q", tc.eco, tc.in, got, tc.want)
		}
	}
	if got := osv.BaseEcosystem("Alpine:v3.16"); got != "Alpine" {
		t.Errorf("BaseEcosystem = %q", got)
	}
}

func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.json")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"X","modified":"2024-01-01T00:00:00Z","affected":[{"ranges":[{"type":"GIT","events":[{"limit":"*"}]}]}]}`))
	lim := osv.Limits{MaxBytes: 1 << 16, MaxAffected: 64, MaxEvents: 64, MaxVersions: 64}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := osv.Decode(bytes.NewReader(data), "fuzz", lim)
		if err != nil {
			return
		}
		if e.ID == "" || len(e.Affected) > lim.MaxAffected {
			t.Fatalf("accepted record violates validation: %+v", e)
		}
		for _, a := range e.Affected {
			for _, r := range a.Ranges {
				for _, ev := range r.Events {
					n := 0
					for _, s := range []string{ev.Introduced, ev.Fixed, ev.LastAffected, ev.Limit} {
						if s != "" {
							n++
						}
					}
					if n != 1 {
						t.Fatalf("accepted event with %d fields", n)
					}
				}
			}
		}
	})
}
