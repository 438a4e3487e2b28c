package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/postgres"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/vuln"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: serve-bench setup|load|upload|warm|check [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "setup":
		err = setup(ctx, os.Args[2:])
	case "load":
		err = load(ctx, os.Args[2:])
	case "upload":
		err = upload(ctx, os.Args[2:])
	case "warm":
		err = warm(ctx, os.Args[2:])
	case "check":
		err = check(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve-bench:", err)
		os.Exit(1)
	}
}

// Passphrase and Token are bench-only canary values.
const (
	Passphrase = "hm-bench-canary-passphrase"
	Token      = "hm-bench-canary-token"
)

const policyRego = `package hallmark.policy

approved if {
	some a in input.evidence.approvals
	a.environment == input.context.environment
	a.artifact == input.artifact.digest
}

violations contains {"ruleId": "approvals.missing", "message": "no approval"} if not approved

violations contains {"ruleId": "vulns.critical", "message": sprintf("critical vulnerability %s", [f.id])} if {
	some s in input.evidence.vulns
	some f in s.findings
	f.severity == "critical"
}

decision := {"allow": count(violations) == 0, "violations": violations}
`

// ArtifactDigest is the digest of bench artifact i: a SHA-256, so that
// artifacts spread over a store's digest-ordered index as real images'
// digests do (consecutive numbers all landed at its end).
func ArtifactDigest(i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "hallmark serve-bench artifact %d", i))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func subject(i int) attest.Subject {
	d := ArtifactDigest(i)
	return attest.Subject{Name: fmt.Sprintf("registry.local/bench/app-%d", i), Digest: map[string]string{"sha256": d[7:]}}
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
	raw, err := attest.Sign(ctx, k, st)
	if err != nil {
		return nil, err
	}
	return attest.Verify(ctx, raw, attest.NewKeySet(k.Public()))
}

// setup writes keys, a trust file, a policy, a TLS certificate and a
// server configuration into -dir, and fills the store with -records
// records about -artifacts artifacts: per artifact one prod approval and
// vulnerability scans with low-severity findings.
func setup(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("setup", flag.ExitOnError)
	dir := fs.String("dir", "", "output directory")
	driver := fs.String("driver", "sqlite", "sqlite or postgres")
	dsn := fs.String("dsn", "", "PostgreSQL DSN (postgres driver)")
	artifacts := fs.Int("artifacts", 10_000, "artifacts")
	records := fs.Int("records", 100_000, "evidence records in total")
	cacheMiB := fs.Int("verified-cache-mib", 256, "the server's gate.verifiedCacheMiB: room for the evidence of both miss phases (100,000 small bundles take about 110 MiB), within half of serve's default 512 MiB memory limit")
	fs.Parse(args)
	if *dir == "" {
		return errors.New("-dir is required")
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	gk, err := keys.Generate(keys.Ed25519)
	if err != nil {
		return err
	}
	approver, _ := keys.Generate(keys.Ed25519)
	scanner, _ := keys.Generate(keys.Ed25519)
	for name, k := range map[string]*keys.PrivateKey{"gate": gk, "approver": approver, "scanner": scanner} {
		os.Remove(filepath.Join(*dir, name+".key"))
		os.Remove(filepath.Join(*dir, name+".pub"))
		if _, _, err := keys.WriteFiles(filepath.Join(*dir, name), k, []byte(Passphrase)); err != nil {
			return err
		}
	}
	files := map[string]string{
		"trust.yaml":  "version: 1\nkeys:\n  - {name: approver, publicKey: approver.pub, roles: [approver]}\n  - {name: scanner, publicKey: scanner.pub, roles: [scanner]}\n  - {name: gate, publicKey: gate.pub, roles: [gate]}\n",
		"policy.rego": policyRego,
	}
	storeYAML := "{driver: sqlite, path: evidence.db}"
	if *driver == "postgres" {
		storeYAML = fmt.Sprintf("{driver: postgres, dsn: %q}", *dsn)
	}
	files["hallmark.yaml"] = fmt.Sprintf(`listen: 127.0.0.1:8443
tls: {cert: tls.crt, key: tls.key}
store: %s
trust: trust.yaml
policies: {prod: policy.rego}
gate: {key: gate.key, passphraseEnv: HALLMARK_BENCH_PASSWORD, verifiedCacheMiB: %d}
auth: {openReads: true, insecureAnonymousAdmission: true, tokens: [{name: bench, role: uploader, sha256: %s}]}
admission: {defaultEnvironment: prod, budget: 3s, cacheTTL: 10m, cacheSize: 20000}
`, storeYAML, *cacheMiB, hashToken(Token))
	cert, key, err := selfSigned()
	if err != nil {
		return err
	}
	files["tls.crt"], files["tls.key"] = string(cert), string(key)
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(*dir, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(*dir, "store.json"), fmt.Appendf(nil, `{"driver": %q, "path": %q, "dsn": %q}`, *driver, filepath.Join(*dir, "evidence.db"), *dsn), 0o600); err != nil {
		return err
	}
	st, err := openStore(ctx, *dir)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	perArtifact := max(*records / *artifacts, 1)
	jobs := make(chan int)
	var wg sync.WaitGroup
	var done atomic.Int64
	errc := make(chan error, runtime.GOMAXPROCS(0)*2)
	for range runtime.GOMAXPROCS(0) * 2 {
		wg.Go(func() {
			for i := range jobs {
				if err := populate(ctx, st, approver, scanner, i, perArtifact); err != nil {
					errc <- err
					return
				}
				if n := done.Add(1); n%1000 == 0 {
					fmt.Fprintf(os.Stderr, "  %d artifacts, %d records, %.0f records/s\n", n, n*int64(perArtifact), float64(n*int64(perArtifact))/time.Since(start).Seconds())
				}
			}
		})
	}
feed:
	for i := range *artifacts {
		select {
		case jobs <- i:
		case err := <-errc:
			close(jobs)
			wg.Wait()
			return err
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// A server's store in steady state has been vacuumed and analyzed by
	// autovacuum: visibility maps set (index-only scans skip the heap) and
	// planner statistics. A bulk load has neither, and autovacuum is off on
	// the CI machines (conf.d/90-ci.conf), so compact it as autovacuum
	// would. Measured without: statements of a warm miss took up to 67 ms
	// inside PostgreSQL (pg_stat_statements max), 10 ms with.
	if c, ok := st.(store.Compacter); ok && *driver == "postgres" {
		if err := c.Compact(ctx); err != nil {
			return fmt.Errorf("compact after setup: %w", err)
		}
	}
	fmt.Printf("setup: %d artifacts, %d records in %s (%s)\n", *artifacts, *artifacts*perArtifact, time.Since(start).Round(time.Second), *driver)
	return nil
}

func populate(ctx context.Context, st store.Store, approver, scanner *keys.PrivateKey, i, n int) error {
	sub := subject(i)
	now := time.Now().UTC()
	a, err := gate.NewApproval(digest.MustParse(ArtifactDigest(i)), "prod", "bench", now)
	if err != nil {
		return err
	}
	v, err := sign(ctx, approver, gate.ApprovalPredicateType, a, sub)
	if err != nil {
		return err
	}
	if _, err := st.Put(ctx, v); err != nil {
		return err
	}
	for j := 1; j < n; j++ {
		p := vuln.VulnsPredicate{
			Scanner: vuln.PredicateScanner{URI: "https://hallmark.dev/scanners/vuln", DB: vuln.PredicateDB{LastUpdate: now},
				Result: []vuln.PredicateResult{{ID: fmt.Sprintf("GHSA-bench-%d-%d", i, j), Severity: []vuln.PredicateSeverity{{Method: "hallmark", Score: "low"}}}}},
			Metadata: vuln.PredicateMetadata{ScanStartedOn: now, ScanFinishedOn: now.Add(time.Duration(j) * time.Millisecond)},
		}
		v, err := sign(ctx, scanner, vuln.PredicateType, p, sub)
		if err != nil {
			return err
		}
		if _, err := st.Put(ctx, v); err != nil {
			return err
		}
	}
	return nil
}

func selfSigned() (certPEM, keyPEM []byte, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hallmark bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, nil, err
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), nil
}

// loopbackURL parses u and refuses anything but a loopback host.
func loopbackURL(u string) (*url.URL, error) {
	p, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(p.Hostname())
	if p.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%s: the load generator only targets loopback addresses", u)
	}
	return p, nil
}

func httpClient(caFile string, conns int) (*http.Client, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no certificate", caFile)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
	}}, nil
}

func hashToken(t string) string {
	s := sha256.Sum256([]byte(t))
	return hex.EncodeToString(s[:])
}

// openStore opens the store setup wrote into dir, as the server does.
func openStore(ctx context.Context, dir string) (store.Store, error) {
	b, err := os.ReadFile(filepath.Join(dir, "store.json"))
	if err != nil {
		return nil, err
	}
	var c struct{ Driver, Path, DSN string }
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	if c.Driver == "postgres" {
		return postgres.Open(ctx, c.DSN)
	}
	return sqlite.Open(ctx, c.Path)
}
