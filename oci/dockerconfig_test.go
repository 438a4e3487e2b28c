package oci_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/hallmark-dev/hallmark/oci"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseDockerConfig(t *testing.T) {
	d, err := oci.ParseDockerConfig([]byte(`{"auths": {
		"https://index.docker.io/v1/": {"auth": "` + b64("hub:pw") + `"},
		"Registry.Example:5000": {"username": "robot", "password": "pw2"},
		"ghcr.io": {}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"index.docker.io", "registry.example:5000"}, d.Registries()); diff != "" {
		t.Errorf("registries (-want +got):\n%s", diff)
	}
	for ref, want := range map[string]*authn.AuthConfig{
		"nginx:1.27":                     {Username: "hub", Password: "pw"},
		"docker.io/library/nginx":        {Username: "hub", Password: "pw"},
		"registry.example:5000/team/app": {Username: "robot", Password: "pw2"},
		"ghcr.io/x/y":                    nil,
		"registry.example/team/app":      nil, // another port is another registry
	} {
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		a, err := d.Resolve(r.Context())
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			if a != authn.Anonymous {
				t.Errorf("%s: credentials, want anonymous", ref)
			}
			continue
		}
		got, err := a.Authorization()
		if err != nil || got.Username != want.Username || got.Password != want.Password {
			t.Errorf("%s: %+v, %v; want %+v", ref, got, err, want)
		}
	}
}

func TestParseDockerConfigRejects(t *testing.T) {
	for name, tc := range map[string]struct{ json, want string }{
		"helpers":        {`{"auths": {}, "credsStore": "desktop"}`, "credential helpers"},
		"no auths":       {`{"HttpHeaders": {}}`, `no "auths"`},
		"bad base64":     {`{"auths": {"r.example": {"auth": "%%%"}}}`, "not base64"},
		"no colon":       {`{"auths": {"r.example": {"auth": "` + b64("nocolon") + `"}}}`, "USER:PASSWORD"},
		"disagreement":   {`{"auths": {"r.example": {"auth": "` + b64("a:b") + `", "username": "c"}}}`, "disagree"},
		"duplicate":      {`{"auths": {"docker.io": {"auth": "` + b64("a:b") + `"}, "index.docker.io": {"auth": "` + b64("c:d") + `"}}}`, "two auths entries"},
		"bad key":        {`{"auths": {"not a host": {"auth": "` + b64("a:b") + `"}}}`, "not a registry host"},
		"trailing data":  {`{"auths": {}} {}`, "after the JSON object"},
		"too large":      {`{"auths": {}, "x": "` + strings.Repeat("a", oci.MaxDockerConfigBytes) + `"}`, "more than"},
		"not an object":  {`[1]`, "cannot unmarshal"},
		"secret leakage": {`{"auths": {"r.example": {"auth": "` + b64("user-canary:pw-canary") + `", "username": "other"}}}`, "disagree"},
	} {
		_, err := oci.ParseDockerConfig([]byte(tc.json))
		if !errors.Is(err, oci.ErrDockerConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrDockerConfig saying %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "canary") {
			t.Errorf("%s: the error quotes a credential: %v", name, err)
		}
	}
}
