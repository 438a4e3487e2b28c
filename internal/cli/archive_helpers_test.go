package cli

import (
	"bytes"
	"os"
	"time"

	"github.com/hallmark-dev/hallmark/compliance/archive"
)

// writeTar writes members as an audit archive at file, as export does, so
// tests can rewrite an archive consistently.
func writeTar(file string, members map[string][]byte, at time.Time) error {
	var buf bytes.Buffer
	if err := archive.WriteMembers(&buf, members, at); err != nil {
		return err
	}
	return os.WriteFile(file, buf.Bytes(), 0o644)
}
