package cli

import (
	"bytes"
	"io"
	"os"
	"time"

	"github.com/hallmark-dev/hallmark/compliance"
	"github.com/hallmark-dev/hallmark/compliance/archive"
)

// The audit archive moved to compliance/archive; these names keep the
// CLI's export and serve tests reading as they did.

type (
	exportManifestDoc = archive.Manifest
	exportPolicyDoc   = archive.PolicyDoc
)

const (
	exportManifest  = archive.ManifestName
	exportSignature = archive.SignatureName
	exportReport    = archive.ReportName
	exportTrust     = archive.TrustName
	exportData      = archive.DataName
	exportPolicy    = archive.PolicyName
	exportRoot      = archive.RootName
)

var (
	sha256Hex      = archive.SHA256Hex
	decisionLister = compliance.StoreDecisions
)

func readTar(r io.Reader) (map[string][]byte, error) { return archive.ReadMembers(r) }

func writeTar(file string, members map[string][]byte, at time.Time) error {
	var buf bytes.Buffer
	if err := archive.WriteMembers(&buf, members, at); err != nil {
		return err
	}
	return os.WriteFile(file, buf.Bytes(), 0o644)
}
