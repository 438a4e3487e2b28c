package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/term"

	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/oci"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/store/sqlite"
)

// App carries what commands may touch of the process: streams, environment,
// clock and working directory. Tests build one with buffers and a fixed
// clock; cmd/hallmark builds the real one.
type App struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads an environment variable.
	Getenv func(string) string
	// LookupEnv reads an environment variable and whether it is set.
	LookupEnv func(string) (string, bool)
	// Now is the clock.
	Now func() time.Time
	// ReadPassword prompts on the terminal and reads a line without echo;
	// nil when there is no terminal.
	ReadPassword func(prompt string) ([]byte, error)
	// Logger receives diagnostics.
	Logger *slog.Logger

	// quiet is set by the --quiet flag.
	quiet bool
	// proj caches the project configuration (see App.project).
	proj          *Project
	projErr       error
	projectLoaded bool
	// StderrTerminal says Stderr is a terminal: progress lines are shown
	// there (unless --quiet).
	StderrTerminal bool
	// OpenTEE opens the machine's TEE for `build --tee`; nil uses the
	// hardware (verifiers.OpenHardware).
	OpenTEE TEEOpener

	// storeDir is set by the --store flag.
	storeDir string
	// regFlags are the registry flags; registry is built from them once.
	regFlags registryFlags
	registry *oci.Resolver
	// tlog holds the transparency flags (tlog.go).
	tlog tlogFlags
}

// NewOSApp returns an App wired to the real process.
func NewOSApp() *App {
	a := &App{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv, LookupEnv: os.LookupEnv, Now: time.Now,
		Logger:         slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		StderrTerminal: term.IsTerminal(int(os.Stderr.Fd())),
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		tty.Close()
		a.ReadPassword = func(prompt string) ([]byte, error) {
			tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
			if err != nil {
				return nil, err
			}
			defer tty.Close()
			fmt.Fprint(tty, prompt)
			b, err := term.ReadPassword(int(tty.Fd()))
			fmt.Fprintln(tty)
			return b, err
		}
	}
	return a
}

// PasswordEnv is the environment variable holding the key passphrase.
const PasswordEnv = "HALLMARK_PASSWORD"

// StoreEnv overrides the default store directory.
const StoreEnv = "HALLMARK_STORE"

// DefaultStoreDir is where the embedded store lives, relative to the
// working directory.
const DefaultStoreDir = ".hallmark"

var errNoPassphrase = errors.New("no passphrase: set " + PasswordEnv + " or run in a terminal")

// passphrase returns the key passphrase from HALLMARK_PASSWORD or a prompt;
// with confirm it asks twice and requires both to match.
func (a *App) passphrase(purpose string, confirm bool) ([]byte, error) {
	if v, ok := a.LookupEnv(PasswordEnv); ok {
		return []byte(v), nil
	}
	if a.ReadPassword == nil {
		return nil, errNoPassphrase
	}
	p, err := a.ReadPassword("Passphrase for " + purpose + ": ")
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if confirm {
		again, err := a.ReadPassword("Repeat passphrase: ")
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		if string(again) != string(p) {
			return nil, usageError(errors.New("passphrases do not match"))
		}
	}
	return p, nil
}

// loadSigningKey reads and decrypts the private key at path.
func (a *App) loadSigningKey(path string) (*keys.PrivateKey, error) {
	pass, err := a.passphrase(path, false)
	if err != nil {
		return nil, err
	}
	return keys.LoadPrivateKeyFile(path, pass)
}

// resolvedStoreDir is the store directory from --store, HALLMARK_STORE, the
// project configuration or the default.
func (a *App) resolvedStoreDir() string {
	if a.storeDir != "" {
		return a.storeDir
	}
	if v := a.Getenv(StoreEnv); v != "" {
		return v
	}
	if p, err := a.project(); err == nil && p != nil && p.Store != "" {
		return p.Store
	}
	return DefaultStoreDir
}

// openStore opens the embedded evidence store.
func (a *App) openStore(ctx context.Context) (store.Store, error) {
	dir := a.resolvedStoreDir()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "evidence.db"), sqlite.WithClock(a.Now))
	if err != nil {
		return nil, storeError(err)
	}
	return s, nil
}
