package misconfig

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hallmark-dev/hallmark/finding"
)

// errNotKubernetes marks a YAML file that holds no Kubernetes object; Scan
// skips such files silently.
var errNotKubernetes = errors.New("not a Kubernetes manifest")

// podSpecPaths says where each workload kind keeps its pod spec.
var podSpecPaths = map[string][]string{
	"Pod":                   {"spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
	"PodTemplate":           {"template", "spec"},
}

// kubernetes checks every object in a (multi-document) manifest.
func (c *checker) kubernetes(data []byte) error {
	docs, err := decodeYAML(data)
	if err != nil {
		if !bytes.Contains(data, []byte("apiVersion")) || !bytes.Contains(data, []byte("kind")) {
			return errNotKubernetes
		}
	}
	found := false
	for _, d := range docs {
		if str(d, "apiVersion") != "" && str(d, "kind") != "" {
			found = true
			c.kubeObject(d, 0)
		}
	}
	if !found && err == nil {
		return errNotKubernetes
	}
	return err
}

func (c *checker) kubeObject(obj *yaml.Node, depth int) {
	if depth > 5 {
		return
	}
	kind := str(obj, "kind")
	name := str(obj, "metadata", "name")
	what := kind + "/" + name
	if strings.HasSuffix(kind, "List") {
		for _, it := range items(val(obj, "items")) {
			c.kubeObject(it, depth+1)
		}
		return
	}
	if p, ok := podSpecPaths[kind]; ok {
		keys := p[:len(p)-1]
		parent := obj
		if len(keys) > 0 {
			parent = val(obj, keys...)
		}
		if k, spec := get(parent, "spec"); spec != nil {
			c.podSpec(what, spec, k.Line)
		}
		return
	}
	switch kind {
	case "Role", "ClusterRole":
		for _, r := range items(val(obj, "rules")) {
			c.rbacRule(what, r)
		}
	case "RoleBinding", "ClusterRoleBinding":
		c.binding(what, obj)
	case "ConfigMap":
		c.configMap(what, obj)
	case "Secret":
		for _, key := range []string{"data", "stringData"} {
			if k, v := get(obj, key); v != nil && slices.ContainsFunc(pairs(v), func(p [2]*yaml.Node) bool { return p[1].Value != "" }) {
				c.report(RuleK8SSecretLiteral, k.Line, what+" "+key, "%s commits %d literal value(s) under %s", what, len(pairs(v)), key)
				break
			}
		}
	}
}

// secCtx is the effective security context of a container: container
// settings override pod settings.
type secCtx struct {
	runAsNonRoot, runAsUser, seccomp *yaml.Node
}

func (c *checker) podSpec(what string, spec *yaml.Node, specLine int) {
	for _, ns := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		if k, v := get(spec, ns); v != nil && v.Value == "true" {
			c.report(RuleK8SHostNamespaces, k.Line, ns+": true", "%s sets %s: true", what, ns)
		}
	}
	for _, vol := range items(val(spec, "volumes")) {
		if k, hp := get(vol, "hostPath"); hp != nil {
			p := str(hp, "path")
			n := len(c.out)
			c.report(RuleK8SHostPath, k.Line, "hostPath: "+p, "%s mounts host path %s (volume %s)", what, p, str(vol, "name"))
			if sensitiveHostPath(p) {
				c.out[n].Severity = finding.SeverityCritical
				c.out[n].Message += ", which gives control of the node"
			}
		}
	}
	if k, v := get(spec, "automountServiceAccountToken"); v == nil || v.Value != "false" {
		c.report(RuleK8SAutomountToken, line(k, specLine), "automountServiceAccountToken", "%s does not set automountServiceAccountToken: false", what)
	}
	pod := secCtx{
		runAsNonRoot: val(spec, "securityContext", "runAsNonRoot"),
		runAsUser:    val(spec, "securityContext", "runAsUser"),
		seccomp:      val(spec, "securityContext", "seccompProfile", "type"),
	}
	for _, group := range []string{"initContainers", "containers", "ephemeralContainers"} {
		for _, ctr := range items(val(spec, group)) {
			c.container(what, ctr, pod)
		}
	}
}

var sensitiveHostPaths = []string{"/", "/proc", "/sys", "/etc", "/root", "/var/run", "/run", "/var/lib/docker", "/var/lib/kubelet", "/var/lib/containerd", "/dev", "/boot", "/home"}

func sensitiveHostPath(p string) bool {
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		p = "/"
	}
	if strings.HasSuffix(p, ".sock") {
		return true
	}
	for _, s := range sensitiveHostPaths {
		if p == s || (s != "/" && strings.HasPrefix(p, s+"/")) {
			return true
		}
	}
	return false
}

var dangerousCaps = []string{"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "SYS_RAWIO", "SYS_BOOT", "DAC_READ_SEARCH", "BPF", "MAC_ADMIN", "MAC_OVERRIDE", "SYS_TIME", "SETFCAP"}

func (c *checker) container(what string, ctr *yaml.Node, pod secCtx) {
	if ctr == nil || ctr.Kind != yaml.MappingNode {
		return
	}
	cl := ctr.Line
	cname := str(ctr, "name")
	who := fmt.Sprintf("%s container %q", what, cname)
	sc := val(ctr, "securityContext")

	if k, v := get(sc, "privileged"); v != nil && v.Value == "true" {
		c.report(RuleK8SPrivileged, k.Line, "privileged: true", "%s is privileged", who)
	}
	if k, v := get(sc, "allowPrivilegeEscalation"); v == nil || v.Value != "false" {
		c.report(RuleK8SPrivEscalation, line(k, cl), "allowPrivilegeEscalation", "%s does not set allowPrivilegeEscalation: false", who)
	}
	eff := pod
	if v := val(sc, "runAsNonRoot"); v != nil {
		eff.runAsNonRoot = v
	}
	if v := val(sc, "runAsUser"); v != nil {
		eff.runAsUser = v
	}
	if v := val(sc, "seccompProfile", "type"); v != nil {
		eff.seccomp = v
	}
	switch {
	case eff.runAsUser != nil && eff.runAsUser.Value == "0":
		c.report(RuleK8SRunAsRoot, eff.runAsUser.Line, "runAsUser: 0", "%s runs as uid 0", who)
	case eff.runAsNonRoot != nil && eff.runAsNonRoot.Value == "true":
	case eff.runAsUser != nil:
	default:
		c.report(RuleK8SRunAsRoot, cl, "runAsNonRoot", "%s sets neither runAsNonRoot: true nor a non-zero runAsUser", who)
	}
	addKey, capsAdd := get(val(sc, "capabilities"), "add")
	var bad []string
	for _, cp := range scalars(capsAdd) {
		if slices.Contains(dangerousCaps, strings.TrimPrefix(strings.ToUpper(cp), "CAP_")) {
			bad = append(bad, cp)
		}
	}
	if len(bad) > 0 {
		c.report(RuleK8SDangerousCaps, addKey.Line, "add: "+strings.Join(bad, ","), "%s adds capabilities %s", who, strings.Join(bad, ", "))
	}
	dropKey, drop := get(val(sc, "capabilities"), "drop")
	if !slices.ContainsFunc(scalars(drop), func(s string) bool { return strings.EqualFold(s, "ALL") }) {
		c.report(RuleK8SNoDropAll, line(dropKey, cl), "capabilities.drop", "%s does not drop ALL capabilities", who)
	}
	if k, v := get(ctr, "image"); v != nil {
		c.kubeImage(who, v.Value, k.Line)
	}
	if v := val(sc, "readOnlyRootFilesystem"); v == nil || v.Value != "true" {
		c.report(RuleK8SWritableRootFS, line(v, cl), "readOnlyRootFilesystem", "%s does not set readOnlyRootFilesystem: true", who)
	}
	switch {
	case eff.seccomp == nil:
		c.report(RuleK8SSeccomp, cl, "seccompProfile", "%s has no seccomp profile (pod or container)", who)
	case strings.EqualFold(eff.seccomp.Value, "Unconfined"):
		c.report(RuleK8SSeccomp, eff.seccomp.Line, "seccompProfile: Unconfined", "%s runs with seccomp Unconfined", who)
	}
	for _, e := range items(val(ctr, "env")) {
		n := str(e, "name")
		if k, v := get(e, "value"); v != nil && v.Value != "" && isSecretName(n) && !strings.HasPrefix(v.Value, "$(") {
			c.report(RuleK8SSecretInEnv, k.Line, n+"=<redacted>", "%s sets %s to a literal value", who, n)
		}
	}
	lim := val(ctr, "resources", "limits")
	var missing []string
	for _, r := range []string{"cpu", "memory"} {
		if val(lim, r) == nil {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		c.report(RuleK8SNoLimits, cl, "resources.limits", "%s has no %s limit", who, strings.Join(missing, " or "))
	}
}

func (c *checker) kubeImage(who, img string, ln int) {
	ref, ok := parseImage(img)
	if !ok || ref.unresolved {
		return
	}
	switch {
	case ref.digest:
	case ref.tag == "" || ref.tag == "latest":
		c.report(RuleK8SLatestTag, ln, "image: "+img, "%s uses image %s with no version tag or latest", who, img)
	default:
		c.report(RuleK8SNotDigestPinned, ln, "image: "+img, "%s uses image %s pinned by tag only", who, img)
	}
	if len(c.cfg.AllowedRegistries) > 0 && !ref.allowed(c.cfg.AllowedRegistries) {
		c.report(RuleK8SRegistryNotAllowed, ln, "image: "+img, "%s uses image from %s, which is not on the allowlist", who, ref.registry)
	}
}

func (c *checker) rbacRule(what string, r *yaml.Node) {
	if r == nil {
		return
	}
	verbs := scalars(val(r, "verbs"))
	res := scalars(val(r, "resources"))
	groups := scalars(val(r, "apiGroups"))
	ln := r.Line
	var wild []string
	for name, list := range map[string][]string{"verbs": verbs, "resources": resources(res), "apiGroups": groups} {
		if slices.Contains(list, "*") {
			wild = append(wild, name)
		}
	}
	slices.Sort(wild)
	if len(wild) > 0 {
		c.report(RuleK8SRBACWildcard, ln, "*", "%s grants '*' in %s", what, strings.Join(wild, ", "))
	}
	reads := slices.ContainsFunc(verbs, func(v string) bool { return v == "get" || v == "list" || v == "watch" || v == "*" })
	if slices.Contains(res, "secrets") && reads && val(r, "resourceNames") == nil {
		c.report(RuleK8SRBACSecrets, ln, "secrets", "%s can read every Secret in scope", what)
	}
	if slices.ContainsFunc(res, func(s string) bool { return s == "pods/exec" || s == "pods/attach" }) &&
		slices.ContainsFunc(verbs, func(v string) bool { return v == "create" || v == "get" || v == "*" }) {
		c.report(RuleK8SPodExec, ln, "pods/exec", "%s can exec or attach into pods", what)
	}
}

// resources maps "*/scale" style entries to their wildcard part.
func resources(res []string) []string {
	out := make([]string, 0, len(res))
	for _, r := range res {
		if strings.HasPrefix(r, "*") {
			r = "*"
		}
		out = append(out, r)
	}
	return out
}

func (c *checker) binding(what string, obj *yaml.Node) {
	if k, v := get(val(obj, "roleRef"), "name"); v != nil && v.Value == "cluster-admin" {
		c.report(RuleK8SClusterAdmin, k.Line, "roleRef: cluster-admin", "%s binds cluster-admin", what)
	}
	for _, s := range items(val(obj, "subjects")) {
		if n := str(s, "name"); n == "system:anonymous" || n == "system:unauthenticated" {
			c.report(RuleK8SAnonymousBinding, line(s, 0), "subject: "+n, "%s grants its role to %s", what, n)
		}
	}
}

var privateKeyRE = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)

func (c *checker) configMap(what string, obj *yaml.Node) {
	for _, p := range pairs(val(obj, "data")) {
		k, v := p[0], p[1]
		if v == nil || v.Kind != yaml.ScalarNode || v.Value == "" {
			continue
		}
		if isSecretName(k.Value) || privateKeyRE.MatchString(v.Value) {
			c.report(RuleK8SSecretInConfigMap, k.Line, k.Value+"=<redacted>", "%s stores %s, which looks like a secret", what, k.Value)
		}
	}
}
