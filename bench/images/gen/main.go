// Command gen writes the benchmark image of bench/images/run.sh: an OCI
// image layout of real Debian packages (ocitest.NewDebianImage), one layer
// per -layer flag.
//
//	gen -debs DIR -out LAYOUT -layer base-files,libc6 -layer golang-1.19-go
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/hallmark-dev/hallmark/oci/ocitest"
)

type layers []string

func (l *layers) String() string     { return strings.Join(*l, " ") }
func (l *layers) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	debs := flag.String("debs", "", "directory of the .deb files (apt-get download)")
	out := flag.String("out", "", "OCI layout directory to write")
	var ls layers
	flag.Var(&ls, "layer", "comma-separated packages of one layer (repeatable)")
	flag.Parse()
	if err := run(context.Background(), *debs, *out, ls); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, debDir, out string, ls layers) error {
	var all []string
	var spec []ocitest.DebianLayer
	for _, l := range ls {
		pkgs := strings.Split(l, ",")
		all = append(all, pkgs...)
		spec = append(spec, ocitest.DebianLayer{Packages: pkgs, CreatedBy: "install " + l})
	}
	debs, missing := ocitest.FindDebs(debDir, all...)
	if len(missing) > 0 {
		return fmt.Errorf("no .deb in %s for %s", debDir, strings.Join(missing, " "))
	}
	work, err := os.MkdirTemp("", "hallmark-bench-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	img, err := ocitest.NewDebianImage(ctx, work, debs, v1.Config{Env: []string{"PATH=/usr/lib/go-1.19/bin:/usr/bin"}}, spec...)
	if err != nil {
		return err
	}
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "registry.example/bench/debian-go:v1"})); err != nil {
		return err
	}
	h, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Println(h)
	return nil
}
