package server

import (
	"errors"
	"testing"
)

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("store: {driver: sqlite, path: e.db}\ntrust: t.yaml\npolicies: {prod: builtin}\ngate: {key: g.key}\n"))
	f.Add([]byte("store: {driver: postgres, dsnEnv: DSN}\ntrust: t.yaml\npolicies: {prod: p.rego}\ngate: {key: g.key}\nadmission: {namespaces: {a: prod}, budget: 2s}\n"))
	f.Add([]byte("store: {driver: sqlite, path: e.db}\ntrust: t.yaml\npolicies: {prod: builtin}\ngate: {key: g.key}\nadmission: {budget: 3s, resolve: {enabled: true, timeout: 1s, cacheTTL: -1s, dockerConfig: config.json, insecureRegistries: [r.local:5000]}}\n"))
	f.Add([]byte("auth: {tokens: [{name: x, sha256: " + HashToken("x") + ", role: admin}]}\n"))
	f.Add([]byte("store: {driver: sqlite, path: e.db}\ntrust: t.yaml\npolicies: {prod: builtin}\ngate: {key: g.key}\ntransparency: {monitor: {read: tiles, interval: 1m, state: s/cp}}\n"))
	f.Add([]byte("store: {driver: sqlite, path: e.db}\ntrust: t.yaml\npolicies: {prod: builtin}\ngate: {key: g.key}\ntransparency: {host: {url: 'http://127.0.0.1:8443', passphraseEnv: P, log: true, tsa: true}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b, "/etc/hallmark")
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error without ErrConfig: %v", err)
			}
			return
		}
		if c.Trust == "" || len(c.Policies) == 0 || c.Gate.Key == "" || c.Admission.Budget <= 0 {
			t.Fatalf("accepted an incomplete configuration: %+v", c)
		}
		if r := c.Admission.Resolve; r.Enabled && (r.Timeout <= 0 || r.Timeout >= c.Admission.Budget || r.CacheSize <= 0) {
			t.Fatalf("accepted a resolver that cannot answer within the budget: %+v (budget %v)", r, c.Admission.Budget)
		}
		if h := c.Transparency.Host; h.Enabled() && (h.URL == "" || h.PassphraseEnv == "" || h.Dir == "") {
			t.Fatalf("accepted hosted services without a URL, passphrase or directory: %+v", h)
		}
		if m := c.Transparency.Monitor; m.Read != "" && m.Interval < MinMonitorInterval {
			t.Fatalf("accepted a log monitor interval of %v", m.Interval)
		}
	})
}
