package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hallmark-dev/hallmark/policy"
)

// ProjectFile is the project configuration `hallmark init` writes at the
// repository root. Commands run anywhere below it take their defaults
// (store, trust file, policies, keys, builder ID) from it; flags override.
const ProjectFile = "hallmark.yaml"

// ProjectEnv names a project configuration file to use instead of looking
// for ProjectFile.
const ProjectEnv = "HALLMARK_PROJECT"

// ProjectVersion is the project configuration format version.
const ProjectVersion = 1

// maxProjectBytes bounds the project configuration file.
const maxProjectBytes = 1 << 20

// The roles init makes a key for, as named under keys: in the project file.
var projectKeyRoles = []string{"builder", "scanner", "rebuilder", "approver", "gate"}

// Project is the project configuration (ProjectFile). Its field names follow
// the server configuration (internal/server.Config) where they mean the same:
// trust, policies, and the store directory.
type Project struct {
	Version int `yaml:"version"`
	// Project says what the repository is; the policy presets are
	// parameterised by it (policy.Project).
	Project ProjectInfo `yaml:"project"`
	// Store is the evidence store directory.
	Store string `yaml:"store,omitempty"`
	// Trust is the trust file.
	Trust string `yaml:"trust,omitempty"`
	// Policies maps each environment to its policy (as gate --policy).
	Policies map[string]string `yaml:"policies,omitempty"`
	// Keys maps a role (builder, scanner, rebuilder, approver, gate) to the
	// encrypted private key that commands sign with in that role.
	Keys map[string]string `yaml:"keys,omitempty"`

	// path is the file the configuration was read from.
	path string
}

// ProjectInfo describes the repository.
type ProjectInfo struct {
	// Name names the project (the key directory is named after it).
	Name string `yaml:"name"`
	// Repository is the source repository as provenance records it,
	// without "git+" and ".git", e.g. https://github.com/org/repo.
	Repository string `yaml:"repository"`
	// DefaultBranch is the branch releases are built from.
	DefaultBranch string `yaml:"defaultBranch"`
	// BuilderID is written by `hallmark build` and allowed by slsa_l3.
	BuilderID string `yaml:"builderId"`
}

// PolicyProject is what the presets need from the project.
func (p *Project) PolicyProject() policy.Project {
	pp := policy.Project{Repository: p.Project.Repository, DefaultBranch: p.Project.DefaultBranch}
	if p.Project.BuilderID != "" {
		pp.BuilderIDs = []string{p.Project.BuilderID}
	}
	return pp
}

// parseProject decodes a project configuration (unknown fields refused) and
// resolves its relative paths against dir; "~/" means home.
func parseProject(b []byte, path, home string) (*Project, error) {
	var p Project
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty project configuration", path)
		}
		return nil, fmt.Errorf("%s: not a hallmark project configuration (see README \"Start\"): %w", path, err)
	}
	if p.Version != ProjectVersion {
		return nil, fmt.Errorf("%s: version %d, want %d", path, p.Version, ProjectVersion)
	}
	for role := range p.Keys {
		if !slices.Contains(projectKeyRoles, role) {
			return nil, fmt.Errorf("%s: keys: unknown role %q (choose from %s)", path, role, strings.Join(projectKeyRoles, ", "))
		}
	}
	dir := filepath.Dir(path)
	abs := func(v string) string {
		switch {
		case v == "":
			return ""
		case strings.HasPrefix(v, "~/") && home != "":
			return filepath.Join(home, v[2:])
		case filepath.IsAbs(v):
			return v
		}
		return filepath.Join(dir, v)
	}
	p.Store, p.Trust = abs(p.Store), abs(p.Trust)
	for role, k := range p.Keys {
		p.Keys[role] = abs(k)
	}
	for env, spec := range p.Policies {
		if spec != "builtin" && !strings.HasPrefix(spec, "builtin:") {
			p.Policies[env] = abs(spec)
		}
	}
	p.path = path
	return &p, nil
}

// project returns the project configuration that applies to the working
// directory: $HALLMARK_PROJECT, else the nearest ProjectFile in the working
// directory or a parent, up to the git work tree's root. It returns nil
// when there is none. The result is cached.
func (a *App) project() (*Project, error) {
	if a.projectLoaded {
		return a.proj, a.projErr
	}
	a.projectLoaded = true
	a.proj, a.projErr = a.loadProject()
	return a.proj, a.projErr
}

func (a *App) loadProject() (*Project, error) {
	home := a.Getenv("HOME")
	if p := a.Getenv(ProjectEnv); p != "" {
		return readProject(p, home)
	}
	dir, err := os.Getwd()
	if err != nil {
		return nil, environmentErr(err)
	}
	for {
		p := filepath.Join(dir, ProjectFile)
		if _, err := os.Stat(p); err == nil {
			return readProject(p, home)
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return nil, nil // the work tree's root: no project file
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, nil
		}
		dir = parent
	}
}

func readProject(path, home string) (*Project, error) {
	b, err := readFileBounded(path, maxProjectBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, badInput(fmt.Errorf("$%s: %w", ProjectEnv, err))
	}
	if err != nil {
		return nil, err
	}
	p, err := parseProject(b, path, home)
	if err != nil {
		return nil, badInput(err)
	}
	return p, nil
}

// projectValue returns flag when it is set, else what get reads from the
// project configuration, else "".
func (a *App) projectValue(flag string, get func(*Project) string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	p, err := a.project()
	if err != nil || p == nil {
		return "", err
	}
	return get(p), nil
}

// projectKey returns the --key flag, else the project's key for role.
func (a *App) projectKey(flag, role string) (string, error) {
	return a.projectValue(flag, func(p *Project) string { return p.Keys[role] })
}

// projectTrust returns the --trust flag, else the project's trust file.
func (a *App) projectTrust(flag string) (string, error) {
	return a.projectValue(flag, func(p *Project) string { return p.Trust })
}
