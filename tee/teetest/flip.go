package teetest

import (
	"errors"
	"testing"

	"github.com/hallmark-dev/hallmark/tee"
)

// Region is a byte range [Start, End) of evidence covered by a signature.
type Region struct {
	Name       string
	Start, End int
}

// FlipBits flips one bit at every stride-th offset of every region (the bit
// index rotates with the offset, so all eight bit positions are exercised)
// and requires verify to reject each mutated copy with a *tee.Error. It
// returns the number of mutations tried.
func FlipBits(t testing.TB, evidence []byte, regions []Region, stride int, verify func(mutated []byte) error) int {
	t.Helper()
	if stride < 1 {
		stride = 1
	}
	n := 0
	for _, r := range regions {
		if r.Start < 0 || r.End > len(evidence) || r.Start >= r.End {
			t.Fatalf("region %s [%d,%d) outside evidence of %d bytes", r.Name, r.Start, r.End, len(evidence))
		}
		for off := r.Start; off < r.End; off += stride {
			mutated := append([]byte(nil), evidence...)
			bit := byte(1) << (off % 8)
			mutated[off] ^= bit
			n++
			err := verify(mutated)
			if err == nil {
				t.Errorf("region %s: flipping bit %#02x at offset %d was accepted", r.Name, bit, off)
				continue
			}
			if _, ok := errors.AsType[*tee.Error](err); !ok {
				t.Errorf("region %s offset %d: error %v is not a *tee.Error", r.Name, off, err)
			}
		}
	}
	return n
}
