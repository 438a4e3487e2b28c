package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestVerifyClassifiesErrors: an archive without a manifest is bad input,
// one whose members do not match its manifest is rejected, each naming the
// archive and the member. (The full round trip, Write then Verify on real
// signed evidence, runs through the CLI's export tests.)
func TestVerifyClassifiesErrors(t *testing.T) {
	manifest := func(members map[string]string) []byte {
		b, err := json.Marshal(Manifest{Type: PredicateType, Members: members})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name    string
		members map[string][]byte
		kind    Kind
		reason  string
	}{
		{"no manifest", map[string][]byte{ReportName: []byte("{}")}, BadInput, "no manifest.json"},
		{"not a manifest", map[string][]byte{ManifestName: []byte(`{"type":"other"}`)}, BadInput, "not a Hallmark export manifest"},
		{"unlisted member", map[string][]byte{ManifestName: manifest(nil), "bundles/x.json": []byte("{}")}, Rejected, "member bundles/x.json is not in the manifest"},
		{"changed member", map[string][]byte{ManifestName: manifest(map[string]string{ReportName: SHA256Hex([]byte("{}"))}), ReportName: []byte("{} ")}, Rejected, "member report.json was changed"},
		{"missing member", map[string][]byte{ManifestName: manifest(map[string]string{ReportName: SHA256Hex([]byte("{}"))})}, Rejected, "listed in the manifest is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteMembers(&buf, tc.members, time.Unix(0, 0)); err != nil {
				t.Fatal(err)
			}
			_, err := Verify(t.Context(), &buf, Options{Name: "audit.tar"})
			e, ok := errors.AsType[*Error](err)
			if !ok || e.Kind != tc.kind || !strings.HasPrefix(err.Error(), "audit.tar: ") || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("Verify = %v, want kind %d naming audit.tar and %q", err, tc.kind, tc.reason)
			}
		})
	}
}
