package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/internal/limits"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/tlog"
)

// Monitor intervals.
const (
	// DefaultMonitorInterval is how often the server checks the log.
	DefaultMonitorInterval = 5 * time.Minute
	// MinMonitorInterval bounds how often it may.
	MinMonitorInterval = time.Second
)

// TransparencyConfig configures the server's use of a transparency log
// beyond verification (which the trusted root configures).
type TransparencyConfig struct {
	// Monitor periodically checks a log of the trusted root as
	// `hallmark tlog verify` does.
	Monitor MonitorConfig `yaml:"monitor"`
	// Host hosts a log and a TSA in the server (host.go).
	Host HostConfig `yaml:"host"`
}

// MonitorConfig says which log to watch, where its tiles are read and how
// often.
type MonitorConfig struct {
	// Read is where the log's checkpoint and tiles are read: an http(s)
	// URL, or a POSIX log's storage directory. Empty turns monitoring off.
	Read string `yaml:"read"`
	// Log is the log's base URL in the trusted root, needed when the root
	// has several logs.
	Log string `yaml:"log"`
	// Interval is the time between checks (default 5m, at least 1s).
	Interval time.Duration `yaml:"interval"`
	// State is a file keeping the last checkpoint that verified, so a
	// restart still proves the log consistent with what was seen before.
	// Empty keeps it in memory only.
	State string `yaml:"state"`
}

// Reasons a monitor check fails, the reason label of
// hallmark_tlog_monitor_failures_total.
const (
	// MonitorCheckpoint: the checkpoint could not be read or its signature
	// does not verify.
	MonitorCheckpoint = "checkpoint"
	// MonitorInconsistent: the log forked, shrank or rewrote history since
	// the last checkpoint seen.
	MonitorInconsistent = "inconsistent"
	// MonitorNotIncluded: an entry a stored bundle claims is not in the log
	// (a dropped or rewritten entry).
	MonitorNotIncluded = "not_included"
	// MonitorState: the state file could not be read or written.
	MonitorState = "state"
	// MonitorStore: the store could not be read.
	MonitorStore = "store"
)

var monitorReasons = []string{MonitorCheckpoint, MonitorInconsistent, MonitorNotIncluded, MonitorState, MonitorStore}

// WithTrustedRoot verifies uploads and the gate's evidence against a
// Sigstore trusted root (log entries and timestamps, with opts such as
// attest.WithLogThreshold), as `hallmark verify --trusted-root` does, and
// gives transparency.monitor its logs. Open passes the same options to the
// gate.
func WithTrustedRoot(tr *root.TrustedRoot, opts ...attest.VerifyOption) Option {
	return func(o *options) error {
		if tr == nil {
			return errors.New("server.WithTrustedRoot: nil trusted root")
		}
		o.trustedRoot = tr
		o.verifyOpts = append([]attest.VerifyOption{attest.WithTrustedRoot(tr)}, opts...)
		return nil
	}
}

// logMonitor checks a log periodically. It is owned by Serve, which runs
// it until its context ends.
type logMonitor struct {
	cfg     MonitorConfig
	mon     *tlog.Monitor
	logID   []byte
	origin  string
	store   store.Store
	metrics *metrics
	logger  *slog.Logger
	now     func() time.Time
	prev    *tlog.Checkpoint // last checkpoint that verified
	loaded  bool             // prev was read from the state file
}

// newLogMonitor picks the configured log from the trusted root.
func newLogMonitor(c MonitorConfig, tr *root.TrustedRoot, st store.Store, m *metrics, logger *slog.Logger, now func() time.Time) (*logMonitor, error) {
	if tr == nil {
		return nil, fmt.Errorf("%w: transparency.monitor needs a trusted root: start the server with --trusted-root (or $HALLMARK_TRUSTED_ROOT)", ErrConfig)
	}
	var l *root.TransparencyLog
	for _, c2 := range tr.RekorLogs() {
		if c.Log == "" || c2.BaseURL == c.Log {
			if l != nil {
				return nil, fmt.Errorf("%w: transparency.monitor: the trusted root has several logs; name one in log", ErrConfig)
			}
			l = c2
		}
	}
	if l == nil {
		return nil, fmt.Errorf("%w: transparency.monitor.log: the trusted root has no log %q", ErrConfig, c.Log)
	}
	mon, err := tlog.NewMonitor(l, c.Read, nil)
	if err != nil {
		return nil, fmt.Errorf("transparency.monitor: %w", err)
	}
	origin, err := tlog.Origin(l.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("transparency.monitor: %w", err)
	}
	for _, r := range monitorReasons {
		m.add("hallmark_tlog_monitor_failures_total", 0, "reason", r)
	}
	return &logMonitor{cfg: c, mon: mon, logID: l.ID, origin: origin, store: st, metrics: m, logger: logger, now: now}, nil
}

// run checks the log at once and then every interval until ctx ends.
func (lm *logMonitor) run(ctx context.Context) {
	t := time.NewTicker(lm.cfg.Interval)
	defer t.Stop()
	for {
		lm.check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check runs one check, counts and logs its outcome.
func (lm *logMonitor) check(ctx context.Context) {
	cp, included, pending, reason, err := lm.verify(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return // shutting down
		}
		lm.metrics.inc("hallmark_tlog_monitor_failures_total", "reason", reason)
		lm.logger.Error("transparency log check failed", "log", lm.origin, "reason", reason, "error", err)
		return
	}
	lm.metrics.set("hallmark_tlog_monitor_last_success_timestamp_seconds", float64(lm.now().UnixMilli())/1000)
	lm.metrics.set("hallmark_tlog_checkpoint_size", float64(cp.Size))
	lm.metrics.set("hallmark_tlog_monitor_included_entries", float64(included))
	lm.metrics.set("hallmark_tlog_monitor_pending_entries", float64(pending))
	lm.logger.Info("transparency log consistent", "log", lm.origin, "size", cp.Size, "included", included, "pending", pending)
}

// verify fetches the checkpoint, proves it consistent with the last one
// seen and every stored bundle's entry in this log included, and saves it.
// Entries beyond the checkpoint (logged after it was published) are
// pending: the next check proves them.
func (lm *logMonitor) verify(ctx context.Context) (cp *tlog.Checkpoint, included, pending int, reason string, err error) {
	if !lm.loaded && lm.cfg.State != "" {
		raw, err := readState(lm.cfg.State)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, 0, 0, MonitorState, err
		default:
			if lm.prev, err = lm.mon.ParseCheckpoint(raw); err != nil {
				return nil, 0, 0, MonitorState, fmt.Errorf("%s: %w", lm.cfg.State, err)
			}
		}
	}
	lm.loaded = true
	cp, err = lm.mon.Latest(ctx, lm.prev)
	if err != nil {
		if errors.Is(err, tlog.ErrInconsistent) {
			return nil, 0, 0, MonitorInconsistent, err
		}
		return nil, 0, 0, MonitorCheckpoint, err
	}
	recs, err := lm.store.List(ctx, store.Query{})
	if err != nil {
		return nil, 0, 0, MonitorStore, err
	}
	for _, r := range recs {
		var pb protobundle.Bundle
		if protojson.Unmarshal(r.Bundle, &pb) != nil {
			continue // a bare envelope: no entries
		}
		for _, e := range pb.GetVerificationMaterial().GetTlogEntries() {
			if !bytes.Equal(e.GetLogId().GetKeyId(), lm.logID) {
				continue
			}
			idx := e.GetLogIndex()
			if idx < 0 {
				return nil, 0, 0, MonitorNotIncluded, fmt.Errorf("stored bundle %s: %w: negative log index", r.ID, tlog.ErrNotIncluded)
			}
			if uint64(idx) >= cp.Size {
				pending++
				continue
			}
			if err := lm.mon.Included(ctx, cp, uint64(idx), e.GetCanonicalizedBody()); err != nil {
				return nil, 0, 0, MonitorNotIncluded, fmt.Errorf("stored bundle %s: %w", r.ID, err)
			}
			included++
		}
	}
	if lm.cfg.State != "" {
		if err := writeState(lm.cfg.State, cp.Raw); err != nil {
			return nil, 0, 0, MonitorState, err
		}
	}
	lm.prev = cp
	return cp, included, pending, "", nil
}

// maxCheckpointBytes bounds a saved checkpoint note.
const maxCheckpointBytes = 64 << 10

func readState(path string) ([]byte, error) {
	f, err := limits.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("transparency.monitor.state: %w", err)
	}
	defer f.Close()
	return limits.ReadAll(f, maxCheckpointBytes, path)
}

// writeState replaces the state file atomically, so a crash leaves the old
// checkpoint or the new one.
func writeState(path string, raw []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("transparency.monitor.state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("transparency.monitor.state: %w", err)
	}
	_, err = tmp.Write(raw)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("transparency.monitor.state %s: %w", path, err)
	}
	return nil
}
