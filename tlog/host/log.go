package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	pb "github.com/sigstore/rekor-tiles/v2/pkg/generated/protobuf"
	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/rekor-tiles/v2/pkg/types/hashedrekord"
	"github.com/sigstore/sigstore/pkg/signature"
	logformat "github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
	"github.com/transparency-dev/tessera/storage/posix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/hallmark-dev/hallmark/tlog"
)

// MaxEntryRequestBytes bounds a request to add an entry, as rekor-tiles'
// --max-request-body-size does by default.
const MaxEntryRequestBytes = 4 << 20

// How often the log sequences a batch of entries and publishes a
// checkpoint while it grows; an add is answered once a checkpoint covers
// it, so these bound a signer's wait. A log that does not grow republishes
// its checkpoint only every ten minutes (tessera's default), so short
// intervals cost nothing when idle.
const (
	BatchMaxAge        = 50 * time.Millisecond
	CheckpointInterval = 250 * time.Millisecond
)

// clientAlgorithms are the signing algorithms the log accepts in entries:
// rekor-tiles' default --client-signing-algorithms.
var clientAlgorithms = []protocommon.PublicKeyDetails{
	protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256,
	protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_3072_SHA256,
	protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_4096_SHA256,
	protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256,
	protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384,
	protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512,
	protocommon.PublicKeyDetails_PKIX_ED25519,
	protocommon.PublicKeyDetails_PKIX_ED25519_PH,
}

// Log is a Rekor v2 transparency log stored by tessera's POSIX driver. Its
// Handler serves the rekor-tiles write API (POST /api/v2/log/entries) and
// the C2SP tlog-tiles read paths (/checkpoint, /tile/…), so Sigstore
// clients log in it and Monitor reads it as they do a rekor-tiles server.
type Log struct {
	origin   string
	logID    []byte
	pub      any
	storage  string
	appender *tessera.Appender
	reader   tessera.LogReader
	awaiter  *tessera.PublicationAwaiter
	algs     *signature.AlgorithmRegistryConfig
	shutdown func(context.Context) error
	stop     context.CancelFunc
	logger   *slog.Logger
	handler  http.Handler
	files    *os.Root // the storage directory the handler reads tiles from
}

var _ pb.RekorServer = (*rekorServer)(nil)

// NewLog opens (creating it when absent) the log stored in the directory
// storage, served at baseURL (whose host name is the checkpoint origin, as
// Sigstore verifiers derive it from the trusted root) and whose
// checkpoints key signs. The log runs until Close.
func NewLog(ctx context.Context, baseURL, storage string, key signature.Signer, logger *slog.Logger) (*Log, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	origin, err := tlog.Origin(baseURL)
	if err != nil {
		return nil, err
	}
	pub, err := key.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("log key: %w", err)
	}
	logID, err := tlog.LogID(origin, pub)
	if err != nil {
		return nil, err
	}
	algs, err := signature.NewAlgorithmRegistryConfig(clientAlgorithms)
	if err != nil {
		return nil, fmt.Errorf("log algorithms: %w", err)
	}
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return nil, fmt.Errorf("log storage: %w", err)
	}
	if err := checkOrigin(storage, origin); err != nil {
		return nil, err
	}
	// The appender's goroutines live until Close, not until the caller's
	// request context ends.
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	ok := false
	defer func() {
		if !ok {
			stop()
		}
	}()
	driver, err := posix.New(runCtx, posix.Config{Path: storage})
	if err != nil {
		return nil, fmt.Errorf("log storage %s: %w", storage, err)
	}
	signer, err := note.NewNoteSigner(runCtx, origin, key)
	if err != nil {
		return nil, fmt.Errorf("log checkpoint signer: %w", err)
	}
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(signer).
		WithBatching(tessera.DefaultBatchMaxSize, BatchMaxAge).
		WithCheckpointInterval(CheckpointInterval).
		WithAntispam(tessera.DefaultAntispamInMemorySize, nil)
	appender, shutdown, reader, err := tessera.NewAppender(runCtx, driver, opts)
	if err != nil {
		return nil, fmt.Errorf("log %s: %w", storage, err)
	}
	l := &Log{
		origin: origin, logID: logID, pub: pub, storage: storage,
		appender: appender, reader: reader, shutdown: shutdown, stop: stop, algs: algs, logger: logger,
		awaiter: tessera.NewPublicationAwaiter(runCtx, reader.ReadCheckpoint, 50*time.Millisecond),
	}
	if l.handler, err = l.newHandler(); err != nil {
		return nil, err
	}
	ok = true
	return l, nil
}

// ID returns the log's ID: the signed-note key hash of its origin and key.
func (l *Log) ID() []byte { return l.logID }

// PublicKey returns the key that verifies the log's checkpoints.
func (l *Log) PublicKey() any { return l.pub }

// Handler serves the log's API, relative to its base URL.
func (l *Log) Handler() http.Handler { return l.handler }

// Close stops accepting entries, lets the pending ones be integrated and
// stops the log's goroutines.
func (l *Log) Close(ctx context.Context) error {
	defer l.stop()
	err := l.shutdown(ctx)
	l.files.Close()
	if err != nil {
		return fmt.Errorf("log %s: shutdown: %w", l.storage, err)
	}
	return nil
}

func (l *Log) newHandler() (http.Handler, error) {
	gw := runtime.NewServeMux(
		// rekor-tiles answers a created entry with 201, which its client
		// requires.
		runtime.WithForwardResponseOption(func(_ context.Context, w http.ResponseWriter, m proto.Message) error {
			if _, ok := m.(*protorekor.TransparencyLogEntry); ok {
				w.WriteHeader(http.StatusCreated)
			}
			return nil
		}),
	)
	if err := pb.RegisterRekorHandlerServer(context.Background(), gw, &rekorServer{log: l}); err != nil {
		return nil, fmt.Errorf("log API: %w", err)
	}
	root, err := os.OpenRoot(l.storage)
	if err != nil {
		return nil, fmt.Errorf("log storage: %w", err)
	}
	l.files = root
	// Only the public layout is served: tessera keeps its private state in
	// .state beside it.
	files := http.FileServerFS(root.FS())
	mux := http.NewServeMux()
	mux.Handle("POST /api/v2/log/entries", http.MaxBytesHandler(gw, MaxEntryRequestBytes))
	mux.Handle("GET /checkpoint", files)
	mux.Handle("GET /tile/", files)
	return mux, nil
}

// rekorServer implements the rekor-tiles API over a Log; only CreateEntry
// is served through it (reads are static files).
type rekorServer struct {
	pb.UnimplementedRekorServer
	log *Log
}

// CreateEntry validates a hashedrekord v0.0.2 request, appends the
// canonical entry and answers with the entry, its inclusion proof and the
// checkpoint it is proved against, as rekor-tiles does.
func (s *rekorServer) CreateEntry(ctx context.Context, req *pb.CreateEntryRequest) (*protorekor.TransparencyLogEntry, error) {
	hr := req.GetHashedRekordRequestV002()
	if hr == nil {
		return nil, status.Error(codes.InvalidArgument, "invalid type, must be hashedrekord")
	}
	entry, err := hashedrekord.ToLogEntry(hr, s.log.algs)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid hashedrekord request: %v", err)
	}
	body, err := protojson.Marshal(entry)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid hashedrekord request: %v", err)
	}
	canonical, err := jsoncanonicalizer.Transform(body)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid entry: %v", err)
	}
	tle, err := s.log.add(ctx, tessera.NewEntry(canonical))
	switch {
	case errors.Is(err, tessera.ErrPushback):
		return nil, status.Error(codes.Unavailable, "reached max pushback; retry")
	case errors.Is(err, context.Canceled):
		return nil, status.Error(codes.Canceled, err.Error())
	case errors.Is(err, errDuplicate):
		return nil, status.Error(codes.AlreadyExists, err.Error())
	case err != nil:
		s.log.logger.Error("transparency log: integrating entry", "error", err)
		return nil, status.Error(codes.Unknown, "failed to integrate entry")
	}
	tle.KindVersion = &protorekor.KindVersion{Kind: entry.GetKind(), Version: entry.GetApiVersion()}
	return tle, nil
}

var errDuplicate = errors.New("an equivalent entry already exists in the log")

// add appends e, waits for a checkpoint that covers it and proves its
// inclusion against that checkpoint.
func (l *Log) add(ctx context.Context, e *tessera.Entry) (*protorekor.TransparencyLogEntry, error) {
	idx, signed, err := l.awaiter.Await(ctx, l.appender.Add(ctx, e))
	if err != nil {
		return nil, err
	}
	if idx.IsDup {
		return nil, fmt.Errorf("%w at index %d", errDuplicate, idx.Index)
	}
	var cp logformat.Checkpoint
	if _, err := cp.Unmarshal(signed); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	pb, err := client.NewProofBuilder(ctx, cp.Size, l.reader.ReadTile)
	if err != nil {
		return nil, fmt.Errorf("proof builder: %w", err)
	}
	hashes, err := pb.InclusionProof(ctx, idx.Index)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of %d: %w", idx.Index, err)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, idx.Index, cp.Size, e.LeafHash(), hashes, cp.Hash); err != nil {
		return nil, fmt.Errorf("inclusion proof of %d: %w", idx.Index, err)
	}
	if idx.Index > 1<<62 || cp.Size > 1<<62 {
		return nil, fmt.Errorf("log index %d or size %d out of range", idx.Index, cp.Size)
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          int64(idx.Index),
		LogId:             &protocommon.LogId{KeyId: l.logID},
		CanonicalizedBody: e.Data(),
		InclusionProof: &protorekor.InclusionProof{
			LogIndex:   int64(idx.Index),
			RootHash:   cp.Hash,
			TreeSize:   int64(cp.Size),
			Hashes:     hashes,
			Checkpoint: &protorekor.Checkpoint{Envelope: string(signed)},
		},
	}, nil
}

// checkOrigin refuses to reopen a log under another origin: its
// checkpoints, and every entry's log ID, are bound to the origin it was
// created with, so a changed host name would orphan them.
func checkOrigin(storage, origin string) error {
	raw, err := os.ReadFile(filepath.Join(storage, layout.CheckpointPath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("log storage: %w", err)
	}
	was, _, _ := strings.Cut(string(raw), "\n")
	if was != origin {
		return fmt.Errorf("%w: the log in %s was created for origin %q (the host name of its URL), not %q: keep the URL's host name, or start a new log in another directory", ErrOrigin, storage, was, origin)
	}
	return nil
}

// ErrOrigin is returned when a log is reopened under another origin.
var ErrOrigin = errors.New("log origin changed")
