package diff_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/repro/diff"
)

// TestLargeText checks that texts too long to align line by line are still
// compared in bounded time and attributed when their line counts match.
func TestLargeText(t *testing.T) {
	// 200,000 lines; every 10,000th carries a build time that differs.
	var a, b bytes.Buffer
	for i := range 200000 {
		if i%10000 == 5 {
			fmt.Fprintf(&a, "entry %d built 2026-11-25T09:%02d:00Z\n", i, i%60)
			fmt.Fprintf(&b, "entry %d built 2026-11-25T10:%02d:00Z\n", i, i%60)
			continue
		}
		fmt.Fprintf(&a, "entry %d ok\n", i)
		fmt.Fprintf(&b, "entry %d ok\n", i)
	}
	start := time.Now()
	rep, err := diff.Bytes(t.Context(), "a.log", a.Bytes(), "b.log", b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("took %v", el)
	}
	if d := cmp.Diff([]diff.Cause{diff.CauseTimestamp}, rep.Causes()); d != "" {
		t.Errorf("causes (-want +got):\n%s", d)
	}
	if len(rep.Differences) != 1 || !strings.Contains(rep.Differences[0].Diff, "@@ -6,1 +6,1 @@") {
		t.Errorf("want one text difference with a hunk at line 6, got %+v", rep.Differences)
	}
	if !slices.ContainsFunc(rep.Differences, func(d diff.Difference) bool { return strings.Contains(d.Detail, "first difference at line 6") }) {
		t.Errorf("detail does not name the first differing line: %+v", rep.Differences)
	}
}
