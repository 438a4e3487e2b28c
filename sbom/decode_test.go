package sbom

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestDecodeRoundTrip writes each fixture inventory as CycloneDX and SPDX
// and reads it back: every component, with its ecosystem, name, version,
// licences, hashes, supplier, source package and dependencies, survives.
// CycloneDX keeps locations too; extractor names are not in documents.
func TestDecodeRoundTrip(t *testing.T) {
	for name, inv := range scanFixtures(t) {
		for _, f := range []Format{CycloneDX, SPDX} {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				doc, err := Document(inv, f, DocumentInfo{Created: fixedTime})
				if err != nil {
					t.Fatal(err)
				}
				got, err := Decode(bytes.NewReader(doc))
				if err != nil {
					t.Fatal(err)
				}
				ignore := []string{"Extractors"}
				if f == SPDX {
					ignore = append(ignore, "Locations", "VersionSource")
				}
				// The main module of a Go binary has no version in its purl,
				// so no ecosystem-independent identity: compare the rest.
				want := stripDevel(inv.Components)
				if diff := cmp.Diff(want, stripDevel(got.Components), cmpopts.IgnoreFields(Component{}, ignore...), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("components after round trip (-want +got):\n%s", diff)
				}
				if got.Subject.Name != inv.Subject.Name {
					t.Errorf("subject %q, want %q", got.Subject.Name, inv.Subject.Name)
				}
			})
		}
	}
}

func stripDevel(cs []Component) []Component {
	var out []Component
	for _, c := range cs {
		if c.Version != "(devel)" && c.Version != "" {
			c.SourceVersion = "" // not carried by purls
			out = append(out, c)
		}
	}
	return out
}

// TestDecodeForeignPURLs checks ecosystem recovery from purls alone, as in
// SBOMs made by other tools.
func TestDecodeForeignPURLs(t *testing.T) {
	doc := `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
	 {"type":"library","name":"text","purl":"pkg:golang/golang.org/x/text@v0.3.5"},
	 {"type":"library","name":"core","purl":"pkg:npm/%40babel/core@7.23.2"},
	 {"type":"library","name":"jackson-databind","purl":"pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.4.2"},
	 {"type":"library","name":"zlib1g","purl":"pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?distro=debian-12&source=zlib"},
	 {"type":"library","name":"openssl","purl":"pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.10?distro=ubuntu-22.04"},
	 {"type":"library","name":"musl","purl":"pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.18.4&origin=musl"},
	 {"type":"library","name":"no purl"},
	 {"type":"library","name":"weird","purl":"pkg:generic/weird@1"}]}`
	inv, err := Decode(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range inv.Components {
		got = append(got, c.Ecosystem+"|"+c.Name+"|"+c.Version+"|"+c.Source)
	}
	want := []string{
		"Alpine:v3.18|musl|1.2.4-r2|musl",
		"Debian:12|zlib1g|1:1.2.13.dfsg-1|zlib",
		"Ubuntu:22.04|openssl|3.0.2-0ubuntu1.10|",
		"Go|golang.org/x/text|0.3.5|",
		"Maven|com.fasterxml.jackson.core:jackson-databind|2.13.4.2|",
		"npm|@babel/core|7.23.2|",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("components (-want +got):\n%s", diff)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, doc := range []string{``, `[]`, `{"hello":"world"}`, `{"bomFormat":"CycloneDX","components":7}`, `{"spdxVersion":"SPDX-2.3","packages":"x"}`} {
		if _, err := Decode(strings.NewReader(doc)); !errors.Is(err, ErrFormat) {
			t.Errorf("Decode(%q) err = %v, want ErrFormat", doc, err)
		}
	}
	if _, err := Decode(bytes.NewReader(make([]byte, MaxDocumentSize+1))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized document: err = %v, want ErrTooLarge", err)
	}
}
