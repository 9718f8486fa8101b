package cache

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The near path. On one Redis server (not a Cluster), every process
// subscribes to the prefix's invalidation channel, on which each bump
// publishes "ns gen" in the same script that increments the counter. A
// process that has heard the current generation of a namespace serves the
// views it holds for that generation without asking Redis at all.
//
// The bound. Every Options.NearBound/4 the listener sends a PING carrying
// its send time on the subscribed connection. Redis answers commands and
// delivers messages on one connection in the order it executes them, so a
// PONG for a PING sent at t arrives after every invalidation Redis took
// before t. A process serves from its near-cache without a round trip only
// while its latest PONG is for a PING sent less than NearBound ago: any
// view it serves then reflects every invalidation made more than NearBound
// before. Otherwise (a slow or lost subscription, a reconnect, a namespace
// not heard of since) it asks Redis, as every hit did before.
//
// Read your writes. A process that invalidates learns the new generation
// from its own bump at once, so it never serves an older view itself; the
// generations of a request's bumps are also handed to the request's
// Collector (see WithCollector), which the API returns as a consistency
// token, and a read carrying that token (WithMinimum) is served only from
// a generation at least as new, asking Redis when this process has not
// heard of it yet.

// DefaultNearBound is how stale a view served without a Redis round trip
// may be, at most, when Options.NearBound is zero.
const DefaultNearBound = 100 * time.Millisecond

// listener follows the invalidation channel.
type listener struct {
	bound int64     // nanoseconds
	base  time.Time // times below are nanoseconds since base, on the monotonic clock

	// epoch changes whenever the subscription is lost or made again: what
	// was learnt in an earlier epoch may have missed messages.
	epoch atomic.Uint64
	// freshAsOf is the send time of the PING last answered in this epoch:
	// every invalidation Redis took before it has been applied.
	freshAsOf atomic.Int64

	known sync.Map // ns -> *atomic.Pointer[knownGen]
}

type knownGen struct {
	gen   int64
	epoch uint64
}

func (c *Cache) channel() string { return c.prefix + "invalidations" }

// startListener subscribes to the invalidation channel when the backend is
// one Redis server.
func (c *Cache) startListener(bound time.Duration) {
	rc, ok := c.rdb.(*redis.Client)
	if !ok || bound < 0 {
		return
	}
	if bound == 0 {
		bound = DefaultNearBound
	}
	c.lis = &listener{bound: int64(bound), base: time.Now()}
	go c.listen(rc)
}

// listen applies the channel's messages until the cache is closed,
// subscribing again whenever the connection fails or falls silent.
func (c *Cache) listen(rc *redis.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-c.done; cancel() }()
	for ctx.Err() == nil {
		c.listenOnce(ctx, rc)
		c.lis.lose()
		select {
		case <-ctx.Done():
		case <-time.After(c.cooldown / 4):
		}
	}
}

func (c *Cache) listenOnce(ctx context.Context, rc *redis.Client) {
	ps := rc.Subscribe(ctx, c.channel())
	defer ps.Close()
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	every := time.Duration(c.lis.bound / 4)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
			}
			_ = ps.Ping(pctx, strconv.FormatInt(c.lis.since(), 10)) // a failure shows as silence
		}
	}()
	// Silence for this long, while PINGs go out four times per bound,
	// means a dead connection: drop it and subscribe again.
	silence := max(time.Second, 10*every)
	for {
		msg, err := ps.ReceiveTimeout(ctx, silence)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, redis.ErrClosed) {
				c.log.Debug("cache: invalidation channel lost; subscribing again", "error", err.Error())
			}
			return
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			c.lis.lose() // a (re)subscription: what came before may be missing
		case *redis.Message:
			ns, g, ok := strings.Cut(m.Payload, " ")
			if gen, err := strconv.ParseInt(g, 10, 64); ok && err == nil {
				c.lis.learn(ns, gen, c.lis.epoch.Load())
			}
		case *redis.Pong:
			if sent, err := strconv.ParseInt(m.Payload, 10, 64); err == nil && sent > c.lis.freshAsOf.Load() {
				c.lis.freshAsOf.Store(sent)
			}
		}
	}
}

func (l *listener) since() int64 { return int64(time.Since(l.base)) }

// lose starts a new epoch: nothing learnt so far may be used.
func (l *listener) lose() {
	l.freshAsOf.Store(0)
	l.epoch.Add(1)
}

// learn records that gen is (or was, when it was heard) the generation of
// ns, for an epoch read before it was heard.
func (l *listener) learn(ns string, gen int64, epoch uint64) {
	v, ok := l.known.Load(ns)
	if !ok {
		v, _ = l.known.LoadOrStore(ns, new(atomic.Pointer[knownGen]))
	}
	p := v.(*atomic.Pointer[knownGen])
	next := &knownGen{gen: gen, epoch: epoch}
	for {
		if l.epoch.Load() != epoch {
			return
		}
		cur := p.Load()
		if cur != nil && cur.epoch == epoch && cur.gen >= gen {
			return
		}
		if p.CompareAndSwap(cur, next) {
			return
		}
	}
}

// current returns the generation of ns as this process knows it, when it
// knows it within the bound.
func (l *listener) current(ns string) (int64, bool) {
	if l == nil {
		return 0, false
	}
	fresh := l.freshAsOf.Load()
	if fresh == 0 || l.since()-fresh > l.bound {
		return 0, false
	}
	v, ok := l.known.Load(ns)
	if !ok {
		return 0, false
	}
	k := v.(*atomic.Pointer[knownGen]).Load()
	if k == nil || k.epoch != l.epoch.Load() {
		return 0, false
	}
	return k.gen, true
}

// near returns the generation of ns that ctx may be served from without
// asking Redis.
func (c *Cache) near(ctx context.Context, ns string) (int64, bool) {
	gen, ok := c.lis.current(ns)
	if !ok {
		return 0, false
	}
	if min, ok := minimum(ctx, ns); ok && gen < min {
		return 0, false
	}
	return gen, true
}

// heard records a generation read from Redis in a round trip begun in
// epoch.
func (c *Cache) heard(ns string, gen int64, epoch uint64) {
	if c.lis != nil && epoch != 0 {
		c.lis.learn(ns, gen, epoch)
	}
}

func (c *Cache) epoch() uint64 {
	if c.lis == nil {
		return 0
	}
	return c.lis.epoch.Load()
}

// A Collector gathers the generations that a request's invalidations
// produced, for its answer's consistency token.
type Collector struct {
	mu   sync.Mutex
	gens map[string]int64
}

type collectorKey struct{}

// WithCollector returns ctx carrying a new Collector, which every
// Invalidate made with the returned context (or one derived from it)
// reports to.
func WithCollector(ctx context.Context) (context.Context, *Collector) {
	col := &Collector{}
	return context.WithValue(ctx, collectorKey{}, col), col
}

func (col *Collector) add(ns string, gen int64) {
	col.mu.Lock()
	defer col.mu.Unlock()
	if col.gens == nil {
		col.gens = map[string]int64{}
	}
	if gen > col.gens[ns] {
		col.gens[ns] = gen
	}
}

// Token returns the consistency token of the generations collected, or ""
// when the request invalidated nothing on Redis: "ns:gen" pairs joined by
// commas, namespaces in order.
func (col *Collector) Token() string {
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.gens) == 0 {
		return ""
	}
	nss := make([]string, 0, len(col.gens))
	for ns := range col.gens {
		nss = append(nss, ns)
	}
	slices.Sort(nss)
	var b strings.Builder
	for i, ns := range nss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(ns)
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(col.gens[ns], 10))
	}
	return b.String()
}

// MaxTokenPairs bounds the namespaces one consistency token may name.
const MaxTokenPairs = 32

// ErrBadToken is returned by ParseToken for a token it cannot read.
var ErrBadToken = errors.New("cache: a consistency token is namespace:generation pairs separated by commas")

// Minimum is a parsed consistency token: the least generation of each
// namespace a read must be served from.
type Minimum map[string]int64

// ParseToken reads a consistency token as Collector.Token writes it.
func ParseToken(s string) (Minimum, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 4096 {
		return nil, ErrBadToken
	}
	m := Minimum{}
	for pair := range strings.SplitSeq(s, ",") {
		ns, g, ok := strings.Cut(strings.TrimSpace(pair), ":")
		gen, err := strconv.ParseInt(g, 10, 64)
		if !ok || err != nil || gen <= 0 || !validNamespace(ns) || len(m) == MaxTokenPairs {
			return nil, ErrBadToken
		}
		if gen > m[ns] {
			m[ns] = gen
		}
	}
	return m, nil
}

func validNamespace(ns string) bool {
	if ns == "" || len(ns) > 128 {
		return false
	}
	for i := 0; i < len(ns); i++ {
		switch b := ns[i]; {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '-', b == '_', b == '.', b == '/':
		default:
			return false
		}
	}
	return true
}

type minimumKey struct{}

// WithMinimum returns ctx whose reads are served from generations at
// least those of m.
func WithMinimum(ctx context.Context, m Minimum) context.Context {
	if len(m) == 0 {
		return ctx
	}
	return context.WithValue(ctx, minimumKey{}, m)
}

func minimum(ctx context.Context, ns string) (int64, bool) {
	m, _ := ctx.Value(minimumKey{}).(Minimum)
	g, ok := m[ns]
	return g, ok
}

type revalidateKey struct{}

// WithETags returns ctx whose reads are served from the near-cache only
// when the view held there has one of these entity tags (a client's
// If-None-Match): a client that shows a tag this process does not hold
// may have seen a newer view elsewhere, so Redis is asked.
func WithETags(ctx context.Context, inm []string) context.Context {
	return context.WithValue(ctx, revalidateKey{}, inm)
}

func etagsAllow(ctx context.Context, etag string) bool {
	inm, ok := ctx.Value(revalidateKey{}).([]string)
	if !ok {
		return true
	}
	return ETagMatches(inm, etag)
}

// ETagMatches reports whether any If-None-Match header value matches etag
// by weak comparison (RFC 9110, 13.1.2): "*", or a listed tag equal to
// etag once any W/ prefix is dropped. The tag of a view's gzip
// representation (etag with "-gzip" before its closing quote) matches too:
// both are the same view.
func ETagMatches(values []string, etag string) bool {
	etag = strings.TrimPrefix(etag, "W/")
	for _, v := range values {
		for v != "" {
			var tag string
			tag, v, _ = strings.Cut(v, ",")
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == etag || strings.HasSuffix(tag, `-gzip"`) && tag[:len(tag)-6]+`"` == etag {
				return true
			}
		}
	}
	return false
}

func collect(ctx context.Context, ns string, gen int64) {
	if col, ok := ctx.Value(collectorKey{}).(*Collector); ok {
		col.add(ns, gen)
	}
}
