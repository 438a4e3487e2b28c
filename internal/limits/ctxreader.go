package limits

import (
	"context"
	"io"
)

// ContextReader bounds a long read by ctx: each Read first returns
// ctx.Err() once the context is done, so a copy of a large layer or
// archive stops at cancellation instead of running to the end.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
