package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/store"
)

// TestListsRoundTrip: a record's subjects and signers come back from the
// JSON a store keeps in its row grouped by name and sorted, digests in
// lower case, and no subjects or signers encode as empty lists.
func TestListsRoundTrip(t *testing.T) {
	subjects := []attest.Subject{
		{Name: "web", Digest: map[string]string{"sha256": "AB12"}},
		{Name: "api", Digest: map[string]string{"sha256": "cd34", "sha512": "EF56"}},
	}
	subJSON, sigJSON, err := store.EncodeLists(store.SubjectRows(subjects), []string{"key-b", "key-a"})
	if err != nil {
		t.Fatal(err)
	}
	var r store.Record
	if err := store.DecodeLists(&r, subJSON, sigJSON); err != nil {
		t.Fatal(err)
	}
	want := []attest.Subject{
		{Name: "api", Digest: map[string]string{"sha256": "cd34", "sha512": "ef56"}},
		{Name: "web", Digest: map[string]string{"sha256": "ab12"}},
	}
	if diff := cmp.Diff(want, r.Subjects); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"key-a", "key-b"}, r.Signers); diff != "" {
		t.Errorf("signers (-want +got):\n%s", diff)
	}
	subJSON, sigJSON, err = store.EncodeLists(store.SubjectRows(nil), nil)
	if err != nil || string(subJSON) != "[]" || string(sigJSON) != "[]" {
		t.Errorf("no subjects or signers encode as %s and %s (%v), want [] and []", subJSON, sigJSON, err)
	}
	if err := store.DecodeLists(&r, []byte(`[["a","sha256"`), sigJSON); err == nil {
		t.Error("truncated subjects JSON decoded without an error")
	}
}
