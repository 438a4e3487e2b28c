package misconfig

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"
	"gopkg.in/yaml.v3"
)

var (
	exprRE      = regexp.MustCompile(`\$\{\{(.*?)\}\}`)
	untrustedRE = regexp.MustCompile(`toJSON\(\s*github\.event\b[^)]*\)|github\.head_ref|github\.event\.(issue\.(title|body)|pull_request\.(title|body|head\.(ref|label|repo\.default_branch))|comment\.body|review\.body|review_comment\.body|pages\.[^\s]*\.page_name|commits\.[^\s]*\.(message|author\.(email|name))|head_commit\.(message|author\.(email|name))|discussion\.(title|body)|workflow_run\.(head_branch|display_title|head_commit\.(message|author\.(email|name)))|release\.(name|body))`)
	secretRefRE = regexp.MustCompile(`\bsecrets\.[A-Za-z_][A-Za-z0-9_]*|\bsecrets\[`)
	shaRE       = regexp.MustCompile(`^[0-9a-f]{40}$`)
	headRefRE   = regexp.MustCompile(`github\.event\.pull_request\.head\.(sha|ref)|github\.head_ref|github\.event\.workflow_run\.head_(sha|branch)|refs/pull/|github\.event\.issue\.number|github\.event\.comment`)
)

// publicPREvents are triggers a fork's pull request can fire.
var publicPREvents = []string{"pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment", "issue_comment"}

// knownActions are popular actions by owner; names one or two edits away
// from these are flagged as look-alikes.
var knownActions = map[string][]string{
	"actions":               {"checkout", "setup-node", "setup-python", "setup-go", "setup-java", "setup-dotnet", "cache", "upload-artifact", "download-artifact", "github-script", "labeler", "stale", "create-release", "attest-build-provenance", "configure-pages", "deploy-pages", "upload-pages-artifact", "dependency-review-action"},
	"github":                {"codeql-action"},
	"docker":                {"login-action", "build-push-action", "setup-buildx-action", "setup-qemu-action", "metadata-action"},
	"aws-actions":           {"configure-aws-credentials", "amazon-ecr-login"},
	"azure":                 {"login", "k8s-deploy", "setup-kubectl"},
	"google-github-actions": {"auth", "setup-gcloud", "get-gke-credentials"},
	"hashicorp":             {"setup-terraform", "vault-action"},
	"sigstore":              {"cosign-installer"},
	"slsa-framework":        {"slsa-github-generator", "slsa-verifier"},
	"ossf":                  {"scorecard-action"},
	"codecov":               {"codecov-action"},
	"golangci":              {"golangci-lint-action"},
	"softprops":             {"action-gh-release"},
	"peter-evans":           {"create-pull-request"},
	"dependabot":            {"fetch-metadata"},
	"step-security":         {"harden-runner"},
	"goreleaser":            {"goreleaser-action"},
	"pypa":                  {"gh-action-pypi-publish"},
	"anchore":               {"sbom-action", "scan-action"},
	"aquasecurity":          {"trivy-action"},
	"actions-rust-lang":     {"setup-rust-toolchain"},
	"ruby":                  {"setup-ruby"},
	"gradle":                {"actions"},
	"microsoft":             {"setup-msbuild"},
	"JamesIves":             {"github-pages-deploy-action"},
	"stefanzweifel":         {"git-auto-commit-action"},
	"tj-actions":            {"changed-files"},
	"dorny":                 {"paths-filter"},
	"pnpm":                  {"action-setup"},
	"denoland":              {"setup-deno"},
	"oven-sh":               {"setup-bun"},
	"cachix":                {"install-nix-action"},
	"shivammathur":          {"setup-php"},
	"subosito":              {"flutter-action"},
}

// actions checks a GitHub Actions workflow or composite action.
func (c *checker) actions(data []byte) error {
	docs, err := decodeYAML(data)
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		return nil
	}
	doc := docs[0]
	if doc.Kind != yaml.MappingNode {
		return fmt.Errorf("%w: top level is not a mapping", ErrParse)
	}
	if runs := val(doc, "runs"); runs != nil {
		// A composite (or JavaScript/Docker) action.
		for _, st := range items(val(runs, "steps")) {
			c.step(st, nil, secretEnvNames(nil, val(st, "env")))
		}
		if str(runs, "using") == "docker" {
			if k, v := get(runs, "image"); v != nil && strings.HasPrefix(v.Value, "docker://") {
				c.usesRef(v.Value, line(k, v.Line))
			}
		}
		return nil
	}
	_, on := get(doc, "on")
	triggers := triggerNames(on)
	c.checkEnv(val(doc, "env"))
	topSecretEnv := secretEnvNames(nil, val(doc, "env"))
	_, topPerm := get(doc, "permissions")
	if topPerm != nil {
		c.writeAll(topPerm, "workflow")
	}
	jobs := pairs(val(doc, "jobs"))
	missingJobPerm := false
	for _, j := range jobs {
		name, job := j[0].Value, j[1]
		_, perm := get(job, "permissions")
		if perm == nil {
			missingJobPerm = true
		} else {
			c.writeAll(perm, "job "+name)
		}
		c.checkEnv(val(job, "env"))
		if k, v := get(job, "uses"); v != nil {
			c.usesRef(v.Value, line(k, v.Line))
		}
		if k, ro := get(job, "runs-on"); ro != nil && c.selfHosted(ro) {
			if pr := slices.DeleteFunc(slices.Clone(triggers), func(t string) bool { return !slices.Contains(publicPREvents, t) }); len(pr) > 0 {
				c.report(RuleGHASelfHostedPublic, k.Line, "runs-on: self-hosted", "job %s runs on a self-hosted runner and is triggered by %s", name, strings.Join(pr, ", "))
			}
		}
		jobSecretEnv := secretEnvNames(topSecretEnv, val(job, "env"))
		for _, st := range items(val(job, "steps")) {
			c.step(st, triggers, secretEnvNames(jobSecretEnv, val(st, "env")))
		}
	}
	if topPerm == nil && missingJobPerm && len(jobs) > 0 {
		c.report(RuleGHANoPermissions, doc.Content[0].Line, "permissions", "the workflow has no top-level permissions and at least one job declares none")
	}
	return nil
}

// triggerNames lists the events of an on: value (scalar, list or map).
func triggerNames(on *yaml.Node) []string {
	if on == nil {
		return nil
	}
	switch on.Kind {
	case yaml.ScalarNode:
		return []string{on.Value}
	case yaml.SequenceNode:
		return scalars(on)
	case yaml.MappingNode:
		var out []string
		for _, p := range pairs(on) {
			out = append(out, p[0].Value)
		}
		return out
	}
	return nil
}

func (c *checker) writeAll(perm *yaml.Node, where string) {
	if perm.Kind == yaml.ScalarNode && perm.Value == "write-all" {
		c.report(RuleGHAWriteAll, perm.Line, "permissions: write-all", "%s grants write-all", where)
	}
}

func (c *checker) checkEnv(env *yaml.Node) {
	for _, p := range pairs(env) {
		if p[0].Value == "ACTIONS_ALLOW_UNSECURE_COMMANDS" && p[1] != nil && strings.EqualFold(strings.TrimSpace(p[1].Value), "true") {
			c.report(RuleGHAUnsecureCommands, p[0].Line, "ACTIONS_ALLOW_UNSECURE_COMMANDS: true", "ACTIONS_ALLOW_UNSECURE_COMMANDS is enabled")
		}
	}
}

// secretEnvNames adds to inherited the env variable names whose value
// expands a secret.
func secretEnvNames(inherited []string, env *yaml.Node) []string {
	out := slices.Clone(inherited)
	for _, p := range pairs(env) {
		if p[1] != nil && secretRefRE.MatchString(p[1].Value) {
			out = append(out, p[0].Value)
		}
	}
	return out
}

func (c *checker) selfHosted(ro *yaml.Node) bool {
	var labels []string
	switch ro.Kind {
	case yaml.ScalarNode:
		labels = []string{ro.Value}
	case yaml.SequenceNode:
		labels = scalars(ro)
	case yaml.MappingNode:
		labels = append(scalars(val(ro, "labels")), str(ro, "labels"))
	}
	return slices.Contains(labels, "self-hosted")
}

func (c *checker) step(st *yaml.Node, triggers []string, secretEnv []string) {
	if st == nil {
		return
	}
	c.checkEnv(val(st, "env"))
	if k, v := get(st, "uses"); v != nil {
		c.usesRef(v.Value, line(k, v.Line))
		action := strings.ToLower(strings.SplitN(v.Value, "@", 2)[0])
		if action == "actions/checkout" && len(privileged(triggers)) > 0 {
			if rk, ref := get(val(st, "with"), "ref"); ref != nil && headRefRE.MatchString(ref.Value) {
				c.report(RuleGHAUntrustedCheckout, rk.Line, "ref: "+ref.Value, "a %s workflow checks out the untrusted head %s", strings.Join(privileged(triggers), "/"), ref.Value)
			}
		}
		if action == "actions/github-script" {
			if _, script := get(val(st, "with"), "script"); script != nil {
				c.scriptText(script, "github-script", secretEnv, false)
			}
		}
	}
	if _, run := get(st, "run"); run != nil && run.Kind == yaml.ScalarNode {
		c.scriptText(run, "run", secretEnv, true)
	}
}

func privileged(triggers []string) []string {
	return slices.DeleteFunc(slices.Clone(triggers), func(t string) bool { return t != "pull_request_target" && t != "workflow_run" && t != "issue_comment" })
}

// scriptText checks a run: (or github-script) body line by line.
func (c *checker) scriptText(n *yaml.Node, what string, secretEnv []string, shell bool) {
	base := n.Line
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		base++
	}
	lines := strings.Split(n.Value, "\n")
	for i, l := range lines {
		ln := base + i
		for _, m := range exprRE.FindAllStringSubmatch(l, -1) {
			expr := strings.TrimSpace(m[1])
			if u := untrustedRE.FindString(expr); u != "" {
				c.report(RuleGHAScriptInjection, ln, m[0], "%s expands untrusted %s directly into the script", what, u)
			}
			if secretRefRE.MatchString(expr) {
				c.report(RuleGHASecretInRun, ln, m[0], "%s writes %s into the script text", what, strings.TrimSpace(expr))
			}
		}
		if shell && len(secretEnv) > 0 && echoRE.MatchString(l) {
			for _, name := range secretEnv {
				if strings.Contains(l, "$"+name) || strings.Contains(l, "${"+name) {
					c.report(RuleGHASecretInRun, ln, "echo $"+name, "%s prints %s, which holds a secret", what, name)
					break
				}
			}
		}
	}
	if !shell {
		return
	}
	script := exprRE.ReplaceAllString(n.Value, "GHAEXPR")
	sh := parseShell(script)
	for _, p := range sh.pipeToShell() {
		c.report(RuleGHAPipeToShell, base+p.line-1, lineAt(lines, p.line), "a downloaded script is run by %s", p.name())
	}
}

var echoRE = regexp.MustCompile(`(^|[\s;&|(])(echo|printf)\b`)

func lineAt(lines []string, n int) string {
	if n >= 1 && n <= len(lines) {
		return strings.TrimSpace(lines[n-1])
	}
	return ""
}

// usesRef checks one uses: value for pinning and look-alike names.
func (c *checker) usesRef(uses string, ln int) {
	switch {
	case strings.HasPrefix(uses, "./") || strings.HasPrefix(uses, "../"):
		return
	case strings.HasPrefix(uses, "docker://"):
		if !strings.Contains(uses, "@sha256:") {
			c.report(RuleGHAUnpinnedAction, ln, uses, "container action %s is not pinned by digest", uses)
		}
		return
	}
	action, ref, _ := strings.Cut(uses, "@")
	if !shaRE.MatchString(ref) {
		c.report(RuleGHAUnpinnedAction, ln, uses, "%s is pinned to %q, not a full commit SHA", action, ref)
	}
	parts := strings.Split(action, "/")
	if len(parts) < 2 {
		return
	}
	if like := lookalike(parts[0], parts[1]); like != "" {
		c.report(RuleGHALookalikeAction, ln, uses, "%s/%s looks like %s", parts[0], parts[1], like)
	}
}

// lookalike returns the well-known action that owner/repo imitates, or "".
func lookalike(owner, repo string) string {
	lo, lr := strings.ToLower(owner), strings.ToLower(repo)
	for known, repos := range knownActions {
		kl := strings.ToLower(known)
		if lo == kl {
			if slices.ContainsFunc(repos, func(r string) bool { return strings.ToLower(r) == lr }) {
				return ""
			}
			for _, r := range repos {
				if d := levenshtein.ComputeDistance(lr, r); d > 0 && d <= 2 && len(r) > 4 {
					return known + "/" + r
				}
			}
			return ""
		}
	}
	owners := slices.Sorted(maps.Keys(knownActions))
	for _, known := range owners {
		kl := strings.ToLower(known)
		if d := levenshtein.ComputeDistance(lo, kl); d > 0 && d <= 2 && len(kl) >= 5 {
			if slices.Contains(knownActions[known], lr) {
				return known + "/" + lr
			}
			if len(kl) >= 6 {
				return known
			}
		}
	}
	return ""
}
