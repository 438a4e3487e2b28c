package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxStmts bounds the prepared statements a store keeps. The statements of
// writes and of the common listings are a handful; listings with other
// filter combinations or limits are not prepared once the cache is full.
const maxStmts = 64

// stmtCache keeps prepared statements by SQL text. SQLite compiles a
// statement on every unprepared query, which cost the admission path as
// much CPU as running it: an evaluation lists evidence and stores two
// records, each several statements. database/sql prepares a cached
// statement again on each pool connection the first time it runs there.
type stmtCache struct {
	db *sql.DB

	mu sync.Mutex // guards m
	m  map[string]*sql.Stmt
}

// get returns the prepared statement for text, or nil when the cache is
// full (the caller then runs the text unprepared).
func (c *stmtCache) get(ctx context.Context, text string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[text]; ok {
		return st, nil
	}
	if len(c.m) >= maxStmts {
		return nil, nil
	}
	st, err := c.db.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[text] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// query runs text through its prepared statement.
func (c *stmtCache) query(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	st, err := c.get(ctx, text)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.db.QueryContext(ctx, text, args...)
	}
	return st.QueryContext(ctx, args...)
}

// txStmts runs statements inside one transaction through the store's
// prepared statements.
type txStmts struct {
	tx    *sql.Tx
	cache *stmtCache
	m     map[string]*sql.Stmt // the cache's statements bound to tx
}

func (t *txStmts) exec(ctx context.Context, text string, args ...any) (sql.Result, error) {
	st, ok := t.m[text]
	if !ok {
		parent, err := t.cache.get(ctx, text)
		if err != nil {
			return nil, err
		}
		if parent == nil {
			return t.tx.ExecContext(ctx, text, args...)
		}
		st = t.tx.StmtContext(ctx, parent)
		if t.m == nil {
			t.m = map[string]*sql.Stmt{}
		}
		t.m[text] = st
	}
	return st.ExecContext(ctx, args...)
}
