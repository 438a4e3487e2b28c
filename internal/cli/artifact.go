package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/artifact"
	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/oci"
)

// DockerConfigEnv names the directory of the Docker config.json whose
// "auths" authenticate to registries, as for docker itself.
const DockerConfigEnv = "DOCKER_CONFIG"

// registryFlags configure registry access for every command that accepts
// an image.
type registryFlags struct {
	insecure []string
	caFile   string
}

func (f *registryFlags) add(root *cobra.Command) {
	root.PersistentFlags().StringArrayVar(&f.insecure, "insecure-registry", nil, "talk plain HTTP to this registry host[:port] (repeatable; credentials and digests travel unprotected)")
	root.PersistentFlags().StringVar(&f.caFile, "registry-ca", "", "PEM file of CA certificates trusted for registries, in addition to the system's")
}

// images returns the registry client configured by the flags, the Docker
// config.json ($DOCKER_CONFIG/config.json or ~/.docker/config.json, when
// present) and the system's CAs plus --registry-ca. It is built once.
func (a *App) images() (*oci.Resolver, error) {
	if a.registry != nil {
		return a.registry, nil
	}
	opts := []oci.Option{oci.WithClock(a.Now)}
	if len(a.regFlags.insecure) > 0 {
		opts = append(opts, oci.WithPlainHTTPInsecure(a.regFlags.insecure...))
	}
	if a.regFlags.caFile != "" {
		pem, err := readFileBounded(a.regFlags.caFile, 1<<20)
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, badInput(fmt.Errorf("--registry-ca %s: no PEM certificate", a.regFlags.caFile))
		}
		opts = append(opts, oci.WithRootCAs(pool))
	}
	if p := a.dockerConfigPath(); p != "" {
		opts = append(opts, oci.WithDockerConfig(p))
	}
	r, err := oci.NewResolver(opts...)
	if err != nil {
		if errors.Is(err, oci.ErrDockerConfig) {
			return nil, badInput(err)
		}
		return nil, usageError(err)
	}
	a.registry = r
	return r, nil
}

func (a *App) dockerConfigPath() string {
	dir := a.Getenv(DockerConfigEnv)
	if dir == "" {
		home := a.Getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".docker")
	}
	p := filepath.Join(dir, "config.json")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// resolveArtifact reads what arg names (see package artifact): a file, a
// directory, a bare digest or an image. Registry access is configured only
// when arg names a registry image.
func (a *App) resolveArtifact(ctx context.Context, arg string) (*artifact.Artifact, error) {
	ref, err := artifact.Parse(arg)
	if err != nil {
		return nil, badInput(err)
	}
	var r *artifact.Resolver
	if ref.Kind == artifact.KindImage && ref.Source == oci.SourceRegistry {
		images, err := a.images()
		if err != nil {
			return nil, err
		}
		r = artifact.NewResolver(images)
	}
	art, err := r.Open(ctx, ref)
	if err != nil {
		return nil, artifactError(err)
	}
	return art, nil
}

// artifactError maps a registry that cannot be reached to the environment
// exit code; anything else about the named artifact is bad input.
func artifactError(err error) error {
	for _, e := range []error{oci.ErrUnreachable, oci.ErrTimeout, oci.ErrUnauthorized} {
		if errors.Is(err, e) {
			return environmentErr(err)
		}
	}
	return badInput(err)
}

// subject names arg as a statement subject: a file by its path and
// SHA-256, an image by its repository and manifest digest.
func (a *App) subject(ctx context.Context, arg string) (attest.Subject, error) {
	art, err := a.resolveArtifact(ctx, arg)
	if err != nil {
		return attest.Subject{}, err
	}
	switch art.Kind {
	case artifact.KindFile, artifact.KindImage:
		return attest.Subject{Name: art.Name, Digest: art.Digest.Set()}, nil
	case artifact.KindDigest:
		return attest.Subject{Name: art.DigestString(), Digest: art.Digest.Set()}, nil
	}
	return attest.Subject{}, badInput(fmt.Errorf("%s: not a regular file", arg))
}

// artifactDigestAlg is artifactDigest, but a regular file is named by its
// digest with alg ("" or "sha256": as artifactDigest; "sha512": as npm
// provenance names a package tarball).
func (a *App) artifactDigestAlg(ctx context.Context, arg, alg string) (d digest.Digest, name string, err error) {
	if alg == "" || alg == digest.SHA256 {
		return a.artifactDigest(ctx, arg)
	}
	ref, err := artifact.Parse(arg)
	if err != nil {
		return digest.Digest{}, "", badInput(err)
	}
	if ref.Kind != artifact.KindFile {
		return digest.Digest{}, "", usageError(fmt.Errorf("--digest %s names a regular file; %s is not one", alg, arg))
	}
	art, err := artifact.HashFile(ref.Path, alg)
	if err != nil {
		return digest.Digest{}, "", badInput(err)
	}
	return art.Digest, art.Name, nil
}

// artifactDigest accepts a file (hashed), an image (its manifest digest)
// or "sha256:<hex>" (no name).
func (a *App) artifactDigest(ctx context.Context, arg string) (d digest.Digest, name string, err error) {
	art, err := a.resolveArtifact(ctx, arg)
	if err != nil {
		return digest.Digest{}, "", err
	}
	if art.Kind == artifact.KindDirectory {
		return digest.Digest{}, "", badInput(fmt.Errorf("%s: not a regular file", arg))
	}
	return art.Digest, art.Name, nil
}
