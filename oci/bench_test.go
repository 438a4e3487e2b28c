package oci_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/oci/ocitest"
)

// BenchmarkResolve measures one resolution against an in-process TLS
// registry: a miss (cache off: ping, HEAD over a pooled connection) and a
// hit (the tag cache answers).
func BenchmarkResolve(b *testing.B) {
	reg := ocitest.NewRegistry(b)
	reg.PushImage(b, "app:v1")
	ref := reg.Host + "/app:v1"
	for _, bc := range []struct {
		name string
		opts []oci.Option
	}{
		{"miss", []oci.Option{oci.WithCache(0, 0)}},
		{"hit", nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r, err := oci.NewResolver(append([]oci.Option{oci.WithTransport(reg.Transport())}, bc.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := r.Resolve(b.Context(), ref); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
