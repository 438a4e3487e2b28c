package policy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/policy/policytest"
)

func userPolicy(t *testing.T, src string, opts ...policy.Option) *policy.Policy {
	t.Helper()
	p, err := policy.Compile(t.Context(), []policy.Module{{Name: "user/policy.rego", Source: []byte(src)}}, opts...)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// TestFailClosed: every way evaluation can go wrong denies, names the
// failure in a policy.* violation and returns an error wrapping the cause.
func TestFailClosed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		src     string
		input   func(*policy.Input)
		ctx     func(context.Context) (context.Context, context.CancelFunc)
		wantID  string
		wantErr error
	}{
		{
			name:    "division by zero at runtime",
			src:     "package hallmark.policy\n\nn := count(input.evidence.approvals) / 0\n\ndecision := {\"allow\": n > 0, \"violations\": []}\n",
			wantID:  "policy.error",
			wantErr: policy.ErrEval,
		},
		{
			name:    "builtin error on bad input",
			src:     "package hallmark.policy\n\ndecision := {\"allow\": to_number(input.artifact.name) > 0, \"violations\": []}\n",
			wantID:  "policy.error",
			wantErr: policy.ErrEval,
		},
		{
			name: "conflicting outputs",
			src: `package hallmark.policy

decision := {"allow": true, "violations": []} if input.context.environment == "prod"

decision := {"allow": false, "violations": []} if input.artifact.digest != ""
`,
			wantID:  "policy.error",
			wantErr: policy.ErrEval,
		},
		{
			name: "slow policy cut off by the context deadline",
			src: `package hallmark.policy

spin if {
	some i in numbers.range(1, 20000)
	some j in numbers.range(1, 20000)
	i * j < 0
}

decision := {"allow": true, "violations": []} if not spin
`,
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 50*time.Millisecond)
			},
			wantID:  "policy.timeout",
			wantErr: policy.ErrTimeout,
		},
		{
			name:    "undefined decision",
			src:     "package hallmark.policy\n\ndecision := {\"allow\": true, \"violations\": []} if input.context.environment == \"dev\"\n",
			wantID:  "policy.undefined",
			wantErr: policy.ErrUndefined,
		},
		{
			name:    "no decision rule at all",
			src:     "package hallmark.policy\n\nallow := true\n",
			wantID:  "policy.undefined",
			wantErr: policy.ErrUndefined,
		},
		{
			name:    "decision is a string",
			src:     "package hallmark.policy\n\ndecision := \"allow\"\n",
			wantID:  "policy.malformed",
			wantErr: policy.ErrMalformed,
		},
		{
			name:    "allow is not a boolean",
			src:     "package hallmark.policy\n\ndecision := {\"allow\": \"yes\", \"violations\": []}\n",
			wantID:  "policy.malformed",
			wantErr: policy.ErrMalformed,
		},
		{
			name:    "violations missing",
			src:     "package hallmark.policy\n\ndecision := {\"allow\": true}\n",
			wantID:  "policy.malformed",
			wantErr: policy.ErrMalformed,
		},
		{
			name:    "violation without a rule ID",
			src:     "package hallmark.policy\n\ndecision := {\"allow\": true, \"violations\": [{\"message\": \"x\"}]}\n",
			wantID:  "policy.malformed",
			wantErr: policy.ErrMalformed,
		},
		{
			name:    "violation evidence not strings",
			src:     "package hallmark.policy\n\ndecision := {\"allow\": true, \"violations\": [{\"ruleId\": \"r\", \"message\": \"m\", \"evidence\": [1]}]}\n",
			wantID:  "policy.malformed",
			wantErr: policy.ErrMalformed,
		},
		{
			name:    "SLSA level out of range",
			src:     "package hallmark.policy\n\ndecision := {\"allow\": true, \"violations\": [], \"slsaBuildLevel\": 7}\n",
			wantID:  "policy.malformed",
			wantErr: policy.ErrMalformed,
		},
		{
			name:    "no evaluation time",
			src:     "package hallmark.policy\n\ndecision := {\"allow\": true, \"violations\": []}\n",
			input:   func(in *policy.Input) { in.Context.Time = time.Time{} },
			wantID:  "policy.input",
			wantErr: policy.ErrInput,
		},
		{
			name:    "no artifact digest",
			src:     "package hallmark.policy\n\ndecision := {\"allow\": true, \"violations\": []}\n",
			input:   func(in *policy.Input) { in.Artifact.Digest = digest.Digest{} },
			wantID:  "policy.input",
			wantErr: policy.ErrInput,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := userPolicy(t, tc.src)
			in := policytest.Input(now)
			if tc.input != nil {
				tc.input(&in)
			}
			ctx := t.Context()
			if tc.ctx != nil {
				var cancel context.CancelFunc
				ctx, cancel = tc.ctx(ctx)
				defer cancel()
			}
			start := time.Now()
			d, err := p.Eval(ctx, in)
			if tc.wantID == "policy.timeout" && time.Since(start) > 5*time.Second {
				t.Errorf("timeout honoured only after %s", time.Since(start))
			}
			if d.Allow {
				t.Errorf("Allow = true, want a fail-closed deny")
			}
			if got := ruleIDs(d); !cmp.Equal(got, []string{tc.wantID}) {
				t.Errorf("violations = %+v, want one %s", d.Violations, tc.wantID)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
			if ee, ok := errors.AsType[*policy.EvalError](err); !ok || ee.RuleID != tc.wantID {
				t.Errorf("error %v is not an *EvalError for %s", err, tc.wantID)
			}
			if d.PolicyDigest != p.Digest() || d.SLSABuildLevel != 0 || d.VerifiedLevels != nil {
				t.Errorf("failed decision misreports policy or level: %+v", d)
			}
		})
	}
}

func TestTimeoutOption(t *testing.T) {
	p := userPolicy(t, `package hallmark.policy

spin if {
	some i in numbers.range(1, 20000)
	some j in numbers.range(1, 20000)
	i * j < 0
}

decision := {"allow": true, "violations": []} if not spin
`, policy.WithTimeout(30*time.Millisecond))
	d, err := p.Eval(t.Context(), policytest.Input(now))
	if d.Allow || !errors.Is(err, policy.ErrTimeout) {
		t.Fatalf("Eval = %+v, %v; want a timeout deny", d, err)
	}
}

func TestUserDecisionShapes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		decision  string
		wantAllow bool
		wantIDs   []string
		wantLevel int
	}{
		{name: "allow", decision: `{"allow": true, "violations": set(), "slsaBuildLevel": 2}`, wantAllow: true, wantLevel: 2},
		{name: "allow contradicted by violations denies", decision: `{"allow": true, "violations": [{"ruleId": "r1", "message": "m"}]}`, wantIDs: []string{"r1"}},
		{name: "deny without reason gets one", decision: `{"allow": false, "violations": []}`, wantIDs: []string{"policy.denied"}},
		{name: "violations sorted", decision: `{"allow": false, "violations": {{"ruleId": "b", "message": "m"}, {"ruleId": "a", "message": "m"}}}`, wantIDs: []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := userPolicy(t, "package hallmark.policy\n\ndecision := "+tc.decision+"\n")
			d, err := p.Eval(t.Context(), policytest.Input(now))
			if err != nil {
				t.Fatal(err)
			}
			if d.Allow != tc.wantAllow || d.SLSABuildLevel != tc.wantLevel {
				t.Errorf("Decision = %+v, want allow %v level %d", d, tc.wantAllow, tc.wantLevel)
			}
			if diff := cmp.Diff(tc.wantIDs, ruleIDs(d)); diff != "" {
				t.Errorf("rule IDs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTimeIsInjected: time.now_ns() is the input's time, not the clock.
func TestTimeIsInjected(t *testing.T) {
	p := userPolicy(t, `package hallmark.policy

decision := {"allow": false, "violations": [{"ruleId": "t", "message": sprintf("%d", [time.now_ns()])}]}
`)
	for _, at := range []time.Time{now, time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)} {
		in := policytest.Input(at)
		d, _ := p.Eval(t.Context(), in)
		if got, want := d.Violations[0].Message, fmt.Sprint(at.UnixNano()); got != want {
			t.Errorf("time.now_ns() = %s, want %s", got, want)
		}
		if !d.Time.Equal(at) {
			t.Errorf("Decision.Time = %v, want %v", d.Time, at)
		}
	}
}

// TestNullFreeInput: nil slices and maps reach Rego as empty collections.
func TestNullFreeInput(t *testing.T) {
	p := userPolicy(t, `package hallmark.policy

nulls contains path if {
	walk(input, [path, value])
	value == null
}

decision := {"allow": count(nulls) == 0, "violations": [{"ruleId": "null", "message": sprintf("%v", [nulls])} | count(nulls) > 0]}
`)
	in := policy.Input{Artifact: policy.Artifact{Digest: digest.MustParse(policytest.ArtifactDigest)}, Context: policy.Context{Time: now}}
	in.Evidence.TEE = []policy.TEE{{}}
	d, err := p.Eval(t.Context(), in)
	if err != nil || !d.Allow {
		t.Fatalf("Eval = %+v, %v", d, err)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		mods []policy.Module
		opts []policy.Option
		want error
	}{
		{name: "syntax", mods: []policy.Module{{Name: "a.rego", Source: []byte("package a\n\nx := {")}}, want: policy.ErrCompile},
		{name: "rego v0 syntax", mods: []policy.Module{{Name: "a.rego", Source: []byte("package a\n\ndeny[msg] { msg := \"x\" }\n")}}, want: policy.ErrCompile},
		{name: "network builtin refused", mods: []policy.Module{{Name: "a.rego", Source: []byte("package a\n\nx := http.send({\"method\": \"get\", \"url\": \"http://example.com\"})\n")}}, want: policy.ErrCompile},
		{name: "randomness refused", mods: []policy.Module{{Name: "a.rego", Source: []byte("package a\n\nx := rand.intn(\"k\", 10)\n")}}, want: policy.ErrCompile},
		{name: "duplicate module name", mods: []policy.Module{{Name: "a.rego", Source: []byte("package a\n")}, {Name: "a.rego", Source: []byte("package b\n")}}, want: policy.ErrCompile},
		{name: "bad entrypoint", opts: []policy.Option{policy.WithEntrypoint("input.x")}, want: policy.ErrOption},
		{name: "bad timeout", opts: []policy.Option{policy.WithTimeout(0)}, want: policy.ErrOption},
		{name: "invalid params", opts: []policy.Option{policy.WithParams(policy.Params{Rules: []string{"nope"}})}, want: policy.ErrPreset},
		{name: "params twice", opts: []policy.Option{policy.WithData(map[string]any{"hallmark": map[string]any{"params": 1}}), policy.WithParams(policy.Params{Rules: []string{"sbom"}})}, want: policy.ErrOption},
		{name: "data not JSON", opts: []policy.Option{policy.WithData(map[string]any{"f": func() {}})}, want: policy.ErrOption},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Compile(t.Context(), tc.mods, tc.opts...)
			if !errors.Is(err, tc.want) {
				t.Errorf("Compile error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDigest(t *testing.T) {
	a := policy.Module{Name: "a.rego", Source: []byte("package a\n\nx := 1\n")}
	b := policy.Module{Name: "b.rego", Source: []byte("package b\n\ny := 2\n")}
	digest := func(mods []policy.Module, opts ...policy.Option) string {
		t.Helper()
		p, err := policy.Compile(t.Context(), mods, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return p.Digest()
	}
	base := digest([]policy.Module{a, b})
	if got := digest([]policy.Module{b, a}); got != base {
		t.Errorf("module order changed the digest: %s vs %s", got, base)
	}
	changed := b
	changed.Source = []byte("package b\n\ny := 3\n")
	for name, got := range map[string]string{
		"source":     digest([]policy.Module{a, changed}),
		"entrypoint": digest([]policy.Module{a, b}, policy.WithEntrypoint("data.a.x")),
		"data":       digest([]policy.Module{a, b}, policy.WithData(map[string]any{"k": "v"})),
	} {
		if got == base {
			t.Errorf("changing the %s left the digest unchanged", name)
		}
	}
	if len(base) != 64 || strings.Trim(base, "0123456789abcdef") != "" {
		t.Errorf("digest %q is not hex SHA-256", base)
	}
}

// TestConcurrentEval: a compiled Policy serves many goroutines.
func TestConcurrentEval(t *testing.T) {
	p := compileProd(t)
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			in := policytest.Input(now)
			if i%2 == 1 {
				in.Evidence.Approvals = nil
			}
			d, err := p.Eval(context.Background(), in)
			switch {
			case err != nil:
				errs <- err
			case d.Allow != (i%2 == 0):
				errs <- fmt.Errorf("goroutine %d: allow = %v", i, d.Allow)
			default:
				errs <- nil
			}
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func policyInputForUser() policy.Input {
	in := policytest.Input(now)
	in.Context.Requester = "alice (CHG-4711)"
	return in
}
