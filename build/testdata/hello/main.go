// Command hello greets in parallel; it is the example program built by the
// build package's tests.
package main

import (
	"fmt"

	"golang.org/x/sync/errgroup"

	"example.com/hello/internal/greet"
)

func main() {
	var g errgroup.Group
	out := make([]string, 3)
	for i, name := range []string{"build", "sandbox", "provenance"} {
		g.Go(func() error {
			out[i] = greet.Hello(name)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		panic(err)
	}
	for _, s := range out {
		fmt.Println(s)
	}
}
