package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/csmarket/csmarket/api"
	"github.com/csmarket/csmarket/frontend"
	"github.com/csmarket/csmarket/internal/auth"
	"github.com/csmarket/csmarket/internal/billing"
	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/logsink"
	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/notify"
	"github.com/csmarket/csmarket/internal/ocds"
	"github.com/csmarket/csmarket/internal/ratelimit"
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
	// Access lines are written in batches, every other line at once.
	sink := logsink.New(stderr, 0, 0)
	defer sink.Close()
	log := slog.New(api.LogHandler(slog.NewJSONHandler(sink.Direct(), &slog.HandlerOptions{Level: cfg.LogLevel})))
	var accessLog io.Writer
	if cfg.LogLevel <= slog.LevelInfo {
		accessLog = sink.Buffered()
	}

	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	rc, err := redisClient(cfg)
	if err != nil {
		return err
	}
	c := newCache(cfg, rc, reg, log)
	defer c.Close()
	clock := market.SystemClock{}
	accounts, keys, err := newAccounts(cfg, db, c, clock)
	if err != nil {
		return err
	}
	if cfg.JWTKeyFile == defaultKeyFile && db.Engine() != sqlstore.EngineSQLite {
		log.Warn("signing keys are in the default file; replicas must share one CSM_JWT_KEY_FILE or they refuse each other's tokens", "file", cfg.JWTKeyFile)
	}

	tenderStore := cache.NewTenderStore(sqlstore.NewTenderStore(db, clock), c)
	evaluationStore := cache.NewEvaluationStore(sqlstore.NewEvaluationStore(db, clock), c)
	tenders := &market.Tenders{
		Store:           tenderStore,
		Declarations:    evaluationStore,
		Orgs:            accounts.Users,
		Clock:           clock,
		MinTenderPeriod: cfg.MinTenderPeriod,
	}
	levyStore := sqlstore.NewLevyStore(db, clock)
	billingMetrics := billing.NewMetrics(reg)
	policy := market.LevyPolicy{
		BasisPoints: cfg.LevyBasisPoints, CapPence: cfg.LevyCapPence,
		WaivedSectors: cfg.LevyWaivedSectors, Invoicing: cfg.StripeKey != "",
	}
	levies := &market.Levies{Store: levyStore, Clock: clock, Policy: policy}
	var worker *billing.Worker
	if policy.Invoicing {
		worker = billing.NewWorker(levyStore, billing.NewClient(billing.Options{
			Key: cfg.StripeKey, APIBase: cfg.StripeAPIBase, Timeout: cfg.StripeTimeout,
		}), billing.WorkerOptions{DaysUntilDue: cfg.LevyDaysDue, Clock: clock, Logger: log, Metrics: billingMetrics})
		levies.Kick = worker.Kick
	}
	evaluations := &market.Evaluations{
		Tenders:    tenderStore,
		Store:      evaluationStore,
		Users:      accounts.Users,
		Clock:      clock,
		Standstill: cfg.Standstill,
		Levy:       policy,
		LevyRecorded: func(l *market.Levy) {
			billingMetrics.Count(l.Status)
			if worker != nil && l.Status == market.LevyPending {
				worker.Kick()
			}
		},
	}

	notificationStore := sqlstore.NewNotificationStore(db, clock)
	notifyMetrics := notify.NewMetrics(reg)
	hub := notify.NewHub(rc, log)
	var mailer *notify.Mailer
	if cfg.SMTPURL != "" {
		if mailer, err = notify.NewMailer(notificationStore, notify.MailerOptions{
			SMTPURL: cfg.SMTPURL, From: cfg.SMTPFrom, Clock: clock, Logger: log, Metrics: notifyMetrics,
		}); err != nil {
			return fmt.Errorf("invalid CSM_SMTP_URL: %w", err)
		}
	}
	dispatcherOpts := notify.DispatcherOptions{
		PublicURL: cfg.PublicURL, Mail: mailer != nil, ReminderBefore: cfg.ReminderBefore, Poll: cfg.NotifyPoll,
		Clock: clock, Logger: log, Metrics: notifyMetrics, Publisher: hub,
	}
	if mailer != nil {
		dispatcherOpts.MailKick = mailer.Kick
	}
	dispatcher := notify.NewDispatcher(notificationStore, &market.Notifier{
		Tenders: tenderStore, Users: accounts.Users, Evaluators: evaluationStore, Audiences: notificationStore,
		Levies: levyStore, Prefs: notificationStore, Clock: clock,
	}, dispatcherOpts)

	closing := make(chan struct{})
	handler := api.New(api.Config{
		Providers:   accounts.Providers,
		Accounts:    accounts,
		Tenders:     tenders,
		Evaluations: evaluations,
		Audit:       sqlstore.NewAuditStore(db),
		Market:      sqlstore.NewMarketStore(db),
		OCDS: &ocds.Options{
			Prefix:        cfg.OCIDPrefix,
			PublisherName: "csmarket",
			BaseURI:       cfg.PublicURL,
		},
		Idempotency: sqlstore.NewIdempotencyStore(db),
		Levies:      levies,
		Inbox:       &market.Inbox{Store: notificationStore, Clock: clock},
		Stream:      hub,
		AfterWrite:  dispatcher.Kick,
		Closing:     closing,
		StripeWebhook: &billing.Webhooks{
			Secret: cfg.StripeWebhookSecret, Store: levyStore, Clock: clock, Metrics: billingMetrics,
		},
		JWKS:           keys.JWKS(),
		Cache:          c,
		Limiter:        ratelimit.New(ratelimit.Options{Redis: rc, Timeout: cfg.RedisTimeout, Registerer: reg, Logger: log}),
		LoginLimit:     cfg.RateLogin,
		TokenLimit:     cfg.RateToken,
		CORSOrigins:    cfg.CORSOrigins,
		TrustedProxies: cfg.TrustedProxies,
		Ready:          db.Ping,
		Degraded:       c.Ping,
		Logger:         log,
		AccessLog:      accessLog,
		Registry:       reg,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		PublicTTL:      cfg.CacheTTL,
		Frontend:       frontend.Dist(),
		Clock:          clock,
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
	drain := newDrainer(srv, ln)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(drain.Listener()) }()
	if cfg.PprofAddr != "" {
		stopPprof, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			_ = srv.Close()
			return err
		}
		defer stopPprof()
	}
	log.Info("listening", "addr", ln.Addr().String(), "store", db.Engine(), "cache", cacheKind(cfg), "levy_invoicing", policy.Invoicing)
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	var workers sync.WaitGroup
	workers.Go(func() {
		if worker != nil {
			worker.Run(workerCtx)
		}
	})
	workers.Go(func() { hub.Run(workerCtx) })
	workers.Go(func() { dispatcher.Run(workerCtx) })
	if mailer != nil {
		workers.Go(func() { mailer.Run(workerCtx) })
	}
	defer func() { stopWorker(); workers.Wait() }()

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	close(closing)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := drain.Stop(sctx, srv); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// servePprof serves Go's runtime profiles on their own listener, apart
// from the API's, so that they are reachable only where the operator binds
// them.
func servePprof(addr string, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on CSM_PPROF_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("profiles served", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
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

// redisClient returns the shared Redis client when CSM_REDIS_URL is set, and
// nil (everything in process) otherwise.
func redisClient(cfg Config) (redis.UniversalClient, error) {
	if cfg.RedisURL == "" {
		return nil, nil
	}
	rc, err := cache.RedisClient(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("invalid CSM_REDIS_URL: %w", err)
	}
	return rc, nil
}

// newCache returns the cache on Redis when rc is set and in process
// otherwise.
func newCache(cfg Config, rc redis.UniversalClient, reg prometheus.Registerer, log *slog.Logger) *cache.Cache {
	near := cfg.NearBound
	if near == 0 {
		near = -1 // ask Redis on every hit
	}
	return cache.New(cache.Options{Redis: rc, Prefix: cfg.RedisPrefix, MaxBytes: cfg.CacheMaxBytes, Registerer: reg, Timeout: cfg.RedisTimeout, NearBound: near, Logger: log})
}

const defaultKeyFile = "data/jwt-keys.pem"

// newAccounts wires the account rules to the store, the signing keys and
// the password hasher. Writes that change the directory go through the
// cache wrappers, so that every replica stops serving what they replace.
func newAccounts(cfg Config, db *sqlstore.DB, c *cache.Cache, clock market.Clock) (*market.Accounts, *auth.KeySet, error) {
	keys, err := auth.EnsureKeyFile(cfg.JWTKeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("signing keys (CSM_JWT_KEY_FILE): %w", err)
	}
	return &market.Accounts{
		Users:             cache.NewUserStore(sqlstore.NewUserStore(db, clock), c),
		Sessions:          sqlstore.NewSessionStore(db, clock),
		Providers:         cache.NewProviderStore(sqlstore.NewProviderStore(db, clock), c),
		Personal:          sqlstore.NewPersonalDataStore(db),
		Tokens:            auth.NewTokens(keys, cfg.JWTIssuer, cfg.JWTAudience),
		Passwords:         auth.NewPasswords(),
		Clock:             clock,
		BuyerEmailDomains: cfg.BuyerEmailDomains,
	}, keys, nil
}

func cacheKind(cfg Config) string {
	if cfg.RedisURL != "" {
		return "redis"
	}
	return "in-process"
}

// writer is what a command that changes data from outside the server needs:
// the store, the cache (so that servers sharing Redis drop the views the
// change replaces) and the account rules.
type writer struct {
	db       *sqlstore.DB
	cache    *cache.Cache
	accounts *market.Accounts
}

func openWriter(ctx context.Context, cfg Config, stderr io.Writer) (*writer, error) {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rc, err := redisClient(cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	c := newCache(cfg, rc, prometheus.NewRegistry(), newLogger(stderr, cfg.LogLevel))
	accounts, _, err := newAccounts(cfg, db, c, market.SystemClock{})
	if err != nil {
		c.Close()
		db.Close()
		return nil, err
	}
	return &writer{db: db, cache: c, accounts: accounts}, nil
}

func (w *writer) close() {
	w.cache.Close()
	w.db.Close()
}
