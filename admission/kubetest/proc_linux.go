package kubetest

import "syscall"

// dieWithParent has the kernel kill a child process when the test binary
// dies without running its cleanups (a timeout panic), so no etcd or API
// server outlives it.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
