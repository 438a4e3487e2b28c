package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/internal/server"
	"github.com/hallmark-dev/hallmark/tlog"
)

// Environment variables that set the transparency flags' defaults.
const (
	// TlogEnv names the Rekor v2 log that signing commands log to ("off": none).
	TlogEnv = "HALLMARK_TLOG"
	// TSAEnv names the RFC 3161 timestamp authority signing commands use.
	TSAEnv = "HALLMARK_TSA"
	// TrustedRootEnv names the Sigstore trusted_root.json verification uses.
	TrustedRootEnv = "HALLMARK_TRUSTED_ROOT"
	// FulcioEnv names the Fulcio that keyless signing gets certificates from.
	FulcioEnv = "HALLMARK_FULCIO"
)

// tlogFlags are the transparency log and timestamp flags, shared by every
// command (persistent on the root): signing commands log and timestamp what
// they sign, verifying commands check it against the trusted root.
type tlogFlags struct {
	log, tsa, root string
	fulcio         string
	logThreshold   int
	tsThreshold    int
}

func addTlogFlags(app *App, root *cobra.Command) {
	f := &app.tlog
	pf := root.PersistentFlags()
	pf.StringVar(&f.log, "tlog", "", "Rekor v2 (rekor-tiles) log URL to log signed bundles in, or off (default $"+TlogEnv+", else off)")
	pf.StringVar(&f.fulcio, "fulcio", "", "Fulcio URL that --keyless signing gets a certificate from (default $"+FulcioEnv+")")
	pf.StringVar(&f.tsa, "tsa", "", "RFC 3161 timestamp authority URL to timestamp signatures with, or off (default $"+TSAEnv+", else off)")
	pf.StringVar(&f.root, "trusted-root", "", "Sigstore trusted_root.json: verification requires log entries and timestamps that verify against it (default $"+TrustedRootEnv+")")
	pf.IntVar(&f.logThreshold, "tlog-threshold", -1, "with --trusted-root: log entries from distinct trusted logs required (default 1 if the root has logs)")
	pf.IntVar(&f.tsThreshold, "timestamp-threshold", -1, "with --trusted-root: verified timestamps required (default 1 if the root has timestamp authorities)")
}

// setting returns a flag's value, else the environment's, with "off" as "".
func (a *App) setting(flag, env string) string {
	v := flag
	if v == "" {
		v = a.Getenv(env)
	}
	if strings.EqualFold(v, "off") {
		return ""
	}
	return v
}

// signOptions are the attest.Sign options the flags ask for.
func (a *App) signOptions() ([]attest.SignOption, error) {
	var opts []attest.SignOption
	if u := a.setting(a.tlog.log, TlogEnv); u != "" {
		opts = append(opts, attest.WithTransparencyLog(u))
	}
	if u := a.setting(a.tlog.tsa, TSAEnv); u != "" {
		opts = append(opts, attest.WithTimestampAuthority(u))
	}
	return opts, nil
}

// verifyOptions are the attest.Verify options the flags ask for: none
// without a trusted root.
func (a *App) verifyOptions() ([]attest.VerifyOption, error) {
	tr, thresholds, err := a.trustedRoot()
	if err != nil || tr == nil {
		return nil, err
	}
	return append([]attest.VerifyOption{attest.WithTrustedRoot(tr)}, thresholds...), nil
}

// trustedRoot loads --trusted-root (nil without one) and returns the
// threshold options the flags ask for.
func (a *App) trustedRoot() (*root.TrustedRoot, []attest.VerifyOption, error) {
	p := a.setting(a.tlog.root, TrustedRootEnv)
	if p == "" {
		if a.tlog.logThreshold > 0 || a.tlog.tsThreshold > 0 {
			return nil, nil, usageError(fmt.Errorf("--tlog-threshold and --timestamp-threshold need --trusted-root"))
		}
		return nil, nil, nil
	}
	tr, err := tlog.LoadRoot(p)
	if err != nil {
		return nil, nil, badInput(err)
	}
	var opts []attest.VerifyOption
	if a.tlog.logThreshold >= 0 {
		opts = append(opts, attest.WithLogThreshold(a.tlog.logThreshold))
	}
	if a.tlog.tsThreshold >= 0 {
		opts = append(opts, attest.WithTimestampThreshold(a.tlog.tsThreshold))
	}
	return tr, opts, nil
}

// describeTransparency says on stderr what the log and timestamps of a new
// bundle are, so that "--tlog off" is visible in the command's output.
func (a *App) describeTransparency(v *attest.Verified) {
	logURL := a.setting(a.tlog.log, TlogEnv)
	tsaURL := a.setting(a.tlog.tsa, TSAEnv)
	if logURL == "" && tsaURL == "" {
		return
	}
	if logURL != "" {
		fmt.Fprintf(a.Stderr, "logged in %s\n", logURL)
	}
	if tsaURL != "" {
		fmt.Fprintf(a.Stderr, "timestamped by %s\n", tsaURL)
	}
	if !v.Time.IsZero() {
		fmt.Fprintf(a.Stderr, "verified time %s\n", v.Time.Format(time.RFC3339))
	}
}

// printTransparency adds what the trusted root verified to `verify` output.
func printTransparency(w io.Writer, v *attest.Verified) {
	if v.LogEntries > 0 {
		fmt.Fprintf(w, "  log entries verified: %d\n", v.LogEntries)
	}
	if !v.Time.IsZero() {
		fmt.Fprintf(w, "  verified time: %s\n", v.Time.Format(time.RFC3339))
	}
}

// serverTransparency makes the server verify uploads and the gate's
// evidence against --trusted-root as `hallmark gate` does, and gives
// transparency.monitor its logs.
func (a *App) serverTransparency() ([]server.Option, error) {
	tr, thresholds, err := a.trustedRoot()
	if err != nil || tr == nil {
		return nil, err
	}
	return []server.Option{server.WithTrustedRoot(tr, thresholds...)}, nil
}
