package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/build"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/gitexec"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/policy"
	"github.com/hallmark-dev/hallmark/provenance"
)

// The files init writes at the repository root, next to ProjectFile.
const (
	ProjectTrustFile  = "hallmark-trust.yaml"
	ProjectPolicyFile = "hallmark-policy.yaml"
)

// gitignored are the .gitignore entries init adds: the store and the build
// outputs, so that a build leaves the work tree clean.
var gitignored = []string{"/" + DefaultStoreDir + "/", "/dist/"}

type initFlags struct {
	repository, branch, name, keysDir, builderID string
	force, emptyUnsafe                           bool
}

func newInitCmd(app *App) *cobra.Command {
	var f initFlags
	cmd := &cobra.Command{
		Use:   "init [--repository URL] [--branch NAME] [--keys-dir DIR] [--force]",
		Short: "Set up this repository: keys outside the tree, trust file, policy for this repository, project configuration",
		Long: `Run once at the root of a git checkout. init writes:

  hallmark.yaml          the project configuration: what the repository is, the
                         store, trust file, policy and key of each role; build,
                         scan, sbom, approve, gate, rebuild and deployments take
                         their defaults from it (flags override)
  hallmark-trust.yaml    a trust file with the new public keys inline
  hallmark-policy.yaml   the built-in dev/staging/prod presets parameterised for
                         this repository: its remote URL, its default branch,
                         hallmark build's builder ID
  .gitignore             entries for the store (/.hallmark/) and outputs (/dist/)

and an encrypted key pair per role (builder, scanner, rebuilder, approver, gate)
in --keys-dir (default $XDG_CONFIG_HOME/hallmark/keys/NAME, else
~/.config/hallmark/keys/NAME; directory 0700, keys 0600), outside the work tree
so they are never committed. Existing keys there are reused. The passphrase comes
from $HALLMARK_PASSWORD or a prompt. Commit the three files and .gitignore before
building: a build from a tree with uncommitted changes is recorded as dirty.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return app.runInit(contextOf(cmd), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.repository, "repository", "", "source repository URL (default: the origin remote)")
	fl.StringVar(&f.branch, "branch", "", "default branch releases are built from (default: origin's HEAD, else the checked-out branch)")
	fl.StringVar(&f.name, "name", "", "project name (default: the repository's last path element)")
	fl.StringVar(&f.keysDir, "keys-dir", "", "directory for the private keys, outside the work tree (default $XDG_CONFIG_HOME/hallmark/keys/NAME)")
	fl.StringVar(&f.builderID, "builder-id", provenance.DefaultBuilderID, "builder ID hallmark build records and slsa_l3 allows")
	fl.BoolVar(&f.force, "force", false, "overwrite hallmark.yaml, hallmark-trust.yaml and hallmark-policy.yaml (keys are never overwritten)")
	fl.BoolVar(&f.emptyUnsafe, "empty-passphrase-unsafe", false, "allow an empty passphrase for new keys")
	return cmd
}

func (a *App) runInit(ctx context.Context, f initFlags) error {
	wd, err := os.Getwd()
	if err != nil {
		return environmentErr(err)
	}
	root, err := gitexec.Output(ctx, wd, "rev-parse", "--show-toplevel")
	if err != nil {
		return environmentErr(fmt.Errorf("hallmark init needs a git work tree (provenance records its commit): run 'git init' and commit first: %w", err))
	}
	repo, err := initRepository(ctx, root, f.repository)
	if err != nil {
		return err
	}
	branch := strings.TrimPrefix(f.branch, "refs/heads/")
	if branch == "" {
		branch = defaultBranch(ctx, root)
	}
	name := f.name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(repo), ".git")
	}
	if name == "" || name == "." || name == "/" || strings.ContainsAny(name, `/\`) {
		return usageError(fmt.Errorf("--name %q: give a project name without slashes", name))
	}
	keysDir, err := a.initKeysDir(f.keysDir, name)
	if err != nil {
		return err
	}
	if inside(root, keysDir) {
		return usageError(fmt.Errorf("--keys-dir %s is inside the work tree %s: private keys there end up committed or make builds dirty; choose a directory outside it", keysDir, root))
	}
	if !f.force {
		for _, n := range []string{ProjectFile, ProjectTrustFile, ProjectPolicyFile} {
			if _, err := os.Stat(filepath.Join(root, n)); err == nil {
				return usageError(fmt.Errorf("%s already exists: hallmark init has run here (--force rewrites it)", filepath.Join(root, n)))
			}
		}
	}

	// Keys, one per role, outside the tree.
	if err := os.MkdirAll(keysDir, 0o700); err != nil {
		return environmentErr(fmt.Errorf("keys directory: %w", err))
	}
	if err := os.Chmod(keysDir, 0o700); err != nil {
		return environmentErr(fmt.Errorf("keys directory: %w", err))
	}
	pubs, err := a.initKeys(keysDir, f.emptyUnsafe)
	if err != nil {
		return err
	}

	// The trust file: the public keys inline, so it is complete when committed.
	var trustDoc strings.Builder
	trustDoc.WriteString("# Trust file written by hallmark init: which keys are trusted for which role.\n")
	trustDoc.WriteString("# Add colleagues' public keys here (prod needs two approvers and two rebuilders).\n")
	trustDoc.WriteString("version: 1\nkeys:\n")
	for _, role := range projectKeyRoles {
		p := pubs[role]
		fmt.Fprintf(&trustDoc, "  - name: %s\n    keyId: %s\n    roles: [%s]\n    publicKeyPEM: |\n", role, p.ID(), role)
		for line := range strings.SplitSeq(strings.TrimRight(string(p.MarshalPEM()), "\n"), "\n") {
			fmt.Fprintf(&trustDoc, "      %s\n", line)
		}
	}

	// The policy: the built-in presets parameterised for this repository.
	builtin, err := policy.BuiltinPresets()
	if err != nil {
		return environmentErr(err)
	}
	preset, err := builtin.ForProject(policy.Project{Repository: repo, DefaultBranch: branch, BuilderIDs: []string{f.builderID}})
	if err != nil {
		return usageError(err)
	}
	policyDoc, err := preset.Encode(fmt.Sprintf(`Policy written by hallmark init: the built-in presets (hallmark policy presets)
for %s, default branch %s, builder %s.
The gate reads it through hallmark.yaml; docs/policy.md describes every field.
The tee group is added to prod when the trust file names TEE reference values.`, repo, branch, f.builderID))
	if err != nil {
		return environmentErr(err)
	}

	// The project configuration.
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	home := a.Getenv("HOME")
	var proj strings.Builder
	proj.WriteString("# Hallmark project configuration, written by hallmark init. Commands run in\n")
	proj.WriteString("# this repository take their defaults from it; flags override. README \"Start\".\n")
	fmt.Fprintf(&proj, "version: %d\nproject:\n  name: %s\n  repository: %s\n  defaultBranch: %s\n  builderId: %s\n",
		ProjectVersion, q(name), q(repo), q(branch), q(f.builderID))
	fmt.Fprintf(&proj, "store: %s\ntrust: %s\npolicies:\n", q(DefaultStoreDir), q(ProjectTrustFile))
	for _, env := range preset.EnvironmentNames() {
		fmt.Fprintf(&proj, "  %s: %s\n", env, q(ProjectPolicyFile))
	}
	proj.WriteString("# Private keys (encrypted) of this machine's user, per role.\nkeys:\n")
	for _, role := range projectKeyRoles {
		fmt.Fprintf(&proj, "  %s: %s\n", role, q(homeRelative(filepath.Join(keysDir, role+".key"), home)))
	}
	if _, err := parseProject([]byte(proj.String()), filepath.Join(root, ProjectFile), home); err != nil {
		return environmentErr(fmt.Errorf("project configuration does not read back: %w", err))
	}

	for _, w := range []struct {
		name string
		data []byte
	}{
		{ProjectTrustFile, []byte(trustDoc.String())},
		{ProjectPolicyFile, policyDoc},
		{ProjectFile, []byte(proj.String())},
	} {
		if err := os.WriteFile(filepath.Join(root, w.name), w.data, 0o644); err != nil {
			return environmentErr(err)
		}
	}
	added, err := ensureGitignore(filepath.Join(root, ".gitignore"), gitignored)
	if err != nil {
		return environmentErr(err)
	}

	w := a.Stdout
	fmt.Fprintf(w, "project:    %s (%s, default branch %s)\n", name, repo, branch)
	fmt.Fprintf(w, "keys:       %s (builder, scanner, rebuilder, approver, gate)\n", keysDir)
	fmt.Fprintf(w, "wrote:      %s, %s, %s\n", ProjectFile, ProjectTrustFile, ProjectPolicyFile)
	if len(added) > 0 {
		fmt.Fprintf(w, ".gitignore: added %s\n", strings.Join(added, " "))
	}
	fmt.Fprintf(w, "\nnext: git add %s %s %s .gitignore && git commit -m 'hallmark init'\n", ProjectFile, ProjectTrustFile, ProjectPolicyFile)
	return nil
}

// initRepository is the repository as the gate will see it in provenance.
func initRepository(ctx context.Context, root, flag string) (string, error) {
	remote := flag
	if remote == "" {
		r, err := gitexec.Output(ctx, root, "config", "--get", "remote.origin.url")
		if err != nil || r == "" {
			return "", usageError(errors.New("this checkout has no origin remote: give --repository URL (the URL provenance should name), or 'git remote add origin URL'"))
		}
		remote = r
	}
	uri := build.RemoteURI(remote)
	if uri == "" {
		return "", usageError(fmt.Errorf("repository %q is not a URL, an scp-like address or an absolute path", remote))
	}
	return gate.NormalizeRepository(uri), nil
}

// defaultBranch is origin's HEAD branch, else the checked-out branch, else
// "main".
func defaultBranch(ctx context.Context, root string) string {
	if ref, err := gitexec.Output(ctx, root, "symbolic-ref", "-q", "refs/remotes/origin/HEAD"); err == nil && ref != "" {
		return strings.TrimPrefix(ref, "refs/remotes/origin/")
	}
	if ref, err := gitexec.Output(ctx, root, "symbolic-ref", "-q", "HEAD"); err == nil && ref != "" {
		return strings.TrimPrefix(ref, "refs/heads/")
	}
	return "main"
}

// initKeysDir is --keys-dir, else $XDG_CONFIG_HOME/hallmark/keys/NAME, else
// $HOME/.config/hallmark/keys/NAME, made absolute.
func (a *App) initKeysDir(flag, name string) (string, error) {
	dir := flag
	if dir == "" {
		base := a.Getenv("XDG_CONFIG_HOME")
		if base == "" {
			home := a.Getenv("HOME")
			if home == "" {
				return "", usageError(errors.New("neither $XDG_CONFIG_HOME nor $HOME is set: give --keys-dir"))
			}
			base = filepath.Join(home, ".config")
		}
		dir = filepath.Join(base, "hallmark", "keys", name)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", environmentErr(err)
	}
	return abs, nil
}

// initKeys makes (or reuses) ROLE.key and ROLE.pub in dir for each role and
// returns the public keys.
func (a *App) initKeys(dir string, emptyUnsafe bool) (map[string]*keys.PublicKey, error) {
	pubs := map[string]*keys.PublicKey{}
	var pass []byte
	asked := false
	for _, role := range projectKeyRoles {
		prefix := filepath.Join(dir, role)
		if _, err := os.Stat(prefix + ".key"); err == nil {
			p, err := keys.LoadPublicKeyFile(prefix + ".pub")
			if err != nil {
				return nil, badInput(fmt.Errorf("existing key %s.key: its public key: %w", prefix, err))
			}
			pubs[role] = p
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, environmentErr(err)
		}
		if !asked {
			p, err := a.passphrase("the new keys in "+dir, true)
			if err != nil {
				return nil, err
			}
			if len(p) == 0 && !emptyUnsafe {
				return nil, usageError(fmt.Errorf("%w: choose a passphrase, or pass --empty-passphrase-unsafe", keys.ErrEmptyPassphrase))
			}
			pass, asked = p, true
		}
		k, err := keys.Generate(keys.ECDSAP256)
		if err != nil {
			return nil, environmentErr(err)
		}
		var opts []keys.MarshalOption
		if emptyUnsafe {
			opts = append(opts, keys.WithEmptyPassphraseUnsafe())
		}
		if _, _, err := keys.WriteFiles(prefix, k, pass, opts...); err != nil {
			return nil, environmentErr(err)
		}
		pubs[role] = k.Public()
	}
	return pubs, nil
}

// inside reports whether path is root or below it (symbolic links resolved
// where they exist).
func inside(root, path string) bool {
	resolve := func(p string) string {
		for dir, rest := p, ""; ; {
			if r, err := filepath.EvalSymlinks(dir); err == nil {
				return filepath.Join(r, rest)
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				return p
			}
			rest = filepath.Join(filepath.Base(dir), rest)
			dir = parent
		}
	}
	rel, err := filepath.Rel(resolve(root), resolve(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// homeRelative writes path as "~/..." when it is below home.
func homeRelative(path, home string) string {
	if home == "" {
		return path
	}
	if rel, err := filepath.Rel(home, path); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && rel != "." {
		return "~/" + filepath.ToSlash(rel)
	}
	return path
}

// ensureGitignore appends the entries missing from the .gitignore at path
// and returns them.
func ensureGitignore(path string, entries []string) ([]string, error) {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	have := map[string]bool{}
	for line := range strings.SplitSeq(string(old), "\n") {
		have[strings.TrimSpace(line)] = true
	}
	var added []string
	for _, e := range entries {
		bare := strings.Trim(e, "/")
		if have[e] || slices.ContainsFunc([]string{bare, bare + "/", "/" + bare}, func(s string) bool { return have[s] }) {
			continue
		}
		added = append(added, e)
	}
	if len(added) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.Write(old)
	if len(old) > 0 && !strings.HasSuffix(string(old), "\n") {
		b.WriteString("\n")
	}
	b.WriteString("# Hallmark: the evidence store and build outputs (hallmark init)\n")
	for _, e := range added {
		b.WriteString(e + "\n")
	}
	return added, os.WriteFile(path, []byte(b.String()), 0o644)
}
