// Command hello is the small example program the quickstart builds, signs
// and verifies. It prints a greeting and the module version it was built
// from, so the demo has a real Go binary with real build information.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
)

func main() {
	name := "world"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	version := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.GoVersion
	}
	fmt.Printf("hello, %s (built with %s)\n", name, version)
}
