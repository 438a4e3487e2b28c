package misconfig_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/misconfig"
)

// TestDocsRuleTable keeps docs/misconfig.md in step with the catalogue.
func TestDocsRuleTable(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "misconfig.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range misconfig.Rules() {
		anchors := strings.Join(r.Anchors, ", ")
		if anchors == "" {
			anchors = "—"
		}
		row := fmt.Sprintf("| %s | %s | %s | %s |", r.ID, r.Severity, r.Title, anchors)
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/misconfig.md lacks the row %q", row)
		}
	}
}
