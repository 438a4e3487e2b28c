package cli

import (
	"fmt"
	"time"
)

// progressInterval is how often a running count is reported.
const progressInterval = time.Second

// showProgress reports whether progress lines are wanted: stderr is a
// terminal and --quiet was not given. Progress never goes to stdout, so it
// cannot mix into JSON or SARIF output.
func (a *App) showProgress() bool { return a.StderrTerminal && !a.quiet }

// progress writes one status line ("hallmark: ...") to stderr when
// showProgress. Libraries get it as a func (progressFunc) and never see the
// terminal.
func (a *App) progress(format string, args ...any) {
	if !a.showProgress() {
		return
	}
	fmt.Fprintf(a.Stderr, "hallmark: "+format+"\n", args...)
}

// progressFunc is progress as a func(msg) for library options, or nil when
// progress is off.
func (a *App) progressFunc(prefix string) func(string) {
	if !a.showProgress() {
		return nil
	}
	return func(msg string) { a.progress("%s%s", prefix, msg) }
}

// countProgress returns a func(path, n) that reports "<what>: n files
// (path)" for the first file and then at most once per progressInterval,
// or nil when progress is off.
func (a *App) countProgress(what string) func(string, int) {
	if !a.showProgress() {
		return nil
	}
	var last time.Time
	return func(path string, n int) {
		now := a.Now()
		if n > 1 && now.Sub(last) < progressInterval {
			return
		}
		last = now
		a.progress("%s: %d files (%s)", what, n, path)
	}
}
