package limits_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

func TestContextReaderStopsAtCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	r := limits.ContextReader(ctx, strings.NewReader("abcdef"))
	buf := make([]byte, 3)
	if n, err := r.Read(buf); n != 3 || err != nil || string(buf) != "abc" {
		t.Fatalf("first read = %d %q %v", n, buf[:n], err)
	}
	cancel()
	if _, err := io.ReadAll(r); !errors.Is(err, context.Canceled) {
		t.Fatalf("read after cancel: err = %v, want context.Canceled", err)
	}
}
