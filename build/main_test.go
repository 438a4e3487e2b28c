package build_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/hallmark-dev/hallmark/build"
	"github.com/hallmark-dev/hallmark/build/sandbox"
)

// initArg makes the test binary double as the sandbox helper, as the
// hallmark binary wires "__sandbox-init" to sandbox.InitMain.
const initArg = "__sandbox-init"

// noNamespacesArg runs a build from inside a user namespace whose limit on
// nested user namespaces is 0, a machine where the sandbox is unavailable.
const noNamespacesArg = "__no-namespaces-build"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case initArg:
			os.Exit(sandbox.InitMain(os.Args[2:]))
		case noNamespacesArg:
			os.Exit(buildWithoutNamespaces(os.Args[2:]))
		}
	}
	os.Exit(m.Run())
}

// buildWithoutNamespaces forbids nested user namespaces, then runs a build
// in the mode given by args[0] in the directory args[1] and prints the
// result (or the error) as JSON.
func buildWithoutNamespaces(args []string) int {
	if err := os.WriteFile("/proc/sys/user/max_user_namespaces", []byte("0"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "limit user namespaces:", err)
		return 3
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	res, err := build.Run(context.Background(), build.Spec{
		Command: []string{"sh", "-c", "echo built > out/app"}, SourceDir: args[1], OutputDirs: []string{"out"},
		Env: []string{"PATH=/usr/bin:/bin"}, LogFile: args[1] + ".log",
		Sandbox: build.SandboxMode(args[0]), SandboxHelper: []string{exe, initArg},
	})
	out := struct {
		Result *build.Result
		Error  string
	}{Result: res}
	if err != nil {
		out.Error = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(out)
	return 0
}
