package artifact_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/artifact"
)

// FuzzParse: any argument parses or fails cleanly; an image reference
// never comes from a string without a registry host or an explicit prefix.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"registry.example/app:v1", "oci:/tmp/x:v1", "docker-archive:a.tar", "sha256:00", "app:v1", "localhost/app@sha256:" + fmtHex('0'), "docker://x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := artifact.Parse(s)
		if err != nil {
			return
		}
		if ref.Kind == artifact.KindImage && ref.Source == "registry" && ref.Ref == "" {
			t.Errorf("%q: registry image without a reference", s)
		}
	})
}
