package build

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/digest"
	"github.com/hallmark-dev/hallmark/internal/gitexec"
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
	// Dirty reports uncommitted or untracked changes when the build
	// command started, that is after the preparation steps ran. Untracked
	// files under the output and in-tree cache directories do not count
	// (they are not source; the dirHash leaves them out too); changes to
	// tracked files count wherever they are.
	Dirty bool `json:"dirty"`
	// ModifiedByBuild lists (at most maxModifiedPaths, sorted) the tracked
	// files outside the output and cache directories that the build command
	// itself created, changed or deleted: the products may then come from
	// source that is not the commit.
	ModifiedByBuild []string `json:"modifiedByBuild,omitempty"`
	// CommitTime is the committer time of Commit.
	CommitTime time.Time `json:"commitTime,omitzero"`
	// DirHash summarises the tree's files (see digest.Listing.DirHash).
	DirHash string `json:"dirHash,omitempty"`
	// ExternalSymlinks lists, as "path -> target", the symbolic links in
	// the tree that point outside it; they were not followed.
	ExternalSymlinks []string `json:"externalSymlinks,omitempty"`
}

// gitSource reads the commit, dirtiness, commit time and origin of dir. A
// directory outside a git work tree yields only Dir. Untracked paths under
// the notSource directories (slash paths relative to dir) do not make the
// tree dirty.
func gitSource(ctx context.Context, dir string, notSource []string) (Source, error) {
	s := Source{Dir: dir}
	if _, err := exec.LookPath("git"); err != nil {
		return s, nil
	}
	if out, err := gitexec.Output(ctx, dir, "rev-parse", "--is-inside-work-tree"); err != nil || out != "true" {
		return s, nil
	}
	commit, err := gitexec.Output(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		// A repository without commits: nothing to pin.
		return s, nil
	}
	s.Commit = commit
	if ref, err := gitexec.Output(ctx, dir, "symbolic-ref", "-q", "HEAD"); err == nil {
		s.Ref = ref
	}
	top, prefix, err := repoRoot(ctx, dir)
	if err != nil {
		return s, err
	}
	changes, err := gitChanges(ctx, top, "normal")
	if err != nil {
		return s, err
	}
	for _, c := range changes {
		if !c.untracked || !underAny(c.path, withPrefix(prefix, notSource)) {
			s.Dirty = true
			break
		}
	}
	ct, err := gitexec.Output(ctx, dir, "log", "-1", "--format=%ct", commit)
	if err != nil {
		return s, err
	}
	secs, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return s, fmt.Errorf("git commit time %q: %w", ct, err)
	}
	s.CommitTime = time.Unix(secs, 0).UTC()
	if remote, err := gitexec.Output(ctx, dir, "config", "--get", "remote.origin.url"); err == nil && remote != "" {
		s.URI = repoURI(remote)
	}
	return s, nil
}

// change is one entry of `git status`.
type change struct {
	path      string
	untracked bool
}

// repoRoot returns the top of the work tree that holds dir and dir's path
// inside it ("" or "sub/dir/").
func repoRoot(ctx context.Context, dir string) (top, prefix string, err error) {
	if top, err = gitexec.Output(ctx, dir, "rev-parse", "--show-toplevel"); err != nil {
		return "", "", err
	}
	if prefix, err = gitexec.Output(ctx, dir, "rev-parse", "--show-prefix"); err != nil {
		return "", "", err
	}
	return top, prefix, nil
}

// withPrefix turns slash paths relative to a subdirectory of the work tree
// into paths relative to its top.
func withPrefix(prefix string, ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = prefix + p
	}
	return out
}

// gitChanges lists the changed paths of the whole work tree at top (slash
// paths relative to it), untracked files too unless untracked is "no".
func gitChanges(ctx context.Context, dir, untracked string) ([]change, error) {
	out, err := gitexec.Raw(ctx, dir, "status", "--porcelain", "-z", "--untracked-files=no")
	if err != nil {
		return nil, err
	}
	var cs []change
	if untracked != "no" {
		// Untracked files are those no .gitignore file excludes, exactly
		// the files the source dirHash covers: .git/info/exclude and
		// core.excludesFile cannot hide a file the build reads.
		others, err := gitexec.Raw(ctx, dir, "ls-files", "-z", "--others", "--exclude-per-directory=.gitignore")
		if err != nil {
			return nil, err
		}
		for _, p := range strings.Split(others, "\x00") {
			if p != "" {
				cs = append(cs, change{path: p, untracked: true})
			}
		}
	}
	fields := strings.Split(out, "\x00")
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if len(f) < 4 {
			continue
		}
		xy, p := f[:2], f[3:]
		cs = append(cs, change{path: p, untracked: xy == "??"})
		if xy[0] == 'R' || xy[0] == 'C' {
			i++ // the original path of a rename or copy follows
			if i < len(fields) && fields[i] != "" {
				cs = append(cs, change{path: fields[i]})
			}
		}
	}
	hidden, err := hiddenChanges(ctx, dir)
	if err != nil {
		return nil, err
	}
	return append(cs, hidden...), nil
}

// hiddenChanges lists the index entries git status does not look at
// (marked assume-unchanged or skip-worktree, by `git update-index` or a
// sparse checkout) whose work-tree file is missing or differs from the
// index: a change hidden that way is still a change.
func hiddenChanges(ctx context.Context, dir string) ([]change, error) {
	out, err := gitexec.Raw(ctx, dir, "ls-files", "-v", "-z")
	if err != nil {
		return nil, err
	}
	var flagged []string
	for _, e := range strings.Split(out, "\x00") {
		if len(e) < 3 {
			continue
		}
		if tag := e[0]; tag == 'S' || (tag >= 'a' && tag <= 'z') {
			flagged = append(flagged, e[2:])
		}
	}
	var cs []change
	for _, p := range flagged {
		staged, err := gitexec.Output(ctx, dir, "ls-files", "-s", "--", ":(literal)"+p)
		if err != nil {
			return nil, err
		}
		fields := strings.Fields(staged)
		if len(fields) < 2 {
			continue
		}
		abs := filepath.Join(dir, filepath.FromSlash(p))
		if fi, err := os.Lstat(abs); err != nil || !fi.Mode().IsRegular() {
			cs = append(cs, change{path: p})
			continue
		}
		actual, err := gitexec.Output(ctx, dir, "hash-object", "--no-filters", "--", abs)
		if err != nil || actual != fields[1] {
			cs = append(cs, change{path: p})
		}
	}
	return cs, nil
}

// trackedState maps each tracked path of the work tree holding dir that
// differs from the commit (outside the skip directories, slash paths
// relative to dir) to a fingerprint of what is in the work tree now, so
// that two calls tell which tracked files changed in between. Paths are
// relative to the top of the work tree. Outside a git work tree it is nil.
func trackedState(ctx context.Context, dir string, skip []string) (map[string]string, error) {
	if out, err := gitexec.Output(ctx, dir, "rev-parse", "--is-inside-work-tree"); err != nil || out != "true" {
		return nil, nil
	}
	if _, err := gitexec.Output(ctx, dir, "rev-parse", "HEAD"); err != nil {
		return nil, nil
	}
	top, prefix, err := repoRoot(ctx, dir)
	if err != nil {
		return nil, err
	}
	changes, err := gitChanges(ctx, top, "no")
	if err != nil {
		return nil, err
	}
	skip = withPrefix(prefix, skip)
	state := map[string]string{}
	for _, c := range changes {
		if underAny(c.path, skip) {
			continue
		}
		state[c.path] = fingerprint(filepath.Join(top, filepath.FromSlash(c.path)))
	}
	return state, nil
}

// fingerprint identifies the content of a path: a sha256 for a regular
// file, the target of a symbolic link, "absent" for a deleted file.
func fingerprint(p string) string {
	fi, err := os.Lstat(p)
	switch {
	case err != nil:
		return "absent"
	case fi.Mode()&fs.ModeSymlink != 0:
		t, _ := os.Readlink(p)
		return "symlink:" + t
	case !fi.Mode().IsRegular():
		return "mode:" + fi.Mode().String()
	}
	// digest.File opens without blocking: a file swapped for a FIFO since
	// the Lstat is unreadable, not a hang.
	s, err := digest.File(p, digest.SHA256)
	if err != nil {
		return "unreadable"
	}
	return s[digest.SHA256]
}

// maxModifiedPaths bounds Source.ModifiedByBuild.
const maxModifiedPaths = 100

// modifiedBetween lists the paths whose fingerprints differ between two
// trackedState results, sorted and bounded by maxModifiedPaths.
func modifiedBetween(before, after map[string]string) []string {
	var out []string
	for p, fa := range after {
		if before[p] != fa {
			out = append(out, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			out = append(out, p) // changed back to the committed content
		}
	}
	slices.Sort(out)
	if len(out) > maxModifiedPaths {
		out = out[:maxModifiedPaths]
	}
	return out
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
