package bom

import (
	"bytes"
	"testing"
	"time"
)

// sample is a small inventory covering every field the documents carry.
func sample() *Inventory {
	return &Inventory{
		Subject: Subject{Name: "app", Kind: "file", Hashes: []Hash{{Algorithm: SHA256, Value: "6f3c99efbc3cb478a74f79bd426d0a93dd2f04ae3e53f855033996917a1c46b6"}}},
		Components: []Component{
			{Ecosystem: "npm", Name: "cross-env", Version: "7.0.3", PURL: "pkg:npm/cross-env@7.0.3", Licenses: []string{"MIT"},
				Locations: []string{"package-lock.json"}, DependsOn: []string{"pkg:npm/cross-spawn@7.0.6"}},
			{Ecosystem: "npm", Name: "cross-spawn", Version: "7.0.6", PURL: "pkg:npm/cross-spawn@7.0.6"},
			{Ecosystem: "Debian:12", Name: "zlib1g", Version: "1:1.2.13.dfsg-1", PURL: "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=bookworm&source=zlib",
				Source: "zlib", Supplier: "Mark Brown <broonie@debian.org>"},
			{Ecosystem: "crates.io", Name: "itoa", Version: "1.0.14", PURL: "pkg:cargo/itoa@1.0.14",
				Hashes: []Hash{{Algorithm: SHA256, Value: "d75a2a4b1b190afb6f5425f10f6a8f959d2ea0b9c2b1d79553551850539e4674"}}},
		},
	}
}

func FuzzDecode(f *testing.F) {
	for _, format := range []Format{CycloneDX, SPDX} {
		doc, err := Document(sample(), format, DocumentInfo{Created: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc)
	}
	f.Add([]byte(`{"bomFormat":"CycloneDX","components":[{"purl":"pkg:deb/debian/a@1?distro=debian-12","components":[{"purl":"pkg:npm/b@1"}]}],"dependencies":[{"ref":"x","dependsOn":["y"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, c := range inv.Components {
			if c.PURL == "" || c.Ecosystem == "" {
				t.Fatalf("decoded component without identity: %+v", c)
			}
		}
		// What was decoded can be written again.
		if _, err := Document(inv, CycloneDX, DocumentInfo{Created: time.Unix(0, 0)}); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}
