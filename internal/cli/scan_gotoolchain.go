package cli

import (
	"context"
	"os/exec"
	"strings"
	"time"
)

// goCommandVersion is `go env GOVERSION` of the go on PATH: the toolchain
// that builds a source tree without a toolchain directive, which is what
// govulncheck reports the standard library as. "" when there is no go.
func goCommandVersion(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
