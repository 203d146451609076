package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate/tollgate/config"
	"github.com/tollgate/tollgate/server/logsink"
)

func serveCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the token service",
		Long: `Run the token service.

With no configuration it serves on 127.0.0.1:8080 from an embedded SQLite
database (tollgate.db, migrated automatically) and keeps its master key in
tollgate.key beside it. Set TOLLGATE_DATABASE_URL=postgres://… and
TOLLGATE_REDIS_URL=redis://… for production (run 'tollgate migrate' first).
See docs/CONFIGURATION.md for every setting.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			log, stopLog := e.serveLogger(cmd.Context(), cfg)
			defer stopLog()
			defer paceGC(context.WithoutCancel(cmd.Context()), e.getenv("GOGC"), log)()
			tp, stopTracing, err := newTracer(cmd.Context(), cfg.Server.Tracing, e.stderr)
			if err != nil {
				return err
			}
			defer stopTracing(context.WithoutCancel(cmd.Context()))
			redis.SetLogger(goRedisLog{log: log})
			return serve(cmd.Context(), cfg, log, tp, nil)
		},
	}
}

// logFlushGap is how long a busy server's log lines wait to be written
// together (see server/logsink).
const logFlushGap = 25 * time.Millisecond

// serveLogger is the process logger for serve: its lines are batched into
// few writes, as the request log is one line per request. stop writes what
// is left and must be called before serve returns.
func (e *env) serveLogger(ctx context.Context, cfg config.Config) (log *slog.Logger, stop func()) {
	sink := logsink.New(e.stderr, logFlushGap)
	// The log outlives ctx: shutdown is logged after the signal.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		sink.Run(ctx)
	}()
	return slog.New(logsink.Handler(logHandler(cfg, sink), sink)), func() { cancel(); <-done }
}

// serve runs the service until ctx is cancelled, then drains in-flight
// requests within the shutdown timeout. If ready is not nil it receives the
// listening address once the server accepts connections.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, tp trace.TracerProvider, ready chan<- string) error {
	// Every setting in effect, secrets redacted by Config.LogValue, before
	// anything can fail.
	log.LogAttrs(ctx, slog.LevelInfo, "configuration", slog.Any("config", cfg))
	svc, err := newService(ctx, cfg, log, tp)
	if err != nil {
		return err
	}
	defer svc.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return listenFailed(cfg, err)
	}
	srv := newHTTPServer(cfg, svc.handler, log)
	srv.RegisterOnShutdown(svc.startDraining)
	// Background work (the revocation set, key refresh, caches) outlives
	// the signal: it stops once in-flight requests have drained, so that
	// they are answered by a node that still vouches for its revocation
	// set, and only then does the node leave the roster.
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	waitBG := svc.background(bgCtx)
	defer func() { stopBG(); waitBG() }()

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	msrv, err := serveMetrics(cfg, svc, log, errc)
	if err != nil {
		_ = srv.Close()
		return err
	}
	log.LogAttrs(ctx, slog.LevelInfo, "tollgate listening",
		slog.String("addr", ln.Addr().String()), slog.String("issuer", cfg.Issuer),
		slog.String("database", svc.stores.sql.Dialect()), slog.Bool("redis", svc.stores.redis != nil),
		slog.String("version", buildVersion()))
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.LogAttrs(context.Background(), slog.LevelInfo, "shutting down", slog.Duration("timeout", cfg.Server.ShutdownTimeout))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	if msrv != nil {
		_ = msrv.Shutdown(shutdownCtx)
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("draining connections: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveMetrics starts the metrics listener when TOLLGATE_METRICS_ADDR
// names one; it is nil otherwise.
func serveMetrics(cfg config.Config, svc *service, log *slog.Logger, errc chan<- error) (*http.Server, error) {
	addr := cfg.Server.MetricsAddr
	if addr == "" || addr == "off" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for metrics on %s (TOLLGATE_METRICS_ADDR): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", svc.metrics.Handler())
	msrv := &http.Server{Handler: mux, ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout, ReadTimeout: cfg.Server.ReadTimeout,
		WriteTimeout: cfg.Server.WriteTimeout, IdleTimeout: cfg.Server.IdleTimeout}
	go func() {
		if err := msrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("metrics listener: %w", err)
		}
	}()
	log.LogAttrs(context.Background(), slog.LevelInfo, "metrics listening", slog.String("addr", ln.Addr().String()))
	return msrv, nil
}

// newHTTPServer returns the HTTP server Tollgate listens with: every
// timeout set, so a slow or stalled client (slowloris) cannot hold a
// connection, and headers bounded.
func newHTTPServer(cfg config.Config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		ReadTimeout:       cfg.Server.ReadTimeout,
		WriteTimeout:      cfg.Server.WriteTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
