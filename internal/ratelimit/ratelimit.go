// Package ratelimit limits how often a key (a client address, an account,
// a token) may act, in Redis when the API runs as several replicas, so
// that they share one budget, and in process otherwise.
//
// Both backends run the same GCRA (generic cell rate algorithm): a
// Limit{Events: 10, Per: time.Minute} allows a burst of 10, then one event
// every 6 s, and a refused caller is told when the next event will be
// allowed. On Redis it is github.com/go-redis/redis_rate; in process it is
// the same arithmetic over a bounded map.
//
// A rate limit protects the service; it must never take it down. When
// Redis fails or is slower than Options.Timeout, the decision is made by
// the in-process limiter instead (so each replica still enforces the limit
// on its own), the failure is logged and counted, and Redis is skipped for
// a second before it is tried again, so that a dead Redis does not add the
// timeout to every request.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Defaults for the zero Options.
const (
	DefaultPrefix  = "csm:"
	DefaultTimeout = 50 * time.Millisecond
)

const (
	// cooldown is how long Redis is skipped after it failed.
	cooldown = time.Second
	// maxKeyLen bounds keys as given; longer ones are hashed, so that a
	// caller-supplied value cannot make keys of any size.
	maxKeyLen = 200
)

// Limit is a budget of Events per period Per, which may all be spent at
// once. The zero Limit allows everything.
type Limit struct {
	Events int
	Per    time.Duration
}

// String formats l as ParseLimit reads it: "10/1m", "off".
func (l Limit) String() string {
	if l.off() {
		return "off"
	}
	per := l.Per.String()
	switch {
	case l.Per%time.Hour == 0:
		per = strconv.FormatInt(int64(l.Per/time.Hour), 10) + "h"
	case l.Per%time.Minute == 0:
		per = strconv.FormatInt(int64(l.Per/time.Minute), 10) + "m"
	}
	return strconv.Itoa(l.Events) + "/" + per
}

func (l Limit) off() bool { return l.Events <= 0 || l.Per <= 0 }

// ParseLimit reads a limit written events/period, the period as Go writes
// durations: "10/1m", "600/1m", "5/30s", "1000/1h" ("10/m" also works).
// "off" is the zero Limit, which allows everything.
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return Limit{}, nil
	}
	bad := func(why string) (Limit, error) {
		return Limit{}, fmt.Errorf("ratelimit: %q is not a rate limit (%s): write events/period, such as 10/1m or 600/1m, or off", s, why)
	}
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return bad("no /")
	}
	events, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || events < 1 || events > 1_000_000_000 {
		return bad("events must be a whole number from 1")
	}
	per = strings.TrimSpace(per)
	if per == "s" || per == "m" || per == "h" {
		per = "1" + per
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return bad("the period must be a duration such as 1m or 30s")
	}
	if d/time.Duration(events) < time.Microsecond {
		return bad("more than one event a microsecond")
	}
	return Limit{Events: events, Per: d}, nil
}

// Options configure a Limiter. The zero value limits in process.
type Options struct {
	// Redis is shared by every replica of the API; nil keeps the budgets
	// in this process. Build it with cache.RedisClient, or set
	// ContextTimeoutEnabled on it, so that Timeout bounds every call.
	Redis redis.UniversalClient

	// Prefix starts every Redis key (then "ratelimit:"), so that several
	// deployments or tests can share one Redis database.
	Prefix string

	// Timeout bounds each Redis call; past it the process decides alone.
	Timeout time.Duration

	// Registerer receives the limiter's metrics; nil leaves them
	// unregistered.
	Registerer prometheus.Registerer

	// Logger receives failures of Redis; nil means slog.Default().
	Logger *slog.Logger
}

// Limiter decides whether an event may happen now. It is safe for
// concurrent use.
type Limiter struct {
	redis   *redis_rate.Limiter // nil in process only
	timeout time.Duration
	local   *local
	log     *slog.Logger
	m       *metrics
	now     func() time.Time

	// skipUntil (Unix nanoseconds) is when Redis may be tried again after
	// a failure.
	skipUntil atomic.Int64
}

// New returns a limiter configured by o.
func New(o Options) *Limiter {
	l := &Limiter{
		timeout: o.Timeout,
		local:   newLocal(defaultMaxKeys),
		log:     o.Logger,
		m:       newMetrics(o.Registerer),
		now:     time.Now,
	}
	if l.timeout <= 0 {
		l.timeout = DefaultTimeout
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if o.Redis != nil {
		prefix := o.Prefix
		if prefix == "" {
			prefix = DefaultPrefix
		}
		l.redis = redis_rate.NewLimiter(prefixed{UniversalClient: o.Redis, prefix: prefix + "ratelimit:"})
		warnUnboundedClient(o.Redis, l.log)
	}
	return l
}

// Allow spends one event of key's budget under lim. When the budget is
// spent it returns false and the time until the next event is allowed,
// rounded up to whole seconds and at least one, for a Retry-After header.
// It never fails: see the package comment for what happens when Redis
// does.
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) (ok bool, retryAfter time.Duration) {
	if lim.off() {
		return true, 0
	}
	if len(key) > maxKeyLen {
		sum := sha256.Sum256([]byte(key))
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	now := l.now()
	if l.redis != nil && now.UnixNano() >= l.skipUntil.Load() {
		rctx, cancel := context.WithTimeout(ctx, l.timeout)
		res, err := l.redis.Allow(rctx, key, redis_rate.Limit{Rate: lim.Events, Burst: lim.Events, Period: lim.Per})
		cancel()
		if err == nil {
			return l.decide(res.Allowed > 0, res.RetryAfter)
		}
		if ctx.Err() == nil { // not the caller giving up: Redis failed
			l.redisFailed(now, err)
		}
	}
	return l.decide(l.local.allow(key, lim, now))
}

func (l *Limiter) decide(ok bool, retryAfter time.Duration) (bool, time.Duration) {
	if ok {
		l.m.allowed.Inc()
		return true, 0
	}
	l.m.limited.Inc()
	retryAfter = (retryAfter + time.Second - 1).Truncate(time.Second)
	return false, max(retryAfter, time.Second)
}

// redisFailed counts every failure and logs the one that starts a
// cooldown, so that a dead Redis logs about once a second, not once a
// request.
func (l *Limiter) redisFailed(now time.Time, err error) {
	l.m.errors.Inc()
	last := l.skipUntil.Load()
	if now.UnixNano() >= last && l.skipUntil.CompareAndSwap(last, now.Add(cooldown).UnixNano()) {
		what := "failed"
		if errors.Is(err, context.DeadlineExceeded) {
			what = "timed out"
		}
		l.log.Warn("ratelimit: redis "+what+"; limiting in process for now", "err", err, "retry_in", cooldown)
	}
}

// prefixed puts Options.Prefix in front of the keys redis_rate uses, in
// place of its fixed "rate:", so that every key of a deployment starts
// with its prefix (which Redis ACL key patterns and key scans rely on).
type prefixed struct {
	redis.UniversalClient
	prefix string
}

func (p prefixed) keys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = p.prefix + strings.TrimPrefix(k, "rate:")
	}
	return out
}

func (p prefixed) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return p.UniversalClient.Eval(ctx, script, p.keys(keys), args...)
}

func (p prefixed) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return p.UniversalClient.EvalSha(ctx, sha1, p.keys(keys), args...)
}

func (p prefixed) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return p.UniversalClient.EvalRO(ctx, script, p.keys(keys), args...)
}

func (p prefixed) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return p.UniversalClient.EvalShaRO(ctx, sha1, p.keys(keys), args...)
}

func (p prefixed) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return p.UniversalClient.Del(ctx, p.keys(keys)...)
}

// warnUnboundedClient warns when the client would let a call outlive its
// context's deadline, which makes Timeout ineffective.
func warnUnboundedClient(rdb redis.UniversalClient, log *slog.Logger) {
	var enabled bool
	switch c := rdb.(type) {
	case *redis.Client:
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		enabled = c.Options().ContextTimeoutEnabled
	default:
		return
	}
	if !enabled {
		log.Warn("ratelimit: the redis client ignores context deadlines; build it with cache.RedisClient or set ContextTimeoutEnabled")
	}
}

type metrics struct {
	allowed, limited, errors prometheus.Counter
}

func newMetrics(r prometheus.Registerer) *metrics {
	decisions := register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "csm_ratelimit_decisions_total",
		Help: "Rate limit decisions by result: allowed, limited.",
	}, []string{"result"}))
	return &metrics{
		allowed: decisions.WithLabelValues("allowed"),
		limited: decisions.WithLabelValues("limited"),
		errors: register(r, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "csm_ratelimit_errors_total",
			Help: "Redis calls of the rate limiter that failed or timed out; the process decided alone.",
		})),
	}
}

// register adds c to r, or returns the collector already registered under
// its name, so that several limiters can share one registry.
func register[C prometheus.Collector](r prometheus.Registerer, c C) C {
	if r == nil {
		return c
	}
	if err := r.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}
