package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/finding"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/provenance"
	"github.com/hallmark-dev/hallmark/sbom"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/vuln"
)

// recordsPerArtifact is what scale stores per artifact: an approval, a
// provenance, a CycloneDX SBOM, a finding scan, two vulnerability scans
// (the first superseded), and two admission reviews (two workloads), each a
// VSA and a decision.
const recordsPerArtifact = 10

// scale fills a store with -steps artifact counts in turn (10 records
// each) and after each step times the store's hot queries and prints
// their plans. The records are real signed bundles of the predicate types
// a pipeline stores (each signed once, with its own subject); the SBOMs'
// packages are indexed as they are stored, from what the bench put in
// them (indexing verifies and decodes each SBOM, which is not what is
// measured here).
func scale(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("scale", flag.ExitOnError)
	driver := fs.String("driver", "sqlite", "sqlite or postgres")
	path := fs.String("path", "", "SQLite file")
	dsn := fs.String("dsn", "", "PostgreSQL DSN")
	modulesFile := fs.String("modules", "", "output of `go list -m -json all` (package names)")
	steps := fs.String("steps", "10000,100000", "artifact counts to fill up to and measure at, ascending")
	samples := fs.Int("samples", 1000, "timed calls per query and step")
	existing := fs.Int("existing", 0, "artifacts an earlier scale run stored already (measure, or fill on from there)")
	fs.Parse(args)
	mods, err := readModules(*modulesFile)
	if err != nil {
		return err
	}
	var targets []int
	for _, f := range strings.Split(*steps, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n <= 0 || (len(targets) > 0 && n <= targets[len(targets)-1]) {
			return fmt.Errorf("-steps %q: want ascending positive counts", *steps)
		}
		targets = append(targets, n)
	}
	opened := time.Now()
	st, err := openStore(ctx, *driver, *path, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Printf("open\t%s\t%.1f s (with pending schema migrations)\n", *driver, time.Since(opened).Seconds())
	ks := map[string]*keys.PrivateKey{}
	for _, name := range []string{"gate", "scanner", "approver", "builder"} {
		if ks[name], err = keys.Generate(keys.Ed25519); err != nil {
			return err
		}
	}
	l := &loader{st: st, ks: ks, mods: mods}
	have := *existing
	if have > 0 {
		recs, err := st.List(ctx, store.Query{PredicateType: gate.DecisionPredicateType, Limit: 1})
		if err != nil || len(recs) == 0 {
			return fmt.Errorf("-existing %d: no decision stored (%v)", have, err)
		}
		l.first = recs[0].StoredAt
	}
	for _, n := range targets {
		if n < have {
			continue
		}
		start := time.Now()
		if err := l.fill(ctx, have, n); err != nil {
			return err
		}
		if n > have {
			fmt.Printf("load\t%s\t%d artifacts\t%d records\t%.0f s\t%.0f records/s\n", *driver, n, n*recordsPerArtifact,
				time.Since(start).Seconds(), float64((n-have)*recordsPerArtifact)/time.Since(start).Seconds())
		}
		have = n
		if c, ok := st.(store.Compacter); ok && *driver == "postgres" {
			// Fresh planner statistics, as autovacuum would have them.
			if err := c.Compact(ctx); err != nil {
				return err
			}
		}
		if err := measure(ctx, st, *driver, n, *samples, l); err != nil {
			return err
		}
	}
	return nil
}

// loader generates and stores the records.
type loader struct {
	st   store.Store
	ks   map[string]*keys.PrivateKey
	mods []module
	// times are the StoredAt bounds seen, for pages of decisions.
	mu    sync.Mutex
	first time.Time
}

// pkgsPerSBOM is how many of the modules an SBOM lists, besides a package
// of its own (a rare package: one artifact has it).
const pkgsPerSBOM = 8

// batchArtifacts is how many artifacts' records go in one PutAll (one
// transaction).
const batchArtifacts = 100

type batch struct {
	vs   []*attest.Verified
	pkgs map[string][]store.Package
}

// fill stores artifacts [from, to), generating on every core and writing
// batches in order from one goroutine.
func (l *loader) fill(ctx context.Context, from, to int) error {
	type job struct {
		i   int
		out chan batch
	}
	jobs := make(chan job)
	results := make(chan chan batch, 8)
	errs := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range max(1, runtimeCPUs()) {
		wg.Go(func() {
			for j := range jobs {
				b, err := l.generate(ctx, j.i, min(j.i+batchArtifacts, to))
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					cancel()
					close(j.out)
					continue
				}
				j.out <- b
			}
		})
	}
	go func() {
		defer close(results)
		defer close(jobs)
		for i := from; i < to; i += batchArtifacts {
			j := job{i: i, out: make(chan batch, 1)}
			select {
			case results <- j.out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	start, done := time.Now(), from
	var waited, put, indexed time.Duration
	defer func() {
		fmt.Fprintf(os.Stderr, "  waited for generation %.1f s, PutAll %.1f s, IndexPackages %.1f s\n", waited.Seconds(), put.Seconds(), indexed.Seconds())
	}()
	for out := range results {
		t0 := time.Now()
		b, ok := <-out
		if !ok {
			break
		}
		t1 := time.Now()
		waited += t1.Sub(t0)
		if _, err := l.st.(store.Batcher).PutAll(ctx, b.vs); err != nil {
			cancel()
			wg.Wait()
			return err
		}
		t2 := time.Now()
		put += t2.Sub(t1)
		if err := l.st.(store.PackageIndexer).IndexPackages(ctx, b.pkgs); err != nil {
			cancel()
			wg.Wait()
			return err
		}
		indexed += time.Since(t2)
		l.mu.Lock()
		if l.first.IsZero() {
			l.first = time.Now()
		}
		l.mu.Unlock()
		done += len(b.vs) / recordsPerArtifact
		if done%10000 == 0 {
			fmt.Fprintf(os.Stderr, "  %d artifacts, %.0f records/s\n", done, float64((done-from)*recordsPerArtifact)/time.Since(start).Seconds())
		}
	}
	cancel()
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	return nil
}

// scaleSubject is artifact i's subject.
func scaleSubject(i int) attest.Subject {
	return attest.Subject{Name: fmt.Sprintf("registry.local/scale/app-%d", i), Digest: map[string]string{"sha256": fmt.Sprintf("%064x", uint64(i)+0x5ca1e000000)}}
}

// rarePackage is the package only artifact i's SBOM lists.
func rarePackage(i int) store.Package {
	return store.Package{Ecosystem: "Go", Name: fmt.Sprintf("registry.local/scale/app-%d/internal", i)}
}

// generate signs the records of artifacts [from, to).
func (l *loader) generate(ctx context.Context, from, to int) (batch, error) {
	b := batch{pkgs: map[string][]store.Package{}}
	now := time.Now().UTC()
	for i := from; i < to; i++ {
		sub := scaleSubject(i)
		d := subjectDigest(sub)
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		a, err := gate.NewApproval(d, "prod", "scale", now)
		if err != nil {
			return b, err
		}
		approval, err := sign(ctx, l.ks["approver"], gate.ApprovalPredicateType, a, sub)
		if err != nil {
			return b, err
		}
		prov, err := sign(ctx, l.ks["builder"], provenance.PredicateType, map[string]any{
			"buildDefinition": map[string]any{"buildType": "https://hallmark.dev/build/v1", "externalParameters": map[string]any{"source": "git+https://git.local/scale/app-" + fmt.Sprint(i) + "@refs/heads/main"}},
			"runDetails":      map[string]any{"builder": map[string]any{"id": "https://hallmark.dev/builder"}, "metadata": map[string]any{"invocationId": fmt.Sprint("build-", i), "startedOn": now}},
		}, sub)
		if err != nil {
			return b, err
		}
		inv := &sbom.Inventory{Subject: sbom.Subject{Name: sub.Name, Kind: "image"}}
		rare := rarePackage(i)
		inv.Components = append(inv.Components, sbom.Component{Ecosystem: "Go", Name: rare.Name, Version: "1.0.0", PURL: "pkg:golang/" + rare.Name + "@v1.0.0"})
		pkgs := []store.Package{rare}
		for _, j := range rng.Perm(len(l.mods))[:min(pkgsPerSBOM, len(l.mods))] {
			m := l.mods[j]
			inv.Components = append(inv.Components, sbom.Component{Ecosystem: "Go", Name: m.Path, Version: strings.TrimPrefix(m.Version, "v"), PURL: "pkg:golang/" + m.Path + "@" + m.Version})
			pkgs = append(pkgs, store.Package{Ecosystem: "Go", Name: m.Path})
		}
		doc, err := sbom.Document(inv, sbom.CycloneDX, sbom.DocumentInfo{Created: now, ToolVersion: "bench"})
		if err != nil {
			return b, err
		}
		sb, err := sign(ctx, l.ks["scanner"], sbom.PredicateCycloneDX, json.RawMessage(doc), sub)
		if err != nil {
			return b, err
		}
		b.pkgs[sb.ID] = pkgs
		findings, err := sign(ctx, l.ks["scanner"], finding.PredicateType, map[string]any{
			"scanner": map[string]any{"uri": "https://hallmark.dev/scanners/secrets", "version": "bench"}, "findings": []any{},
			"metadata": map[string]any{"scanStartedOn": now, "scanFinishedOn": now.Add(time.Second)}}, sub)
		if err != nil {
			return b, err
		}
		b.vs = append(b.vs, approval, prov, sb, findings)
		for k := range 2 {
			at := now.Add(time.Duration(k) * time.Hour)
			p := vuln.VulnsPredicate{
				Scanner: vuln.PredicateScanner{URI: "https://hallmark.dev/scanners/vuln", DB: vuln.PredicateDB{LastUpdate: at},
					Result: []vuln.PredicateResult{{ID: "GO-2024-2687", Severity: []vuln.PredicateSeverity{{Method: "hallmark", Score: "low"}}}}},
				Metadata: vuln.PredicateMetadata{ScanStartedOn: at, ScanFinishedOn: at.Add(time.Second)},
			}
			scan, err := sign(ctx, l.ks["scanner"], vuln.PredicateType, p, sub)
			if err != nil {
				return b, err
			}
			b.vs = append(b.vs, scan)
		}
		used := slices.Clone(b.vs[len(b.vs)-6:])
		for k, w := range []string{"api", "worker"} {
			// Each review verifies at its own time: two VSAs with the
			// same content would be one record (the same signed bytes,
			// the same ID), and the artifact would have 9 records.
			vsa, err := sign(ctx, l.ks["gate"], gate.VSAPredicateType, map[string]any{"verifier": map[string]string{"id": gate.DefaultVerifierID}, "timeVerified": now.Add(time.Duration(k) * time.Second), "verificationResult": "PASSED", "resourceUri": sub.Name}, sub)
			if err != nil {
				return b, err
			}
			ids := make([]string, len(used))
			for j, v := range used {
				ids[j] = v.ID
			}
			dec := gate.Decision{Artifact: policyArtifact(d, sub.Name), Environment: "prod", Allowed: true, Evidence: ids, DecidedAt: now, Source: gate.AdmissionSource,
				Workload: &gate.Workload{Namespace: "shop", Kind: "Deployment", Name: fmt.Sprintf("app-%d-%s", i, w), Review: fmt.Sprintf("review-%d-%s", i, w)}, VSA: vsa.ID}
			dec.Violations, dec.Ignored = emptyViolations, emptyIgnored
			dv, err := sign(ctx, l.ks["gate"], gate.DecisionPredicateType, dec, sub)
			if err != nil {
				return b, err
			}
			b.vs = append(b.vs, vsa, dv)
		}
	}
	seen := map[string]bool{}
	for _, v := range b.vs {
		if seen[v.ID] {
			return b, fmt.Errorf("artifacts [%d, %d): record %s generated twice: the store would keep one", from, to, v.ID)
		}
		seen[v.ID] = true
	}
	return b, nil
}

// sample picks what the timed queries ask about: a stored artifact, a
// record ID (the decision of the artifact's first review), a package of
// that artifact only, a module many artifacts list.
func (l *loader) sample(rng *rand.Rand, n int) (digest.Digest, store.Package, store.Package) {
	i := rng.IntN(n)
	m := l.mods[rng.IntN(len(l.mods))]
	return subjectDigest(scaleSubject(i)), rarePackage(i), store.Package{Ecosystem: "Go", Name: m.Path}
}

// measure times each hot query samples times over random artifacts of the
// n stored and prints p50, p99 and the rows it returned on average, then
// each query's plan.
func measure(ctx context.Context, st store.Store, driver string, n, samples int, l *loader) error {
	ix := st.(store.PackageIndexer)
	ex := st.(store.Explainer)
	rng := rand.New(rand.NewPCG(uint64(n), 11))
	l.mu.Lock()
	first := l.first
	l.mu.Unlock()
	span := time.Since(first)
	excluded := []string{gate.VSAPredicateType, gate.DecisionPredicateType}
	type query struct {
		name    string
		run     func() (int, error)
		explain func() (store.Plan, error)
	}
	var d digest.Digest
	var rare, common store.Package
	var until time.Time
	var digests []string
	var id string
	queries := []query{
		{"miss: List(subject, excluding VSAs and decisions)",
			func() (int, error) {
				recs, err := st.List(ctx, store.Query{Subject: d, ExcludePredicateTypes: excluded})
				return len(recs), err
			},
			func() (store.Plan, error) {
				return ex.ExplainList(ctx, store.Query{Subject: d, ExcludePredicateTypes: excluded})
			}},
		{"decisions about an artifact: List(subject, decision type, newest, limit 10)",
			func() (int, error) {
				recs, err := st.List(ctx, store.Query{Subject: d, PredicateType: gate.DecisionPredicateType, Newest: true, Limit: 10})
				if len(recs) > 0 {
					id = recs[0].ID
				}
				return len(recs), err
			},
			func() (store.Plan, error) {
				return ex.ExplainList(ctx, store.Query{Subject: d, PredicateType: gate.DecisionPredicateType, Newest: true, Limit: 10})
			}},
		{"a decision by ID: Get",
			func() (int, error) {
				if id == "" {
					return 0, nil
				}
				_, err := st.Get(ctx, id)
				return 1, err
			}, nil},
		{"warm miss: ListIDs(subject, excluding VSAs and decisions)",
			func() (int, error) {
				ids, err := st.(store.IDLister).ListIDs(ctx, store.Query{Subject: d, ExcludePredicateTypes: excluded})
				return len(ids), err
			},
			func() (store.Plan, error) {
				return st.(store.IDExplainer).ExplainListIDs(ctx, store.Query{Subject: d, ExcludePredicateTypes: excluded})
			}},
		{"recheck: a page of decisions, List(decision type, until, newest, limit 256)",
			func() (int, error) {
				recs, err := st.List(ctx, store.Query{PredicateType: gate.DecisionPredicateType, Until: until, Newest: true, Limit: 256})
				return len(recs), err
			},
			func() (store.Plan, error) {
				return ex.ExplainList(ctx, store.Query{PredicateType: gate.DecisionPredicateType, Until: until, Newest: true, Limit: 256})
			}},
		{"impact: SubjectsWithPackages(a package one artifact lists)",
			func() (int, error) {
				got, err := ix.SubjectsWithPackages(ctx, []store.Package{rare})
				return len(got), err
			},
			func() (store.Plan, error) { return ex.ExplainSubjectsWithPackages(ctx, []store.Package{rare}) }},
		{"impact: SubjectsWithPackages(a module many artifacts list)",
			func() (int, error) {
				got, err := ix.SubjectsWithPackages(ctx, []store.Package{common})
				return len(got), err
			},
			func() (store.Plan, error) { return ex.ExplainSubjectsWithPackages(ctx, []store.Package{common}) }},
		{"impact: SubjectsIndexed(100 artifacts)",
			func() (int, error) {
				got, err := ix.SubjectsIndexed(ctx, digests)
				return len(got), err
			},
			func() (store.Plan, error) { return ex.ExplainSubjectsIndexed(ctx, digests) }},
		{"impact: Unindexed(SBOM types, 200), all indexed",
			func() (int, error) {
				got, err := ix.Unindexed(ctx, []string{sbom.PredicateCycloneDX, sbom.PredicateSPDX}, 200)
				return len(got), err
			},
			func() (store.Plan, error) {
				return ex.ExplainUnindexed(ctx, []string{sbom.PredicateCycloneDX, sbom.PredicateSPDX}, 200)
			}},
	}
	next := func() {
		d, rare, common = l.sample(rng, n)
		until = first.Add(time.Duration(rng.Int64N(int64(span))))
		digests = digests[:0]
		for range 100 {
			digests = append(digests, subjectDigest(scaleSubject(rng.IntN(n))).String())
		}
		slices.Sort(digests)
		digests = slices.Compact(digests)
	}
	const decisionsAbout = 1 // sets id for Get
	for _, q := range queries {
		times := make([]time.Duration, 0, samples)
		rows := 0
		for k := range samples + samples/10 {
			next()
			if q.name == "a decision by ID: Get" {
				id = ""
				if _, err := queries[decisionsAbout].run(); err != nil {
					return err
				}
			}
			start := time.Now()
			got, err := q.run()
			el := time.Since(start)
			if err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			if k < samples/10 {
				continue // warm-up
			}
			times = append(times, el)
			rows += got
		}
		slices.Sort(times)
		fmt.Printf("query\t%s\t%d artifacts\t%s\tp50 %s\tp99 %s\t%.1f rows\n", driver, n, q.name,
			ms(times[len(times)/2]), ms(times[len(times)*99/100]), float64(rows)/float64(samples))
	}
	for _, q := range queries {
		if q.explain == nil {
			continue
		}
		next()
		p, err := q.explain()
		if err != nil {
			return fmt.Errorf("explain %s: %w", q.name, err)
		}
		verdict := "index-backed"
		if p.Scans("evidence") {
			verdict = "READS THE EVIDENCE TABLE WHOLE"
		} else if len(p.Walks) > 0 {
			verdict = "WALKS AN INDEX WHOLE"
		}
		fmt.Printf("plan\t%s\t%d artifacts\t%s\t%s (full scans: %v; walks: %v; indexes: %v)\n", driver, n, q.name, verdict, p.FullScans, p.Walks, p.Indexes)
		for _, line := range p.Text {
			fmt.Printf("\t%s\n", line)
		}
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000) }

func runtimeCPUs() int { return runtime.NumCPU() }

func policyArtifact(d digest.Digest, name string) policy.Artifact {
	return policy.Artifact{Digest: d, Name: name}
}

var (
	emptyViolations = []policy.Violation{}
	emptyIgnored    = []policy.Ignored{}
)
