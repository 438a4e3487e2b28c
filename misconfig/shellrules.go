package misconfig

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// secretWords are name tokens that say a variable holds a secret; pairs
// are checked on adjacent tokens (API_KEY, ACCESS_KEY, PRIVATE_KEY).
var (
	secretWords = map[string]bool{"PASSWORD": true, "PASSWD": true, "PASS": true, "PASSPHRASE": true,
		"SECRET": true, "SECRETS": true, "TOKEN": true, "APIKEY": true, "CREDENTIAL": true, "CREDENTIALS": true}
	secretPairs = map[string]bool{"API KEY": true, "ACCESS KEY": true, "PRIVATE KEY": true, "AUTH KEY": true, "SECRET KEY": true, "SIGNING KEY": true, "ENCRYPTION KEY": true}
	// referenceWords as the last token mean the variable names where a
	// secret is, not the secret (PASSWORD_FILE, TOKEN_URL, ACCESS_KEY_ID).
	referenceWords = map[string]bool{"FILE": true, "PATH": true, "DIR": true, "URL": true, "URI": true, "ENDPOINT": true,
		"HOST": true, "NAME": true, "USER": true, "USERNAME": true, "LENGTH": true, "TTL": true, "EXPIRY": true,
		"TYPE": true, "ID": true, "REF": true, "REGION": true, "PORT": true, "HEADER": true, "ENABLED": true}
	nameTokenRE = regexp.MustCompile(`[A-Z]+[a-z0-9]*|[a-z0-9]+`)
)

// isSecretName reports whether a variable name suggests it holds a secret
// (DB_PASSWORD, GITHUB_TOKEN, apiKey, AWS_SECRET_ACCESS_KEY) rather than a
// reference to one (PASSWORD_FILE, TOKEN_URL, AWS_ACCESS_KEY_ID). Names are
// split into words on '_', '-', '.' and camelCase.
func isSecretName(name string) bool {
	var toks []string
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
		for _, t := range nameTokenRE.FindAllString(part, -1) {
			toks = append(toks, strings.ToUpper(t))
		}
	}
	if len(toks) == 0 || referenceWords[toks[len(toks)-1]] {
		return false
	}
	for i, t := range toks {
		if secretWords[t] || strings.HasSuffix(t, "PASSWORD") || strings.HasSuffix(t, "PASSWD") || strings.HasSuffix(t, "SECRET") || strings.HasSuffix(t, "TOKEN") {
			return true
		}
		if i > 0 && secretPairs[toks[i-1]+" "+t] {
			return true
		}
	}
	return false
}

// insecureEnv explains why setting k=v disables TLS or signature checks, or
// returns "".
func insecureEnv(k, v string) string {
	v = strings.Trim(strings.TrimSpace(v), `"'`)
	lv := strings.ToLower(v)
	switch strings.ToUpper(k) {
	case "NODE_TLS_REJECT_UNAUTHORIZED":
		if v == "0" {
			return "NODE_TLS_REJECT_UNAUTHORIZED=0 turns off TLS certificate checks in Node.js"
		}
	case "GIT_SSL_NO_VERIFY":
		if v != "" && lv != "0" && lv != "false" {
			return "GIT_SSL_NO_VERIFY turns off TLS certificate checks in git"
		}
	case "PYTHONHTTPSVERIFY":
		if v == "0" {
			return "PYTHONHTTPSVERIFY=0 turns off TLS certificate checks in Python"
		}
	case "GOINSECURE":
		if v != "" {
			return "GOINSECURE lets the go command fetch modules over plain HTTP or unverified TLS"
		}
	case "GONOSUMDB", "GONOSUMCHECK":
		if v != "" {
			return k + " skips checksum-database verification of Go modules"
		}
	case "GOSUMDB":
		if lv == "off" {
			return "GOSUMDB=off skips checksum-database verification of Go modules"
		}
	case "GOFLAGS":
		if strings.Contains(v, "-insecure") {
			return "GOFLAGS=-insecure allows insecure module fetches"
		}
	case "NPM_CONFIG_STRICT_SSL", "YARN_STRICT_SSL":
		if lv == "false" {
			return k + "=false turns off TLS certificate checks in npm"
		}
	case "PIP_TRUSTED_HOST":
		if v != "" {
			return "PIP_TRUSTED_HOST turns off TLS checks for " + v
		}
	case "CURL_INSECURE", "WGET_NO_CHECK_CERTIFICATE":
		if v != "" && lv != "0" && lv != "false" {
			return k + " turns off TLS certificate checks"
		}
	}
	return ""
}

func extraIndexEnv(k string) bool {
	switch strings.ToUpper(k) {
	case "PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL", "POETRY_SOURCE_EXTRA":
		return true
	}
	return false
}

// hasShortFlag reports whether args contain the single-letter flag f,
// alone or combined ("-fsSLk").
func hasShortFlag(args []string, f byte) bool {
	for _, a := range args {
		if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a[1:], f) >= 0 {
			return true
		}
	}
	return false
}

func hasFlag(args []string, flags ...string) bool {
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		if slices.Contains(flags, name) {
			return true
		}
	}
	return false
}

// verificationOff lists the ways a script disables TLS or signature checks.
func verificationOff(sh shScript, raw string) []string {
	var why []string
	add := func(s string) {
		if !slices.Contains(why, s) {
			why = append(why, s)
		}
	}
	for _, c := range sh.cmds {
		for k, v := range c.assigns {
			if w := insecureEnv(k, v); w != "" {
				add(w)
			}
		}
		a := c.realArgs()
		if len(a) == 0 {
			continue
		}
		switch c.name() {
		case "export", "declare", "readonly", "local", "typeset":
			for _, kv := range a[1:] {
				if k, v, ok := strings.Cut(kv, "="); ok {
					if w := insecureEnv(k, v); w != "" {
						add(w)
					}
				}
			}
		case "curl":
			if hasShortFlag(a[1:], 'k') || hasFlag(a[1:], "--insecure") {
				add("curl -k/--insecure")
			}
		case "wget":
			if hasFlag(a[1:], "--no-check-certificate") {
				add("wget --no-check-certificate")
			}
		case "git":
			for i, x := range a {
				lx := strings.ToLower(x)
				if strings.Contains(lx, "sslverify=false") || (lx == "http.sslverify" && i+1 < len(a) && strings.EqualFold(a[i+1], "false")) {
					add("git http.sslVerify=false")
				}
			}
		case "apt-get", "apt", "aptitude":
			if hasFlag(a[1:], "--allow-unauthenticated", "--allow-insecure-repositories", "--force-yes", "--no-check-gpg") {
				add(a[0] + " with unauthenticated packages allowed")
			}
			for _, x := range a {
				if strings.Contains(strings.ToLower(x), "verify-peer=false") || strings.Contains(strings.ToLower(x), "allowunauthenticated") {
					add(a[0] + " with TLS or signature checks off")
				}
			}
		case "pip", "pip3", "uv", "pipx":
			if hasFlag(a[1:], "--trusted-host") {
				add("pip --trusted-host")
			}
		case "python", "python3":
			if slices.Contains(a, "pip") && hasFlag(a[1:], "--trusted-host") {
				add("pip --trusted-host")
			}
		case "npm", "yarn", "pnpm":
			if slices.Contains(a, "strict-ssl") && slices.Contains(a, "false") || hasFlag(a[1:], "--strict-ssl") && slices.Contains(a, "--strict-ssl=false") {
				add(a[0] + " strict-ssl false")
			}
		case "yum", "dnf", "microdnf", "zypper", "tdnf":
			if hasFlag(a[1:], "--nogpgcheck", "--no-gpg-checks") {
				add(a[0] + " without GPG checks")
			}
		case "apk":
			if hasFlag(a[1:], "--allow-untrusted") {
				add("apk --allow-untrusted")
			}
		case "rpm":
			if hasFlag(a[1:], "--nosignature", "--nodigest") {
				add("rpm without signature checks")
			}
		case "go":
			if hasFlag(a[1:], "-insecure") {
				add("go -insecure")
			}
		}
	}
	if strings.Contains(raw, "[trusted=yes]") {
		add("apt source marked [trusted=yes]")
	}
	if gpgcheckOffRE.MatchString(raw) {
		add("gpgcheck=0 in a repository definition")
	}
	return why
}

// packageArgs returns the non-flag words after the subcommand at index sub,
// dropping the values of flags that take one.
func packageArgs(a []string, valued ...string) []string {
	var out []string
	for i := 0; i < len(a); i++ {
		x := a[i]
		if strings.HasPrefix(x, "-") {
			if slices.Contains(valued, x) {
				i++
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

// unpinnedPackages lists packages installed without a version pin by apt,
// apk, pip, npm -g, gem and go install.
func unpinnedPackages(sh shScript) []string {
	var out []string
	for _, c := range sh.cmds {
		a := c.realArgs()
		if len(a) < 2 {
			continue
		}
		name := c.name()
		switch {
		case (name == "apt-get" || name == "apt") && slices.Contains(a, "install"):
			i := slices.Index(a, "install")
			for _, p := range packageArgs(a[i+1:], "-o", "-t", "--target-release") {
				if !strings.Contains(p, "=") && !strings.Contains(p, "$") && !strings.HasSuffix(p, ".deb") {
					out = append(out, p)
				}
			}
		case name == "apk" && slices.Contains(a, "add"):
			i := slices.Index(a, "add")
			for _, p := range packageArgs(a[i+1:], "-t", "--virtual", "-X", "--repository", "--root", "-p") {
				if !strings.Contains(p, "=") && !strings.Contains(p, "$") && !strings.HasSuffix(p, ".apk") {
					out = append(out, p)
				}
			}
		case (name == "pip" || name == "pip3" || (strings.HasPrefix(name, "python") && slices.Contains(a, "pip"))) && slices.Contains(a, "install"):
			i := slices.Index(a, "install")
			for _, p := range packageArgs(a[i+1:], "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url", "--trusted-host", "-t", "--target", "--prefix", "--root", "-f", "--find-links") {
				if strings.ContainsAny(p, "=<>~@$/") || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".whl") || strings.HasSuffix(p, ".tar.gz") {
					continue
				}
				out = append(out, p)
			}
		case (name == "npm" || name == "pnpm") && (slices.Contains(a, "install") || slices.Contains(a, "i") || slices.Contains(a, "add")) && hasFlag(a, "-g", "--global"):
			for _, p := range packageArgs(a[2:], "--registry", "--prefix") {
				if p == "install" || p == "i" || p == "add" || strings.Contains(p, "$") {
					continue
				}
				if !strings.Contains(strings.TrimPrefix(p, "@"), "@") {
					out = append(out, p)
				}
			}
		case name == "gem" && a[1] == "install":
			if hasFlag(a, "-v", "--version") {
				continue
			}
			for _, p := range packageArgs(a[2:], "--source", "-i", "--install-dir", "-n", "--bindir") {
				if !strings.Contains(p, ":") && !strings.Contains(p, "$") {
					out = append(out, p)
				}
			}
		case name == "go" && a[1] == "install":
			for _, p := range packageArgs(a[2:], "-tags", "-ldflags", "-gcflags", "-o") {
				if _, v, ok := strings.Cut(p, "@"); !ok || v == "latest" || v == "master" || v == "main" {
					if strings.Contains(p, ".") && !strings.HasPrefix(p, ".") {
						out = append(out, p)
					}
				}
			}
		}
	}
	return out
}

// extraIndex says how a script adds a second package index, or "".
func extraIndex(sh shScript) string {
	for _, c := range sh.cmds {
		for k := range c.assigns {
			if extraIndexEnv(k) {
				return k + " adds a second package index"
			}
		}
		a := c.realArgs()
		if len(a) == 0 {
			continue
		}
		switch c.name() {
		case "pip", "pip3", "python", "python3", "uv":
			if hasFlag(a, "--extra-index-url") {
				return "pip --extra-index-url adds a second package index"
			}
			if slices.ContainsFunc(a, func(s string) bool { return strings.Contains(s, "extra-index-url") }) && slices.Contains(a, "config") {
				return "pip config sets extra-index-url"
			}
		case "gem":
			if len(a) > 2 && a[1] == "sources" && hasFlag(a, "--add", "-a") {
				return "gem sources --add adds a second gem source"
			}
		case "export", "declare", "readonly", "local", "typeset":
			for _, kv := range a[1:] {
				if k, _, ok := strings.Cut(kv, "="); ok && extraIndexEnv(k) {
					return k + " adds a second package index"
				}
			}
		}
	}
	return ""
}

// installs reports whether the script installs any of pkgs with a system
// package manager.
func installs(sh shScript, pkgs ...string) bool {
	for _, c := range sh.cmds {
		a := c.realArgs()
		switch c.name() {
		case "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper":
		default:
			continue
		}
		for _, x := range a[1:] {
			n, _, _ := strings.Cut(x, "=")
			if slices.Contains(pkgs, n) {
				return true
			}
		}
	}
	return false
}

var gpgcheckOffRE = regexp.MustCompile(`(?i)gpgcheck\s*=\s*0`)

var urlCredRE = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@$]+:([^/\s@]+)@`)

// hardcodedPassword explains a literal password in a script, or returns "".
// The explanation never contains the password.
func hardcodedPassword(sh shScript) string {
	for _, p := range sh.pipes {
		if p.to.name() != "chpasswd" {
			continue
		}
		for _, f := range p.from {
			if n := f.name(); n == "echo" || n == "printf" {
				for _, x := range f.args[1:] {
					if _, pw, ok := strings.Cut(x, ":"); ok && pw != "" && !strings.Contains(pw, "$") {
						return "a literal password is piped to chpasswd"
					}
				}
			}
		}
	}
	for _, c := range sh.cmds {
		a := c.realArgs()
		if len(a) == 0 {
			continue
		}
		switch c.name() {
		case "useradd", "usermod", "adduser":
			for i, x := range a {
				if (x == "-p" || x == "--password") && i+1 < len(a) && !strings.Contains(a[i+1], "$") {
					return fmt.Sprintf("%s sets a literal password", c.name())
				}
			}
		case "htpasswd":
			if hasShortFlag(a[1:], 'b') && len(packageArgs(a[1:])) >= 3 && !strings.Contains(a[len(a)-1], "$") {
				return "htpasswd -b sets a literal password"
			}
		}
		for i, x := range a {
			if v, ok := strings.CutPrefix(x, "--password="); ok && v != "" && !strings.Contains(v, "$") {
				return fmt.Sprintf("%s is given a literal --password", path.Base(a[0]))
			}
			if x == "--password" && i+1 < len(a) && !strings.HasPrefix(a[i+1], "-") && !strings.Contains(a[i+1], "$") && c.name() != "useradd" {
				return fmt.Sprintf("%s is given a literal --password", path.Base(a[0]))
			}
			if m := urlCredRE.FindStringSubmatch(x); m != nil && !strings.Contains(m[1], "$") {
				return "a URL carries a literal password"
			}
		}
	}
	return ""
}
