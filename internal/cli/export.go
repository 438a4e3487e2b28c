package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"gopkg.in/yaml.v3"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/compliance"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store/sqlite"
	"github.com/hallmark-dev/hallmark/tee/verifiers"
	"github.com/hallmark-dev/hallmark/tlog"
	"github.com/hallmark-dev/hallmark/trust"
)

// ExportPredicateType is the predicate type of an export manifest's
// signature: a statement whose subject is manifest.json.
const ExportPredicateType = "https://hallmark.dev/export/v1"

// Archive member names.
const (
	exportManifest  = "manifest.json"
	exportSignature = "manifest.sig.json"
	exportReport    = "report.json"
	exportTrust     = "trust/trust.yaml"
	exportRefValues = "trust/reference-values.yaml"
	exportRoot      = "trust/trusted_root.json"
	exportPolicy    = "policy/policy.json"
	exportData      = "policy/data.json"
)

// Bounds on an archive verify-export reads.
const (
	maxExportMembers     = 100000
	maxExportMemberBytes = limits.MaxBundleBytes
	maxExportBytes       = 2 << 30
)

// exportManifestDoc is manifest.json: the sha256 of every other member
// (the signature excepted), and which bundles belong to which artifact.
type exportManifestDoc struct {
	Type         string              `json:"type"`
	CreatedAt    time.Time           `json:"createdAt"`
	Environment  string              `json:"environment"`
	PolicyDigest string              `json:"policyDigest"`
	Artifacts    map[string][]string `json:"artifacts"`
	Members      map[string]string   `json:"members"`
	// Transparency is set when the export verified against a trusted root.
	Transparency *exportTransparency `json:"transparency,omitempty"`
}

// exportTransparency names the archived trusted root and the thresholds the
// export verified with (nil: the root's defaults), so verify-export checks
// log entries and timestamps exactly as the export did.
type exportTransparency struct {
	TrustedRoot        string `json:"trustedRoot"`
	LogThreshold       *int   `json:"logThreshold,omitempty"`
	TimestampThreshold *int   `json:"timestampThreshold,omitempty"`
}

// exportPolicyDoc is policy/policy.json.
type exportPolicyDoc struct {
	URI        string            `json:"uri"`
	Digest     string            `json:"digest"`
	Entrypoint string            `json:"entrypoint"`
	Modules    []exportModule    `json:"modules"`
	Inputs     map[string]string `json:"inputs"`
}

type exportModule struct {
	Name string `json:"name"`
	File string `json:"file"`
}

type exportFlags struct {
	reportFlags
}

func newExportCmd(app *App) *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export [ARTIFACT|sha256:DIGEST] --env ENV --trust FILE --out FILE.tar [--policy P] [--since T] [--until T] [--key K]",
		Short: "Write an audit archive that verifies offline: bundles, trust file, policy, report",
		Long: `Write one tar archive with every bundle the compliance report relies on (the
evidence of each artifact, the recorded decisions and their VSAs), the trust
file with its public keys inline, the policy (modules, data, digest) and the
policy input of each artifact for opa eval, the report, and manifest.json
listing the sha256 of every member. --key signs the manifest
(` + ExportPredicateType + `). hallmark verify-export checks it all offline.
With --trusted-root, a stored bundle whose log entries or timestamps do not
verify against it (a rewritten store or log) fails the export (exit 1), the
report is judged with it, and the root and thresholds are archived so that
verify-export checks log entries and timestamps again.`,
		Args: argsUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.reportDefaults(&f.trust, &f.policy, f.env); err != nil {
				return err
			}
			if f.env == "" || f.trust == "" || f.out == "" {
				return usageError(errors.New("--env, --trust and --out are required"))
			}
			ctx := contextOf(cmd)
			in, err := app.reportScope(ctx, args, f.trust, f.policy, f.env, f.since, f.until)
			if err != nil {
				return err
			}
			var signer *keys.PrivateKey
			if f.key != "" {
				if signer, err = app.loadSigningKey(f.key); err != nil {
					return err
				}
			}
			s, err := app.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			r, inputs, err := buildReport(ctx, app, s, in)
			if err != nil {
				return err
			}
			members := map[string][]byte{}
			man := exportManifestDoc{Type: ExportPredicateType, CreatedAt: r.GeneratedAt, Environment: f.env, PolicyDigest: in.policy.Digest(), Artifacts: map[string][]string{}, Members: map[string]string{}}
			addBundle := func(id string) error {
				name := "bundles/" + strings.TrimPrefix(id, "sha256:") + ".json"
				if _, ok := members[name]; ok {
					return nil
				}
				rec, err := s.Get(ctx, id)
				if err != nil {
					return storeError(fmt.Errorf("bundle %s: %w", id, err))
				}
				if err := transparencyProblem(ctx, rec.Bundle, "stored bundle "+id, in.trust, in.verify); err != nil {
					return rejected(fmt.Errorf("%w (the store or the log was altered: hallmark tlog verify checks the log; export with --trusted-root off to archive it anyway)", err))
				}
				members[name] = rec.Bundle
				return nil
			}
			for _, a := range r.Artifacts {
				var ids []string
				for _, e := range a.Evidence {
					ids = append(ids, e.ID)
				}
				for _, ig := range a.Ignored {
					ids = append(ids, ig.ID)
				}
				sort.Strings(ids)
				man.Artifacts[a.Artifact.Digest.String()] = ids
				for _, id := range ids {
					if err := addBundle(id); err != nil {
						return err
					}
				}
				for _, d := range a.Deployments {
					for _, id := range []string{d.ID, d.VSA} {
						if id != "" {
							if err := addBundle(id); err != nil {
								return err
							}
						}
					}
				}
			}
			if err := addTrust(members, f.trust, in.trust); err != nil {
				return err
			}
			if err := addPolicy(members, in.policy, inputs); err != nil {
				return err
			}
			if len(in.verify) > 0 {
				if man.Transparency, err = addTrustedRoot(members, app); err != nil {
					return err
				}
			}
			var rep bytes.Buffer
			if err := r.WriteJSON(&rep); err != nil {
				return err
			}
			members[exportReport] = rep.Bytes()
			for name, b := range members {
				man.Members[name] = sha256Hex(b)
			}
			manJSON, err := json.MarshalIndent(man, "", "  ")
			if err != nil {
				return err
			}
			members[exportManifest] = manJSON
			if signer != nil {
				st, err := attest.NewStatement([]attest.Subject{{Name: exportManifest, Digest: map[string]string{"sha256": sha256Hex(manJSON)}}}, ExportPredicateType, []byte(`{"environment":`+jsonString(f.env)+`}`))
				if err != nil {
					return err
				}
				v, err := attest.SignVerified(ctx, signer, st)
				if err != nil {
					return fmt.Errorf("sign manifest: %w", err)
				}
				members[exportSignature] = v.Raw
			}
			if err := writeTar(f.out, members, r.GeneratedAt); err != nil {
				return environmentErr(err)
			}
			fmt.Fprintf(app.Stdout, "wrote %s: %d artifacts, %d members, manifest sha256:%s\n", f.out, len(r.Artifacts), len(members), sha256Hex(manJSON))
			return nil
		},
	}
	cmd.Flags().StringVar(&f.env, "env", "", "environment whose policy and deployments the export covers")
	cmd.Flags().StringVar(&f.policy, "policy", "", "policy: builtin (default, or the project's policy for --env), builtin:NAME, a preset YAML file, or a .rego file or directory")
	cmd.Flags().StringVar(&f.trust, "trust", "", "trust file naming the keys trusted for each role")
	cmd.Flags().StringVar(&f.since, "since", "", "deployment decisions from this time (RFC 3339)")
	cmd.Flags().StringVar(&f.until, "until", "", "judge as of this time, decisions up to it (RFC 3339; default now)")
	cmd.Flags().StringVar(&f.out, "out", "", "archive to write (tar)")
	cmd.Flags().StringVar(&f.key, "key", "", "sign the manifest with this key")
	return cmd
}

// transparencyProblem returns the attest.ErrTransparency error of a bundle
// that verifies against the trust file but carries log entries or
// timestamps that do not verify against the trusted root (vopts, none
// without one): its store, log or archive was altered, and an audit archive
// must not carry it as if it held. Bundles that carry none are left to the
// report, as the gate leaves them.
func transparencyProblem(ctx context.Context, raw []byte, name string, tr *trust.Trust, vopts []attest.VerifyOption) error {
	if len(vopts) == 0 {
		return nil
	}
	var pb protobundle.Bundle
	if protojson.Unmarshal(raw, &pb) != nil {
		return nil // a bare envelope: it claims nothing
	}
	vm := pb.GetVerificationMaterial()
	if len(vm.GetTlogEntries()) == 0 && len(vm.GetTimestampVerificationData().GetRfc3161Timestamps()) == 0 {
		return nil
	}
	_, err := attest.Verify(ctx, raw, tr.All(), append([]attest.VerifyOption{attest.WithInputName(name)}, vopts...)...)
	if errors.Is(err, attest.ErrTransparency) {
		return err
	}
	return nil
}

// addTrustedRoot archives the trusted root the export verified against
// and returns the manifest's record of it and of the thresholds.
func addTrustedRoot(members map[string][]byte, app *App) (*exportTransparency, error) {
	p := app.setting(app.tlog.root, TrustedRootEnv)
	raw, err := limits.ReadFile(p, tlog.MaxRootBytes)
	if err != nil {
		return nil, badInput(fmt.Errorf("trusted root: %w", err))
	}
	members[exportRoot] = raw
	t := &exportTransparency{TrustedRoot: exportRoot}
	if n := app.tlog.logThreshold; n >= 0 {
		t.LogThreshold = &n
	}
	if n := app.tlog.tsThreshold; n >= 0 {
		t.TimestampThreshold = &n
	}
	return t, nil
}

// verifyOptions are the archived trusted root and thresholds as verify
// options; none for an archive exported without a root.
func (t *exportTransparency) verifyOptions(members map[string][]byte) ([]attest.VerifyOption, error) {
	if t == nil {
		return nil, nil
	}
	raw, ok := members[t.TrustedRoot]
	if !ok {
		return nil, fmt.Errorf("the manifest names trusted root %s, which is not in the archive", t.TrustedRoot)
	}
	tr, err := tlog.ParseRoot(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.TrustedRoot, err)
	}
	opts := []attest.VerifyOption{attest.WithTrustedRoot(tr)}
	if t.LogThreshold != nil {
		opts = append(opts, attest.WithLogThreshold(*t.LogThreshold))
	}
	if t.TimestampThreshold != nil {
		opts = append(opts, attest.WithTimestampThreshold(*t.TimestampThreshold))
	}
	return opts, nil
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// addTrust writes the trust file with every public key inline (publicKeyPEM
// and keyId), so the archive needs no other file, and checks the copy
// trusts exactly what the original does.
func addTrust(members map[string][]byte, trustPath string, tr *trust.Trust) error {
	raw, err := os.ReadFile(trustPath)
	if err != nil {
		return badInput(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return badInput(fmt.Errorf("%s: %w", trustPath, err))
	}
	ks, _ := doc["keys"].([]any)
	for _, k := range ks {
		km, _ := k.(map[string]any)
		p, _ := km["publicKey"].(string)
		if p == "" {
			continue
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(trustPath), p)
		}
		pem, err := os.ReadFile(p)
		if err != nil {
			return badInput(fmt.Errorf("trust file key: %w", err))
		}
		pub, err := keys.ParsePublicKey(pem)
		if err != nil {
			return badInput(fmt.Errorf("%s: %w", p, err))
		}
		delete(km, "publicKey")
		km["publicKeyPEM"], km["keyId"] = string(pem), pub.ID()
	}
	if tr.ReferenceValuesPath != "" {
		b, err := os.ReadFile(tr.ReferenceValuesPath)
		if err != nil {
			return badInput(err)
		}
		members[exportRefValues] = b
		doc["tee"] = map[string]any{"referenceValues": path.Base(exportRefValues)}
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	members[exportTrust] = out
	return nil
}

// addPolicy writes the policy's modules, data document, entrypoint and
// digest, and each artifact's policy input, so `opa eval` can reproduce
// the decision.
func addPolicy(members map[string][]byte, p *policy.Policy, inputs map[string]policy.Input) error {
	doc := exportPolicyDoc{URI: p.URI(), Digest: p.Digest(), Entrypoint: p.Entrypoint(), Inputs: map[string]string{}}
	for i, m := range p.Modules() {
		file := fmt.Sprintf("policy/modules/%03d-%s", i, path.Base(m.Name))
		if !strings.HasSuffix(file, ".rego") {
			file += ".rego"
		}
		members[file] = m.Source
		doc.Modules = append(doc.Modules, exportModule{Name: m.Name, File: file})
	}
	members[exportData] = p.DataJSON()
	for dg, in := range inputs {
		b, err := policy.InputJSON(in)
		if err != nil {
			return err
		}
		name := "policy/input/" + strings.TrimPrefix(dg, "sha256:") + ".json"
		members[name] = b
		doc.Inputs[dg] = name
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	members[exportPolicy] = b
	return nil
}

func writeTar(file string, members map[string][]byte, at time.Time) error {
	var names []string
	for n := range members {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(members[n])), ModTime: at, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(members[n]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(file, buf.Bytes(), 0o644)
}

// readTar reads an archive's regular files, refusing unsafe or duplicate
// names and oversized members.
func readTar(r io.Reader) (map[string][]byte, error) {
	out := map[string][]byte{}
	tr := tar.NewReader(io.LimitReader(r, maxExportBytes))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("member %q: not a regular file", h.Name)
		}
		if n := path.Clean(h.Name); n != h.Name || path.IsAbs(n) || strings.HasPrefix(n, "../") {
			return nil, fmt.Errorf("member %q: unsafe name", h.Name)
		}
		if _, dup := out[h.Name]; dup {
			return nil, fmt.Errorf("member %q appears twice", h.Name)
		}
		if len(out) >= maxExportMembers || h.Size > maxExportMemberBytes {
			return nil, fmt.Errorf("member %q: archive %w (limits: %d members, %d bytes each)", h.Name, limits.ErrTooLarge, maxExportMembers, maxExportMemberBytes)
		}
		b, err := limits.ReadAll(tr, maxExportMemberBytes, fmt.Sprintf("member %q", h.Name))
		if err != nil {
			return nil, err
		}
		out[h.Name] = b
	}
}

func newVerifyExportCmd(app *App) *cobra.Command {
	var pubKey string
	cmd := &cobra.Command{
		Use:   "verify-export FILE.tar [--key EXPORTER.pub]",
		Short: "Re-verify an audit archive offline and reproduce the gate's decisions and the report from it",
		Long: `Check every member of an archive written by hallmark export against the
manifest's sha256 (a changed, missing or extra member fails), verify each
bundle against the archive's trust file, recompile the policy from the
archived modules and data and check its digest, re-run the gate (a dry run,
at the report's time) on the archived evidence alone, and rebuild the
report: it must equal the archived one. An archive exported with
--trusted-root carries that root: every bundle's log entries and timestamps
are verified against it (offline), and one that does not verify fails.
Nothing outside the archive is read (--trusted-root is ignored).

--key checks the manifest's signature; without it, the archive is only
consistent with itself, and its manifest digest (printed) must be compared
with one obtained from the exporter by other means.`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return verifyExport(contextOf(cmd), app, args[0], pubKey)
		},
	}
	cmd.Flags().StringVar(&pubKey, "key", "", "public key that must have signed the manifest")
	return cmd
}

func verifyExport(ctx context.Context, app *App, file, pubKey string) error {
	fh, err := os.Open(file)
	if err != nil {
		return badInput(err)
	}
	defer fh.Close()
	members, err := readTar(fh)
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", file, err))
	}
	manJSON, ok := members[exportManifest]
	if !ok {
		return badInput(fmt.Errorf("%s: no %s", file, exportManifest))
	}
	var man exportManifestDoc
	if err := json.Unmarshal(manJSON, &man); err != nil || man.Type != ExportPredicateType {
		return badInput(fmt.Errorf("%s: %s is not a Hallmark export manifest: %v", file, exportManifest, err))
	}
	// Every member is listed with its digest, and every listed member is there.
	for name, b := range members {
		if name == exportManifest || name == exportSignature {
			continue
		}
		want, listed := man.Members[name]
		if !listed {
			return rejected(fmt.Errorf("%s: member %s is not in the manifest", file, name))
		}
		if got := sha256Hex(b); got != want {
			return rejected(fmt.Errorf("%s: member %s was changed: sha256 %s, manifest says %s", file, name, got, want))
		}
	}
	for name := range man.Members {
		if _, ok := members[name]; !ok {
			return rejected(fmt.Errorf("%s: member %s listed in the manifest is missing", file, name))
		}
	}
	manDigest := sha256Hex(manJSON)
	if pubKey != "" {
		if err := checkManifestSignature(ctx, app, members, manDigest, pubKey); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(app.Stderr, "warning: manifest signature not checked (no --key); compare the manifest digest sha256:%s with the exporter's\n", manDigest)
	}

	// Trust file and policy, from the archive alone.
	dir, err := os.MkdirTemp("", "hallmark-verify-export-")
	if err != nil {
		return environmentErr(err)
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{exportTrust, exportRefValues} {
		if b, ok := members[name]; ok {
			os.MkdirAll(filepath.Join(dir, "trust"), 0o700)
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), b, 0o600); err != nil {
				return environmentErr(err)
			}
		}
	}
	tr, err := trust.Load(filepath.Join(dir, filepath.FromSlash(exportTrust)))
	if err != nil {
		return rejected(fmt.Errorf("%s: trust file: %w", file, err))
	}
	reg, err := verifiers.Offline()
	if err != nil {
		return environmentErr(err)
	}
	refs, err := gate.ReferenceValues(tr)
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", file, err))
	}
	pol, err := compileExportedPolicy(ctx, members)
	if err != nil {
		return rejected(fmt.Errorf("%s: %w", file, err))
	}
	if pol.Digest() != man.PolicyDigest {
		return rejected(fmt.Errorf("%s: the archived policy compiles to digest %s, the manifest says %s", file, pol.Digest(), man.PolicyDigest))
	}
	vopts, err := man.Transparency.verifyOptions(members)
	if err != nil {
		return rejected(fmt.Errorf("%s: %w", file, err))
	}
	var archived compliance.Report
	if err := json.Unmarshal(members[exportReport], &archived); err != nil {
		return badInput(fmt.Errorf("%s: %s: %w", file, exportReport, err))
	}

	// Decision records and VSAs go into a scratch store (they are listed
	// from a store); the evidence goes to the gate as bundles.
	st, err := sqlite.Open(ctx, filepath.Join(dir, "store", "hallmark.db"))
	if err != nil {
		return environmentErr(err)
	}
	defer st.Close()
	byID := map[string][]byte{}
	nBundles := 0
	for name, b := range members {
		if !strings.HasPrefix(name, "bundles/") {
			continue
		}
		nBundles++
		byID["sha256:"+sha256Hex(b)] = b
		if err := transparencyProblem(ctx, b, name, tr, vopts); err != nil {
			return rejected(fmt.Errorf("%s: %w (the archive, or the store it was exported from, was altered)", file, err))
		}
		// Decisions are listed as the export listed them: verified against
		// the trust file (the gate need not log its own records).
		v, err := attest.Verify(ctx, b, tr.All(), attest.WithInputName(name))
		if err != nil {
			continue // the gate lists it as ignored, as it did when exporting
		}
		if v.PredicateType == gate.DecisionPredicateType || v.PredicateType == gate.VSAPredicateType {
			if _, err := st.Put(ctx, v); err != nil {
				return environmentErr(err)
			}
		}
	}
	in := reportInputs{trust: tr, policy: pol, tee: reg, teeRefs: refs, env: archived.Scope.Environment, since: archived.Scope.Since, until: archived.Scope.Until, now: archived.GeneratedAt, bundles: map[string][][]byte{}, verify: vopts}
	if archived.Scope.Artifact != "" {
		d, err := digest.Parse(archived.Scope.Artifact)
		if err != nil {
			return rejected(fmt.Errorf("%s: report scope: %w", file, err))
		}
		in.artifact.Digest = d
	}
	// Disclosure dates are not evidence: take the archived report's.
	in.published = map[string]time.Time{}
	for _, h := range archived.VulnerabilityHandling {
		if h.Published != nil {
			in.published[h.ID] = *h.Published
		}
	}
	for _, a := range archived.Artifacts {
		dg := a.Artifact.Digest.String()
		if dg == archived.Scope.Artifact {
			in.artifact.Name = a.Artifact.Name
		}
		for _, id := range man.Artifacts[dg] {
			b, ok := byID[id]
			if !ok {
				return rejected(fmt.Errorf("%s: bundle %s of %s is not in the archive", file, id, dg))
			}
			in.bundles[dg] = append(in.bundles[dg], b)
		}
	}
	quiet := *app
	quiet.Stderr = io.Discard
	got, _, err := buildReport(ctx, &quiet, st, in)
	if err != nil {
		return err
	}
	if err := sameReport(&archived, got); err != nil {
		return rejected(fmt.Errorf("%s: the archive does not reproduce its report: %w", file, err))
	}
	fmt.Fprintf(app.Stdout, "verified %s: manifest sha256:%s, %d members, %d bundles, policy sha256:%s\n", file, manDigest, len(members), nBundles, pol.Digest())
	if man.Transparency != nil {
		fmt.Fprintf(app.Stdout, "  log entries and timestamps verified against the archived %s\n", man.Transparency.TrustedRoot)
	}
	for _, a := range got.Artifacts {
		verdict := "deny"
		if a.Decision.Allow {
			verdict = "allow"
		}
		fmt.Fprintf(app.Stdout, "  %s %s: gate decision reproduced (%s, SLSA Build L%d), %d controls re-judged\n", a.Artifact.Digest, a.Environment, verdict, a.Decision.SLSABuildLevel, countControls(a))
	}
	return nil
}

func countControls(a compliance.ArtifactReport) int {
	n := 0
	for _, f := range a.Frameworks {
		n += len(f.Controls)
	}
	return n
}

func checkManifestSignature(ctx context.Context, app *App, members map[string][]byte, manDigest, pubKey string) error {
	sig, ok := members[exportSignature]
	if !ok {
		return rejected(fmt.Errorf("--key given but the archive has no %s", exportSignature))
	}
	pem, err := app.readInput(pubKey, 1<<16)
	if err != nil {
		return err
	}
	pub, err := keys.ParsePublicKey(pem)
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", pubKey, err))
	}
	v, err := attest.Verify(ctx, sig, attest.NewKeySet(pub), attest.WithInputName(exportSignature))
	if err != nil {
		return rejected(fmt.Errorf("manifest signature: %w", err))
	}
	if v.PredicateType != ExportPredicateType || !v.HasDigest("sha256", manDigest) {
		return rejected(fmt.Errorf("manifest signature: it signs another manifest (or is not an export signature)"))
	}
	return nil
}

// compileExportedPolicy recompiles the archived policy: the modules other
// than this binary's built-in library (which Compile adds itself; a
// different archived copy changes the digest), the data document and the
// entrypoint.
func compileExportedPolicy(ctx context.Context, members map[string][]byte) (*policy.Policy, error) {
	var doc exportPolicyDoc
	if err := json.Unmarshal(members[exportPolicy], &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", exportPolicy, err)
	}
	builtin := map[string]string{}
	for _, m := range policy.BuiltinModules() {
		builtin[m.Name] = string(m.Source)
	}
	var mods []policy.Module
	for _, m := range doc.Modules {
		src, ok := members[m.File]
		if !ok {
			return nil, fmt.Errorf("policy module %s (%s) is missing", m.Name, m.File)
		}
		if b, isBuiltin := builtin[m.Name]; isBuiltin {
			if b != string(src) {
				return nil, fmt.Errorf("policy module %s differs from this Hallmark's built-in library: verify with the Hallmark version that exported it", m.Name)
			}
			continue
		}
		mods = append(mods, policy.Module{Name: m.Name, Source: src})
	}
	var data map[string]any
	if err := json.Unmarshal(members[exportData], &data); err != nil {
		return nil, fmt.Errorf("%s: %w", exportData, err)
	}
	opts := []policy.Option{policy.WithData(data), policy.WithEntrypoint(doc.Entrypoint)}
	if doc.URI != "" {
		opts = append(opts, policy.WithURI(doc.URI))
	}
	p, err := policy.Compile(ctx, mods, opts...)
	if err != nil {
		return nil, fmt.Errorf("recompile policy: %w", err)
	}
	if p.Digest() != doc.Digest {
		return nil, fmt.Errorf("the archived policy compiles to digest %s, policy.json says %s", p.Digest(), doc.Digest)
	}
	return p, nil
}

// sameReport compares the verdicts of two reports, naming the first
// difference.
func sameReport(want, got *compliance.Report) error {
	if len(want.Artifacts) != len(got.Artifacts) {
		return fmt.Errorf("%d artifacts reported, %d reproduced", len(want.Artifacts), len(got.Artifacts))
	}
	for i := range want.Artifacts {
		w, g := want.Artifacts[i], got.Artifacts[i]
		if w.Decision.Allow != g.Decision.Allow || w.Decision.SLSABuildLevel != g.Decision.SLSABuildLevel {
			return fmt.Errorf("%s: decision allow=%t L%d reported, allow=%t L%d reproduced", w.Artifact.Digest, w.Decision.Allow, w.Decision.SLSABuildLevel, g.Decision.Allow, g.Decision.SLSABuildLevel)
		}
		for j := range w.Frameworks {
			for k := range w.Frameworks[j].Controls {
				wc, gc := w.Frameworks[j].Controls[k], g.Frameworks[j].Controls[k]
				if wc.Status != gc.Status {
					return fmt.Errorf("%s: control %s %s reported, %s reproduced", w.Artifact.Digest, wc.ID, wc.Status, gc.Status)
				}
			}
		}
		wb, _ := json.Marshal(w)
		gb, _ := json.Marshal(g)
		if !bytes.Equal(wb, gb) {
			return fmt.Errorf("%s: the reproduced report differs from the archived one in %s", w.Artifact.Digest, firstDifference(wb, gb))
		}
	}
	wb, _ := json.Marshal(want.VulnerabilityHandling)
	gb, _ := json.Marshal(got.VulnerabilityHandling)
	if !bytes.Equal(wb, gb) {
		return fmt.Errorf("the reproduced vulnerability-handling figures differ from the archived ones")
	}
	return nil
}

// firstDifference names the top-level fields in which two JSON objects
// differ, and the first differing value of the first such field.
func firstDifference(a, b []byte) string {
	var am, bm map[string]json.RawMessage
	json.Unmarshal(a, &am)
	json.Unmarshal(b, &bm)
	var keys []string
	for k := range am {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !bytes.Equal(am[k], bm[k]) {
			return fmt.Sprintf("%q (archived %.300s, reproduced %.300s)", k, am[k], bm[k])
		}
	}
	return "field order"
}
