package repro

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// tmpfsMagic is the statfs type of tmpfs, whose readdir returns entries in
// reverse creation order.
const tmpfsMagic = 0x01021994

// probe decides, for each requested variation, whether and how it can be
// applied on this machine, trying the namespace tools once.
func (r *runner) probe(ctx context.Context) []Applied {
	var err error
	if r.sh, err = r.cfg.lookPath("sh"); err != nil {
		r.sh = "/bin/sh"
	}
	var out []Applied
	for _, v := range r.cfg.variations {
		a := Applied{Variation: v, Applied: true}
		switch v {
		case VaryEnvironment:
			a.How = "HALLMARK_REPRO_EXTRA unset vs set"
		case VaryBuildPath:
			a.How = r.work + "/build/src vs " + r.work + "/variant-build-path/deeper/source-tree"
		case VaryHome:
			a.How = "HOME=.../home/first-build vs .../home/second-build"
		case VaryLocale:
			a.How = "LANG=LC_ALL=C.UTF-8 vs LANG=LC_ALL=fr_CH.UTF-8, LANGUAGE=fr_CH:fr"
			a.Reason = "a locale that is not installed falls back to C in glibc programs"
		case VaryTimezone:
			a.How = "TZ=GMT+12 vs TZ=GMT-14"
		case VaryUmask:
			a.How = "umask 0022 vs 0002"
		case VaryCPUs:
			a.How = "GOMAXPROCS unset vs 1"
			if ts, err := r.cfg.lookPath("taskset"); err == nil && r.cfg.numCPU > 1 {
				r.taskset = ts
				a.How = fmt.Sprintf("all %d CPUs vs 1 (taskset -c 0); GOMAXPROCS unset vs 1", r.cfg.numCPU)
			} else if err != nil {
				a.Reason = "taskset not installed: only GOMAXPROCS varies"
			} else {
				a.Reason = "one CPU available: only GOMAXPROCS varies"
			}
		case VaryTime:
			ft, err := r.cfg.lookPath("faketime")
			if err != nil {
				a.Applied, a.Reason = false, "faketime not installed (Debian package faketime)"
				break
			}
			r.faketime = ft
			a.How = "real clock vs faketime -f +373d"
			a.Reason = "libfaketime works through LD_PRELOAD: it does not move the clock of static binaries or Go programs"
		case VaryHostname:
			us, err := r.cfg.lookPath("unshare")
			if err != nil {
				a.Applied, a.Reason = false, "unshare not installed (util-linux)"
				break
			}
			a.Applied = false
			for _, prefix := range [][]string{{us}, {us, "--user", "--map-root-user"}} {
				probe := append(slices.Clone(prefix), "--uts", "--", r.sh, "-c", setUTS)
				msg, err := r.tryBuild(ctx, probe)
				if err != nil {
					a.Reason = "cannot create a UTS namespace: " + msg
					continue
				}
				r.unshare = prefix
				a.Applied, a.Reason = true, ""
				a.How = "host's hostname and domain name vs hallmark-experiment(.invalid) (" + strings.Join(prefix, " ") + " --uts)"
				break
			}
		case VaryUser:
			us, err := r.cfg.lookPath("unshare")
			if err != nil {
				a.Applied, a.Reason = false, "unshare not installed (util-linux)"
				break
			}
			if msg, err := r.tryBuild(ctx, []string{us, "--user", "--map-user=4242", "--map-group=4242", "--", r.sh, "-c", "true"}); err != nil {
				a.Applied, a.Reason = false, "cannot create a user namespace: "+msg
				break
			}
			if r.unshare == nil {
				r.unshare = []string{us}
			}
			a.How = "own uid/gid vs 4242/4242 (unshare --user --map-user --map-group)"
		case VaryFileOrder:
			msg := r.probeDisorderfs(ctx)
			if msg == "" {
				a.How = "directory entries in the file system's order vs reversed (disorderfs --reverse-dirents=yes)"
				break
			}
			var st syscall.Statfs_t
			if err := syscall.Statfs(r.work, &st); err == nil && st.Type == tmpfsMagic {
				a.How = "source copied in name order vs reverse name order (tmpfs lists entries by creation)"
				a.Reason = msg
				break
			}
			a.Applied = false
			a.Reason = msg + "; the work directory is not on tmpfs either: directory order not varied"
		}
		out = append(out, a)
	}
	return out
}

// probeDisorderfs finds disorderfs and checks that a FUSE mount works here.
// It returns "" on success, or why disorderfs cannot be used.
func (r *runner) probeDisorderfs(ctx context.Context) string {
	dfs, err := r.cfg.lookPath("disorderfs")
	if err != nil {
		return "disorderfs not installed (Debian package disorderfs)"
	}
	for _, name := range []string{"fusermount3", "fusermount"} {
		if p, err := r.cfg.lookPath(name); err == nil {
			r.fusermount = p
			break
		}
	}
	src, mnt := filepath.Join(r.work, "probe", "src"), filepath.Join(r.work, "probe", "mnt")
	defer os.RemoveAll(filepath.Join(r.work, "probe"))
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err.Error()
	}
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return err.Error()
	}
	r.disorderfs = dfs
	if err := r.mount(ctx, src, mnt); err != nil {
		r.disorderfs = ""
		return "disorderfs cannot mount here: " + err.Error()
	}
	if err := r.unmount(ctx, mnt); err != nil {
		r.disorderfs = ""
		return "disorderfs cannot unmount here: " + err.Error()
	}
	return ""
}

// mount mounts src on mnt through disorderfs, reversing directory order.
func (r *runner) mount(ctx context.Context, src, mnt string) error {
	msg, err := r.try(ctx, []string{r.disorderfs, "--reverse-dirents=yes", "--shuffle-dirents=no", "--multi-user=yes", "--quiet", src, mnt})
	if err != nil {
		return fmt.Errorf("%s: %w", msg, err)
	}
	return nil
}

func (r *runner) unmount(ctx context.Context, mnt string) error {
	if r.fusermount != "" {
		if msg, err := r.try(ctx, []string{r.fusermount, "-u", mnt}); err != nil {
			return fmt.Errorf("%s: %w", msg, err)
		}
		return nil
	}
	return syscall.Unmount(mnt, 0)
}

// try runs a probe command and returns its output on failure.
func (r *runner) try(ctx context.Context, argv []string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = r.cfg.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = err.Error()
		}
		return msg, err
	}
	return "", nil
}

// tryBuild runs a probe command where the builds run (in the sandbox, when
// there is one: a namespace tool that works on the host may not work
// inside it) and returns its output on failure.
func (r *runner) tryBuild(ctx context.Context, argv []string) (string, error) {
	var out tailBuffer
	if err := r.run(ctx, argv, r.cfg.env, r.work, r.work, &out); err != nil {
		msg := strings.TrimSpace(out.String())
		if msg == "" {
			msg = err.Error()
		}
		return msg, err
	}
	return "", nil
}
