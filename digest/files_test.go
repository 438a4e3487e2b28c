package digest_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/digest"
)

// Files hashes named regular files and leaves out what is a link (inside
// or outside the tree), missing, a directory or a FIFO: none of them is a
// file the tree holds.
func TestFilesNeverFollowsLinks(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	write(t, dir, "bin/app", "built")
	write(t, dir, "prebuilt.bin", "committed blob")
	write(t, outside, "secret", "host file")
	if err := os.Symlink("../prebuilt.bin", filepath.Join(dir, "bin", "inside")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "bin", "outside")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "bin", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := digest.Files(t.Context(), dir, []string{"bin/app", "bin/inside", "bin/outside", "bin/fifo", "bin", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"bin/app": sum256([]byte("built"))}, got); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	if _, err := digest.Files(t.Context(), dir, []string{"../escape"}); err == nil {
		t.Error("a name leaving the tree: no error")
	}
}
