//go:build !unix

package sandbox

import (
	"context"
	"os/exec"
)

// Command returns a command for argv; process sessions are a Unix notion,
// so outside Unix it is an ordinary exec.CommandContext.
func Command(ctx context.Context, argv []string) *exec.Cmd {
	return exec.CommandContext(ctx, argv[0], argv[1:]...)
}

// RunDetached runs the command and waits for it.
func RunDetached(cmd *exec.Cmd) error { return cmd.Run() }
