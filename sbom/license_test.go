package sbom

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLicenseFilesDetected(t *testing.T) {
	start := time.Now()
	d, err := NewLicenseDetector()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("classifier loaded in %v", time.Since(start))
	for _, tc := range []struct {
		dir  string
		want map[string]string // name -> licence; components not listed have none
	}{
		// yarn.lock records no licences; chalk and debug ship MIT licence
		// files under node_modules.
		{"tree/yarn", map[string]string{"chalk": "MIT", "debug": "MIT"}},
		// zlib1g's Debian copyright file is the zlib licence.
		{"rootfs-debian", map[string]string{"zlib1g": "Zlib"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			inv, err := Scan(t.Context(), "testdata/"+tc.dir, WithLicenseDetector(d))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, c := range inv.Components {
				if len(c.Licenses) > 0 {
					got[c.Name] = c.Licenses[0]
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("detected licences (-want +got):\n%s", diff)
			}
		})
	}
}
