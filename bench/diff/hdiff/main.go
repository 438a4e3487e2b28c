// Command hdiff runs the Hallmark diff explainer for the benchmark until the
// `hallmark diff` command is wired: hdiff [-json] A B. It exits 0 when the
// artifacts are identical, 1 when they differ and 2 on error.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/hallmark-dev/hallmark/repro/diff"
)

func main() {
	asJSON := flag.Bool("json", false, "write the report as JSON")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: hdiff [-json] A B")
		os.Exit(2)
	}
	rep, err := diff.Files(context.Background(), flag.Arg(0), flag.Arg(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *asJSON {
		err = rep.WriteJSON(os.Stdout)
	} else {
		err = rep.WriteText(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if !rep.Identical {
		os.Exit(1)
	}
}
