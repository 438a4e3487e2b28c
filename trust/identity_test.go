package trust

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/attest"
)

const identitiesDoc = `version: 1
identities:
  - name: sigstore-js-release
    issuer: https://token.actions.githubusercontent.com
    subjectRegexp: https://github\.com/sigstore/sigstore-js/\.github/workflows/release\.yml@refs/heads/.*
    sourceRepositoryURI: https://github.com/sigstore/sigstore-js
    runnerEnvironment: github-hosted
    buildTrigger: push
    roles: [builder]
    hostedBuilder:
      slsaBuildLevel: 2
  - name: brian
    issuer: https://github.com/login/oauth
    subject: brian@dehamer.com
    person: brian
    roles: [approver, builder]
`

func TestIdentitiesVerifyPublicGoodBundles(t *testing.T) {
	tr, err := Parse([]byte(identitiesDoc), ".")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := root.NewTrustedRootFromPath("../attest/testdata/publicgood/trusted_root.json")
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"npm-sigstore-2.0.0.provenance.json": "identity:sigstore-js-release",
		"dsse.sigstore.json":                 "identity:brian",
	} {
		raw, err := os.ReadFile("../attest/testdata/publicgood/" + file)
		if err != nil {
			t.Fatal(err)
		}
		v, err := attest.Verify(t.Context(), raw, tr.All(), attest.WithTrustedRoot(pg))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if got := v.SignerIDs(); len(got) != 1 || got[0] != want {
			t.Fatalf("%s: signers %v, want %s", file, got, want)
		}
		// Only identities with the role count for it.
		_, err = attest.Verify(t.Context(), raw, tr.WithRole(RoleApprover), attest.WithTrustedRoot(pg))
		if (want == "identity:brian") != (err == nil) {
			t.Fatalf("%s as approver: err = %v", file, err)
		}
	}
	if !tr.Has("identity:sigstore-js-release", RoleBuilder) || tr.Has("identity:sigstore-js-release", RoleApprover) {
		t.Errorf("roles %v", tr.Roles("identity:sigstore-js-release"))
	}
	if tr.HostedBuildLevel("identity:sigstore-js-release") != 2 || tr.HostedBuildLevel("identity:brian") != 0 {
		t.Error("hosted builder levels")
	}
	if tr.Person("identity:brian") != "brian" || tr.Name("identity:brian") != "brian" || tr.Roles("identity:nobody") != nil {
		t.Error("person, name or unknown identity")
	}
}

func TestIdentityRegexpIsAnchored(t *testing.T) {
	// "sigstore-js" unanchored would also match a fork named
	// "evil/sigstore-js-fork"; anchored it must match the whole subject.
	doc := strings.Replace(identitiesDoc, `subjectRegexp: https://github\.com/sigstore/sigstore-js/\.github/workflows/release\.yml@refs/heads/.*`,
		`subjectRegexp: github\.com/sigstore`, 1)
	tr, err := Parse([]byte(doc), ".")
	if err != nil {
		t.Fatal(err)
	}
	pg, _ := root.NewTrustedRootFromPath("../attest/testdata/publicgood/trusted_root.json")
	raw, _ := os.ReadFile("../attest/testdata/publicgood/npm-sigstore-2.0.0.provenance.json")
	_, err = attest.Verify(t.Context(), raw, tr.All(), attest.WithTrustedRoot(pg))
	if !errors.Is(err, attest.ErrUnknownIdentity) || !strings.Contains(err.Error(), "sigstore-js-release: ") {
		t.Fatalf("err = %v, want the unanchored-looking pattern to fail to match the whole subject", err)
	}
}

func TestIdentityErrors(t *testing.T) {
	for name, tc := range map[string]struct{ doc, want string }{
		"no issuer":        {"version: 1\nidentities:\n  - name: a\n    subject: x\n    roles: [builder]\n", "give issuer or issuerRegexp"},
		"both subjects":    {"version: 1\nidentities:\n  - name: a\n    issuer: i\n    subject: x\n    subjectRegexp: y\n    roles: [builder]\n", "give subject or subjectRegexp"},
		"bad regexp":       {"version: 1\nidentities:\n  - name: a\n    issuer: i\n    subjectRegexp: '('\n    roles: [builder]\n", "subjectRegexp"},
		"no roles":         {"version: 1\nidentities:\n  - name: a\n    issuer: i\n    subject: x\n", "no roles"},
		"duplicate":        {"version: 1\nidentities:\n  - name: a\n    issuer: i\n    subject: x\n    roles: [builder]\n  - name: a\n    issuer: i\n    subject: y\n    roles: [builder]\n", "used twice"},
		"level":            {"version: 1\nidentities:\n  - name: a\n    issuer: i\n    subject: x\n    roles: [builder]\n    hostedBuilder: {slsaBuildLevel: 4}\n", "slsaBuildLevel 4"},
		"hosted not built": {"version: 1\nidentities:\n  - name: a\n    issuer: i\n    subject: x\n    roles: [approver]\n    hostedBuilder: {slsaBuildLevel: 3}\n", "needs the builder role"},
		"unknown field":    {"version: 1\nidentities:\n  - name: a\n    issuer: i\n    subject: x\n    workflow: w\n    roles: [builder]\n", "workflow"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), ".")
			if !errors.Is(err, ErrBadFile) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
