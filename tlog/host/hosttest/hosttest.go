// Package hosttest runs package host's log and TSA on a loopback HTTP
// server for tests, mounted as `hallmark serve` mounts them: no external
// binaries, real protocols.
package hosttest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/tlog"
	"github.com/hallmark-dev/hallmark/tlog/host"
)

// Services are a running hosted log and TSA.
type Services struct {
	*host.Services
	// Root is the parsed trusted root that trusts them; RootPath (from
	// host.Services) is its file.
	TrustedRoot *root.TrustedRoot
	// Dir holds their keys and tiles.
	Dir string
}

// Start starts a log and a TSA in a fresh directory; they stop when the
// test ends.
func Start(t testing.TB) *Services {
	t.Helper()
	dir := t.TempDir()
	srv := httptest.NewUnstartedServer(nil)
	hs, err := host.Open(t.Context(), host.Config{URL: "http://" + srv.Listener.Addr().String(), Dir: dir, Passphrase: []byte("hosttest"), Log: true, TSA: true})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for prefix, h := range hs.Mounts() {
		mux.Handle(prefix+"/", http.StripPrefix(prefix, h))
	}
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		// Cleanups run after t.Context() is cancelled.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	tr, err := tlog.ParseRoot(hs.Root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, host.TrustedRootFile)); err != nil {
		t.Fatal(err)
	}
	return &Services{Services: hs, TrustedRoot: tr, Dir: dir}
}
