package digest_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hallmark-dev/hallmark/digest"
)

func TestParse(t *testing.T) {
	h256 := sum256([]byte("hallmark"))
	h512 := sum512([]byte("hallmark"))
	good := []string{"sha256:" + h256, "sha512:" + h512}
	for _, s := range good {
		d, err := digest.Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		if d.String() != s {
			t.Errorf("Parse(%q).String() = %q", s, d.String())
		}
	}
	bad := map[string]string{
		"empty":                "",
		"bare hex":             h256,
		"upper-case hex":       "sha256:" + strings.ToUpper(h256),
		"upper-case alg":       "SHA256:" + h256,
		"short":                "sha256:" + h256[:63],
		"long":                 "sha256:" + h256 + "0",
		"sha512 length 64":     "sha512:" + h256,
		"sha256 length 128":    "sha256:" + h512,
		"unknown algorithm":    "md5:" + h256[:32],
		"gitCommit":            "gitCommit:" + h256[:40],
		"space":                " sha256:" + h256,
		"trailing newline":     "sha256:" + h256 + "\n",
		"two colons":           "sha256:sha256:" + h256,
		"non-hex":              "sha256:" + h256[:63] + "g",
		"empty hex":            "sha256:",
		"empty algorithm":      ":" + h256,
		"reference and digest": "repo@sha256:" + h256,
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			d, err := digest.Parse(s)
			if !errors.Is(err, digest.ErrMalformed) {
				t.Fatalf("Parse(%q) = %v, %v; want ErrMalformed", s, d, err)
			}
		})
	}
	_, err := digest.Parse("sha256:" + strings.ToUpper(h256))
	if err == nil || !strings.Contains(err.Error(), "lower case") {
		t.Errorf("upper-case error %v does not say to write lower case", err)
	}
}

func TestDigestText(t *testing.T) {
	d := digest.Sum256([]byte("hallmark"))
	b, err := json.Marshal(struct{ D digest.Digest }{d})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"D":"sha256:` + sum256([]byte("hallmark")) + `"}`; string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	var back struct{ D digest.Digest }
	if err := json.Unmarshal(b, &back); err != nil || back.D != d {
		t.Errorf("Unmarshal = %v, %v; want %v", back.D, err, d)
	}
	for _, in := range []string{`{"D":""}`, `{"D":"SHA256:00"}`} {
		if err := json.Unmarshal([]byte(in), &back); !errors.Is(err, digest.ErrMalformed) {
			t.Errorf("Unmarshal(%s) = %v, want ErrMalformed", in, err)
		}
	}
}

func TestDigestHash(t *testing.T) {
	d := digest.Sum256([]byte("layer"))
	h := d.Hash()
	want, err := v1.NewHash(d.String())
	if err != nil || h != want {
		t.Fatalf("Hash() = %v, v1.NewHash = %v, %v", h, want, err)
	}
	back, err := digest.FromHash(h)
	if err != nil || back != d {
		t.Errorf("FromHash = %v, %v; want %v", back, err, d)
	}
	if _, err := digest.FromHash(v1.Hash{Algorithm: "sha256", Hex: "ABC"}); !errors.Is(err, digest.ErrMalformed) {
		t.Errorf("FromHash of a malformed v1.Hash = %v", err)
	}
	if !d.In(digest.Set{"sha256": d.Hex()}) || d.In(digest.Set{"sha256": strings.ToUpper(d.Hex())}) || (digest.Digest{}).In(digest.Set{"": ""}) {
		t.Error("In does not compare the algorithm's exact value")
	}
	if (digest.Digest{}).String() != "" || !(digest.Digest{}).IsZero() || d.IsZero() {
		t.Error("zero Digest")
	}
}

// FuzzParse checks that Parse never panics, that what it accepts prints
// back exactly as given, and that go-containerregistry agrees on sha256.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"sha256:" + sum256(nil), "sha512:" + sum512(nil), "SHA256:", "sha256:" + strings.ToUpper(sum256(nil)), ":", "", "sha1:abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := digest.Parse(s)
		if err != nil {
			if !errors.Is(err, digest.ErrMalformed) {
				t.Fatalf("Parse(%q): %v does not wrap ErrMalformed", s, err)
			}
			if !d.IsZero() {
				t.Fatalf("Parse(%q) failed but returned %v", s, d)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, d.String())
		}
		if d.Algorithm() == digest.SHA256 {
			if h, err := v1.NewHash(s); err != nil || h != d.Hash() {
				t.Fatalf("v1.NewHash(%q) = %v, %v; Parse accepted it", s, h, err)
			}
		}
	})
}
