//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// Inherited descriptors of the helper.
const (
	configFD = 3
	statusFD = 4
)

// systemDirs are bound read-only when present (or recreated as symlinks
// when they are symlinks, as on merged-/usr systems).
var systemDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// etcFiles are the only parts of /etc visible inside: name resolution,
// users, TLS roots, the dynamic linker cache and Debian alternatives.
var etcFiles = []string{
	"/etc/passwd", "/etc/group", "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf",
	"/etc/ssl", "/etc/ca-certificates", "/etc/ca-certificates.conf", "/etc/pki",
	"/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/os-release",
}

// devFiles are the only devices inside. /dev/tty is deliberately absent:
// the build runs in its own session without a controlling terminal, and
// the caller's terminal must not be reachable from it.
var devFiles = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"}

// InitMain is the body of the sandbox helper. The hallmark binary wires it
// to a hidden subcommand ("hallmark __sandbox-init"); tests re-execute the
// test binary. It reads the Config from file descriptor 3, sets up the new
// root and executes the command, so it returns only on failure, with the
// exit code the helper should exit with. The failure is also reported to
// Run over file descriptor 4. args is unused and reserved.
func InitMain(args []string) int {
	_ = args
	status := os.NewFile(statusFD, "status")
	fail := func(step string, err error) int {
		if status != nil {
			fmt.Fprintf(status, "%s: %v", step, err)
			status.Close()
		}
		return 125
	}
	// Every credential and mount change below must happen on the thread
	// that finally calls execve.
	runtime.LockOSThread()
	cfgFile := os.NewFile(configFD, "config")
	if cfgFile == nil {
		return fail("read configuration", errors.New("file descriptor 3 missing"))
	}
	cfg, err := decodeConfig(cfgFile)
	cfgFile.Close()
	if err != nil {
		return fail("read configuration", err)
	}
	if err := setupRoot(cfg); err != nil {
		return fail("set up file system", err)
	}
	if err := unix.Sethostname([]byte(Hostname)); err != nil {
		return fail("set host name", err)
	}
	if err := os.Chdir(cfg.Dir); err != nil {
		return fail("enter working directory", err)
	}
	if err := dropCapabilities(); err != nil {
		return fail("drop capabilities", err)
	}
	if _, err := unix.FcntlInt(statusFD, unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		return fail("close status pipe on exec", err)
	}
	// Tell Run the helper is ready; exec then closes the pipe, and a
	// failed exec appends its reason.
	if _, err := status.Write([]byte{readyByte}); err != nil {
		return fail("report ready", err)
	}
	err = syscall.Exec(cfg.Argv[0], cfg.Argv, cfg.Env)
	return fail("execute "+cfg.Argv[0], err)
}

// setupRoot builds the new root on a tmpfs at cfg.Root and pivots into it.
func setupRoot(cfg *Config) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	root := cfg.Root
	if err := unix.Mount("tmpfs", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("mount root tmpfs: %w", err)
	}
	for _, d := range systemDirs {
		if err := bindOrLink(root, d); err != nil {
			return err
		}
	}
	for _, f := range etcFiles {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		if err := bind(root, f, f, true); err != nil {
			return err
		}
	}
	// Private /dev with only harmless character devices.
	if err := mountTmpfs(root, "/dev", "mode=0755"); err != nil {
		return err
	}
	for _, f := range devFiles {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		if err := bind(root, f, f, false); err != nil {
			return err
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, filepath.Join(root, "dev", name)); err != nil {
			return err
		}
	}
	if err := mountTmpfs(root, "/dev/shm", "mode=1777"); err != nil {
		return err
	}
	// A /proc for the new PID namespace: host processes are not visible.
	if err := os.MkdirAll(filepath.Join(root, "proc"), 0o555); err != nil {
		return err
	}
	if err := unix.Mount("proc", filepath.Join(root, "proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := mountTmpfs(root, "/tmp", "mode=1777"); err != nil {
		return err
	}
	if err := mountTmpfs(root, Home, "mode=0700"); err != nil {
		return err
	}
	if err := bind(root, cfg.SourceDir, cfg.SourceDir, true); err != nil {
		return err
	}
	for _, p := range cfg.ReadOnlyPaths {
		if err := bind(root, p, p, true); err != nil {
			return err
		}
	}
	for _, p := range cfg.WritableDirs {
		if err := bind(root, p, p, false); err != nil {
			return err
		}
	}
	// Pivot so the host file system is gone, not merely hidden.
	old := filepath.Join(root, ".oldroot")
	if err := os.Mkdir(old, 0o700); err != nil {
		return err
	}
	if err := unix.PivotRoot(root, old); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := os.Chdir("/"); err != nil {
		return err
	}
	if err := unix.Unmount("/.oldroot", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := os.Remove("/.oldroot"); err != nil {
		return err
	}
	// The skeleton itself becomes read-only; /tmp, HOME and the writable
	// directories are separate mounts and stay writable.
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("remount root read-only: %w", err)
	}
	return nil
}

func mountTmpfs(root, p, opts string) error {
	dst := filepath.Join(root, p)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", dst, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", p, err)
	}
	return nil
}

// bindOrLink recreates a top-level symlink (such as /bin -> usr/bin) or
// binds a directory read-only.
func bindOrLink(root, p string) error {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		return os.Symlink(target, filepath.Join(root, p))
	}
	return bind(root, p, p, true)
}

// bind mounts src at root+dst, read-only when ro. Re-mounting read-only in
// a user namespace must keep the flags the kernel locked on the source
// mount (nosuid, nodev, noexec), so they are read back and preserved.
func bind(root, src, dst string, ro bool) error {
	target := filepath.Join(root, dst)
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		err = os.MkdirAll(target, 0o755)
	} else {
		if err = os.MkdirAll(filepath.Dir(target), 0o755); err == nil {
			var f *os.File
			if f, err = os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				f.Close()
			}
		}
	}
	if err != nil {
		return fmt.Errorf("mount point for %s: %w", dst, err)
	}
	if err := unix.Mount(src, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", dst, err)
	}
	flags := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_NOSUID)
	for _, f := range []struct{ st, ms int64 }{
		{unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if st.Flags&f.st != 0 {
			flags |= uintptr(f.ms)
		}
	}
	if ro {
		flags |= unix.MS_RDONLY
	} else if st.Flags&unix.ST_RDONLY != 0 {
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("", target, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s (read-only=%v): %w", dst, ro, err)
	}
	return nil
}

// dropCapabilities empties the bounding, ambient, inheritable, permitted
// and effective sets of this thread and forbids regaining privileges, so
// the command, although uid 0 in its namespace, cannot remount, unmount or
// otherwise undo the sandbox.
func dropCapabilities() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	for c := 0; c <= unix.CAP_LAST_CAP; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}
