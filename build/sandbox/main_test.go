package sandbox_test

import (
	"os"
	"testing"

	"github.com/hallmark-dev/hallmark/build/sandbox"
)

// initArg makes the test binary double as the sandbox helper, the way the
// hallmark binary wires "__sandbox-init" to sandbox.InitMain.
const initArg = "__sandbox-init"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == initArg {
		os.Exit(sandbox.InitMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

func helper(t *testing.T) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{exe, initArg}
}
