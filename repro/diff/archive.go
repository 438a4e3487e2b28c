package diff

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/hallmark-dev/hallmark/internal/limits"
)

// member is one archive entry as seen by the comparer.
type member struct {
	name    string
	fields  []field // metadata compared field by field
	regular bool    // has content worth comparing
	size    int64   // content size, -1 when unknown
	sum     string  // content digest once known
	pos     int     // position in the archive
	// open re-opens the content of a random-access archive (zip); nil for
	// streaming archives, whose differing members are extracted in a second
	// pass.
	open func() (io.ReadCloser, error)
}

// field is one metadata value of a member, with the cause a difference in it
// would have.
type field struct {
	name, value string
	cause       Cause
}

// walker streams the members of an archive, calling visit with each member
// and a reader of its content.
type walker func(ctx context.Context, p string, s *source, visit func(m *member, r io.Reader) error) error

// index lists the members of a streaming archive with content digests.
func (c *comparer) index(ctx context.Context, p string, s *source, walk walker) ([]*member, error) {
	var out []*member
	buf := make([]byte, 256<<10)
	err := walk(ctx, p, s, func(m *member, r io.Reader) error {
		if len(out) >= c.cfg.maxMembers {
			return &LimitError{What: "member count", Limit: int64(c.cfg.maxMembers), Path: p}
		}
		if m.regular {
			h := sha256.New()
			n, err := io.CopyBuffer(h, &limitedReader{r: limits.ContextReader(ctx, r), limit: c.cfg.maxDecompressed, what: "member size", path: join(p, m.name)}, buf)
			if err != nil {
				return fmt.Errorf("member %s: %w", m.name, err)
			}
			m.size, m.sum = n, "sha256:"+hex.EncodeToString(h.Sum(nil))
		}
		m.pos = len(out)
		out = append(out, m)
		return nil
	})
	return out, err
}

// uniqueNames keys members by name, numbering repeated names.
func uniqueNames(ms []*member) ([]string, map[string]*member) {
	keys := make([]string, 0, len(ms))
	byKey := make(map[string]*member, len(ms))
	for _, m := range ms {
		k := m.name
		for i := 2; byKey[k] != nil; i++ {
			k = fmt.Sprintf("%s (#%d)", m.name, i)
		}
		byKey[k] = m
		keys = append(keys, k)
	}
	return keys, byKey
}

// compareMembers compares two member lists: presence, order, metadata, and
// content (recursing into members whose content differs).
func (c *comparer) compareMembers(ctx context.Context, p string, a, b *source, ma, mb []*member, walk walker, depth int) error {
	keysA, byA := uniqueNames(ma)
	keysB, byB := uniqueNames(mb)
	for _, k := range keysA {
		if byB[k] == nil {
			c.add(Difference{Path: join(p, k), Kind: KindOnlyInA, Offset: -1, A: byA[k].sum})
		}
	}
	for _, k := range keysB {
		if byA[k] == nil {
			c.add(Difference{Path: join(p, k), Kind: KindOnlyInB, Offset: -1, B: byB[k].sum})
		}
	}
	commonA := slices.DeleteFunc(slices.Clone(keysA), func(k string) bool { return byB[k] == nil })
	commonB := slices.DeleteFunc(slices.Clone(keysB), func(k string) bool { return byA[k] == nil })
	if !slices.Equal(commonA, commonB) {
		i := 0
		for i < len(commonA) && commonA[i] == commonB[i] {
			i++
		}
		c.add(Difference{Path: p, Kind: KindOrder, Field: "member order", Offset: -1,
			A: fmt.Sprintf("#%d is %s", i+1, commonA[i]), B: fmt.Sprintf("#%d is %s", i+1, commonB[i]),
			Causes: []Cause{CauseFileOrder},
			Detail: fmt.Sprintf("the same %d members in a different order (directory listing order)", len(commonA))})
	}
	var differing []string
	for _, k := range commonA {
		x, y := byA[k], byB[k]
		c.compareFields(join(p, k), x.fields, y.fields)
		if x.regular && y.regular && (x.sum != y.sum || x.sum == "") {
			differing = append(differing, k)
		}
	}
	if len(differing) == 0 {
		return nil
	}
	if len(differing) > c.cfg.maxDifferences {
		c.note("%s: %d members differ; explaining the first %d", displayPath(p), len(differing), c.cfg.maxDifferences)
		differing = differing[:c.cfg.maxDifferences]
	}
	var xa, xb map[string]*source
	if walk != nil {
		var err error
		if xa, err = c.extract(ctx, p, a, walk, differing, byA); err != nil {
			return err
		}
		if xb, err = c.extract(ctx, p, b, walk, differing, byB); err != nil {
			return err
		}
	}
	for _, k := range differing {
		if c.full() {
			return nil
		}
		x, y := byA[k], byB[k]
		sa, sb := xa[k], xb[k]
		if walk == nil {
			sa = &source{open: x.open, size: x.size, sum: x.sum}
			sb = &source{open: y.open, size: y.size, sum: y.sum}
		}
		if sa == nil || sb == nil {
			c.add(Difference{Path: join(p, k), Kind: KindContent, A: x.sum, B: y.sum, Offset: -1,
				Detail: fmt.Sprintf("content differs (%d and %d bytes); too large to explain (limit %d)", x.size, y.size, c.cfg.maxExplain)})
			continue
		}
		if err := c.compare(ctx, join(p, k), path.Base(strings.TrimSuffix(x.name, "/")), sa, sb, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (c *comparer) compareFields(p string, fa, fb []field) {
	vb := make(map[string]field, len(fb))
	for _, f := range fb {
		vb[f.name] = f
	}
	seen := make(map[string]bool, len(fa))
	for _, f := range fa {
		seen[f.name] = true
		g, ok := vb[f.name]
		if ok && g.value == f.value {
			continue
		}
		d := Difference{Path: p, Kind: KindMetadata, Field: f.name, A: f.value, B: g.value, Offset: -1}
		if f.cause != "" {
			d.Causes = []Cause{f.cause}
		} else if cs, _ := classifyText(f.value, g.value, c.cfg.now()); len(cs) > 0 {
			d.Causes = cs
		}
		c.add(d)
	}
	for _, g := range fb {
		if !seen[g.name] {
			d := Difference{Path: p, Kind: KindMetadata, Field: g.name, B: g.value, Offset: -1}
			if g.cause != "" {
				d.Causes = []Cause{g.cause}
			}
			c.add(d)
		}
	}
}

// errDone stops a walk early once every wanted member was read.
var errDone = errors.New("done")

// extract reads the wanted members of a streaming archive in a second pass,
// into memory when small and to temporary files otherwise. Members are
// matched by their position in the walk, which is the same in both passes.
func (c *comparer) extract(ctx context.Context, p string, s *source, walk walker, want []string, idx map[string]*member) (map[string]*source, error) {
	wanted := make(map[int]string, len(want))
	for _, k := range want {
		if m := idx[k]; m.size <= c.cfg.maxExplain {
			wanted[m.pos] = k
		}
	}
	out := make(map[string]*source, len(wanted))
	if len(wanted) == 0 {
		return out, nil
	}
	pos := 0
	err := walk(ctx, p, s, func(m *member, r io.Reader) error {
		k, ok := wanted[pos]
		pos++
		if !ok {
			return nil
		}
		im := idx[k]
		src := &source{size: im.size, sum: im.sum}
		lr := &limitedReader{r: limits.ContextReader(ctx, r), limit: c.cfg.maxDecompressed, what: "member size", path: join(p, k)}
		if im.size <= c.cfg.maxMemory && c.memUsed+im.size <= 8*c.cfg.maxMemory {
			data, err := io.ReadAll(lr)
			if err != nil {
				return fmt.Errorf("member %s: %w", k, err)
			}
			c.memUsed += int64(len(data))
			src.data, src.inMem = data, true
		} else if err := c.spool(src, lr); err != nil {
			return err
		}
		out[k] = src
		if len(out) == len(wanted) {
			return errDone
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDone) {
		return nil, err
	}
	return out, nil
}
