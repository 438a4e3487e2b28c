package diff_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/repro/diff"
)

// BenchmarkTarMember compares two small tars differing in one member's
// content, against the baseline of comparing identical inputs (digest only).
func BenchmarkTarMember(b *testing.B) {
	x := tarBytes(b, []entry{{name: "a", body: "built at 2026-11-25T10:00:00Z\n"}, {name: "b", body: "same\n"}})
	y := tarBytes(b, []entry{{name: "a", body: "built at 2026-11-25T10:07:00Z\n"}, {name: "b", body: "same\n"}})
	b.Run("identical-baseline", func(b *testing.B) {
		for b.Loop() {
			if _, err := diff.Bytes(b.Context(), "x", x, "y", x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-member-differs", func(b *testing.B) {
		for b.Loop() {
			if _, err := diff.Bytes(b.Context(), "x", x, "y", y); err != nil {
				b.Fatal(err)
			}
		}
	})
}
