//go:build !linux

package sandbox

import (
	"context"
	"fmt"
	"runtime"
)

// Run reports that the sandbox is unavailable on this operating system.
func Run(ctx context.Context, cfg Config) (int, error) {
	return -1, &SetupError{Step: "create namespaces", Err: fmt.Errorf("%w on %s", ErrUnsupported, runtime.GOOS)}
}

// InitMain is unavailable on this operating system and returns 125.
func InitMain(args []string) int { return 125 }
