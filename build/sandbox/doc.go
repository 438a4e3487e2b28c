// Package sandbox runs a command in fresh Linux user, mount, PID, network,
// UTS and IPC namespaces with a minimal, mostly read-only file system.
//
// The isolation is set up by a helper process: [Run] starts the helper
// (normally the hallmark binary itself, re-executed with a hidden
// subcommand that calls [InitMain]) inside new namespaces and sends it the
// [Config] over an inherited pipe. The helper builds a new root on a tmpfs
// that contains only the system directories (/usr, /lib, selected /etc
// files), the source tree bound read-only, the declared writable
// directories, extra read-only paths (such as the Go module cache), an
// empty HOME and /tmp, a private /dev and a /proc for the new PID
// namespace; it pivots into that root, drops every capability and
// executes the command. Setup failures are reported back over a second
// pipe as a [*SetupError], so a caller can fall back when namespaces are
// unavailable.
package sandbox
