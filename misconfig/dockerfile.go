package misconfig

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// dfStage is what the Dockerfile rules track per build stage.
type dfStage struct {
	name     string
	fromLine int
	base     string
	user     string // last USER value, "" if none
	userLine int
	nonroot  bool // base image is known to default to a non-root user
}

// dockerfile checks one Dockerfile.
func (c *checker) dockerfile(data []byte) error {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrParse, err)
	}
	if res.AST == nil || !slices.ContainsFunc(res.AST.Children, func(n *parser.Node) bool { return strings.EqualFold(n.Value, "from") }) {
		return fmt.Errorf("%w: no FROM instruction", ErrParse)
	}
	globalArgs := map[string]string{}
	stages := map[string]*dfStage{}
	var cur *dfStage
	for _, n := range res.AST.Children {
		instr := strings.ToLower(n.Value)
		args := nodeArgs(n)
		line := n.StartLine
		switch instr {
		case "arg":
			for _, a := range args {
				k, v, _ := strings.Cut(a, "=")
				if cur == nil {
					globalArgs[k] = v
				}
				if isSecretName(k) {
					c.report(RuleDFSecretInArgEnv, line, "ARG "+k, "build argument %s looks like a secret; its value is recorded in the image history", k)
				}
			}
		case "from":
			cur = c.dfFrom(n, args, globalArgs, stages)
		case "user":
			if cur != nil && len(args) > 0 {
				cur.user, cur.userLine = args[0], line
			}
		case "env":
			for i := 0; i+1 < len(args); i += 2 {
				k, v := args[i], args[i+1]
				if isSecretName(k) {
					c.report(RuleDFSecretInArgEnv, line, "ENV "+k+"=<redacted>", "environment variable %s looks like a secret and is stored in the image configuration", k)
				}
				if why := insecureEnv(k, v); why != "" {
					c.report(RuleDFVerificationOff, line, "ENV "+k+"="+v, "%s", why)
				}
				if extraIndexEnv(k) {
					c.report(RuleDFExtraIndex, line, "ENV "+k, "%s adds a second package index", k)
				}
			}
		case "copy", "add":
			c.dfCopy(n, instr, args)
		case "expose":
			for _, a := range args {
				if p, _, _ := strings.Cut(a, "/"); p == "22" {
					c.report(RuleDFSSH, line, "EXPOSE "+a, "port 22 (SSH) is exposed")
				}
			}
		case "run":
			for _, script := range runScripts(n, args) {
				c.dfRun(line, script)
			}
		}
	}
	if cur != nil {
		c.dfFinalUser(cur)
	}
	return nil
}

// nodeArgs returns the words of an instruction.
func nodeArgs(n *parser.Node) []string {
	var out []string
	for a := n.Next; a != nil; a = a.Next {
		out = append(out, a.Value)
	}
	return out
}

var nonRootTagRE = regexp.MustCompile(`(?i)(^|[-_.:])nonroot($|[-_.@])`)

func (c *checker) dfFrom(n *parser.Node, args []string, globalArgs map[string]string, stages map[string]*dfStage) *dfStage {
	st := &dfStage{fromLine: n.StartLine}
	if len(args) == 0 {
		return st
	}
	img := expandArgs(args[0], globalArgs)
	st.base = img
	if len(args) >= 3 && strings.EqualFold(args[1], "as") {
		st.name = strings.ToLower(args[2])
		stages[st.name] = st
	}
	if prev, ok := stages[strings.ToLower(img)]; ok && prev != st {
		st.user, st.userLine, st.nonroot = prev.user, prev.userLine, prev.nonroot
		return st
	}
	if strings.EqualFold(img, "scratch") {
		return st
	}
	st.nonroot = nonRootTagRE.MatchString(img)
	ref, ok := parseImage(img)
	if !ok || ref.unresolved {
		return st
	}
	line := n.StartLine
	switch {
	case ref.digest:
	case ref.tag == "" || ref.tag == "latest":
		c.report(RuleDFLatestTag, line, "FROM "+img, "base image %s has no version tag or uses latest", img)
	default:
		c.report(RuleDFNotDigestPinned, line, "FROM "+img, "base image %s is pinned by tag only, not by digest", img)
	}
	if len(c.cfg.AllowedRegistries) > 0 && !ref.allowed(c.cfg.AllowedRegistries) {
		c.report(RuleDFRegistryNotAllowed, line, "FROM "+img, "base image %s comes from %s, which is not on the allowlist", img, ref.registry)
	}
	return st
}

var argRefRE = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// expandArgs substitutes global ARG defaults into a FROM image reference.
func expandArgs(s string, args map[string]string) string {
	return argRefRE.ReplaceAllStringFunc(s, func(m string) string {
		k := argRefRE.FindStringSubmatch(m)[1]
		if v, ok := args[k]; ok && v != "" {
			return v
		}
		return m
	})
}

func (c *checker) dfFinalUser(st *dfStage) {
	u := strings.ToLower(st.user)
	if name, _, ok := strings.Cut(u, ":"); ok {
		u = name
	}
	switch {
	case st.user == "" && st.nonroot:
	case st.user == "":
		c.report(RuleDFRunsAsRoot, st.fromLine, "FROM "+st.base, "the final stage sets no USER, so it runs as root")
	case u == "root" || u == "0":
		c.report(RuleDFRunsAsRoot, st.userLine, "USER "+st.user, "the final stage switches to USER %s", st.user)
	}
}

var secretFileRE = regexp.MustCompile(`(?i)(^|/)(id_(rsa|dsa|ecdsa|ed25519)|\.env(\.[a-z0-9_-]+)?|\.npmrc|\.pypirc|\.netrc|\.git-credentials|\.dockercfg|credentials(\.json)?|kubeconfig|[^/]*service[-_]?account[^/]*\.json|[^/]*\.(key|p12|pfx|jks|keystore))$|(^|/)\.(ssh|aws|gnupg)(/|$)|\.docker/config\.json$`)

func (c *checker) dfCopy(n *parser.Node, instr string, args []string) {
	if len(args) < 2 {
		return
	}
	srcs := args[:len(args)-1]
	line := n.StartLine
	hasChecksum := slices.ContainsFunc(n.Flags, func(f string) bool { return strings.HasPrefix(f, "--checksum") })
	for _, s := range srcs {
		lower := strings.ToLower(s)
		if instr == "add" && (strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")) && !hasChecksum {
			c.report(RuleDFAddURL, line, "ADD "+s, "ADD downloads %s without a checksum", s)
		}
		if secretFileRE.MatchString(strings.TrimSuffix(s, "/")) && c.copiesSecret(s) {
			c.report(RuleDFSecretFileCopied, line, strings.ToUpper(instr)+" "+s, "%s copies %s into an image layer", strings.ToUpper(instr), s)
		}
	}
}

// maxContextEntries bounds how much of a build context copiesSecret reads.
const maxContextEntries = 10000

// copiesSecret judges a COPY source whose name looks like a credential by
// what it is in the build context: a directory (a Go package called
// "credentials", say) is reported only when something inside it looks like
// a credential file, or when its own name is a credential directory (.ssh,
// .aws, .gnupg). Without a build context, or when the path is not there (a
// wildcard, a path outside the context), the name alone decides.
func (c *checker) copiesSecret(src string) bool {
	p := path.Clean(strings.TrimPrefix(src, "/"))
	if c.buildCtx == nil || !fs.ValidPath(p) || strings.ContainsAny(p, "*?[") {
		return true
	}
	st, err := fs.Stat(c.buildCtx, p)
	if err != nil || !st.IsDir() {
		return true
	}
	if secretDirRE.MatchString(p) {
		return true
	}
	found, n := false, 0
	_ = fs.WalkDir(c.buildCtx, p, func(q string, d fs.DirEntry, err error) error {
		n++
		if n > maxContextEntries {
			found = true // too large to judge: keep the finding
			return fs.SkipAll
		}
		if err != nil || q == p {
			return nil
		}
		rel := strings.TrimPrefix(q, p+"/")
		if secretFileRE.MatchString(rel) {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}

var secretDirRE = regexp.MustCompile(`(?i)(^|/)\.(ssh|aws|gnupg|docker)$`)

// runScripts returns the shell scripts a RUN instruction executes.
func runScripts(n *parser.Node, args []string) []string {
	var out []string
	if n.Attributes["json"] {
		if len(args) >= 3 && shells[path.Base(args[0])] && args[1] == "-c" {
			out = append(out, args[2])
		} else {
			out = append(out, strings.Join(quoteAll(args), " "))
		}
	} else if len(args) > 0 {
		out = append(out, strings.Join(args, " "))
	}
	for _, h := range n.Heredocs {
		out = append(out, h.Content)
	}
	return out
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return out
}

func (c *checker) dfRun(line int, script string) {
	sh := parseShell(script)
	if p := sh.pipeToShell(); len(p) > 0 {
		c.report(RuleDFPipeToShell, line, firstLine(script), "a downloaded script is run by %s without verification", p[0].name())
	}
	if why := verificationOff(sh, script); len(why) > 0 {
		c.report(RuleDFVerificationOff, line, firstLine(script), "verification disabled: %s", strings.Join(why, "; "))
	}
	if pk := unpinnedPackages(sh); len(pk) > 0 {
		c.report(RuleDFUnpinnedPackages, line, firstLine(script), "packages installed without a pinned version: %s", strings.Join(pk, ", "))
	}
	if why := extraIndex(sh); why != "" {
		c.report(RuleDFExtraIndex, line, firstLine(script), "%s", why)
	}
	for _, cmd := range sh.cmds {
		if len(cmd.args) > 0 && path.Base(cmd.args[0]) == "sudo" {
			c.report(RuleDFSudo, line, firstLine(script), "RUN uses sudo")
			break
		}
	}
	if installs(sh, "openssh-server", "openssh", "dropbear") {
		c.report(RuleDFSSH, line, firstLine(script), "an SSH server is installed")
	}
	if why := hardcodedPassword(sh); why != "" {
		c.report(RuleDFHardcodedPassword, line, "<redacted>", "%s", why)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
