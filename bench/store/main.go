// Command store-bench fills an evidence store for bench/store/run.sh
// (bytes per record) and bench/recheck/run.sh (recheck over many deployed
// artifacts).
//
//	store-bench sizes    -driver sqlite|postgres (-path FILE | -dsn DSN) -modules FILE -artifacts N
//	store-bench deployed -driver sqlite|postgres (-path FILE | -dsn DSN) -modules FILE -artifacts N -keys DIR
//	store-bench before   -from OSVDIR -to DIR -newest N
//	store-bench scale    -driver sqlite|postgres (-path FILE | -dsn DSN) -modules FILE -steps N,N... -samples N
//
// Both give each artifact the evidence a real pipeline stores: a prod
// approval, a CycloneDX SBOM listing -pkgs real Go modules (with their
// versions, from `go list -m -json all` in -modules), and a vulnerability
// scan. sizes then has the real gate (built-in prod preset) decide each
// artifact, recording a VSA and a decision as the CLI and API gates do
// (admission reviews record the decision alone), and prints the bundle
// bytes per record type; deployed records an
// admission allow (and its VSA) per artifact signed by the gate key in
// -keys, so that every artifact counts as deployed. before copies the OSV
// records of -from but the -newest advisories into -to: the database as it
// stood before they were published, for a "database update" to compare.
// scale (scale.go) fills a store up to each of -steps artifacts, ten
// records each, and times the store's hot queries and prints their plans
// at each step (bench/store/scale.sh).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/sbom"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/trust"
	"github.com/hallmark-dev/hallmark/vuln"
)

// Passphrase protects the keys deployed writes (HALLMARK_PASSWORD in run.sh).
const Passphrase = "hm-bench-canary-passphrase"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: store-bench sizes|deployed|before|scale [flags]")
		os.Exit(2)
	}
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "sizes", "deployed":
		err = run(ctx, os.Args[1], os.Args[2:])
	case "before":
		err = before(os.Args[2:])
	case "scale":
		err = scale(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "store-bench:", err)
		os.Exit(1)
	}
}

type module struct {
	Path, Version string
	Main          bool
}

// readModules reads the JSON stream of `go list -m -json all`.
func readModules(path string) ([]module, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	var out []module
	for {
		var m module
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if !m.Main && m.Version != "" {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no modules", path)
	}
	return out, nil
}

func subject(i int) attest.Subject {
	return attest.Subject{Name: fmt.Sprintf("registry.local/bench/app-%d", i), Digest: map[string]string{"sha256": fmt.Sprintf("%064x", uint64(i)+0xc00000)}}
}

func subjectDigest(s attest.Subject) digest.Digest {
	d, err := s.SHA256()
	if err != nil {
		panic(err)
	}
	return d
}

func sign(ctx context.Context, k *keys.PrivateKey, pt string, pred any, sub attest.Subject) (*attest.Verified, error) {
	b, err := json.Marshal(pred)
	if err != nil {
		return nil, err
	}
	st, err := attest.NewStatement([]attest.Subject{sub}, pt, b)
	if err != nil {
		return nil, err
	}
	return attest.SignVerified(ctx, k, st)
}

func run(ctx context.Context, cmd string, args []string) error {
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	driver := fs.String("driver", "sqlite", "sqlite or postgres")
	path := fs.String("path", "", "SQLite file")
	dsn := fs.String("dsn", "", "PostgreSQL DSN")
	modulesFile := fs.String("modules", "", "output of `go list -m -json all`")
	artifacts := fs.Int("artifacts", 1000, "artifacts")
	pkgs := fs.Int("pkgs", 40, "Go modules per SBOM")
	keyDir := fs.String("keys", "", "deployed: directory for gate, scanner and approver keys and trust.yaml")
	fs.Parse(args)
	mods, err := readModules(*modulesFile)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *driver, *path, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	ks := map[string]*keys.PrivateKey{}
	for _, name := range []string{"gate", "scanner", "approver"} {
		if ks[name], err = keys.Generate(keys.Ed25519); err != nil {
			return err
		}
		if *keyDir != "" {
			if _, _, err := keys.WriteFiles(filepath.Join(*keyDir, name), ks[name], []byte(Passphrase)); err != nil {
				return err
			}
		}
	}
	tr := trust.New(
		trust.Key{Name: "gate", Public: ks["gate"].Public(), Roles: []trust.Role{trust.RoleGate}},
		trust.Key{Name: "scanner", Public: ks["scanner"].Public(), Roles: []trust.Role{trust.RoleScanner}},
		trust.Key{Name: "approver", Public: ks["approver"].Public(), Roles: []trust.Role{trust.RoleApprover}},
	)
	if *keyDir != "" {
		y := "version: 1\nkeys:\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n  - {name: scanner, publicKey: scanner.pub, roles: [scanner]}\n  - {name: approver, publicKey: approver.pub, roles: [approver]}\n"
		if err := os.WriteFile(filepath.Join(*keyDir, "trust.yaml"), []byte(y), 0o644); err != nil {
			return err
		}
	}
	b := st.(store.Batcher)
	sizes := map[string][]int{}
	note := func(vs ...*attest.Verified) {
		for _, v := range vs {
			sizes[v.PredicateType] = append(sizes[v.PredicateType], len(v.Raw))
		}
	}
	// size compacts the store and returns the bytes it takes.
	size := func() (int64, error) {
		if err := st.(store.Compacter).Compact(ctx); err != nil {
			return 0, err
		}
		return st.(store.Sizer).Size(ctx)
	}
	size0, err := size()
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	start := time.Now()
	for i := range *artifacts {
		sub := subject(i)
		vs, err := evidence(ctx, ks, sub, mods, *pkgs, rng, now)
		if err != nil {
			return err
		}
		if cmd == "deployed" {
			more, err := admitted(ctx, ks["gate"], sub, vs, now)
			if err != nil {
				return err
			}
			vs = append(vs, more...)
		}
		if _, err := b.PutAll(ctx, vs); err != nil {
			return err
		}
		note(vs...)
		if (i+1)%1000 == 0 {
			fmt.Fprintf(os.Stderr, "  %d artifacts, %.0f/s\n", i+1, float64(i+1)/time.Since(start).Seconds())
		}
	}
	size1, err := size()
	if err != nil {
		return err
	}
	evidenceRecords := 0
	for _, n := range sizes {
		evidenceRecords += len(n)
	}
	what := "evidence"
	if cmd == "deployed" {
		what = "evidence and admissions"
	}
	fmt.Printf("store\t%s\t%s\t%d records\t%d bytes\t%d bytes/record\n", *driver, what, evidenceRecords, size1-size0, (size1-size0)/int64(evidenceRecords))
	if cmd == "sizes" {
		preset, err := policy.BuiltinPresets()
		if err != nil {
			return err
		}
		pol, err := policy.CompilePreset(ctx, preset, "prod")
		if err != nil {
			return err
		}
		g, err := gate.New(st, tr, map[string]*policy.Policy{"prod": pol}, ks["gate"])
		if err != nil {
			return err
		}
		for i := range *artifacts {
			sub := subject(i)
			res, err := g.Evaluate(ctx, gate.Request{Artifact: policy.Artifact{Digest: subjectDigest(sub), Name: sub.Name}, Environment: "prod",
				Requester: "system:serviceaccount:kube-system:replicaset-controller", Source: "admission",
				Workload: &gate.Workload{Namespace: "shop", Kind: "Deployment", Name: fmt.Sprint("app-", i), Review: fmt.Sprintf("%08x-review", i)},
				VSA:      true})
			if err != nil {
				return err
			}
			sizes[gate.VSAPredicateType] = append(sizes[gate.VSAPredicateType], len(res.VSA.Bundle))
			sizes[gate.DecisionPredicateType] = append(sizes[gate.DecisionPredicateType], len(res.Record.Bundle))
		}
	}
	if cmd == "sizes" {
		size2, err := size()
		if err != nil {
			return err
		}
		n := int64(2 * *artifacts)
		fmt.Printf("store\t%s\tdecisions\t%d records (a VSA and a decision per gate request)\t%d bytes\t%d bytes/record\n", *driver, n, size2-size1, (size2-size1)/n)
	}
	types := make([]string, 0, len(sizes))
	for t := range sizes {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		sum := 0
		for _, n := range sizes[t] {
			sum += n
		}
		fmt.Printf("bundle\t%s\t%d records\t%d bytes avg\n", t, len(sizes[t]), sum/len(sizes[t]))
	}
	return nil
}

// evidence is one artifact's approval, SBOM and vulnerability scan.
func evidence(ctx context.Context, ks map[string]*keys.PrivateKey, sub attest.Subject, mods []module, n int, rng *rand.Rand, now time.Time) ([]*attest.Verified, error) {
	a, err := gate.NewApproval(subjectDigest(sub), "prod", "bench", now)
	if err != nil {
		return nil, err
	}
	approval, err := sign(ctx, ks["approver"], gate.ApprovalPredicateType, a, sub)
	if err != nil {
		return nil, err
	}
	inv := &sbom.Inventory{Subject: sbom.Subject{Name: sub.Name, Kind: "image"}}
	for _, j := range rng.Perm(len(mods))[:min(n, len(mods))] {
		m := mods[j]
		v := m.Version
		if len(v) > 0 && v[0] == 'v' {
			v = v[1:]
		}
		inv.Components = append(inv.Components, sbom.Component{Ecosystem: "Go", Name: m.Path, Version: v, PURL: "pkg:golang/" + m.Path + "@" + m.Version})
	}
	doc, err := sbom.Document(inv, sbom.CycloneDX, sbom.DocumentInfo{Created: now, ToolVersion: "bench"})
	if err != nil {
		return nil, err
	}
	sb, err := sign(ctx, ks["scanner"], sbom.PredicateCycloneDX, json.RawMessage(doc), sub)
	if err != nil {
		return nil, err
	}
	p := vuln.VulnsPredicate{
		Scanner: vuln.PredicateScanner{URI: "https://hallmark.dev/scanners/vuln", DB: vuln.PredicateDB{LastUpdate: now},
			Result: []vuln.PredicateResult{{ID: "GO-2024-2687", Severity: []vuln.PredicateSeverity{{Method: "hallmark", Score: "low"}}}}},
		Metadata: vuln.PredicateMetadata{ScanStartedOn: now, ScanFinishedOn: now.Add(time.Second)},
	}
	scan, err := sign(ctx, ks["scanner"], vuln.PredicateType, p, sub)
	if err != nil {
		return nil, err
	}
	return []*attest.Verified{approval, sb, scan}, nil
}

// admitted is an admission allow of the artifact (and its VSA), as the
// gate records one, naming the evidence as what it used.
func admitted(ctx context.Context, gk *keys.PrivateKey, sub attest.Subject, used []*attest.Verified, now time.Time) ([]*attest.Verified, error) {
	vsa, err := sign(ctx, gk, gate.VSAPredicateType, map[string]any{"verifier": map[string]string{"id": gate.DefaultVerifierID}, "timeVerified": now, "verificationResult": "PASSED"}, sub)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, v := range used {
		ids = append(ids, v.ID)
	}
	d := gate.Decision{Artifact: policy.Artifact{Digest: subjectDigest(sub), Name: sub.Name}, Environment: "prod", Allowed: true,
		Violations: []policy.Violation{}, Evidence: ids, Ignored: []policy.Ignored{}, DecidedAt: now, Source: "admission",
		Workload: &gate.Workload{Namespace: "shop", Kind: "Deployment", Name: sub.Name}, VSA: vsa.ID}
	dec, err := sign(ctx, gk, gate.DecisionPredicateType, d, sub)
	if err != nil {
		return nil, err
	}
	return []*attest.Verified{vsa, dec}, nil
}

// before copies all records but the -newest highest IDs (GO-YYYY-NNNN IDs
// sort by publication; the Go database's files carry no modified times).
func before(args []string) error {
	fs := flag.NewFlagSet("before", flag.ExitOnError)
	from := fs.String("from", "", "directory of OSV records")
	to := fs.String("to", "", "output directory")
	newest := fs.Int("newest", 50, "how many of the newest advisories to leave out")
	fs.Parse(args)
	files, err := filepath.Glob(filepath.Join(*from, "*.json"))
	if err != nil || len(files) <= *newest {
		return fmt.Errorf("not enough OSV records in %s: %v", *from, err)
	}
	sort.Strings(files)
	if err := os.MkdirAll(*to, 0o755); err != nil {
		return err
	}
	keep := files[:len(files)-*newest]
	for _, f := range keep {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*to, filepath.Base(f)), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("before\t%d of %d records: %s to %s left out\n", len(keep), len(files), filepath.Base(files[len(keep)]), filepath.Base(files[len(files)-1]))
	return nil
}

// openStore opens the store the -driver flag names: a SQLite file at path
// or the PostgreSQL database at dsn.
func openStore(ctx context.Context, driver, path, dsn string) (store.Store, error) {
	switch driver {
	case "sqlite":
		return sqlite.Open(ctx, path)
	case "postgres":
		return postgres.Open(ctx, dsn)
	default:
		return nil, fmt.Errorf("-driver %q: want sqlite or postgres", driver)
	}
}
