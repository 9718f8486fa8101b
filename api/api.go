// Package api is csmarket's HTTP layer: the Gin router, its handlers,
// middleware and problem+json errors, and the request and response types of
// the public contract in openapi.yaml. It is the only package that imports
// gin, so the domain and the store never see HTTP.
package api

import (
	"context"
	_ "embed"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/ocds"
	"github.com/csmarket/csmarket/internal/ratelimit"
)

// spec is the contract this package serves at /openapi.yaml and its tests
// hold every response to.
//
//go:embed openapi.yaml
var spec []byte

// Defaults for the zero values of Config.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultPublicTTL    = 60 * time.Second
)

// Config wires the HTTP layer to the rest of csmarket.
type Config struct {
	// Providers serves the directory. Pass the cache wrapper
	// (cache.NewProviderStore) so that listing updates invalidate the
	// cached views.
	Providers market.ProviderStore

	// Cache keeps the rendered public views (an in-process cache when nil).
	Cache *cache.Cache

	// Ready reports whether the store is reachable; /readyz answers 503
	// while it fails. Nil means always ready.
	Ready func(ctx context.Context) error

	// Degraded reports whether the dependencies a replica can do without
	// (the shared cache) are reachable. While it fails /readyz still
	// answers 200, with status "degraded": requests are then served from
	// the store, and a load balancer that drained every replica whenever
	// Redis blinked would turn a slower service into no service.
	Degraded func(ctx context.Context) error

	// Logger receives one JSON access line per request and every error,
	// each with the request's request_id (see LogHandler). Nil logs JSON
	// to standard error.
	Logger *slog.Logger

	// AccessLog, when set, receives the access lines instead of Logger,
	// written as Logger's JSON handler would write them (without slog's
	// cost; see accesslog.go). serve gives it a writer that batches them
	// (internal/logsink), or nil above the info level.
	AccessLog io.Writer

	// Registry receives the HTTP metrics and is what /metrics serves. Nil
	// makes a registry of its own that also holds the Go and process
	// collectors; a caller that passes one registers those itself.
	Registry *prometheus.Registry

	// MaxBodyBytes bounds every request body (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64

	// PublicTTL is how long a public view is cached (DefaultPublicTTL when
	// 0). Writes invalidate views sooner; the TTL only bounds memory.
	PublicTTL time.Duration

	// Frontend is the built web app, served at / with index.html for
	// client-side routes. Nil, or without index.html, serves a page saying
	// the frontend is not built.
	Frontend fs.FS

	// Clock tells the time (market.SystemClock when nil).
	Clock market.Clock

	// Accounts holds the account rules: registration, sign-in, who may
	// edit which listing and manage which users. Nil leaves the account
	// routes (and PUT /api/v1/providers/{id}) unmounted, for a read-only
	// directory.
	Accounts *market.Accounts

	// Tenders holds the rules of tenders, clarification questions and
	// sealed bids. Nil, or nil Accounts (whose tokens say who is asking),
	// leaves the tender routes unmounted. Give its Store the cache wrapper
	// (cache.NewTenderStore) so that changes show in the cached public
	// views at once.
	Tenders *market.Tenders

	// Evaluations holds the rules of evaluation and award: evaluators and
	// their conflict declarations, scores, moderation, the comparison, the
	// award with its standstill, and feedback. Nil leaves those routes
	// unmounted. Give its Tenders the cache wrapper, as for Tenders, so
	// that an award shows in the public views at once.
	Evaluations *market.Evaluations

	// Audit reads the hash-chained audit trail for GET /api/v1/audit and
	// /api/v1/audit/verify. Nil leaves those routes unmounted.
	Audit market.AuditStore

	// Market computes the choice figures of GET /api/v1/market/choice.
	// Nil leaves that route unmounted.
	Market market.MarketStore

	// OCDS are the publisher's settings (the ocid prefix above all) of the
	// tenders' OCDS release packages, served at
	// GET /api/v1/tenders/{id}/ocds. Nil leaves that route unmounted.
	OCDS *ocds.Options

	// Levies holds the rules of the marketplace levy: who reads which
	// levies, and the operator's retry of a failed one. Nil, or nil
	// Accounts, leaves /api/v1/billing/levies unmounted.
	Levies *market.Levies

	// StripeWebhook verifies and applies Stripe's events, posted to
	// /api/v1/billing/stripe/webhook. Nil leaves that route unmounted.
	StripeWebhook StripeWebhook

	// Inbox holds each user's notifications and preferences. Nil leaves
	// the notification routes unmounted.
	Inbox *market.Inbox

	// Stream delivers notifications live for
	// GET /api/v1/notifications/stream; nil leaves that route unmounted.
	Stream NotificationStream

	// Heartbeat is how often an idle notification stream sends a comment
	// (15 s when 0).
	Heartbeat time.Duration

	// Closing, closed when the server begins to shut down, ends every
	// notification stream (clients reconnect to another replica with
	// Last-Event-ID), so that shutdown does not wait on them.
	Closing <-chan struct{}

	// AfterWrite, when set, is called after every request that changed
	// something (a POST, PUT, PATCH or DELETE answered below 400), so that
	// this replica's notification dispatcher looks at once.
	AfterWrite func()

	// Idempotency keeps the answers of creating POSTs sent with an
	// Idempotency-Key, for replay to a client that retries. Nil ignores
	// the header.
	Idempotency market.IdempotencyStore

	// JWKS is the public signing keys as a JSON Web Key Set, served at
	// /.well-known/jwks.json so that other services can verify the access
	// tokens csmarket issues.
	JWKS []byte

	// Limiter counts requests against LoginLimit and TokenLimit; nil (or a
	// zero Limit) applies no limit.
	Limiter Limiter

	// LoginLimit bounds sign-in attempts, per account and per client
	// address, so that passwords cannot be guessed at speed.
	LoginLimit ratelimit.Limit

	// TokenLimit bounds the requests of one signed-in user.
	TokenLimit ratelimit.Limit

	// CORSOrigins are the exact origins (scheme://host[:port]) of
	// frontends served elsewhere that may call the API from a browser.
	// Tokens travel as bearer headers, never cookies, so no credentials
	// are allowed and no origin is a wildcard.
	CORSOrigins []string

	// TrustedProxies are the addresses or CIDRs of the reverse proxies
	// whose X-Forwarded-For is believed. None by default: the client
	// address, which login attempts are counted by, is then the TCP peer,
	// which a client cannot forge. See CheckTrustedProxies.
	TrustedProxies []string
}

// Limiter says whether one more event under key is within l, and if not,
// how long until it would be. It never fails: a limiter whose backend is
// down allows.
type Limiter interface {
	Allow(ctx context.Context, key string, l ratelimit.Limit) (ok bool, retryAfter time.Duration)
}

// CheckTrustedProxies reports an entry of proxies that is neither an IP
// address nor a CIDR. New trusts no proxy at all when one is bad, so call
// this at start-up to refuse the setting instead.
func CheckTrustedProxies(proxies []string) error {
	return newEngine().SetTrustedProxies(proxies)
}

// server holds the wired dependencies the handlers share.
type server struct {
	providers market.ProviderStore
	cache     *cache.Cache
	ready     func(ctx context.Context) error
	degraded  func(ctx context.Context) error
	log       *slog.Logger
	access    accessLine
	compress  *compressor
	registry  *prometheus.Registry
	maxBody   int64
	ttl       time.Duration
	frontend  fs.FS
	clock     market.Clock
	metrics   *metrics
	ids       *idSource
	engine    *router

	accounts      *market.Accounts
	tenders       *market.Tenders
	evaluations   *market.Evaluations
	audit         market.AuditStore
	market        market.MarketStore
	ocds          *ocds.Options
	comparisons   *comparisonMemo
	idempotency   market.IdempotencyStore
	levies        *market.Levies
	stripeWebhook StripeWebhook
	inbox         *market.Inbox
	stream        NotificationStream
	heartbeat     time.Duration
	closing       <-chan struct{}
	afterWrite    func()
	// idempotencyWait is how long a retry waits for the first request
	// with its Idempotency-Key to finish.
	idempotencyWait time.Duration
	jwks            []byte
	jwksETag        string
	limiter         Limiter
	loginLimit      ratelimit.Limit
	tokenLimit      ratelimit.Limit
	cors            map[string]bool
	trustedProxies  []string
}

// New returns csmarket's HTTP handler.
func New(cfg Config) http.Handler {
	return newServer(cfg).engine
}

func newServer(cfg Config) *server {
	s := &server{
		providers: cfg.Providers,
		cache:     cfg.Cache,
		ready:     cfg.Ready,
		degraded:  cfg.Degraded,
		log:       cfg.Logger,
		access:    accessLine{w: cfg.AccessLog},
		compress:  newCompressor(gzipBudget(cfg.Cache)),
		registry:  cfg.Registry,
		maxBody:   cfg.MaxBodyBytes,
		ttl:       cfg.PublicTTL,
		frontend:  cfg.Frontend,
		clock:     cfg.Clock,
		ids:       newIDSource(),

		accounts:        cfg.Accounts,
		tenders:         cfg.Tenders,
		audit:           cfg.Audit,
		market:          cfg.Market,
		ocds:            cfg.OCDS,
		idempotency:     cfg.Idempotency,
		levies:          cfg.Levies,
		stripeWebhook:   cfg.StripeWebhook,
		inbox:           cfg.Inbox,
		stream:          cfg.Stream,
		heartbeat:       cfg.Heartbeat,
		closing:         cfg.Closing,
		afterWrite:      cfg.AfterWrite,
		idempotencyWait: defaultIdempotencyWait,
		jwks:            cfg.JWKS,
		limiter:         cfg.Limiter,
		loginLimit:      cfg.LoginLimit,
		tokenLimit:      cfg.TokenLimit,
		trustedProxies:  cfg.TrustedProxies,
	}
	if len(cfg.CORSOrigins) > 0 {
		s.cors = make(map[string]bool, len(cfg.CORSOrigins))
		for _, o := range cfg.CORSOrigins {
			s.cors[o] = true
		}
	}
	if s.cache == nil {
		s.cache = cache.NewLocal()
	}
	if s.log == nil {
		s.log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	s.log = slog.New(LogHandler(s.log.Handler()))

	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
		s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.ttl <= 0 {
		s.ttl = DefaultPublicTTL
	}
	if s.clock == nil {
		s.clock = market.SystemClock{}
	}
	if s.frontend != nil {
		if _, err := fs.Stat(s.frontend, "index.html"); err != nil {
			s.frontend = nil
		}
	}
	if cfg.Evaluations != nil {
		s.evaluations, s.comparisons = withComparisonMemo(cfg.Evaluations, s.cache)
	}
	s.metrics = newMetrics(s.registry)
	s.engine = &router{s.routes()}
	return s
}

// newEngine returns a Gin engine with no default middleware and no debug
// output, answering unknown paths and methods itself rather than by
// redirect, so that every response is one the contract describes. It
// trusts no proxy until told to.
func newEngine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	_ = e.SetTrustedProxies(nil) // nil is always accepted
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.ContextWithFallback = true
	return e
}

func (s *server) routes() *gin.Engine {
	e := newEngine()
	if err := e.SetTrustedProxies(s.trustedProxies); err != nil {
		s.log.Error("trusted proxies: trusting none", errAttr(err))
		_ = e.SetTrustedProxies(nil) // nil is always accepted
	}
	e.Use(s.observe)
	if s.afterWrite != nil {
		e.Use(s.kickAfterWrite)
	}
	if s.cors != nil {
		e.Use(s.corsHeaders)
	}
	e.Use(s.consistency)
	e.NoRoute(s.noRoute)
	e.NoMethod(s.noMethod)

	e.GET("/healthz", s.health)
	e.GET("/readyz", s.readiness)
	e.GET("/metrics", s.metricsHandler())
	e.GET("/openapi.yaml", s.openapi)

	v1 := e.Group("/api/v1")
	v1.GET("/capabilities", s.listCapabilities)
	v1.GET("/regions", s.listRegions)
	v1.GET("/providers", s.listProviders)
	v1.GET("/providers/:id", s.getProvider)
	if s.market != nil {
		v1.GET("/market/choice", s.marketChoice)
	}
	if s.accounts != nil {
		s.accountRoutes(e, v1)
		if s.tenders != nil {
			s.tenderRoutes(v1)
		}
		if s.audit != nil {
			s.auditRoutes(v1)
		}
	}
	s.billingRoutes(v1)
	if s.inbox != nil && s.accounts != nil {
		s.notificationRoutes(v1)
	}
	return e
}

// kickAfterWrite calls afterWrite once a request that changed something
// has been answered.
func (s *server) kickAfterWrite(c *gin.Context) {
	c.Next()
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return
	}
	if c.Writer.Status() < 400 {
		s.afterWrite()
	}
}

// router is the Gin engine answering HEAD on every GET route (RFC 9110,
// 9.3.2): the GET's status and headers (ETag, Cache-Control, ...) without
// its body, and If-None-Match as for the GET.
type router struct{ *gin.Engine }

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodHead {
		rt.Engine.ServeHTTP(w, r)
		return
	}
	get := r.Clone(context.WithValue(r.Context(), headKey{}, true))
	get.Method = http.MethodGet
	rt.Engine.ServeHTTP(headWriter{w}, get)
}

// headKey marks, in a request's context, a HEAD served as its GET.
type headKey struct{}

// isHead reports whether c serves a HEAD request.
func isHead(c *gin.Context) bool { v, _ := c.Request.Context().Value(headKey{}).(bool); return v }

// headWriter keeps a response's head and drops its body.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(b []byte) (int, error) { return len(b), nil }

func (w headWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
