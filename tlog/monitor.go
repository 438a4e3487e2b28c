package tlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"

	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
	sumdbnote "golang.org/x/mod/sumdb/note"
)

// Checkpoint is a log checkpoint whose signature verified: the log's size
// and root hash at one moment. Raw is the signed note, for saving.
type Checkpoint struct {
	Origin string
	Size   uint64
	Hash   []byte
	Raw    []byte
}

// Monitor reads a log's checkpoint and tiles (C2SP tlog-tiles) and checks
// what the log claims: that each new checkpoint extends the last one seen
// (a consistency proof built from the tiles), and that entries bundles
// claim are in the tree (an inclusion proof built from the tiles).
type Monitor struct {
	origin     string
	verifier   sumdbnote.Verifier
	checkpoint client.CheckpointFetcherFunc
	tile       client.TileFetcherFunc
}

// NewMonitor returns a monitor for log l (from a trusted root) whose tiles
// and checkpoint are served at readURL (an http(s) URL, or a file:// URL
// or path of a POSIX log's storage directory).
func NewMonitor(l *root.TransparencyLog, readURL string, hc *http.Client) (*Monitor, error) {
	origin, err := Origin(l.BaseURL)
	if err != nil {
		return nil, err
	}
	sv, err := signature.LoadVerifier(l.PublicKey, l.SignatureHashFunc)
	if err != nil {
		return nil, fmt.Errorf("%w: log %s key: %v", ErrTrustedRoot, l.BaseURL, err)
	}
	nv, err := note.NewNoteVerifier(origin, sv)
	if err != nil {
		return nil, fmt.Errorf("%w: log %s: %v", ErrTrustedRoot, l.BaseURL, err)
	}
	m := &Monitor{origin: origin, verifier: nv}
	u, err := url.Parse(readURL)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		if hc == nil {
			hc = http.DefaultClient
		}
		f, err := client.NewHTTPFetcher(u, hc)
		if err != nil {
			return nil, fmt.Errorf("log read URL %s: %w", readURL, err)
		}
		m.checkpoint, m.tile = f.ReadCheckpoint, f.ReadTile
		return m, nil
	}
	dir := readURL
	if err == nil && u.Scheme == "file" {
		dir = u.Path
	}
	f := client.FileFetcher{Root: dir}
	m.checkpoint, m.tile = f.ReadCheckpoint, f.ReadTile
	return m, nil
}

// Latest fetches the log's current checkpoint and verifies its signature.
// With prev (a checkpoint seen before) it also verifies that the new one
// extends it, failing with ErrInconsistent when the log forked, shrank or
// rewrote an entry.
func (m *Monitor) Latest(ctx context.Context, prev *Checkpoint) (*Checkpoint, error) {
	cp, raw, _, err := client.FetchCheckpoint(ctx, m.checkpoint, m.verifier, m.origin)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCheckpoint, m.origin, err)
	}
	cur := &Checkpoint{Origin: cp.Origin, Size: cp.Size, Hash: cp.Hash, Raw: raw}
	if prev == nil {
		return cur, nil
	}
	if cur.Size < prev.Size {
		return nil, fmt.Errorf("%w: %s shrank from %d to %d entries", ErrInconsistent, m.origin, prev.Size, cur.Size)
	}
	if cur.Size == prev.Size {
		if !bytes.Equal(cur.Hash, prev.Hash) {
			return nil, fmt.Errorf("%w: %s has two root hashes for size %d", ErrInconsistent, m.origin, cur.Size)
		}
		return cur, nil
	}
	if prev.Size == 0 {
		return cur, nil
	}
	pb, err := client.NewProofBuilder(ctx, cur.Size, m.tile)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: build consistency proof %d→%d: %v", ErrInconsistent, m.origin, prev.Size, cur.Size, err)
	}
	p, err := pb.ConsistencyProof(ctx, prev.Size, cur.Size)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: build consistency proof %d→%d: %v", ErrInconsistent, m.origin, prev.Size, cur.Size, err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, prev.Size, cur.Size, p, prev.Hash, cur.Hash); err != nil {
		return nil, fmt.Errorf("%w: %s: %d→%d: %v", ErrInconsistent, m.origin, prev.Size, cur.Size, err)
	}
	return cur, nil
}

// Included verifies that the entry with canonical body at index is in the
// tree of cp, with an inclusion proof built from the log's tiles (not the
// one the bundle carries), failing with ErrNotIncluded.
func (m *Monitor) Included(ctx context.Context, cp *Checkpoint, index uint64, body []byte) error {
	if index >= cp.Size {
		return fmt.Errorf("%w: index %d beyond the checkpoint's %d entries", ErrNotIncluded, index, cp.Size)
	}
	pb, err := client.NewProofBuilder(ctx, cp.Size, m.tile)
	if err != nil {
		return fmt.Errorf("%w: index %d: %v", ErrNotIncluded, index, err)
	}
	p, err := pb.InclusionProof(ctx, index)
	if err != nil {
		return fmt.Errorf("%w: index %d: %v", ErrNotIncluded, index, err)
	}
	leaf := rfc6962.DefaultHasher.HashLeaf(body)
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, cp.Size, leaf, p, cp.Hash); err != nil {
		return fmt.Errorf("%w: index %d (leaf %x): %v", ErrNotIncluded, index, sha256.Sum256(body), err)
	}
	return nil
}

// ParseCheckpoint verifies a saved checkpoint note (Checkpoint.Raw) again.
func (m *Monitor) ParseCheckpoint(raw []byte) (*Checkpoint, error) {
	cp, _, _, err := client.FetchCheckpoint(context.Background(), func(context.Context) ([]byte, error) { return raw, nil }, m.verifier, m.origin)
	if err != nil {
		return nil, fmt.Errorf("%w: saved checkpoint: %v", ErrCheckpoint, err)
	}
	return &Checkpoint{Origin: cp.Origin, Size: cp.Size, Hash: cp.Hash, Raw: raw}, nil
}
