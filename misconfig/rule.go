package misconfig

import (
	"slices"

	"github.com/hallmark-dev/hallmark/finding"
)

// FileKind is the kind of file a rule applies to.
type FileKind string

// File kinds recognised by Scan.
const (
	KindDockerfile FileKind = "dockerfile"
	KindKubernetes FileKind = "kubernetes"
	KindActions    FileKind = "actions"
	// KindAny marks rules that apply to every kind (suppression hygiene).
	KindAny FileKind = "any"
)

// Rule describes one check: what it finds, why it matters, what to do, and
// the IDs of the closest checks in other tools (hadolint, Trivy, kube-score,
// Polaris, zizmor, actionlint), so results can be compared.
type Rule struct {
	ID          string
	Kind        FileKind
	Title       string
	Severity    finding.Severity
	Rationale   string
	Remediation string
	// Anchors are IDs of corresponding checks in other tools, prefixed with
	// the tool name (e.g. "hadolint:DL3007", "trivy:KSV017").
	Anchors []string
}

// Rule IDs. They are stable: never reuse an ID for another meaning.
const (
	RuleSuppressionNoReason = "HM-SUP-001"

	RuleDFNotDigestPinned     = "HM-DF-001"
	RuleDFLatestTag           = "HM-DF-002"
	RuleDFRegistryNotAllowed  = "HM-DF-003"
	RuleDFRunsAsRoot          = "HM-DF-004"
	RuleDFSecretInArgEnv      = "HM-DF-005"
	RuleDFSecretFileCopied    = "HM-DF-006"
	RuleDFPipeToShell         = "HM-DF-007"
	RuleDFVerificationOff     = "HM-DF-008"
	RuleDFAddURL              = "HM-DF-009"
	RuleDFUnpinnedPackages    = "HM-DF-010"
	RuleDFExtraIndex          = "HM-DF-011"
	RuleDFSudo                = "HM-DF-012"
	RuleDFSSH                 = "HM-DF-013"
	RuleDFHardcodedPassword   = "HM-DF-014"
	RuleK8SPrivileged         = "HM-K8S-001"
	RuleK8SPrivEscalation     = "HM-K8S-002"
	RuleK8SRunAsRoot          = "HM-K8S-003"
	RuleK8SHostNamespaces     = "HM-K8S-004"
	RuleK8SHostPath           = "HM-K8S-005"
	RuleK8SDangerousCaps      = "HM-K8S-006"
	RuleK8SNoDropAll          = "HM-K8S-007"
	RuleK8SNotDigestPinned    = "HM-K8S-008"
	RuleK8SLatestTag          = "HM-K8S-009"
	RuleK8SRegistryNotAllowed = "HM-K8S-010"
	RuleK8SWritableRootFS     = "HM-K8S-011"
	RuleK8SSeccomp            = "HM-K8S-012"
	RuleK8SSecretInEnv        = "HM-K8S-013"
	RuleK8SSecretInConfigMap  = "HM-K8S-014"
	RuleK8SRBACWildcard       = "HM-K8S-015"
	RuleK8SRBACSecrets        = "HM-K8S-016"
	RuleK8SClusterAdmin       = "HM-K8S-017"
	RuleK8SAnonymousBinding   = "HM-K8S-018"
	RuleK8SPodExec            = "HM-K8S-019"
	RuleK8SAutomountToken     = "HM-K8S-020"
	RuleK8SNoLimits           = "HM-K8S-021"
	RuleK8SSecretLiteral      = "HM-K8S-022"
	RuleGHAUnpinnedAction     = "HM-GHA-001"
	RuleGHAUntrustedCheckout  = "HM-GHA-002"
	RuleGHAScriptInjection    = "HM-GHA-003"
	RuleGHAWriteAll           = "HM-GHA-004"
	RuleGHANoPermissions      = "HM-GHA-005"
	RuleGHASecretInRun        = "HM-GHA-006"
	RuleGHAPipeToShell        = "HM-GHA-007"
	RuleGHASelfHostedPublic   = "HM-GHA-008"
	RuleGHAUnsecureCommands   = "HM-GHA-009"
	RuleGHALookalikeAction    = "HM-GHA-010"
)

// Rules returns the catalogue of every rule, sorted by ID. The slice is new
// on each call; callers may modify it.
func Rules() []Rule {
	rs := []Rule{
		{RuleSuppressionNoReason, KindAny, "Suppression comment without a reason or with an unknown rule ID", finding.SeverityLow,
			"A waiver nobody can explain is indistinguishable from one added to silence a real problem, and a waiver naming no known rule hides nothing and misleads readers.",
			"Write the reason after 'reason:' and name existing rule IDs, e.g. '# hallmark:ignore HM-DF-004 reason: init drops to uid 1000'.",
			nil},

		{RuleDFNotDigestPinned, KindDockerfile, "Base image not pinned by digest", finding.SeverityMedium,
			"A tag can be moved to different content at any time, so the same Dockerfile can build from a different, possibly compromised, base image without any change in the repository.",
			"Pin the base image as name:tag@sha256:<digest> and let a bot (Renovate, Dependabot) update the digest.",
			[]string{"trivy:DS001"}},
		{RuleDFLatestTag, KindDockerfile, "Base image uses the latest tag or no tag", finding.SeverityMedium,
			"An implicit or explicit latest tag is resolved at build time to whatever was pushed last, which makes builds unrepeatable and hides upgrades.",
			"Name an explicit version tag and pin it by digest.",
			[]string{"hadolint:DL3006", "hadolint:DL3007", "trivy:DS001"}},
		{RuleDFRegistryNotAllowed, KindDockerfile, "Base image from a registry not on the allowlist", finding.SeverityHigh,
			"Images pulled from registries the organisation has not vetted bypass mirroring, scanning and retention controls.",
			"Pull base images from an allowed registry (or mirror the image there), or add the registry to the allowlist after review.",
			[]string{"hadolint:DL3026"}},
		{RuleDFRunsAsRoot, KindDockerfile, "Final stage runs as root", finding.SeverityHigh,
			"Without a USER instruction, or with USER root, the container's processes run as uid 0, so any compromise of the application starts with root inside the container.",
			"Create an unprivileged user and end the final stage with USER <name or uid> (not root or 0).",
			[]string{"hadolint:DL3002", "trivy:DS002"}},
		{RuleDFSecretInArgEnv, KindDockerfile, "Secret passed through ARG or ENV", finding.SeverityHigh,
			"Build arguments and environment variables are stored in the image configuration and history, so anyone who can pull the image can read them.",
			"Use build secrets (RUN --mount=type=secret) for build time, and inject runtime secrets from the orchestrator, never through ARG or ENV.",
			nil},
		{RuleDFSecretFileCopied, KindDockerfile, "Secret file copied into the image", finding.SeverityHigh,
			"Files such as private keys, .env, .npmrc or cloud credentials copied into a layer stay in that layer even if deleted later.",
			"Mount the file as a build secret (RUN --mount=type=secret) and add it to .dockerignore.",
			nil},
		{RuleDFPipeToShell, KindDockerfile, "Remote script piped to a shell", finding.SeverityHigh,
			"Piping a downloaded script into a shell runs whatever the server returns at build time, unverified and unrecorded.",
			"Download the script, check it against a known SHA-256 (or signature), then run it; better, install a packaged and pinned release.",
			nil},
		{RuleDFVerificationOff, KindDockerfile, "TLS or signature verification disabled", finding.SeverityHigh,
			"Turning off certificate or package-signature checks lets anyone on the network path substitute the downloaded code.",
			"Remove the flag or variable that disables verification; install the needed CA certificate or signing key instead.",
			nil},
		{RuleDFAddURL, KindDockerfile, "ADD fetches a remote URL", finding.SeverityMedium,
			"ADD <url> downloads content at build time without checking its integrity, and the layer cache can hide changes.",
			"Use ADD --checksum=sha256:<digest> <url>, or download with curl and verify the checksum in a RUN step.",
			[]string{"hadolint:DL3020", "trivy:DS005"}},
		{RuleDFUnpinnedPackages, KindDockerfile, "Package installed without a pinned version", finding.SeverityLow,
			"Unpinned packages resolve to whatever the index serves at build time, so rebuilds silently change content and cannot be reproduced.",
			"Pin versions (apt-get install pkg=1.2.3, apk add pkg=1.2.3-r0, pip install pkg==1.2.3 or a hashed requirements file, npm install -g pkg@1.2.3).",
			[]string{"hadolint:DL3008", "hadolint:DL3013", "hadolint:DL3016", "hadolint:DL3018", "hadolint:DL3028"}},
		{RuleDFExtraIndex, KindDockerfile, "Extra package index configured", finding.SeverityMedium,
			"With more than one index a package manager may pick a public package that shadows an internal name (dependency confusion).",
			"Use a single index that proxies the public one (--index-url), or pin packages with hashes.",
			nil},
		{RuleDFSudo, KindDockerfile, "sudo used in a RUN instruction", finding.SeverityMedium,
			"sudo in an image build adds a setuid binary and a privilege path that remains in the runtime image and is never needed at build time.",
			"Switch with USER where a different user is needed and do not install sudo.",
			[]string{"hadolint:DL3004"}},
		{RuleDFSSH, KindDockerfile, "SSH server installed or port 22 exposed", finding.SeverityMedium,
			"An SSH daemon inside a container is an extra remote entry point with its own credentials to manage; containers are entered with the runtime's exec instead.",
			"Remove openssh-server and EXPOSE 22; use kubectl exec or docker exec for debugging.",
			[]string{"trivy:DS004"}},
		{RuleDFHardcodedPassword, KindDockerfile, "Hard-coded password in a RUN instruction", finding.SeverityHigh,
			"A password written into a build command is kept in the image history and the source repository.",
			"Read the password from a build secret mount or set it at run time from a secret store.",
			nil},

		{RuleK8SPrivileged, KindKubernetes, "Privileged container", finding.SeverityCritical,
			"A privileged container has all capabilities and access to host devices; escaping to the node is trivial.",
			"Remove privileged: true; grant only the specific capabilities needed.",
			[]string{"trivy:KSV017", "polaris:runAsPrivileged", "kube-score:container-security-context-privileged"}},
		{RuleK8SPrivEscalation, KindKubernetes, "allowPrivilegeEscalation not set to false", finding.SeverityMedium,
			"Unless disabled, a process can gain more privileges than its parent through setuid binaries or file capabilities.",
			"Set securityContext.allowPrivilegeEscalation: false on every container.",
			[]string{"trivy:KSV001", "polaris:privilegeEscalationAllowed"}},
		{RuleK8SRunAsRoot, KindKubernetes, "Container may run as root", finding.SeverityMedium,
			"Without runAsNonRoot: true (or with runAsUser: 0) the image's default user, often root, is used.",
			"Set runAsNonRoot: true and a non-zero runAsUser in the pod or container securityContext.",
			[]string{"trivy:KSV012", "polaris:runAsRootAllowed", "kube-score:container-security-context-user-group-id"}},
		{RuleK8SHostNamespaces, KindKubernetes, "Pod shares a host namespace", finding.SeverityHigh,
			"hostNetwork, hostPID and hostIPC let the pod see and talk to the node's network, processes or shared memory.",
			"Remove hostNetwork, hostPID and hostIPC unless the workload is a vetted node agent.",
			[]string{"trivy:KSV008", "trivy:KSV009", "trivy:KSV010", "polaris:hostNetworkSet", "polaris:hostPIDSet", "polaris:hostIPCSet"}},
		{RuleK8SHostPath, KindKubernetes, "hostPath volume mounted", finding.SeverityHigh,
			"hostPath gives the pod the node's files; paths such as the container runtime socket, /proc or / hand over the node.",
			"Use persistent volumes, configMaps or emptyDir; never mount the runtime socket.",
			[]string{"trivy:KSV023", "trivy:KSV006"}},
		{RuleK8SDangerousCaps, KindKubernetes, "Dangerous capability added", finding.SeverityHigh,
			"Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE or ALL give kernel-level powers that make container escape or host interference much easier.",
			"Remove the capability from securityContext.capabilities.add; redesign so the workload does not need it.",
			[]string{"trivy:KSV005", "trivy:KSV022", "polaris:dangerousCapabilities", "polaris:insecureCapabilities"}},
		{RuleK8SNoDropAll, KindKubernetes, "Capabilities not dropping ALL", finding.SeverityLow,
			"The runtime's default capability set includes ones few applications need (NET_RAW, CHOWN, SETUID ...).",
			"Set securityContext.capabilities.drop: [ALL] and add back only what is needed.",
			[]string{"trivy:KSV003", "polaris:insecureCapabilities"}},
		{RuleK8SNotDigestPinned, KindKubernetes, "Image not pinned by digest", finding.SeverityMedium,
			"A tag can be repointed, so the cluster may run content that was never reviewed or scanned.",
			"Reference images as name:tag@sha256:<digest>.",
			nil},
		{RuleK8SLatestTag, KindKubernetes, "Image uses the latest tag or no tag", finding.SeverityMedium,
			"latest (explicit or implied) changes under the workload and makes rollbacks meaningless.",
			"Use an explicit version tag pinned by digest.",
			[]string{"trivy:KSV013", "kube-score:container-image-tag", "polaris:tagNotSpecified"}},
		{RuleK8SRegistryNotAllowed, KindKubernetes, "Image from a registry not on the allowlist", finding.SeverityHigh,
			"Images from unvetted registries bypass the organisation's scanning and signing controls.",
			"Pull from an allowed registry or add the registry to the allowlist after review.",
			nil},
		{RuleK8SWritableRootFS, KindKubernetes, "Root filesystem is writable", finding.SeverityLow,
			"A writable root filesystem lets an attacker drop tools or modify binaries inside the container.",
			"Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes where writes are needed.",
			[]string{"trivy:KSV014", "polaris:notReadOnlyRootFilesystem", "kube-score:container-security-context-readonlyrootfilesystem"}},
		{RuleK8SSeccomp, KindKubernetes, "Seccomp profile unconfined or unset", finding.SeverityMedium,
			"Without a seccomp profile every system call is allowed, which widens the kernel attack surface.",
			"Set securityContext.seccompProfile.type: RuntimeDefault (or Localhost) at pod or container level.",
			[]string{"trivy:KSV030"}},
		{RuleK8SSecretInEnv, KindKubernetes, "Secret value in a plain environment variable", finding.SeverityHigh,
			"Literal secret values in a manifest are readable by anyone with the repository or get access to the workload.",
			"Use valueFrom.secretKeyRef (or an external secret store) instead of a literal value.",
			nil},
		{RuleK8SSecretInConfigMap, KindKubernetes, "Secret value stored in a ConfigMap", finding.SeverityHigh,
			"ConfigMaps are not treated as confidential: they are readable with broad permissions and not encrypted at rest by default.",
			"Move the value into a Secret (managed by an external secret store) and reference it.",
			nil},
		{RuleK8SRBACWildcard, KindKubernetes, "RBAC rule uses a wildcard", finding.SeverityHigh,
			"A '*' in verbs, resources or apiGroups grants present and future permissions nobody reviewed.",
			"List the exact apiGroups, resources and verbs the subject needs.",
			[]string{"trivy:KSV044", "trivy:KSV045", "trivy:KSV046"}},
		{RuleK8SRBACSecrets, KindKubernetes, "RBAC rule grants access to Secrets", finding.SeverityHigh,
			"Reading Secrets across a namespace (or cluster) exposes every credential stored there.",
			"Restrict with resourceNames to the specific Secrets, or mount them into the pod instead.",
			[]string{"trivy:KSV041"}},
		{RuleK8SClusterAdmin, KindKubernetes, "Binding grants cluster-admin", finding.SeverityCritical,
			"cluster-admin is unrestricted control of the cluster.",
			"Bind a role with only the permissions the subject needs.",
			[]string{"polaris:clusterrolebindingClusterAdmin"}},
		{RuleK8SAnonymousBinding, KindKubernetes, "Binding grants permissions to anonymous or unauthenticated users", finding.SeverityCritical,
			"system:anonymous and system:unauthenticated are every caller without credentials.",
			"Remove these subjects from the binding.",
			nil},
		{RuleK8SPodExec, KindKubernetes, "RBAC rule allows exec or attach into pods", finding.SeverityHigh,
			"pods/exec and pods/attach run commands inside any matching pod, reaching its secrets and service account.",
			"Remove pods/exec and pods/attach from roles used by workloads; grant it to humans through audited break-glass roles.",
			[]string{"trivy:KSV053", "polaris:clusterrolePodExecAttach", "polaris:rolePodExecAttach"}},
		{RuleK8SAutomountToken, KindKubernetes, "Service account token mounted automatically", finding.SeverityLow,
			"Most workloads never call the API server, yet the mounted token lets an attacker do so with the pod's identity.",
			"Set automountServiceAccountToken: false in the pod spec unless the workload talks to the API server.",
			[]string{"polaris:automountServiceAccountToken"}},
		{RuleK8SNoLimits, KindKubernetes, "Container has no CPU or memory limit", finding.SeverityLow,
			"Without limits one container can starve its node, turning a bug or an attack into a denial of service.",
			"Set resources.limits.cpu and resources.limits.memory.",
			[]string{"trivy:KSV011", "trivy:KSV018", "kube-score:container-resources", "polaris:cpuLimitsMissing", "polaris:memoryLimitsMissing"}},
		{RuleK8SSecretLiteral, KindKubernetes, "Secret manifest carries literal values", finding.SeverityHigh,
			"A Secret committed with data or stringData puts the credential into the repository and its history (base64 is not encryption).",
			"Keep Secrets out of the repository: use an external secret operator, Sealed Secrets or SOPS-encrypted files.",
			nil},

		{RuleGHAUnpinnedAction, KindActions, "Action not pinned to a full commit SHA", finding.SeverityMedium,
			"Tags and branches of an action can be moved by its owner or an attacker who takes over the repository; only a 40-character commit SHA is immutable.",
			"Pin uses: to owner/repo@<40-hex SHA> with the version in a comment; let Dependabot update it.",
			[]string{"zizmor:unpinned-uses"}},
		{RuleGHAUntrustedCheckout, KindActions, "Privileged trigger checks out untrusted code", finding.SeverityCritical,
			"pull_request_target, workflow_run and issue_comment run with the base repository's secrets and a write token; checking out the pull request's head and building it runs attacker code with those privileges.",
			"Use the pull_request trigger for building untrusted code, or split into an unprivileged build and a privileged job that only consumes artifacts.",
			[]string{"zizmor:dangerous-triggers"}},
		{RuleGHAScriptInjection, KindActions, "Untrusted input expanded into a script", finding.SeverityHigh,
			"${{ }} expressions are substituted into the script text before the shell runs, so a crafted title, branch name or comment becomes shell code.",
			"Pass the value through env: (e.g. TITLE: ${{ github.event.issue.title }}) and use \"$TITLE\" in the script.",
			[]string{"zizmor:template-injection", "actionlint:expression"}},
		{RuleGHAWriteAll, KindActions, "Workflow or job grants write-all permissions", finding.SeverityHigh,
			"write-all gives the GITHUB_TOKEN every write scope, so any compromised step can push code, tag releases or edit workflows.",
			"Declare only the needed scopes, e.g. permissions: {contents: read}.",
			[]string{"zizmor:excessive-permissions"}},
		{RuleGHANoPermissions, KindActions, "No top-level permissions declared", finding.SeverityMedium,
			"Without a permissions block the token gets the repository's default, which is often read-write for everything.",
			"Add a top-level permissions: block (e.g. contents: read) and widen per job as needed.",
			[]string{"zizmor:excessive-permissions"}},
		{RuleGHASecretInRun, KindActions, "Secret expanded or echoed in a script", finding.SeverityHigh,
			"A secret written into a command line appears in process listings and, when echoed or transformed, can evade log masking.",
			"Pass secrets through env: and never print them; prefer tools that read credentials from files or stdin.",
			nil},
		{RuleGHAPipeToShell, KindActions, "Remote script piped to a shell", finding.SeverityHigh,
			"The CI job runs whatever the server returns, with the job's token and secrets.",
			"Use a pinned action or download a release and verify its checksum before running it.",
			nil},
		{RuleGHASelfHostedPublic, KindActions, "Self-hosted runner used on pull-request events", finding.SeverityHigh,
			"Pull requests from forks can run code on a self-hosted runner, which persists between jobs and sits inside the network.",
			"Run pull-request jobs on GitHub-hosted or ephemeral isolated runners.",
			[]string{"zizmor:self-hosted-runner"}},
		{RuleGHAUnsecureCommands, KindActions, "ACTIONS_ALLOW_UNSECURE_COMMANDS enabled", finding.SeverityHigh,
			"It re-enables the deprecated set-env and add-path workflow commands, which let any output line inject environment variables.",
			"Remove the variable and write to $GITHUB_ENV and $GITHUB_PATH.",
			[]string{"zizmor:insecure-commands"}},
		{RuleGHALookalikeAction, KindActions, "Action name looks like a well-known action", finding.SeverityHigh,
			"A name one or two characters away from a popular action (typosquatting) is a common way to get attacker code into CI.",
			"Check the spelling of the owner and repository; use the official action.",
			nil},
	}
	slices.SortFunc(rs, func(a, b Rule) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return rs
}

// finding builds a Finding for rule r at path:line.
func (r *Rule) finding(path string, line int, msg, evidence string) finding.Finding {
	return finding.Finding{
		RuleID:      r.ID,
		Title:       r.Title,
		Severity:    r.Severity,
		Message:     msg,
		Location:    finding.Location{Path: path, Line: line},
		Remediation: r.Remediation,
		Rationale:   r.Rationale,
		References:  slices.Clone(r.Anchors),
		Evidence:    evidence,
	}
}
