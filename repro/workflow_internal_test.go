package repro

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOutputDirsFor(t *testing.T) {
	for _, tc := range []struct {
		names, recorded, dirs, atRoot []string
	}{
		{names: []string{"out.txt"}, atRoot: []string{"out.txt"}},
		{names: []string{"dist/a", "dist/sub/b"}, recorded: []string{"dist"}, dirs: []string{"dist"}},
		{names: []string{"dist/a", "build/x/y", "build/z", "top"}, dirs: []string{"dist", "build"}, atRoot: []string{"top"}},
		{names: []string{"dist/a"}, recorded: []string{"dist/a"}, dirs: []string{"dist/a"}},
	} {
		dirs, atRoot := outputDirsFor(tc.names, tc.recorded)
		if diff := cmp.Diff(tc.dirs, dirs); diff != "" {
			t.Errorf("%v: dirs (-want +got):\n%s", tc.names, diff)
		}
		if diff := cmp.Diff(tc.atRoot, atRoot); diff != "" {
			t.Errorf("%v: atRoot (-want +got):\n%s", tc.names, diff)
		}
	}
}
