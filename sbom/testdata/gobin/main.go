// Command gobin is a tiny program built by the sbom tests so that a real Go
// binary with embedded module build info can be inventoried.
package main

import (
	"fmt"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/semver"
)

func main() {
	fmt.Println(semver.Compare("v1.2.3", "v1.10.0"), cmp.Equal(1, 1))
}
