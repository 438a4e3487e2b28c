// Package gitexec is the one hardened way Hallmark runs git on a tree it
// does not trust: a fixed environment (no caller configuration,
// credentials, askpass helper or terminal prompt, the C locale) and
// command-line settings that keep the repository's own configuration from
// running commands for git (fsmonitor hooks) or changing what it reports
// (the untracked cache). build, repro and the CLI all run git through it.
package gitexec
