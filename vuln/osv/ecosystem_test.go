package osv_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/vuln/osv"
)

func TestRelease(t *testing.T) {
	for eco, want := range map[string]string{
		"Go":                        "",
		"Debian:12":                 "12",
		"Alpine:v3.20":              "v3.20",
		"Ubuntu":                    "",
		"Ubuntu:22.04":              "22.04",
		"Ubuntu:22.04:LTS":          "22.04",
		"Ubuntu:Pro:16.04:LTS":      "16.04",
		"Ubuntu:Pro:FIPS:22.04:LTS": "FIPS:22.04", // osv.dev keeps FIPS apart too
		"Ubuntu:24.10":              "24.10",
	} {
		if got := osv.Release(eco); got != want {
			t.Errorf("Release(%q) = %q, want %q", eco, got, want)
		}
	}
}
