package trust

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/hallmark-dev/hallmark/attest"
)

// Identity is a trusted OIDC identity (keyless signing) with its roles.
type Identity struct {
	attest.Identity
	Roles []Role
	// Person names who the identity is, so that approvals by one person's
	// identity and keys count once; "" to use the certificate's subject.
	Person string
	// HostedBuildLevel is the SLSA Build level of a hosted builder the
	// identity stands for (0: not declared a hosted builder).
	HostedBuildLevel int
}

// identityDoc is one entry of the file's identities list. Regular
// expressions are anchored: they must match the whole value.
type identityDoc struct {
	Name                string `yaml:"name"`
	Issuer              string `yaml:"issuer"`
	IssuerRegexp        string `yaml:"issuerRegexp"`
	Subject             string `yaml:"subject"`
	SubjectRegexp       string `yaml:"subjectRegexp"`
	SourceRepositoryURI string `yaml:"sourceRepositoryURI"`
	SourceRepositoryRef string `yaml:"sourceRepositoryRef"`
	BuildConfigURI      string `yaml:"buildConfigURI"`
	BuildSignerURI      string `yaml:"buildSignerURI"`
	RunnerEnvironment   string `yaml:"runnerEnvironment"`
	BuildTrigger        string `yaml:"buildTrigger"`
	// The claims above as anchored regular expressions instead (the
	// runner environment has two values, so it has none).
	SourceRepositoryURIRegexp string   `yaml:"sourceRepositoryURIRegexp"`
	SourceRepositoryRefRegexp string   `yaml:"sourceRepositoryRefRegexp"`
	BuildConfigURIRegexp      string   `yaml:"buildConfigURIRegexp"`
	BuildSignerURIRegexp      string   `yaml:"buildSignerURIRegexp"`
	BuildTriggerRegexp        string   `yaml:"buildTriggerRegexp"`
	Roles                     []string `yaml:"roles"`
	Person                    string   `yaml:"person"`
	HostedBuilder             *struct {
		SLSABuildLevel int `yaml:"slsaBuildLevel"`
	} `yaml:"hostedBuilder"`
}

// anchored compiles re so that it must match a whole value: "a|b" means
// exactly a or exactly b, never a value that merely contains one.
func anchored(re string) (string, error) {
	if re == "" {
		return "", nil
	}
	full := "^(?:" + re + ")$"
	if _, err := regexp.Compile(full); err != nil {
		return "", err
	}
	return full, nil
}

// claimPatterns compiles the claims d gives as regular expressions,
// refusing a claim given both exactly and as a pattern.
func (d identityDoc) claimPatterns(where string) (attest.ClaimPatterns, error) {
	var p attest.ClaimPatterns
	for _, c := range []struct {
		field       string
		exact, expr string
		dst         **regexp.Regexp
	}{
		{"sourceRepositoryURI", d.SourceRepositoryURI, d.SourceRepositoryURIRegexp, &p.SourceRepositoryURI},
		{"sourceRepositoryRef", d.SourceRepositoryRef, d.SourceRepositoryRefRegexp, &p.SourceRepositoryRef},
		{"buildConfigURI", d.BuildConfigURI, d.BuildConfigURIRegexp, &p.BuildConfigURI},
		{"buildSignerURI", d.BuildSignerURI, d.BuildSignerURIRegexp, &p.BuildSignerURI},
		{"buildTrigger", d.BuildTrigger, d.BuildTriggerRegexp, &p.BuildTrigger},
	} {
		if c.expr == "" {
			continue
		}
		if c.exact != "" {
			return p, fmt.Errorf("%w: %s: give %s or %sRegexp, not both", ErrBadFile, where, c.field, c.field)
		}
		full, err := anchored(c.expr)
		if err != nil {
			return p, fmt.Errorf("%w: %s: %sRegexp: %v", ErrBadFile, where, c.field, err)
		}
		*c.dst = regexp.MustCompile(full)
	}
	return p, nil
}

func (t *Trust) parseIdentities(docs []identityDoc) error {
	seen := map[string]bool{}
	for i, d := range docs {
		where := fmt.Sprintf("identities[%d] (%s)", i, d.Name)
		switch {
		case d.Name == "":
			return fmt.Errorf("%w: %s: no name", ErrBadFile, where)
		case seen[d.Name]:
			return fmt.Errorf("%w: %s: the name is used twice", ErrBadFile, where)
		case (d.Issuer == "") == (d.IssuerRegexp == ""):
			return fmt.Errorf("%w: %s: give issuer or issuerRegexp (the OIDC issuer, e.g. https://token.actions.githubusercontent.com), exactly one", ErrBadFile, where)
		case (d.Subject == "") == (d.SubjectRegexp == ""):
			return fmt.Errorf("%w: %s: give subject or subjectRegexp (the certificate's identity: an email, or a workflow URI), exactly one", ErrBadFile, where)
		}
		issRe, err := anchored(d.IssuerRegexp)
		if err != nil {
			return fmt.Errorf("%w: %s: issuerRegexp: %v", ErrBadFile, where, err)
		}
		subRe, err := anchored(d.SubjectRegexp)
		if err != nil {
			return fmt.Errorf("%w: %s: subjectRegexp: %v", ErrBadFile, where, err)
		}
		san, err := verify.NewSANMatcher(d.Subject, subRe)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBadFile, where, err)
		}
		iss, err := verify.NewIssuerMatcher(d.Issuer, issRe)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBadFile, where, err)
		}
		match, err := verify.NewCertificateIdentity(san, iss, certificate.Extensions{
			SourceRepositoryURI: d.SourceRepositoryURI, SourceRepositoryRef: d.SourceRepositoryRef,
			BuildConfigURI: d.BuildConfigURI, BuildSignerURI: d.BuildSignerURI,
			RunnerEnvironment: d.RunnerEnvironment, BuildTrigger: d.BuildTrigger,
		})
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBadFile, where, err)
		}
		claims, err := d.claimPatterns(where)
		if err != nil {
			return err
		}
		roles, err := parseRoles(where, d.Roles)
		if err != nil {
			return err
		}
		seen[d.Name] = true
		id := Identity{Identity: attest.Identity{Name: d.Name, Match: match, Claims: claims}, Roles: roles, Person: d.Person}
		if h := d.HostedBuilder; h != nil {
			if h.SLSABuildLevel < 1 || h.SLSABuildLevel > 3 {
				return fmt.Errorf("%w: %s: hostedBuilder.slsaBuildLevel %d (want 1, 2 or 3)", ErrBadFile, where, h.SLSABuildLevel)
			}
			if !slices.Contains(roles, RoleBuilder) {
				return fmt.Errorf("%w: %s: a hosted builder needs the %s role", ErrBadFile, where, RoleBuilder)
			}
			id.HostedBuildLevel = h.SLSABuildLevel
		}
		t.identities = append(t.identities, id)
	}
	for i := range t.identities {
		t.byIdentity[t.identities[i].Name] = &t.identities[i]
	}
	return nil
}

// identity looks up "identity:NAME".
func (t *Trust) identity(signerID string) (*Identity, bool) {
	name, ok := strings.CutPrefix(signerID, attest.IdentityPrefix)
	if !ok {
		return nil, false
	}
	id, ok := t.byIdentity[name]
	return id, ok
}

// Identities returns the trusted identities.
func (t *Trust) Identities() []Identity { return append([]Identity(nil), t.identities...) }

// HostedBuildLevel returns the SLSA Build level the trust file declares for
// the hosted builder the signer stands for (0 when it declares none).
func (t *Trust) HostedBuildLevel(signerID string) int {
	if id, ok := t.identity(signerID); ok {
		return id.HostedBuildLevel
	}
	return 0
}
