package secrets_test

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hallmark-dev/hallmark/oci/ocitest"
	"github.com/hallmark-dev/hallmark/secrets"
	"github.com/hallmark-dev/hallmark/secrets/secretstest"
)

// ScanImage names the layer and the path inside it, and finds credentials
// in the image config's ENV, labels and history.
func TestScanImageLayersAndConfig(t *testing.T) {
	cs := secretstest.Canaries(t, 13)
	aws, gh := cs[0], cs[2]
	img := ocitest.Image(t, v1.Config{
		Env:    []string{"PATH=/usr/bin", gh.EnvName + "=" + gh.EnvValue},
		Labels: map[string]string{"maintainer": "ops"},
	},
		ocitest.Layer{CreatedBy: "ADD . /", Files: map[string][]byte{"etc/motd": []byte("hello\n")}},
		ocitest.Layer{CreatedBy: "RUN export " + aws.EnvName + "=" + aws.EnvValue + " && make", Files: map[string][]byte{"root/.aws/credentials": []byte(aws.Text)}},
	)
	s, err := secrets.New(secrets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := s.ScanImage(t.Context(), img)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.ConfigFile()
	layer1 := "layer 1 " + cfg.RootFS.DiffIDs[1].String()
	var got []string
	for _, f := range fs {
		got = append(got, f.RuleID+" @ "+secrets.Where(f.Location))
		for _, c := range cs[:3] {
			for _, n := range c.Needles {
				if strings.Contains(f.Message+f.Evidence, n) {
					t.Errorf("finding leaks %s", c.Name)
				}
			}
		}
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"aws-access-token @ " + layer1 + "!root/.aws/credentials",
		"github-pat @ " + secrets.ImageConfigPath + "!Env[1]",
		"aws-access-token @ " + secrets.ImageConfigPath + "!history[1].created_by",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
}
