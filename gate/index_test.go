package gate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/policy"
)

// platformList is an index's platforms as a resolver that read them would
// return them.
type platformList struct {
	ps  []gate.Platform
	err error
}

func (l platformList) Platforms(context.Context, string, digest.Digest) ([]gate.Platform, error) {
	return l.ps, l.err
}

func indexGate(t *testing.T, f *fixture, r gate.IndexResolver) *gate.Gate {
	t.Helper()
	g, err := gate.New(f.st, f.trust, map[string]*policy.Policy{"prod": approvalsPolicy(t)}, f.gateKey,
		gate.WithClock(func() time.Time { return now }), gate.WithIndexResolver(r))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// An index whose platforms cannot be listed, or that lists more than the
// gate reads, fails the gate closed.
func TestIndexFailsClosed(t *testing.T) {
	f := newFixture(t)
	req := gate.Request{Artifact: policy.Artifact{Digest: f.digest, Name: "app"}, Environment: "prod"}
	g := indexGate(t, f, platformList{err: errors.New("registry unreachable")})
	if _, err := g.Evaluate(t.Context(), req); !errors.Is(err, gate.ErrIndex) || !strings.Contains(err.Error(), "registry unreachable") {
		t.Errorf("resolver error: %v, want ErrIndex with the cause", err)
	}
	var many []gate.Platform
	for i := range gate.MaxIndexPlatforms + 1 {
		s := attesttest.Subject("p", fmt.Appendf(nil, "platform %d", i))
		many = append(many, gate.Platform{Digest: attesttest.Digest(s), Name: "linux/amd64"})
	}
	g = indexGate(t, f, platformList{ps: many})
	if _, err := g.Evaluate(t.Context(), req); !errors.Is(err, gate.ErrIndex) || !strings.Contains(err.Error(), "more than") {
		t.Errorf("%d platforms: %v, want ErrIndex", len(many), err)
	}
}

// An approval of one platform manifest of an index is not an approval of
// the index: it is ignored, with the reason.
func TestIndexPlatformApprovalDoesNotCount(t *testing.T) {
	f := newFixture(t)
	plat := attesttest.Subject("app", []byte("the arm64 manifest"))
	f.approve(t, f.alice, "prod", plat)
	f.approve(t, f.bob, "prod", plat)
	g := indexGate(t, f, platformList{ps: []gate.Platform{{Digest: attesttest.Digest(plat), Name: "linux/arm64"}}})
	res, err := g.Evaluate(t.Context(), gate.Request{Artifact: policy.Artifact{Digest: f.digest, Name: "app"}, Environment: "prod", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Decision.Allow || len(res.Input.Evidence.Approvals) != 0 {
		t.Fatalf("approvals of a platform manifest counted for the index: %+v", res.Input.Evidence.Approvals)
	}
	n := 0
	for _, ig := range res.Input.Ignored {
		if strings.Contains(ig.Reason, "approvals must name the index") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("ignored %+v, want both approvals ignored as about a platform", res.Input.Ignored)
	}
}
