package rules_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hallmark-dev/hallmark/secrets/rules"
	"github.com/hallmark-dev/hallmark/secrets/secretstest"
)

func newDetector(t *testing.T) *rules.Detector {
	t.Helper()
	d, err := rules.New()
	if err != nil {
		t.Fatalf("rules.New: %v", err)
	}
	return d
}

// TestRuleSetCoverage checks that the default gitleaks set is loaded in full
// and that every credential kind Hallmark promises has a rule.
func TestRuleSetCoverage(t *testing.T) {
	d := newDetector(t)
	rs := d.Rules()
	if len(rs) < 220 {
		t.Errorf("got %d rules, want at least the ~220 gitleaks defaults plus Hallmark's", len(rs))
	}
	ids := map[string]rules.Rule{}
	for _, r := range rs {
		ids[r.ID] = r
	}
	for _, id := range []string{
		"aws-access-token", "gcp-api-key", "gcp-service-account-key", "azure-ad-client-secret",
		"azure-storage-account-key", "azure-sas-token", "github-pat", "github-fine-grained-pat",
		"github-oauth", "gitlab-pat", "slack-bot-token", "slack-webhook-url", "stripe-access-token",
		"private-key", "jwt", "url-password", "generic-api-key",
	} {
		if _, ok := ids[id]; !ok {
			t.Errorf("no rule %q", id)
		}
	}
	var added []string
	for _, r := range rs {
		if r.Hallmark {
			added = append(added, r.ID)
		}
	}
	slices.Sort(added)
	want := []string{"aws-secret-access-key", "azure-sas-token", "azure-storage-account-key", "gcp-service-account-key", "url-password"}
	if diff := cmp.Diff(want, added); diff != "" {
		t.Errorf("Hallmark-added rules (-want +got):\n%s", diff)
	}
	if g := ids["generic-api-key"]; g.Entropy == 0 || len(g.Keywords) == 0 {
		t.Errorf("generic-api-key lacks keyword prefilter or entropy threshold: %+v", g)
	}
}

func TestFindCanaries(t *testing.T) {
	d := newDetector(t)
	// Several seeds, so the result does not hinge on one lucky draw.
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} {
		for _, c := range secretstest.Canaries(t, seed) {
			t.Run(fmt.Sprintf("%s/%d", c.Name, seed), func(t *testing.T) {
				text := "# config\n\n" + c.Text
				ms := d.Find(t.Context(), text, "conf/app.cfg")
				var got []string
				for _, m := range ms {
					got = append(got, m.RuleID)
					if m.Line < 3 {
						t.Errorf("%s: line %d, want >= 3", m.RuleID, m.Line)
					}
					if !m.Decoded && !strings.Contains(text[m.Start:m.End], m.Secret) {
						t.Errorf("%s: span [%d,%d) does not contain the secret", m.RuleID, m.Start, m.End)
					}
				}
				slices.Sort(got)
				got = slices.Compact(got)
				want := slices.Sorted(slices.Values(c.Rules))
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("rules (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestFindPositions(t *testing.T) {
	d := newDetector(t)
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b []byte
	for i := range 36 {
		b = append(b, alnum[(i*7+3)%len(alnum)])
	}
	tok := "ghp_" + string(b)
	for _, tc := range []struct {
		name       string
		text       string
		line, col  int
		start, end int
	}{
		{"first line", tok + "\n", 1, 1, 0, 40},
		{"third line", "a\nbb\n  x=" + tok, 3, 5, 9, 49},
		{"no newline", "x " + tok, 1, 3, 2, 42},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := d.Find(t.Context(), tc.text, "")
			if len(ms) != 1 {
				t.Fatalf("got %d matches, want 1: %+v", len(ms), ms)
			}
			m := ms[0]
			got := [4]int{m.Line, m.Column, m.Start, m.End}
			want := [4]int{tc.line, tc.col, tc.start, tc.end}
			if got != want {
				t.Errorf("line,col,start,end = %v, want %v", got, want)
			}
		})
	}
}

func TestPlaceholdersAreNotPasswords(t *testing.T) {
	d := newDetector(t)
	for _, text := range []string{
		"postgres://user:password@localhost/db",
		"redis://:${REDIS_PASSWORD}@cache:6379",
		"amqp://guest:<password>@mq/",
		"https://user:$(cat /run/secrets/pw)@example.org",
		"mysql://root:{{ .Password }}@db/",
		"see https://pkg.go.dev/net/url for details",
	} {
		if ms := d.Find(t.Context(), text, "README.md"); len(ms) != 0 {
			t.Errorf("Find(%q) = %d matches (%s), want none", text, len(ms), ms[0].RuleID)
		}
	}
}
