package web

import (
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/vuln"
)

// FuzzDecodePredicate feeds arbitrary predicates of every known type to the
// decoder and renders the result: stored evidence verified, but its content
// is whatever the signer wrote, and no page may fail or panic on it.
func FuzzDecodePredicate(f *testing.F) {
	types := []string{
		ProvenancePredicateType, gate.CycloneDXPredicateType, gate.SPDXPredicateType, finding.PredicateType, vuln.PredicateType,
		ReproducibilityPredicateType, TEEPredicateType, gate.ApprovalPredicateType, gate.DecisionPredicateType, gate.VSAPredicateType, "https://example.com/other",
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	app := attest.Subject{Name: "app", Digest: map[string]string{"sha256": "3fb03604a8f5779508d095c6d8b563eb571dcbf317dd196490fff5228e3b8f61"}}
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	seeds := map[string][]byte{
		ProvenancePredicateType:      provenancePredicate(f, now),
		gate.CycloneDXPredicateType:  cycloneDXPredicate(f, now, 2),
		gate.SPDXPredicateType:       []byte(`{"spdxVersion":"SPDX-2.3","creationInfo":{"created":"2026-11-25T12:00:00Z","creators":["Tool: syft-1.0"]},"packages":[{"name":"a"}]}`),
		finding.PredicateType:        mustJSON(finding.NewPredicate(finding.KindMisconfig, finding.Scanner{Name: "m"}, ".", now, []finding.Finding{{RuleID: "R", Severity: finding.SeverityHigh, Location: finding.Location{Path: "a", Line: 2}}})),
		vuln.PredicateType:           mustJSON(vulnPredicate(now)),
		ReproducibilityPredicateType: mustJSON(rebuildPredicate(app, now)),
		TEEPredicateType:             []byte(`{"platform":"tdx","evidence":"AAEC","claims":{"measurements":{"mr_td":"00"},"debug":false}}`),
		gate.ApprovalPredicateType:   []byte(`{"artifact":"sha256:00","environment":"prod","approvedAt":"2026-11-25T12:00:00Z"}`),
		gate.DecisionPredicateType:   []byte(`{"environment":"prod","allowed":false,"violations":[{"ruleId":"x","message":"<b>"}],"decidedAt":"2026-11-25T12:00:00Z"}`),
		gate.VSAPredicateType:        []byte(`{"verifier":{"id":"v"},"verificationResult":"PASSED","verifiedLevels":["SLSA_BUILD_LEVEL_1"]}`),
	}
	for i, pt := range types {
		f.Add(uint8(i), seeds[pt])
		f.Add(uint8(i), []byte(`{"buildDefinition":{"externalParameters":{"source":7}},"products":[{"digest":null}],"claims":null}`))
	}
	d := &dashboard{cfg: config{now: func() time.Time { return now }, basePath: DefaultBasePath, pageSize: DefaultPageSize, maxRecords: DefaultMaxRecords}}
	pages, err := parseTemplates(d.funcs())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, kind uint8, pred []byte) {
		it := item{ID: "sha256:00", PredicateType: types[int(kind)%len(types)], Signers: []string{"k"}}
		it.Stage = stageOf(it.PredicateType)
		if err := decodePredicate(&it, pred, attesttest.Digest(app)); err != nil {
			it.Problem = err.Error()
		}
		if err := pages["artifact"].ExecuteTemplate(io.Discard, "item", it); err != nil {
			t.Fatalf("render %s item: %v", it.PredicateType, err)
		}
	})
}
