package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/csmarket/csmarket/api"
	"github.com/csmarket/csmarket/frontend"
	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "Runs the API server, applying migrations first. Stops gracefully on SIGTERM.", true, stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := slog.New(api.LogHandler(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel})))

	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	c, err := newCache(cfg, reg, log)
	if err != nil {
		return err
	}
	defer c.Close()
	clock := market.SystemClock{}
	providers := cache.NewProviderStore(sqlstore.NewProviderStore(db, clock), c)

	handler := api.New(api.Config{
		Providers:    providers,
		Cache:        c,
		Ready:        db.Ping,
		Degraded:     c.Ping,
		Logger:       log,
		Registry:     reg,
		MaxBodyBytes: cfg.MaxBodyBytes,
		PublicTTL:    cfg.CacheTTL,
		Frontend:     frontend.Dist(),
		Clock:        clock,
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "store", db.Engine(), "cache", cacheKind(cfg))

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// openStore opens the configured store and brings its schema up to date.
func openStore(ctx context.Context, cfg Config) (*sqlstore.DB, error) {
	db, err := sqlstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate store: %w", err)
	}
	return db, nil
}

// newCache returns the Redis-backed cache when CSM_REDIS_URL is set and the
// in-process one otherwise.
func newCache(cfg Config, reg prometheus.Registerer, log *slog.Logger) (*cache.Cache, error) {
	opts := cache.Options{Registerer: reg, Timeout: cfg.RedisTimeout, Logger: log}
	if cfg.RedisURL != "" {
		rc, err := cache.RedisClient(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("invalid CSM_REDIS_URL: %w", err)
		}
		opts.Redis = rc
	}
	return cache.New(opts), nil
}

func cacheKind(cfg Config) string {
	if cfg.RedisURL != "" {
		return "redis"
	}
	return "in-process"
}
