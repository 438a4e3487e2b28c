package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/limits"
)

// readInput reads a bounded input file ("-" is standard input).
func (a *App) readInput(path string, max int64) ([]byte, error) {
	if path == "-" {
		b, err := limits.ReadAll(a.Stdin, max, "standard input")
		if err != nil {
			return nil, badInput(err)
		}
		return b, nil
	}
	return readFileBounded(path, max)
}

// fileSubject hashes a file (streaming) and names it as given on the
// command line, with forward slashes.
func fileSubject(path string) (attest.Subject, error) {
	s, err := digest.File(path, digest.SHA256)
	if err != nil {
		return attest.Subject{}, badInput(err)
	}
	return attest.Subject{Name: filepath.ToSlash(filepath.Clean(path)), Digest: map[string]string{"sha256": s[digest.SHA256]}}, nil
}

// writeOutput writes data to path ("" or "-" is standard output) with mode
// 0644, replacing the file atomically.
func (a *App) writeOutput(path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := a.Stdout.Write(data)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hallmark-*")
	if err != nil {
		return environmentErr(fmt.Errorf("write %s: %w", path, err))
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return environmentErr(fmt.Errorf("write %s: %w", path, err))
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return environmentErr(err)
	}
	if err := tmp.Close(); err != nil {
		return environmentErr(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return environmentErr(fmt.Errorf("write %s: %w", path, err))
	}
	return nil
}

// readFileBounded reads a whole file of at most max bytes.
func readFileBounded(path string, max int64) ([]byte, error) {
	b, err := limits.ReadFile(path, max)
	if err != nil {
		return nil, badInput(err)
	}
	return b, nil
}
