package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"gopkg.in/yaml.v3"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/compliance"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/trust"
)

// Input is what Write archives.
type Input struct {
	// Store holds the evidence and decisions the report is generated from.
	Store store.Store
	// Request is the report's scope; Request.Verify (the trusted root's
	// options) also checks every archived bundle's log entries and
	// timestamps.
	Request compliance.Request
	// TrustFile is the path of the trust file Request.Trust was loaded
	// from; it is archived with its public keys inline.
	TrustFile string
	// TrustedRoot, if not nil, is the trusted root Request.Verify holds,
	// archived so that Verify checks log entries and timestamps again.
	TrustedRoot *TrustedRoot
	// Signer, if not nil, signs the manifest (PredicateType).
	Signer *keys.PrivateKey
}

// TrustedRoot is a trusted_root.json and the thresholds it was used with
// (nil: the root's defaults).
type TrustedRoot struct {
	JSON                             []byte
	LogThreshold, TimestampThreshold *int
}

// Written describes an archive Write wrote.
type Written struct {
	Manifest *Manifest
	// ManifestDigest is the hex sha256 of manifest.json, to compare with
	// the one Verify prints.
	ManifestDigest string
	// Members counts the archive's members, manifest and signature included.
	Members int
	Report  *compliance.Report
}

// Write generates the report and writes the archive to w, once every
// member is gathered and checked (a failure before leaves w untouched). A
// stored bundle whose log entries or timestamps do
// not verify against the trusted root fails it (Rejected): the store or the
// log was altered.
func Write(ctx context.Context, w io.Writer, in Input) (*Written, error) {
	r, inputs, err := compliance.Generate(ctx, in.Store, in.Request)
	if err != nil {
		return nil, environment(err)
	}
	members := map[string][]byte{}
	man := &Manifest{Type: PredicateType, CreatedAt: r.GeneratedAt, Environment: in.Request.Environment, PolicyDigest: in.Request.Policy.Digest(), Artifacts: map[string][]string{}, Members: map[string]string{}}
	addBundle := func(id string) error {
		name := "bundles/" + strings.TrimPrefix(id, "sha256:") + ".json"
		if _, ok := members[name]; ok {
			return nil
		}
		rec, err := in.Store.Get(ctx, id)
		if err != nil {
			return environment(fmt.Errorf("bundle %s: %w", id, err))
		}
		if err := transparencyProblem(ctx, rec.Bundle, "stored bundle "+id, in.Request.Trust, in.Request.Verify); err != nil {
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
				return nil, err
			}
		}
		for _, d := range a.Deployments {
			for _, id := range []string{d.ID, d.VSA} {
				if id != "" {
					if err := addBundle(id); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	if err := addTrust(members, in.TrustFile, in.Request.Trust); err != nil {
		return nil, err
	}
	if err := addPolicy(members, in.Request.Policy, inputs); err != nil {
		return nil, err
	}
	if t := in.TrustedRoot; t != nil {
		members[RootName] = t.JSON
		man.Transparency = &Transparency{TrustedRoot: RootName, LogThreshold: t.LogThreshold, TimestampThreshold: t.TimestampThreshold}
	}
	var rep bytes.Buffer
	if err := r.WriteJSON(&rep); err != nil {
		return nil, err
	}
	members[ReportName] = rep.Bytes()
	for name, b := range members {
		man.Members[name] = SHA256Hex(b)
	}
	manJSON, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, err
	}
	members[ManifestName] = manJSON
	if in.Signer != nil {
		env, _ := json.Marshal(in.Request.Environment)
		st, err := attest.NewStatement([]attest.Subject{{Name: ManifestName, Digest: map[string]string{"sha256": SHA256Hex(manJSON)}}}, PredicateType, []byte(`{"environment":`+string(env)+`}`))
		if err != nil {
			return nil, err
		}
		v, err := attest.SignVerified(ctx, in.Signer, st)
		if err != nil {
			return nil, fmt.Errorf("sign manifest: %w", err)
		}
		members[SignatureName] = v.Raw
	}
	if err := WriteMembers(w, members, r.GeneratedAt); err != nil {
		return nil, environment(err)
	}
	return &Written{Manifest: man, ManifestDigest: SHA256Hex(manJSON), Members: len(members), Report: r}, nil
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
		members[RefValuesName] = b
		doc["tee"] = map[string]any{"referenceValues": path.Base(RefValuesName)}
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	members[TrustName] = out
	return nil
}

// addPolicy writes the policy's modules, data document, entrypoint and
// digest, and each artifact's policy input, so `opa eval` can reproduce
// the decision.
func addPolicy(members map[string][]byte, p *policy.Policy, inputs map[string]policy.Input) error {
	doc := PolicyDoc{URI: p.URI(), Digest: p.Digest(), Entrypoint: p.Entrypoint(), Inputs: map[string]string{}}
	for i, m := range p.Modules() {
		file := fmt.Sprintf("policy/modules/%03d-%s", i, path.Base(m.Name))
		if !strings.HasSuffix(file, ".rego") {
			file += ".rego"
		}
		members[file] = m.Source
		doc.Modules = append(doc.Modules, PolicyModule{Name: m.Name, File: file})
	}
	members[DataName] = p.DataJSON()
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
	members[PolicyName] = b
	return nil
}
