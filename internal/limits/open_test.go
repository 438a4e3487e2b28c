package limits_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

func TestOpenFileRefusesWithoutBlocking(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	reg := filepath.Join(dir, "file")
	if err := os.WriteFile(reg, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("pipe", link); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, tt := range []struct {
		name string
		open func() error
		want error
	}{
		{"fifo", func() error { _, err := limits.OpenFile(fifo); return err }, limits.ErrNotRegular},
		{"symlink to fifo", func() error { _, err := limits.OpenFile(link); return err }, limits.ErrNotRegular},
		{"directory", func() error { _, err := limits.OpenFile(dir); return err }, limits.ErrNotRegular},
		{"device", func() error { _, err := limits.OpenFile("/dev/zero"); return err }, limits.ErrNotRegular},
		{"fifo in root", func() error { _, err := limits.OpenFileIn(root, "pipe"); return err }, limits.ErrNotRegular},
		{"read fifo", func() error { _, err := limits.ReadFile(fifo, 10); return err }, limits.ErrNotRegular},
		{"fifo as root", func() error { _, err := limits.OpenRoot(fifo); return err }, limits.ErrNotRegular},
		{"fifo as scan target", func() error { _, err := limits.StatFileOrDir(fifo); return err }, limits.ErrNotRegular},
		{"directory as scan target", func() error { _, err := limits.StatFileOrDir(dir); return err }, nil},
		{"regular", func() error { b, err := limits.ReadFile(reg, 10); _ = b; return err }, nil},
		{"too large", func() error { _, err := limits.ReadFile(reg, 2); return err }, limits.ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- tt.open() }()
			select {
			case err := <-done:
				if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
					t.Errorf("error = %v, want %v", err, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("open blocked")
			}
		})
	}
	_, err = limits.OpenFile(fifo)
	if err == nil || err.Error() != fifo+": not a regular file (FIFO)" {
		t.Errorf("message %q does not name the path and the problem", err)
	}
}
