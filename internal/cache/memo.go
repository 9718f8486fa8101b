package cache

import (
	"context"
	"fmt"
	"strconv"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/redis/go-redis/v9"
)

// genScript returns a namespace's generation, creating it (as fetchScript
// does) when it is missing, so that a memo keeps working after Redis lost
// the counter.
var genScript = redis.NewScript(newGenLua + `
local g = redis.call('GET', KEYS[1])
if not g then g = newgen(KEYS[1]) end
return g
`)

// Generation returns the current generation of ns and true, or false when
// it cannot be known: Redis failed, is skipped by the breaker, or has not
// yet taken an invalidation of ns made here. A caller that gets false must
// read the store, since a value it kept may be older than a write.
//
// In process the generation is a counter in memory; on Redis it is the
// shared counter that Invalidate bumps on every process, read in one round
// trip bounded by Options.Timeout.
func (c *Cache) Generation(ctx context.Context, ns string) (int64, bool) {
	if c.rdb == nil {
		return c.gen(ns).Load(), true
	}
	if !c.usable(ctx, ns) {
		return 0, false
	}
	if gen, ok := c.near(ctx, ns); ok {
		return gen, true
	}
	epoch := c.epoch()
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	s, err := genScript.Run(rctx, c.rdb, []string{c.genKey(ns)}).Text()
	cancel()
	if err != nil {
		c.failed(ctx, "generation", err)
		return 0, false
	}
	gen, err := strconv.ParseInt(s, 10, 64)
	if err != nil || gen == 0 {
		c.failed(ctx, "generation", fmt.Errorf("cache: unexpected generation %q", s))
		return 0, false
	}
	c.succeeded()
	c.heard(ns, gen, epoch)
	return gen, true
}

// MemoMaxAge bounds how long a memo keeps a value even while its
// namespace's generation stands, so that a write that did not go through a
// wrapper (a change made directly in the database, or by a replica that
// shares no Redis with this one) is seen within it.
const MemoMaxAge = 30 * time.Second

// Memo keeps values read from a store in this process, each with the
// generation of its namespace read BEFORE the store was, so that a write
// invalidating the namespace makes every value read before it stale on
// every process sharing the cache's backend, as it does the public views.
// A read racing a write is kept under the generation from before the
// write, which the write's invalidation retires.
//
// A memo never puts its values in Redis: it holds private data (accounts,
// evaluators) that no shared cache may hold. When the generation cannot be
// known the memo reads the store and keeps nothing.
type Memo[K comparable, V any] struct {
	cache *Cache
	ns    string
	clone func(V) V
	items *lru.Cache[K, memoItem[V]]
}

type memoItem[V any] struct {
	gen     int64
	expires int64 // Unix nanoseconds
	v       V
}

// NewMemo returns a memo of at most size values of namespace ns. clone
// copies a value deeply enough that a caller changing its copy cannot
// change the kept one (nil when V holds no references).
func NewMemo[K comparable, V any](c *Cache, ns string, size int, clone func(V) V) *Memo[K, V] {
	if size <= 0 {
		size = DefaultMaxEntries
	}
	if clone == nil {
		clone = func(v V) V { return v }
	}
	items, _ := lru.New[K, memoItem[V]](size) // fails only for size <= 0
	return &Memo[K, V]{cache: c, ns: ns, clone: clone, items: items}
}

// Get returns the value kept for key while its generation is current, and
// otherwise reads it with read and keeps it. Errors are returned and never
// kept.
func (m *Memo[K, V]) Get(ctx context.Context, key K, read func(context.Context) (V, error)) (V, error) {
	gen, ok := m.cache.Generation(ctx, m.ns)
	if !ok {
		m.cache.m.memoBypass.Inc()
		return read(ctx)
	}
	if it, hit := m.items.Get(key); hit && it.gen == gen && m.cache.now().UnixNano() < it.expires {
		m.cache.m.memoHit.Inc()
		return m.clone(it.v), nil
	}
	m.cache.m.memoMiss.Inc()
	v, err := read(ctx)
	if err != nil {
		return v, err
	}
	m.items.Add(key, memoItem[V]{gen: gen, expires: m.cache.now().Add(MemoMaxAge).UnixNano(), v: m.clone(v)})
	return v, nil
}

// GetMany returns the values kept for keys while their generation is
// current, and reads the rest with one call of read (which returns those
// it found) and keeps them. A key read finds nothing for is absent from
// the map. Errors are returned and never kept.
func (m *Memo[K, V]) GetMany(ctx context.Context, keys []K, read func(context.Context, []K) (map[K]V, error)) (map[K]V, error) {
	gen, ok := m.cache.Generation(ctx, m.ns)
	if !ok {
		m.cache.m.memoBypass.Add(float64(len(keys)))
		return read(ctx, keys)
	}
	out := make(map[K]V, len(keys))
	var missing []K
	asked := make(map[K]bool, len(keys))
	now := m.cache.now().UnixNano()
	for _, k := range keys {
		if asked[k] {
			continue
		}
		asked[k] = true
		if it, hit := m.items.Get(k); hit && it.gen == gen && now < it.expires {
			out[k] = m.clone(it.v)
		} else {
			missing = append(missing, k)
		}
	}
	m.cache.m.memoHit.Add(float64(len(out)))
	if len(missing) == 0 {
		return out, nil
	}
	m.cache.m.memoMiss.Add(float64(len(missing)))
	found, err := read(ctx, missing)
	if err != nil {
		return nil, err
	}
	expires := m.cache.now().Add(MemoMaxAge).UnixNano()
	for k, v := range found {
		m.items.Add(k, memoItem[V]{gen: gen, expires: expires, v: m.clone(v)})
		out[k] = v
	}
	return out, nil
}
