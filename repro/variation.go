package repro

import (
	"fmt"
	"strings"
)

// Variation names one build condition varied between the control build and
// the experiment.
type Variation string

// The variations Run knows how to apply.
const (
	VaryEnvironment Variation = "environment" // an extra environment variable
	VaryBuildPath   Variation = "build-path"  // the directory the source is built in
	VaryHome        Variation = "home"        // HOME
	VaryLocale      Variation = "locale"      // LANG, LC_ALL, LANGUAGE
	VaryTimezone    Variation = "timezone"    // TZ
	VaryUmask       Variation = "umask"       // the process umask
	VaryCPUs        Variation = "cpus"        // CPU affinity and GOMAXPROCS
	VaryTime        Variation = "time"        // the clock, through faketime
	VaryHostname    Variation = "hostname"    // hostname, in a new UTS namespace
	VaryUser        Variation = "user"        // uid and gid, in a user namespace
	VaryFileOrder   Variation = "file-order"  // directory entry order
)

// AllVariations returns every variation, in the order they are reported.
func AllVariations() []Variation {
	return []Variation{VaryEnvironment, VaryBuildPath, VaryHome, VaryLocale, VaryTimezone, VaryUmask,
		VaryCPUs, VaryTime, VaryHostname, VaryUser, VaryFileOrder}
}

// ParseVariations parses a comma-separated list of variation names; "all"
// (or an empty list) means every variation.
func ParseVariations(list string) ([]Variation, error) {
	if strings.TrimSpace(list) == "" || list == "all" {
		return AllVariations(), nil
	}
	known := make(map[Variation]bool)
	for _, v := range AllVariations() {
		known[v] = true
	}
	var out []Variation
	for _, s := range strings.Split(list, ",") {
		v := Variation(strings.TrimSpace(s))
		if !known[v] {
			return nil, fmt.Errorf("%w: unknown variation %q (known: %v)", ErrInvalid, v, AllVariations())
		}
		out = append(out, v)
	}
	return out, nil
}

// Applied records whether and how a variation was applied.
type Applied struct {
	// Variation is the variation.
	Variation Variation `json:"variation"`
	// Applied is true when the experiment differed from the control in it.
	Applied bool `json:"applied"`
	// How says what the control and the experiment used.
	How string `json:"how,omitempty"`
	// Reason says why the variation was not applied (tool missing, not
	// permitted) or what limits it has.
	Reason string `json:"reason,omitempty"`
}
