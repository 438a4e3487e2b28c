package oci

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// MaxDockerConfigBytes bounds a Docker config.json.
const MaxDockerConfigBytes = 1 << 20

// ErrDockerConfig is a Docker config.json that cannot be used.
var ErrDockerConfig = errors.New("bad Docker config.json")

// DockerConfig holds the registry credentials of a Docker config.json. It
// implements authn.Keychain: a registry with an entry gets its
// credentials, any other registry is asked anonymously.
type DockerConfig struct {
	auths map[string]authn.AuthConfig // by registryKey
}

var _ authn.Keychain = (*DockerConfig)(nil)

type dockerConfigFile struct {
	Auths       map[string]dockerAuth `json:"auths"`
	CredsStore  string                `json:"credsStore"`
	CredHelpers map[string]string     `json:"credHelpers"`
}

type dockerAuth struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// ParseDockerConfig reads the "auths" of a Docker config.json, the format
// of a kubernetes.io/dockerconfigjson Secret. Keys may be a host
// ("registry.example.com:5000") or a URL ("https://index.docker.io/v1/");
// only the host counts, and docker.io, index.docker.io and
// registry-1.docker.io are one registry. Credential helpers (credsStore,
// credHelpers) are refused rather than run. Errors never quote
// credentials.
func ParseDockerConfig(b []byte) (*DockerConfig, error) {
	if len(b) > MaxDockerConfigBytes {
		return nil, fmt.Errorf("%w: %w (more than %d bytes)", ErrDockerConfig, limits.ErrTooLarge, MaxDockerConfigBytes)
	}
	var f dockerConfigFile
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDockerConfig, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrDockerConfig)
	}
	if f.CredsStore != "" || len(f.CredHelpers) > 0 {
		return nil, fmt.Errorf("%w: credential helpers (credsStore, credHelpers) are not run; put the credentials into \"auths\" (as in a kubernetes.io/dockerconfigjson Secret)", ErrDockerConfig)
	}
	if f.Auths == nil {
		return nil, fmt.Errorf("%w: no \"auths\" object", ErrDockerConfig)
	}
	d := &DockerConfig{auths: map[string]authn.AuthConfig{}}
	for _, key := range slices.Sorted(maps.Keys(f.Auths)) {
		a := f.Auths[key]
		reg, err := registryKey(key)
		if err != nil {
			return nil, fmt.Errorf("%w: auths key %q: %v", ErrDockerConfig, key, err)
		}
		cfg := authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken}
		if a.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return nil, fmt.Errorf("%w: auths key %q: \"auth\" is not base64", ErrDockerConfig, key)
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if !ok {
				return nil, fmt.Errorf("%w: auths key %q: \"auth\" is not base64 of USER:PASSWORD", ErrDockerConfig, key)
			}
			if (cfg.Username != "" && cfg.Username != user) || (cfg.Password != "" && cfg.Password != pass) {
				return nil, fmt.Errorf("%w: auths key %q: \"auth\" and \"username\"/\"password\" disagree", ErrDockerConfig, key)
			}
			cfg.Username, cfg.Password = user, pass
		}
		if cfg == (authn.AuthConfig{}) {
			continue // an empty entry: credentials kept elsewhere
		}
		if _, dup := d.auths[reg]; dup {
			return nil, fmt.Errorf("%w: two auths entries for registry %s", ErrDockerConfig, reg)
		}
		d.auths[reg] = cfg
	}
	return d, nil
}

// Resolve implements authn.Keychain.
func (d *DockerConfig) Resolve(r authn.Resource) (authn.Authenticator, error) {
	key, err := registryKey(r.RegistryStr())
	if err != nil {
		return authn.Anonymous, nil
	}
	if cfg, ok := d.auths[key]; ok {
		return authn.FromConfig(cfg), nil
	}
	return authn.Anonymous, nil
}

// Registries lists the registries that have credentials, sorted.
func (d *DockerConfig) Registries() []string {
	out := make([]string, 0, len(d.auths))
	for k := range d.auths {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// registryKey reduces a config key or a registry name to lower-case
// host[:port], with Docker Hub's aliases folded into index.docker.io.
func registryKey(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "docker.io", "registry-1.docker.io", name.DefaultRegistry:
		return name.DefaultRegistry, nil
	}
	if _, err := name.NewRegistry(s, name.StrictValidation); err != nil || s == "" {
		return "", fmt.Errorf("not a registry host")
	}
	return s, nil
}
