package attest_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/benchcpu"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
)

// tenKBPredicate is a predicate whose statement serializes to about 10 KB,
// the size of a typical provenance document.
func tenKBPredicate() map[string]any {
	deps := make([]any, 0, 60)
	for i := range 60 {
		deps = append(deps, map[string]any{
			"uri":    fmt.Sprintf("pkg:golang/example.com/module%03d@v1.%d.0", i, i),
			"digest": map[string]any{"sha256": fmt.Sprintf("%064x", i*7919)},
		})
	}
	return map[string]any{"buildDefinition": map[string]any{"buildType": "https://hallmark.dev/build/v1", "resolvedDependencies": deps}}
}

var benchAlgs = []keys.Algorithm{keys.ECDSAP256, keys.Ed25519}

func BenchmarkSign(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			k := attesttest.Key(b, alg)
			pred, _ := json.Marshal(tenKBPredicate())
			st, err := attest.NewStatement([]attest.Subject{attesttest.Subject("app", []byte("x"))}, predType, pred)
			if err != nil {
				b.Fatal(err)
			}
			var n int
			defer benchcpu.Report(b)()
			for b.Loop() {
				out, err := attest.Sign(b.Context(), k, st)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "bundle-bytes")
		})
	}
}

// BenchmarkVerify measures Hallmark's verification and, as the named
// baseline, sigstore-go's verification of the same bundle with the same key.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range benchAlgs {
		k := attesttest.Key(b, alg)
		art := []byte("x")
		raw := attesttest.Bundle(b, k, predType, tenKBPredicate(), attesttest.Subject("app", art))
		sum := sha256.Sum256(art)
		b.Run("hallmark/"+string(alg), func(b *testing.B) {
			trust := attest.NewKeySet(k.Public())
			for b.Loop() {
				v, err := attest.Verify(b.Context(), raw, trust)
				if err != nil {
					b.Fatal(err)
				}
				if err := v.CheckArtifact("app", fmt.Sprintf("%x", sum)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("sigstore-go/"+string(alg), func(b *testing.B) {
			v := sigstoreVerifierB(b, k.Public())
			for b.Loop() {
				var sb bundle.Bundle
				if err := sb.UnmarshalJSON(raw); err != nil {
					b.Fatal(err)
				}
				if _, err := v.Verify(&sb, verify.NewPolicy(verify.WithArtifactDigest("sha256", sum[:]), verify.WithKey())); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignRecord compares the two ways to sign a small record (the
// size of a gate decision, about 1 KB of predicate) and get it back as
// Verified: through a protobuf Struct (NewStatement + SignVerified, the
// peer) and straight from the predicate's JSON (SignPredicate).
func BenchmarkSignRecord(b *testing.B) {
	type violation struct {
		RuleID  string `json:"ruleId"`
		Message string `json:"message"`
	}
	pred := struct {
		Artifact   map[string]string `json:"artifact"`
		Allowed    bool              `json:"allowed"`
		Violations []violation       `json:"violations"`
		Evidence   []string          `json:"evidence"`
		Requester  string            `json:"requester"`
	}{Artifact: map[string]string{"digest": fmt.Sprintf("sha256:%064x", 1), "name": "registry.example/app@sha256:..."},
		Violations: []violation{{"vuln.critical", "critical vulnerability GHSA-xxxx in openssl"}},
		Requester:  "system:serviceaccount:kube-system:replicaset-controller (Pod payments/p)"}
	for i := range 10 {
		pred.Evidence = append(pred.Evidence, fmt.Sprintf("sha256:%064x", i))
	}
	k := attesttest.Key(b, keys.ECDSAP256)
	sub := []attest.Subject{attesttest.Subject("app", []byte("x"))}
	b.Run("struct", func(b *testing.B) {
		defer benchcpu.Report(b)()
		for b.Loop() {
			raw, err := json.Marshal(pred)
			if err != nil {
				b.Fatal(err)
			}
			st, err := attest.NewStatement(sub, predType, raw)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := attest.SignVerified(b.Context(), k, st); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		defer benchcpu.Report(b)()
		for b.Loop() {
			if _, err := attest.SignPredicate(b.Context(), k, sub, predType, pred); err != nil {
				b.Fatal(err)
			}
		}
	})
}
