package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/compliance/archive"
	"github.com/hallmark-dev/hallmark/internal/tooltest"
)

// checkExport exports the pipeline's prod evidence, verifies the archive
// offline (reproducing the gate's decision and the report), and checks that
// changing, removing or adding any member, or re-signing nothing after a
// consistent rewrite of the manifest, is detected.
func checkExport(t *testing.T, e *e2e) {
	t.Helper()
	tarFile := filepath.Join(e.dir, "audit.tar")
	e.ta.mustRun(t, "export", e.art, "--env", "prod", "--trust", e.trustFile, "--policy", e.presetFile, "--key", e.key("gate"), "--out", tarFile)

	// The store is not needed to verify: point it at an empty one.
	saved := e.ta.env[StoreEnv]
	defer func() { e.ta.env[StoreEnv] = saved }()
	e.ta.env[StoreEnv] = filepath.Join(t.TempDir(), "empty")
	e.ta.mustRun(t, "verify-export", tarFile, "--key", e.pub("gate"))
	if out := e.ta.out.String(); !strings.Contains(out, "gate decision reproduced (allow, SLSA Build L3)") {
		t.Errorf("verify-export output:\n%s", out)
	}

	t.Run("opa eval", func(t *testing.T) { checkOPAProcedure(t, tarFile, "sha256:"+e.artHex(t), true) })

	f, err := os.Open(tarFile)
	if err != nil {
		t.Fatal(err)
	}
	members, err := archive.ReadMembers(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var man archive.Manifest
	json.Unmarshal(members[archive.ManifestName], &man)
	var bundle, module string
	for n := range members {
		if strings.HasPrefix(n, "bundles/") {
			bundle = n
		}
		if strings.HasPrefix(n, "policy/modules/") {
			module = n
		}
	}
	rewrite := func(name string, change func(map[string][]byte), fixManifest bool) string {
		m := map[string][]byte{}
		for k, v := range members {
			m[k] = bytes.Clone(v)
		}
		change(m)
		if fixManifest {
			mm := man
			mm.Members = map[string]string{}
			for k, v := range m {
				if k != archive.ManifestName && k != archive.SignatureName {
					mm.Members[k] = archive.SHA256Hex(v)
				}
			}
			m[archive.ManifestName], _ = json.MarshalIndent(mm, "", "  ")
		}
		p := filepath.Join(t.TempDir(), name+".tar")
		if err := writeTar(p, m, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flip := func(name string) func(map[string][]byte) {
		return func(m map[string][]byte) { m[name] = append(m[name], ' ') }
	}
	for _, tc := range []struct {
		name   string
		file   string
		key    bool
		reason string
	}{
		{"bundle changed", rewrite("bundle", flip(bundle), false), false, "was changed"},
		{"report changed", rewrite("report", flip(archive.ReportName), false), false, "was changed"},
		{"trust file changed", rewrite("trust", flip(archive.TrustName), false), false, "was changed"},
		{"policy module changed", rewrite("module", flip(module), false), false, "was changed"},
		{"policy data changed", rewrite("data", flip(archive.DataName), false), false, "was changed"},
		{"manifest changed", rewrite("manifest", flip(archive.ManifestName), false), true, "manifest signature"},
		{"bundle removed", rewrite("removed", func(m map[string][]byte) { delete(m, bundle) }, false), false, "is missing"},
		{"member added", rewrite("added", func(m map[string][]byte) { m["bundles/extra.json"] = []byte("{}") }, false), false, "not in the manifest"},
		{"bundle dropped, manifest rewritten, signature checked", rewrite("dropsig", func(m map[string][]byte) { delete(m, bundle) }, true), true, "manifest signature"},
		{"report edited, manifest rewritten", rewrite("edit", func(m map[string][]byte) {
			m[archive.ReportName] = bytes.Replace(m[archive.ReportName], []byte(`"status": "not_satisfied"`), []byte(`"status": "satisfied"`), 1)
		}, true), false, "does not reproduce its report"},
		{"evidence dropped, manifest rewritten", rewrite("drop", func(m map[string][]byte) {
			for n := range m {
				if strings.HasPrefix(n, "bundles/") {
					var probe struct {
						DSSE struct{ Payload []byte } `json:"dsseEnvelope"`
					}
					json.Unmarshal(m[n], &probe)
					if bytes.Contains(probe.DSSE.Payload, []byte("cyclonedx.org/bom")) {
						delete(m, n)
					}
				}
			}
		}, true), false, "is not in the archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"verify-export", tc.file}
			if tc.key {
				args = append(args, "--key", e.pub("gate"))
			}
			code := e.ta.run(args...)
			if code != ExitRejected {
				t.Fatalf("exit %d, want %d (rejected)\n%s%s", code, ExitRejected, e.ta.out, e.ta.errOut)
			}
			if !strings.Contains(e.ta.errOut.String(), tc.reason) {
				t.Errorf("error lacks %q: %s", tc.reason, e.ta.errOut)
			}
		})
	}
}

func (e *e2e) artHex(t *testing.T) string {
	t.Helper()
	s, err := fileSubject(e.art)
	if err != nil {
		t.Fatal(err)
	}
	return s.Digest["sha256"]
}

// checkOPAProcedure follows docs/compliance.md: extract the archive and
// evaluate the archived policy on the archived input with opa alone; the
// decision must be the report's.
func checkOPAProcedure(t *testing.T, tarFile string, artifact string, wantAllow bool) {
	t.Helper()
	opa := tooltest.Find(t, "opa")
	dir := t.TempDir()
	if out, err := exec.Command("tar", "-C", dir, "-xf", tarFile).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	var doc archive.PolicyDoc
	b, _ := os.ReadFile(filepath.Join(dir, archive.PolicyName))
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(opa, "eval", "--format", "json", "-d", "policy/modules", "-d", "policy/data.json",
		"-i", doc.Inputs[artifact], doc.Entrypoint)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("opa eval: %v\n%s", err, out)
	}
	var res struct {
		Result []struct {
			Expressions []struct {
				Value struct {
					Allow bool `json:"allow"`
				} `json:"value"`
			} `json:"expressions"`
		} `json:"result"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Result) != 1 || len(res.Result[0].Expressions) != 1 {
		t.Fatalf("opa output: %v\n%s", err, out)
	}
	if got := res.Result[0].Expressions[0].Value.Allow; got != wantAllow {
		t.Errorf("opa eval allow = %t, the report says %t\n%s", got, wantAllow, out)
	}
}
