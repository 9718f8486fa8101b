// Package cache keeps rendered public responses, cache-aside, in Redis or in
// process, so that a hit serves stored bytes with their ETag and never
// renders again.
//
// Views belong to namespaces, and each namespace has a generation counter
// that is part of every lookup. Invalidate bumps the counter, which makes
// every view of the namespace stale at once, in every process sharing the
// Redis, without finding or deleting keys.
//
// On Redis a hit is one round trip: a script reads the namespace's
// generation and, unless this process already holds the view for that
// generation in its near-cache, the view itself. The keys of a namespace
// share a hash tag, so the script works on Redis Cluster (at the cost of
// putting one namespace in one slot).
//
// Redis is an optimisation, never a dependency of a request: when it fails
// or is slower than Options.Timeout the view is loaded from the store, and a
// circuit breaker skips Redis for Options.Cooldown after a failure so that a
// dead Redis does not add the timeout to every request.
//
// Consistency. After Invalidate(ns) returns nil on one process, no process
// serves a view of ns loaded before the call, as long as the store itself
// reads its own writes. When Invalidate cannot reach Redis it returns the
// error and retries the bump every Cooldown until Redis answers; meanwhile
// this process serves ns from the store. A process whose breaker opened
// bumps every namespace it uses before it uses Redis again, so when Redis
// itself was away, no process that noticed serves a view from before the
// outage once it is back. Until the retry succeeds, another process that
// never lost Redis (a partition, or one that sent Redis nothing during the
// outage), or that reaches a restarted Redis which kept its data first,
// may serve views older than the write: for at most about one Cooldown
// after Redis answers this process again, or the views' TTL if this
// process stops first. A process that
// cannot reach Redis serves from the store and joins loads of a view that
// are already running, so it may return a load that began just before a
// write made elsewhere.
package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"
)

// Namespaces: each public view belongs to one, and a write invalidates the
// namespaces whose views it changes.
const (
	NSReference = "reference"
	NSProviders = "providers"
)

// Defaults for the zero Options.
const (
	DefaultPrefix     = "csm:"
	DefaultTimeout    = 50 * time.Millisecond
	DefaultMaxEntries = 10_000
	DefaultMaxBytes   = 16 << 20
	DefaultJitter     = 0.1
	DefaultCooldown   = time.Second
)

// Entry is a cached response body with its strong ETag (quoted). Body is
// shared by every caller that gets the entry and must not be modified.
type Entry struct {
	Body []byte
	ETag string
}

// Options configure a Cache. The zero value is an in-process cache with
// the defaults above.
type Options struct {
	// Redis is the shared backend; nil keeps views in this process only.
	// Build it with RedisClient, or set ContextTimeoutEnabled on it, so that
	// Timeout bounds every call.
	Redis redis.UniversalClient

	// Prefix starts every Redis key, so that several deployments or tests
	// can share one Redis database.
	Prefix string

	// Timeout bounds each Redis call; past it the view comes from the store.
	Timeout time.Duration

	// MaxEntries bounds the views held in process: the whole cache without
	// Redis, the near-cache with it.
	MaxEntries int

	// MaxBytes bounds the bytes of the views held in process, so that many
	// large pages (a crawler walking the directory 100 at a time) cannot
	// grow the process without limit; the least recently used go first.
	// Zero means DefaultMaxBytes.
	MaxBytes int64

	// Jitter spreads expiries: a view kept for ttl expires after
	// ttl x (1 ± Jitter), at random, so that views filled together are not
	// all reloaded together. Zero means DefaultJitter; negative means none.
	Jitter float64

	// Cooldown is how long Redis is skipped after a failure before one
	// request probes it again, and how often a failed invalidation is
	// retried.
	Cooldown time.Duration

	// Registerer receives the cache's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer

	// Logger receives failures of Redis; nil means slog.Default().
	Logger *slog.Logger

	// NearBound is, on one Redis server, how stale a view this process
	// serves from its near-cache without asking Redis may be (see
	// listen.go); zero means DefaultNearBound, negative asks Redis on
	// every hit. On a Redis Cluster every hit asks Redis.
	NearBound time.Duration

	// Now tells the time for in-process expiry and the breaker; nil means
	// time.Now.
	Now func() time.Time
}

// Cache serves public views from a backend, filling misses from a loader.
// It is safe for concurrent use.
type Cache struct {
	rdb      redis.UniversalClient
	prefix   string
	timeout  time.Duration
	cooldown time.Duration
	jitter   float64
	now      func() time.Time
	log      *slog.Logger
	m        *metrics

	// items holds the views in process, each with the generation it was
	// loaded at; without Redis it is the whole cache, with Redis the
	// near-cache that spares the transfer of bodies this process has.
	items    *lru.Cache[string, *item]
	keepMu   sync.Mutex // orders keep's accounting
	bytes    atomic.Int64
	maxBytes int64

	// gens are the in-process generations: the whole truth without Redis;
	// with Redis they only separate loads made while Redis is unusable.
	gens sync.Map // ns -> *atomic.Int64

	flights singleflight.Group
	br      breaker
	lis     *listener // nil: every hit on Redis asks Redis
	used    sync.Map  // ns -> true: the namespaces this process has used Redis for, which rejoin bumps

	pmu      sync.Mutex
	pending  map[string]bool // namespaces whose bump Redis has not taken yet
	npending atomic.Int32
	retrying bool
	done     chan struct{}
	stop     sync.Once
}

type item struct {
	gen     int64
	expires int64 // Unix nanoseconds
	e       Entry
}

// New returns a cache configured by o.
func New(o Options) *Cache {
	c := &Cache{
		rdb:      o.Redis,
		prefix:   o.Prefix,
		timeout:  o.Timeout,
		cooldown: o.Cooldown,
		jitter:   o.Jitter,
		now:      o.Now,
		log:      o.Logger,
		pending:  map[string]bool{},
		done:     make(chan struct{}),
	}
	if c.prefix == "" {
		c.prefix = DefaultPrefix
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.cooldown <= 0 {
		c.cooldown = DefaultCooldown
	}
	switch {
	case c.jitter == 0:
		c.jitter = DefaultJitter
	case c.jitter < 0:
		c.jitter = 0
	case c.jitter > 1:
		c.jitter = 1
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	n := o.MaxEntries
	if n <= 0 {
		n = DefaultMaxEntries
	}
	c.maxBytes = o.MaxBytes
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxBytes
	}
	c.items, _ = lru.NewWithEvict[string, *item](n, func(_ string, it *item) { c.bytes.Add(-int64(len(it.e.Body))) }) // fails only for n <= 0
	c.m = newMetrics(o.Registerer)
	if c.rdb != nil {
		warnUnboundedClient(c.rdb, c.log)
		c.startListener(o.NearBound)
	}
	return c
}

// NewLocal returns a cache kept in this process.
func NewLocal() *Cache { return New(Options{}) }

// Close stops the retries of failed invalidations. It does not close the
// Redis client, which belongs to the caller.
func (c *Cache) Close() error {
	c.stop.Do(func() { close(c.done) })
	return nil
}

// Fetch returns the view ns/key, calling load on a miss and keeping its
// result for about ttl (a ttl <= 0 keeps nothing). Concurrent misses of one
// view in this process share one call of load. A backend failure is never
// returned: the view is loaded from the store instead. Errors returned come
// from load, or from ctx when the caller stops waiting.
func (c *Cache) Fetch(ctx context.Context, ns, key string, ttl time.Duration, load func(ctx context.Context) ([]byte, error)) (Entry, error) {
	if ttl <= 0 {
		c.m.miss.Inc()
		return c.load(ctx, flightKey(ns, c.gen(ns).Load(), key), load, nil)
	}
	if c.rdb == nil {
		return c.fetchLocal(ctx, ns, key, ttl, load)
	}
	return c.fetchRedis(ctx, ns, key, ttl, load)
}

func (c *Cache) fetchLocal(ctx context.Context, ns, key string, ttl time.Duration, load func(context.Context) ([]byte, error)) (Entry, error) {
	g := c.gen(ns)
	gen := g.Load()
	ik := ns + "\x00" + key
	now := c.now().UnixNano()
	if it, ok := c.items.Get(ik); ok && it.gen == gen && now < it.expires {
		c.m.hit.Inc()
		return it.e, nil
	}
	c.m.miss.Inc()
	return c.load(ctx, flightKey(ns, gen, key), load, func(_ context.Context, e Entry) {
		if g.Load() == gen {
			c.keep(ik, &item{gen: gen, expires: c.now().UnixNano() + int64(c.jittered(ttl)), e: e})
		}
	})
}

// MaxBytes is the bytes of views the cache holds in process at most.
func (c *Cache) MaxBytes() int64 { return c.maxBytes }

// keep holds it in process as ik, evicting the least recently used views
// while the bytes held are over the budget.
func (c *Cache) keep(ik string, it *item) {
	c.keepMu.Lock()
	defer c.keepMu.Unlock()
	if old, ok := c.items.Peek(ik); ok {
		c.bytes.Add(-int64(len(old.e.Body)))
	}
	c.bytes.Add(int64(len(it.e.Body)))
	c.items.Add(ik, it)
	for c.bytes.Load() > c.maxBytes && c.items.Len() > 1 {
		c.items.RemoveOldest()
	}
}

// load runs fn once for all concurrent callers with the same flight key,
// then store (when not nil) with its entry. The load runs on without the
// caller's cancellation, so that a client going away does not fail the
// others waiting for the same view.
func (c *Cache) load(ctx context.Context, flight string, fn func(context.Context) ([]byte, error), store func(context.Context, Entry)) (Entry, error) {
	lctx := context.WithoutCancel(ctx)
	ch := c.flights.DoChan(flight, func() (v any, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = &panicked{value: r, stack: debug.Stack()}
			}
		}()
		body, err := fn(lctx)
		if err != nil {
			return Entry{}, err
		}
		e := Entry{Body: body, ETag: ETag(body)}
		if store != nil {
			store(lctx, e)
		}
		return e, nil
	})
	select {
	case r := <-ch:
		var p *panicked
		if errors.As(r.Err, &p) {
			panic(fmt.Sprintf("%v\n\nload of a cached view panicked:\n%s", p.value, p.stack))
		} else if r.Err != nil {
			return Entry{}, r.Err
		}
		return r.Val.(Entry), nil
	case <-ctx.Done():
		return Entry{}, ctx.Err()
	}
}

// panicked carries a panic of a load to the goroutines waiting for it, so
// that it is raised where the HTTP layer can recover it, not in the
// singleflight goroutine where it would end the process.
type panicked struct {
	value any
	stack []byte
}

func (p *panicked) Error() string { return fmt.Sprint("cache: load panicked: ", p.value) }

// Invalidate makes every view in the namespaces stale, here and in every
// other process sharing the backend. When Redis cannot be reached it
// returns the error, serves the namespaces from the store in this process,
// and retries until Redis takes the bump.
func (c *Cache) Invalidate(ctx context.Context, ns ...string) error {
	for _, n := range ns {
		c.gen(n).Add(1)
	}
	if c.rdb == nil {
		c.m.invalidations.WithLabelValues("ok").Add(float64(len(ns)))
		return nil
	}
	var errs []error
	for _, n := range ns {
		if err := c.bump(ctx, n); err != nil {
			c.m.invalidations.WithLabelValues("error").Inc()
			c.m.backendErrors.WithLabelValues("invalidate").Inc()
			c.log.ErrorContext(ctx, "cache: invalidation did not reach redis; retrying",
				"namespace", n, "error", err.Error())
			c.addPending(n)
			errs = append(errs, fmt.Errorf("cache: invalidate %s: %w", n, err))
			continue
		}
		c.m.invalidations.WithLabelValues("ok").Inc()
		c.removePending(n)
	}
	return errors.Join(errs...)
}

// Ping reports whether the backend is reachable within the timeout.
func (c *Cache) Ping(ctx context.Context) error {
	if c.rdb == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("cache: redis ping: %w", err)
	}
	return nil
}

// ETag returns the strong entity tag of body.
func ETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

func (c *Cache) gen(ns string) *atomic.Int64 {
	if g, ok := c.gens.Load(ns); ok {
		return g.(*atomic.Int64)
	}
	g, _ := c.gens.LoadOrStore(ns, new(atomic.Int64))
	return g.(*atomic.Int64)
}

// jittered returns ttl stretched or shrunk by up to the jitter, at random.
func (c *Cache) jittered(ttl time.Duration) time.Duration {
	if c.jitter == 0 {
		return ttl
	}
	f := 1 + c.jitter*(2*rand.Float64()-1)
	d := time.Duration(float64(ttl) * f)
	if d < time.Millisecond {
		d = time.Millisecond
	}
	return d
}

// flightKey names one load: the generation is part of it, so that a caller
// who saw an invalidation never joins a load that began before it.
func flightKey(ns string, gen int64, key string) string {
	return fmt.Sprintf("%s\x00%d\x00%s", ns, gen, key)
}
