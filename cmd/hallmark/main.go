// Command hallmark is the Hallmark CLI and server. All behaviour lives in
// internal/cli; this file only connects it to the process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hallmark-dev/hallmark/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.NewOSApp(), os.Args[1:])
	stop()
	os.Exit(code)
}
