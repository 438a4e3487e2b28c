package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hallmark-dev/hallmark/policy"
)

// dumpGateInput writes what the policy saw so the decision can be replayed
// with OPA itself: the input document to file, and the policy's modules and
// data document to the directory file+".policy". It prints the opa eval
// command that replays the decision.
func dumpGateInput(w io.Writer, file string, in policy.Input, pol *policy.Policy) error {
	b, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		return environmentErr(fmt.Errorf("--dump-input: %w", err))
	}
	if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
		return environmentErr(fmt.Errorf("--dump-input: %w", err))
	}
	dir := file + ".policy"
	if err := os.RemoveAll(dir); err != nil {
		return environmentErr(fmt.Errorf("--dump-input: %w", err))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return environmentErr(fmt.Errorf("--dump-input: %w", err))
	}
	for i, m := range pol.Modules() {
		name := fmt.Sprintf("%02d-%s", i, strings.ReplaceAll(filepath.Base(m.Name), string(filepath.Separator), "_"))
		if !strings.HasSuffix(name, ".rego") {
			name += ".rego"
		}
		if err := os.WriteFile(filepath.Join(dir, name), m.Source, 0o644); err != nil {
			return environmentErr(fmt.Errorf("--dump-input: %w", err))
		}
	}
	if data := pol.DataJSON(); len(data) > 0 {
		if err := os.WriteFile(filepath.Join(dir, "data.json"), data, 0o644); err != nil {
			return environmentErr(fmt.Errorf("--dump-input: %w", err))
		}
	}
	fmt.Fprintf(w, "policy input written to %s; replay with:\n  opa eval -d %s -i %s '%s'\n", file, dir, file, pol.Entrypoint())
	return nil
}
