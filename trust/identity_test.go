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

// TestIdentityClaimRegexps pins Fulcio claims by anchored regular
// expression, on sigstore-js 2.0.0's real npm provenance (ref
// refs/heads/main, repository https://github.com/sigstore/sigstore-js,
// trigger push): a matching ref or repository pattern verifies, a tag
// pattern or a pattern that matches only part of the ref does not, and the
// message names the claim and the certificate's value.
func TestIdentityClaimRegexps(t *testing.T) {
	pg, err := root.NewTrustedRootFromPath("../attest/testdata/publicgood/trusted_root.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../attest/testdata/publicgood/npm-sigstore-2.0.0.provenance.json")
	if err != nil {
		t.Fatal(err)
	}
	const base = "version: 1\nidentities:\n  - name: release\n    issuer: https://token.actions.githubusercontent.com\n    subjectRegexp: https://github\\.com/sigstore/sigstore-js/.*\n    roles: [builder]\n"
	for name, tc := range map[string]struct {
		claims string
		ok     bool
	}{
		"ref pattern":             {"    sourceRepositoryRefRegexp: refs/heads/(main|release-.*)\n", true},
		"repository pattern":      {"    sourceRepositoryURIRegexp: https://github\\.com/sigstore/.*\n    buildTriggerRegexp: push|release\n", true},
		"workflow pattern":        {"    buildConfigURIRegexp: https://github\\.com/sigstore/sigstore-js/\\.github/workflows/release\\.yml@refs/heads/.*\n", true},
		"tag pattern":             {"    sourceRepositoryRefRegexp: refs/tags/v.*\n", false},
		"part of the ref":         {"    sourceRepositoryRefRegexp: heads\n", false},
		"other repository":        {"    sourceRepositoryURIRegexp: https://github\\.com/acme/.*\n", false},
		"exact ref still exact":   {"    sourceRepositoryRef: refs/heads/mai\n", false},
		"trigger not a prefix of": {"    buildTriggerRegexp: pus\n", false},
	} {
		t.Run(name, func(t *testing.T) {
			tr, err := Parse([]byte(base+tc.claims), ".")
			if err != nil {
				t.Fatal(err)
			}
			v, err := attest.Verify(t.Context(), raw, tr.All(), attest.WithTrustedRoot(pg))
			if tc.ok {
				if err != nil || len(v.SignerIDs()) != 1 || v.SignerIDs()[0] != "identity:release" {
					t.Fatalf("err = %v, want identity:release", err)
				}
				return
			}
			if !errors.Is(err, attest.ErrUnknownIdentity) || !strings.Contains(err.Error(), "release: expected ") {
				t.Fatalf("err = %v, want an untrusted identity naming the claim", err)
			}
		})
	}
	_, err = attest.Verify(t.Context(), raw, mustParse(t, base+"    sourceRepositoryRefRegexp: refs/tags/v.*\n").All(), attest.WithTrustedRoot(pg))
	if err == nil || !strings.Contains(err.Error(), `expected SourceRepositoryRef to match ^(?:refs/tags/v.*)$, got "refs/heads/main"`) {
		t.Errorf("message does not name the claim, pattern and value: %v", err)
	}
	for name, doc := range map[string]string{
		"both":      base + "    sourceRepositoryRef: refs/heads/main\n    sourceRepositoryRefRegexp: refs/heads/.*\n",
		"bad regex": base + "    buildSignerURIRegexp: '('\n",
	} {
		if _, err := Parse([]byte(doc), "."); !errors.Is(err, ErrBadFile) || !strings.Contains(err.Error(), "Regexp") {
			t.Errorf("%s: err = %v, want a trust-file error naming the field", name, err)
		}
	}
}

func mustParse(t *testing.T, doc string) *Trust {
	t.Helper()
	tr, err := Parse([]byte(doc), ".")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
