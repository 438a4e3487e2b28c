package build

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Source describes the source tree of a build.
type Source struct {
	// Dir is the absolute source root.
	Dir string `json:"dir"`
	// URI is the origin remote without credentials, "git+https://..." or
	// "git+ssh://...", empty when there is none.
	URI string `json:"uri,omitempty"`
	// Commit is the checked-out commit, empty outside a git work tree.
	Commit string `json:"commit,omitempty"`
	// Ref is the checked-out branch ("refs/heads/main"), empty when HEAD is
	// detached.
	Ref string `json:"ref,omitempty"`
	// Dirty reports uncommitted or untracked changes before the build.
	Dirty bool `json:"dirty"`
	// CommitTime is the committer time of Commit.
	CommitTime time.Time `json:"commitTime,omitzero"`
	// DirHash summarises the tree's files (see digest.Listing.DirHash).
	DirHash string `json:"dirHash,omitempty"`
	// ExternalSymlinks lists, as "path -> target", the symbolic links in
	// the tree that point outside it; they were not followed.
	ExternalSymlinks []string `json:"externalSymlinks,omitempty"`
}

// gitEnv keeps the caller's configuration and credentials away from git.
var gitEnv = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C"}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "safe.directory=*", "-C", dir}, args...)...)
	cmd.Env = gitEnv
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// gitSource reads the commit, dirtiness, commit time and origin of dir. A
// directory outside a git work tree yields only Dir.
func gitSource(ctx context.Context, dir string) (Source, error) {
	s := Source{Dir: dir}
	if _, err := exec.LookPath("git"); err != nil {
		return s, nil
	}
	if out, err := git(ctx, dir, "rev-parse", "--is-inside-work-tree"); err != nil || out != "true" {
		return s, nil
	}
	commit, err := git(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		// A repository without commits: nothing to pin.
		return s, nil
	}
	s.Commit = commit
	if ref, err := git(ctx, dir, "symbolic-ref", "-q", "HEAD"); err == nil {
		s.Ref = ref
	}
	status, err := git(ctx, dir, "status", "--porcelain", "--untracked-files=normal")
	if err != nil {
		return s, err
	}
	s.Dirty = status != ""
	ct, err := git(ctx, dir, "log", "-1", "--format=%ct", commit)
	if err != nil {
		return s, err
	}
	secs, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return s, fmt.Errorf("git commit time %q: %w", ct, err)
	}
	s.CommitTime = time.Unix(secs, 0).UTC()
	if remote, err := git(ctx, dir, "config", "--get", "remote.origin.url"); err == nil && remote != "" {
		s.URI = repoURI(remote)
	}
	return s, nil
}

// repoURI renders a git remote as an SLSA-style "git+" URI with any
// credentials removed.
func repoURI(remote string) string {
	if u, err := url.Parse(remote); err == nil && u.Scheme != "" && u.Host != "" {
		u.User = nil
		u.RawQuery, u.Fragment = "", ""
		if strings.HasPrefix(u.Scheme, "git+") {
			return u.String()
		}
		return "git+" + u.String()
	}
	// scp-like syntax: [user@]host:path
	if host, path, ok := strings.Cut(remote, ":"); ok && !strings.Contains(host, "/") {
		if i := strings.LastIndex(host, "@"); i >= 0 {
			host = host[i+1:]
		}
		return "git+ssh://" + host + "/" + strings.TrimPrefix(path, "/")
	}
	if strings.HasPrefix(remote, "/") {
		return "git+file://" + remote
	}
	return ""
}
