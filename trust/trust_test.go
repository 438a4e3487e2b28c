package trust

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/keys"
)

func writePub(t *testing.T, dir, name string) *keys.PublicKey {
	t.Helper()
	k, err := keys.Generate(keys.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), k.Public().MarshalPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return k.Public()
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	ci := writePub(t, dir, "ci.pub")
	alice, _ := keys.Generate(keys.Ed25519)
	doc := "version: 1\nkeys:\n  - name: ci\n    publicKey: ci.pub\n    keyId: " + ci.ID() + "\n    roles: [builder, scanner]\n" +
		"  - name: alice\n    roles: [approver]\n    publicKeyPEM: |\n" + indent(string(alice.Public().MarshalPEM()), "      ") +
		"tee:\n  referenceValues: ref.json\n"
	path := filepath.Join(dir, "trust.yaml")
	os.WriteFile(path, []byte(doc), 0o644)
	tr, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Has(ci.ID(), RoleBuilder) || !tr.Has(ci.ID(), RoleScanner) || tr.Has(ci.ID(), RoleApprover) {
		t.Errorf("ci roles: %v", tr.Roles(ci.ID()))
	}
	if !tr.Has(alice.Public().ID(), RoleApprover) || tr.Has(alice.Public().ID(), RoleBuilder) {
		t.Errorf("alice roles: %v", tr.Roles(alice.Public().ID()))
	}
	if tr.WithRole(RoleApprover).Len() != 1 || tr.All().Len() != 2 {
		t.Error("role sets wrong")
	}
	if tr.ReferenceValuesPath != filepath.Join(dir, "ref.json") {
		t.Errorf("reference values path %q", tr.ReferenceValuesPath)
	}
	if tr.Roles("nope") != nil {
		t.Error("unknown key has roles")
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	ci := writePub(t, dir, "ci.pub")
	for _, tc := range []struct{ name, doc, want string }{
		{"version", "version: 2\n", "version 2"},
		{"unknown field", "version: 1\nkeyz: []\n", "keyz"},
		{"unknown role", "version: 1\nkeys:\n  - name: a\n    publicKey: ci.pub\n    roles: [god]\n", "unknown role"},
		{"no roles", "version: 1\nkeys:\n  - name: a\n    publicKey: ci.pub\n", "no roles"},
		{"missing key file", "version: 1\nkeys:\n  - name: a\n    publicKey: nope.pub\n    roles: [builder]\n", "nope.pub"},
		{"wrong pinned id", "version: 1\nkeys:\n  - name: a\n    publicKey: ci.pub\n    keyId: 00\n    roles: [builder]\n", "does not match"},
		{"not yaml", "{{{", "bad trust file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), dir)
			if err == nil || !errors.Is(err, ErrBadFile) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrBadFile mentioning %q", err, tc.want)
			}
		})
	}
	_ = ci
}

func indent(s, pre string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(pre + l)
		}
	}
	return b.String()
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("version: 1\nkeys: []\n"))
	f.Add([]byte("version: 1\nkeys:\n  - name: a\n    publicKeyPEM: x\n    roles: [builder]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Parse(b, t.TempDir())
	})
}
