package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/tlog/host/hosttest"
	"github.com/hallmark-dev/hallmark/trust"
)

// TestTrustedRootMarksTamperedEntries stores two bundles logged and
// timestamped by a real (hosted) Rekor v2 log and TSA, one of them carrying
// the other's log entry (a valid proof for a different body, as a
// rewritten store would hold). With the trusted root the dashboard shows
// the tampered one as not verified and the intact one without a problem;
// without it, as before, neither is checked.
func TestTrustedRootMarksTamperedEntries(t *testing.T) {
	f := newFixture(t)
	s := hosttest.Start(t)
	k := f.keys[trust.RoleScanner]
	subject := attest.Subject{Name: f.appName, Digest: map[string]string{"sha256": strings.TrimPrefix(f.app, "sha256:")}}
	sign := func(note string) []byte {
		st, err := attest.NewStatement([]attest.Subject{subject}, "https://example.com/note/v1", []byte(`{"note":"`+note+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		b, err := attest.Sign(t.Context(), k, st, attest.WithTransparencyLog(s.LogURL), attest.WithTimestampAuthority(s.TSAURL))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good, other := sign("intact"), sign("other")
	var a, b map[string]any
	if err := json.Unmarshal(good, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(other, &b); err != nil {
		t.Fatal(err)
	}
	a["verificationMaterial"].(map[string]any)["tlogEntries"] = b["verificationMaterial"].(map[string]any)["tlogEntries"]
	tampered, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for name, raw := range map[string][]byte{"good": good, "tampered": tampered} {
		// Stored as a store without a trusted root would take it: the
		// signature verifies.
		v, err := attest.Verify(t.Context(), raw, attest.NewKeySet(k.Public()))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := f.st.Put(t.Context(), v)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = rec.ID
	}

	withRoot := serve(t, f, WithVerifyOptions(attest.WithTrustedRoot(s.TrustedRoot)))
	for view := range 2 { // the second view answers from the cache
		if _, body := get(t, withRoot, "/ui/evidence/"+ids["tampered"]); !strings.Contains(body, "not verified") || !strings.Contains(body, "transparency log") {
			t.Fatalf("view %d: the tampered entry is not flagged:\n%.3000s", view, body)
		}
		if _, body := get(t, withRoot, "/ui/evidence/"+ids["good"]); strings.Contains(body, "not verified") {
			t.Fatalf("view %d: the intact bundle is flagged:\n%.3000s", view, body)
		}
		// The fixture's other evidence is not logged: with the default
		// threshold (one entry) it does not verify against the root either.
		if _, body := get(t, withRoot, "/ui/evidence/"+f.ids["sbom"]); !strings.Contains(body, "not verified") {
			t.Fatalf("view %d: unlogged evidence is not flagged:\n%.3000s", view, body)
		}
	}
	without := serve(t, f)
	if _, body := get(t, without, "/ui/evidence/"+ids["tampered"]); strings.Contains(body, "not verified") {
		t.Fatal("without a trusted root the dashboard checks log entries")
	}
}
