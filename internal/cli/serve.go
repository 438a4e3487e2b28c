package cli

import (
	"net/http"
	"runtime/debug"

	"errors"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/compliance"
	"github.com/hallmark-dev/hallmark/gate"
	"github.com/hallmark-dev/hallmark/internal/server"
	"github.com/hallmark-dev/hallmark/store"
	"github.com/hallmark-dev/hallmark/tee/verifiers"
	"github.com/hallmark-dev/hallmark/web"
)

// DefaultServeMemoryLimitMiB is the heap size at which `hallmark serve`
// collects garbage, unless GOGC or GOMEMLIMIT is set or --memory-limit-mib
// says otherwise. Each gate evaluation converts the whole evidence set into
// policy terms; with Go's default (GOGC=100) the collector runs often enough
// to push the built-in prod policy's p99 past 5 ms on 2 cores, while
// collecting only near a memory limit keeps it near OPA's own evaluation
// loop (bench/policy/run.sh measures both ways). 512 MiB sits below the
// 1 GiB container limit of deploy/kubernetes.
const DefaultServeMemoryLimitMiB = 512

func newServeCmd(app *App) *cobra.Command {
	var config, listen string
	var insecureHTTP bool
	var memLimitMiB int
	cmd := &cobra.Command{
		Use:   "serve --config FILE [--listen ADDR] [--insecure-http]",
		Short: "Run the evidence service, the gate API and the Kubernetes admission webhook",
		Long: `Serve the HTTPS API described in docs/server.md: bundle uploads (verified
against the trust file), evidence and deployment queries, gate evaluations,
the admission webhook at /admission/validate (and /admission/mutate, which
pins tag-only images by digest when admission.resolve is enabled),
/healthz and /metrics.

With --trusted-root, uploads and the gate's evidence must also verify against
it (log entries, timestamps), and transparency.monitor in the configuration
checks the log periodically, as 'hallmark tlog verify' does, reporting in
/metrics (hallmark_tlog_*) and the log. transparency.host hosts a Rekor v2
log and an RFC 3161 timestamp authority in the server itself (off by
default; a single-operator convenience, docs/tlog.md) and writes their
trusted root.

TLS is required; --insecure-http serves plain HTTP, and only on a loopback
address. SIGTERM or SIGINT shuts down gracefully.`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if config == "" {
				return usageError(errors.New("--config is required"))
			}
			cfg, err := server.LoadConfig(config)
			if err != nil {
				return badInput(err)
			}
			logger := slog.New(slog.NewJSONHandler(app.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			_, gogc := app.LookupEnv("GOGC")
			_, gomemlimit := app.LookupEnv("GOMEMLIMIT")
			if memLimitMiB > 0 && !gogc && !gomemlimit {
				debug.SetMemoryLimit(int64(memLimitMiB) << 20)
				debug.SetGCPercent(-1)
			}
			// Hosted services first: they write the trusted root that
			// --trusted-root may name.
			hostOpts, stopHosted, err := app.serveHosted(contextOf(cmd), cfg, logger)
			if err != nil {
				return err
			}
			defer stopHosted()
			opts, err := app.serverOptions()
			if err != nil {
				return err
			}
			opts = append(opts, hostOpts...)
			// The dashboard verifies what it shows as uploads are verified.
			webVerify, err := app.verifyOptions()
			if err != nil {
				return err
			}
			s, err := server.Open(contextOf(cmd), cfg, app.Getenv, append(opts, server.WithLogger(logger),
				server.WithDashboardFrom(func(st store.Store, g *gate.Gate) (http.Handler, error) {
					tee, refs := g.TEE()
					return web.New(st, g.Trust(), web.WithLogger(logger), web.WithClock(app.Now), web.WithVerifyOptions(webVerify...),
						web.WithCompliance(web.Compliance{Policies: g.Policies(), TEE: tee, TEERefs: refs, Decisions: compliance.StoreDecisions(st, g.Trust(), nil)}))
				}))...)
			if err != nil {
				return environmentErr(err)
			}
			defer s.Close()
			if err := s.Run(contextOf(cmd), listen, insecureHTTP); err != nil {
				if errors.Is(err, server.ErrInsecure) {
					return usageError(err)
				}
				return environmentErr(err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "server configuration file (YAML, docs/server.md)")
	cmd.Flags().StringVar(&listen, "listen", "", "listen address (default: the configuration's listen, or "+server.DefaultListen+")")
	cmd.Flags().IntVar(&memLimitMiB, "memory-limit-mib", DefaultServeMemoryLimitMiB, "collect garbage only as the heap nears this size (0: Go's default GOGC=100; GOGC or GOMEMLIMIT in the environment win)")
	cmd.Flags().BoolVar(&insecureHTTP, "insecure-http", false, "serve plain HTTP instead of TLS; only allowed on a loopback address")
	return cmd
}

// serverOptions are what `serve` and `recheck --config` open the server
// with: the offline TEE verifiers, --trusted-root and the clock.
func (a *App) serverOptions() ([]server.Option, error) {
	reg, err := verifiers.Offline()
	if err != nil {
		return nil, environmentErr(err)
	}
	opts, err := a.serverTransparency()
	if err != nil {
		return nil, err
	}
	return append(opts, server.WithTEE(reg), server.WithClock(a.Now)), nil
}
