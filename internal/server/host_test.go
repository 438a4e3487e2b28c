package server

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestHostConfig(t *testing.T) {
	const head = "store: {driver: sqlite, path: e.db}\ntrust: t.yaml\npolicies: {prod: builtin}\ngate: {key: g.key}\nauth: {admissionToken: true}\n"
	c, err := ParseConfig([]byte(head+"transparency:\n  host: {url: 'https://hm.example:8443', passphraseEnv: P, log: true, tsa: true}\n"), "/etc/hallmark")
	if err != nil {
		t.Fatal(err)
	}
	if h := c.Transparency.Host; h.Dir != filepath.Join("/etc/hallmark", DefaultHostDir) || !h.Enabled() {
		t.Errorf("host: %+v, want the default directory beside the configuration", h)
	}
	if c, err := ParseConfig([]byte(head), "."); err != nil || c.Transparency.Host.Enabled() {
		t.Errorf("hosting must be off by default: %+v, %v", c.Transparency.Host, err)
	}
	for _, c := range []struct{ host, field string }{
		{"{url: 'https://hm.example', log: true}", "transparency.host.passphraseEnv"},
		{"{passphraseEnv: P, tsa: true}", "transparency.host.url"},
		{"{url: 'ftp://hm.example', passphraseEnv: P, log: true}", "transparency.host.url"},
		{"{url: 'https://hm.example?x=1', passphraseEnv: P, log: true}", "transparency.host.url"},
		{"{url: 'https://hm.example', dir: d}", "transparency.host"},
	} {
		_, err := ParseConfig([]byte(head+"transparency:\n  host: "+c.host+"\n"), ".")
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v, want an error naming %s", c.host, err, c.field)
		}
	}
}
