package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/csmarket/csmarket/internal/redistest"
)

// MustCache returns a cache on o (Logger quiet, Registerer fresh unless
// set), closed when the test ends.
func MustCache(tb testing.TB, o Options) *Cache {
	tb.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	c := New(o)
	tb.Cleanup(func() { c.Close() })
	return c
}

// backend makes caches that behave as separate API processes sharing one
// backend: for Redis, each has its own client on one prefix.
type backend struct {
	name  string
	redis bool
	new   func(tb testing.TB, o Options) *Cache
}

// backends returns the in-process backend always and Redis when
// TEST_REDIS_URL is set.
func backends(t *testing.T) []backend {
	bs := []backend{{name: "local", new: func(tb testing.TB, o Options) *Cache { return MustCache(tb, o) }}}
	if os.Getenv("TEST_REDIS_URL") == "" {
		t.Log("TEST_REDIS_URL not set: Redis backend skipped")
		return bs
	}
	var prefixes sync.Map // testing.TB -> its prefix, shared by its caches
	return append(bs, backend{name: "redis", redis: true, new: func(tb testing.TB, o Options) *Cache {
		prefix, _ := prefixes.LoadOrStore(tb, redistest.Prefix(tb))
		o.Prefix = prefix.(string)
		o.Redis = redistest.MustClient(tb, o.Prefix)
		return MustCache(tb, o)
	}})
}

// source is a store whose current view and loads the test controls.
type source struct {
	mu    sync.Mutex
	body  string
	err   error
	delay time.Duration
	loads atomic.Int32
}

func (s *source) set(body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = body
}

func (s *source) load(ctx context.Context) ([]byte, error) {
	s.loads.Add(1)
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return []byte(s.body), nil
}

func mustFetch(tb testing.TB, c *Cache, ns, key string, s *source) Entry {
	tb.Helper()
	e, err := c.Fetch(context.Background(), ns, key, time.Minute, s.load)
	if err != nil {
		tb.Fatalf("Fetch(%s, %s): %v", ns, key, err)
	}
	return e
}

func counter(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func TestFetch(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			reg := prometheus.NewRegistry()
			c := b.new(t, Options{Registerer: reg})
			src := &source{body: `{"items":[1]}`}

			first := mustFetch(t, c, NSProviders, "sector=nhs", src)
			if string(first.Body) != src.body || first.ETag != ETag(first.Body) {
				t.Fatalf("first Fetch = %q %s, want the loaded body with its ETag", first.Body, first.ETag)
			}
			src.set(`{"items":[2]}`) // a change the cache is not told of
			second := mustFetch(t, c, NSProviders, "sector=nhs", src)
			if string(second.Body) != `{"items":[1]}` || second.ETag != first.ETag {
				t.Errorf("second Fetch = %q %s, want the stored view %s", second.Body, second.ETag, first.ETag)
			}
			if n := src.loads.Load(); n != 1 {
				t.Errorf("loads = %d, want 1", n)
			}
			if e := mustFetch(t, c, NSProviders, "sector=third_sector", src); string(e.Body) != `{"items":[2]}` {
				t.Errorf("another key served %q, want its own load", e.Body)
			}
			if e := mustFetch(t, c, NSReference, "sector=nhs", src); string(e.Body) != `{"items":[2]}` {
				t.Errorf("another namespace served %q, want its own load", e.Body)
			}
			if hit, miss := counter(c.m.hit), counter(c.m.miss); hit != 1 || miss != 3 {
				t.Errorf("hits, misses = %v, %v; want 1, 3", hit, miss)
			}
			if got := gathered(t, reg, "csm_cache_requests_total", "result", "hit"); got != 1 {
				t.Errorf("registered csm_cache_requests_total{result=hit} = %v, want 1", got)
			}

			src.set(`{"items":[3]}`)
			if err := c.Invalidate(ctx, NSProviders); err != nil {
				t.Fatalf("Invalidate: %v", err)
			}
			if e := mustFetch(t, c, NSProviders, "sector=nhs", src); string(e.Body) != `{"items":[3]}` || e.ETag == first.ETag {
				t.Errorf("after Invalidate Fetch = %q %s, want the new view", e.Body, e.ETag)
			}
		})
	}
}

func TestFetchLoadError(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			c := b.new(t, Options{})
			notFound := errors.New("not found")
			src := &source{err: notFound}
			for range 2 {
				if _, err := c.Fetch(context.Background(), NSProviders, "p1", time.Minute, src.load); !errors.Is(err, notFound) {
					t.Fatalf("Fetch error = %v, want the load's error", err)
				}
			}
			if n := src.loads.Load(); n != 2 {
				t.Errorf("loads = %d, want 2 (errors are not cached)", n)
			}
		})
	}
}

// TestInvalidateAcrossProcesses plays two API processes on one backend:
// after a write and Invalidate on A, B serves the new view at once, though
// it held the old one in its near-cache.
func TestInvalidateAcrossProcesses(t *testing.T) {
	for _, b := range backends(t) {
		if !b.redis {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			a, bb := b.new(t, Options{}), b.new(t, Options{})
			src := &source{body: "v1"}
			mustFetch(t, a, NSProviders, "k", src)
			mustFetch(t, bb, NSProviders, "k", src) // B fills its near-cache from Redis
			mustFetch(t, bb, NSProviders, "k", src) // and hits it
			if n := src.loads.Load(); n != 1 {
				t.Fatalf("loads = %d before the write, want 1 shared by both processes", n)
			}
			if _, ok := bb.items.Get(NSProviders + "\x00k"); !ok {
				t.Fatal("B holds no near-cache copy")
			}

			src.set("v2")
			if err := a.Invalidate(ctx, NSProviders); err != nil {
				t.Fatalf("Invalidate on A: %v", err)
			}
			if e := mustFetch(t, bb, NSProviders, "k", src); string(e.Body) != "v2" {
				t.Errorf("B after A's Invalidate = %q, want v2", e.Body)
			}
			if e := mustFetch(t, a, NSProviders, "k", src); string(e.Body) != "v2" {
				t.Errorf("A after its Invalidate = %q, want v2", e.Body)
			}
		})
	}
	t.Run("local", func(t *testing.T) {
		c := MustCache(t, Options{})
		src := &source{body: "v1"}
		mustFetch(t, c, NSProviders, "k", src)
		src.set("v2")
		if err := c.Invalidate(context.Background(), NSReference, NSProviders); err != nil {
			t.Fatal(err)
		}
		if e := mustFetch(t, c, NSProviders, "k", src); string(e.Body) != "v2" {
			t.Errorf("after Invalidate = %q, want v2", e.Body)
		}
	})
}

func TestSingleflight(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			c := b.new(t, Options{Timeout: time.Second})
			src := &source{body: "page", delay: 300 * time.Millisecond}
			start := make(chan struct{})
			var wg sync.WaitGroup
			errs := make(chan error, 50)
			for range 50 {
				wg.Go(func() {
					<-start
					e, err := c.Fetch(context.Background(), NSProviders, "q=finance", time.Minute, src.load)
					if err == nil && string(e.Body) != "page" {
						err = fmt.Errorf("body %q", e.Body)
					}
					errs <- err
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if n := src.loads.Load(); n != 1 {
				t.Errorf("50 concurrent misses made %d loads, want 1", n)
			}
		})
	}
}

func TestJitter(t *testing.T) {
	c := MustCache(t, Options{Jitter: 0.1})
	ttl := 10 * time.Second
	lo, hi := ttl, ttl
	for range 10_000 {
		d := c.jittered(ttl)
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < 9*time.Second || hi > 11*time.Second {
		t.Errorf("jittered(10s) ranged %v..%v, want within 9s..11s", lo, hi)
	}
	if lo > 9200*time.Millisecond || hi < 10800*time.Millisecond {
		t.Errorf("jittered(10s) ranged only %v..%v, want spread over 9s..11s", lo, hi)
	}
	if d := MustCache(t, Options{Jitter: -1}).jittered(ttl); d != ttl {
		t.Errorf("without jitter jittered(10s) = %v", d)
	}
}

func TestTTL(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		var mu sync.Mutex
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		c := MustCache(t, Options{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		src := &source{body: "v"}
		for i := range 20 {
			key := fmt.Sprint("k", i)
			if _, err := c.Fetch(context.Background(), NSProviders, key, 100*time.Second, src.load); err != nil {
				t.Fatal(err)
			}
		}
		advance(89 * time.Second)
		for i := range 20 {
			c.Fetch(context.Background(), NSProviders, fmt.Sprint("k", i), 100*time.Second, src.load)
		}
		if n := src.loads.Load(); n != 20 {
			t.Errorf("at 0.89 ttl %d views were reloaded, want none", n-20)
		}
		advance(22 * time.Second)
		for i := range 20 {
			c.Fetch(context.Background(), NSProviders, fmt.Sprint("k", i), 100*time.Second, src.load)
		}
		if n := src.loads.Load(); n != 40 {
			t.Errorf("at 1.11 ttl %d views were reloaded, want all 20", n-20)
		}
	})
	t.Run("redis", func(t *testing.T) {
		prefix := redistest.Prefix(t)
		rdb := redistest.MustClient(t, prefix)
		c := MustCache(t, Options{Redis: rdb, Prefix: prefix})
		src := &source{body: "v"}
		ctx := context.Background()
		ttl := 10 * time.Second
		for i := range 20 {
			key := fmt.Sprint("k", i)
			if _, err := c.Fetch(ctx, NSProviders, key, ttl, src.load); err != nil {
				t.Fatal(err)
			}
			pttl := rdb.PTTL(ctx, c.valueKey(NSProviders, key)).Val()
			if pttl < 8900*time.Millisecond || pttl > 11*time.Second {
				t.Errorf("PTTL of %s = %v, want within 9s..11s", key, pttl)
			}
		}
		short := &source{body: "s"}
		c.Fetch(ctx, NSProviders, "short", 200*time.Millisecond, short.load)
		c.Fetch(ctx, NSProviders, "short", 200*time.Millisecond, short.load)
		time.Sleep(300 * time.Millisecond)
		c.Fetch(ctx, NSProviders, "short", 200*time.Millisecond, short.load)
		if n := short.loads.Load(); n != 2 {
			t.Errorf("loads of a 200ms view over 300ms = %d, want 2", n)
		}
	})
}

// deadRedis returns the address of a closed port.
func deadRedis(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// silentRedis returns the address of a server that accepts connections and
// never answers.
func silentRedis(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func mustClient(t *testing.T, url string) redis.UniversalClient {
	t.Helper()
	rdb, err := RedisClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func TestRedisFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr func(*testing.T) string
	}{
		{"Down", deadRedis},
		{"Slow", silentRedis},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			timeout := 50 * time.Millisecond
			c := MustCache(t, Options{
				Redis:    mustClient(t, "redis://"+tc.addr(t)),
				Timeout:  timeout,
				Cooldown: 300 * time.Millisecond,
			})
			src := &source{body: "from the store"}

			start := time.Now()
			e, err := c.Fetch(ctx, NSProviders, "k", time.Minute, src.load)
			if err != nil || string(e.Body) != src.body || e.ETag != ETag(e.Body) {
				t.Fatalf("Fetch = %q %q, %v; want the loaded body", e.Body, e.ETag, err)
			}
			if d := time.Since(start); d > 4*timeout {
				t.Errorf("first Fetch took %v, want about the timeout %v", d, timeout)
			}

			start = time.Now()
			for range 20 {
				if e, err := c.Fetch(ctx, NSProviders, "k", time.Minute, src.load); err != nil || string(e.Body) != src.body {
					t.Fatalf("Fetch = %q, %v", e.Body, err)
				}
			}
			if d := time.Since(start); d > timeout {
				t.Errorf("20 Fetches with the breaker open took %v, want well under one timeout", d)
			}
			if n := counter(c.m.err); n != 21 {
				t.Errorf("errors counted = %v, want 21", n)
			}
			if n := src.loads.Load(); n != 21 {
				t.Errorf("loads = %d, want 21 (every request served from the store)", n)
			}
			if err := c.Ping(ctx); err == nil {
				t.Error("Ping = nil, want an error")
			}

			start = time.Now()
			if err := c.Invalidate(ctx, NSProviders); err == nil {
				t.Error("Invalidate = nil, want the error")
			}
			if d := time.Since(start); d > 4*timeout {
				t.Errorf("Invalidate took %v, want about the timeout", d)
			}
			if n := counter(c.m.invalidations.WithLabelValues("error")); n != 1 {
				t.Errorf("failed invalidations counted = %v, want 1", n)
			}
		})
	}
}

// proxy forwards TCP to target while up; while down it drops every
// connection, as a partition between one API process and Redis.
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target}
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				in.Close()
				continue
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				in.Close()
				continue
			}
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	t.Cleanup(func() { l.Close(); p.setDown(true) })
	return p
}

func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// TestInvalidateRetried: a write acknowledged while this process cannot
// reach Redis is not shadowed by the old views once Redis answers again,
// and meanwhile this process serves the namespace from the store.
func TestInvalidateRetried(t *testing.T) {
	prefix := redistest.Prefix(t)
	direct := redistest.MustClient(t, prefix)
	ctx := context.Background()
	one, ok := direct.(*redis.Client)
	if !ok {
		t.Skip("TEST_REDIS_URL is a cluster: the partition test needs one server")
	}
	addr := one.Options().Addr
	px := newProxy(t, addr)
	cooldown := 100 * time.Millisecond
	a := MustCache(t, Options{Redis: mustClient(t, "redis://"+px.l.Addr().String()), Prefix: prefix, Cooldown: cooldown})
	b := MustCache(t, Options{Redis: direct, Prefix: prefix})
	src := &source{body: "v1"}
	mustFetch(t, a, NSProviders, "k", src)
	mustFetch(t, b, NSProviders, "k", src)

	px.setDown(true)
	src.set("v2")
	if err := a.Invalidate(ctx, NSProviders); err == nil {
		t.Fatal("Invalidate through a dropped connection = nil, want an error")
	}
	if e := mustFetch(t, a, NSProviders, "k", src); string(e.Body) != "v2" {
		t.Errorf("A while its invalidation is pending = %q, want v2 from the store", e.Body)
	}
	px.setDown(false)
	deadline := time.Now().Add(10 * cooldown)
	for {
		e := mustFetch(t, b, NSProviders, "k", src)
		if string(e.Body) == "v2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B still serves %q %v after Redis came back", e.Body, 10*cooldown)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if e := mustFetch(t, a, NSProviders, "k", src); string(e.Body) != "v2" {
		t.Errorf("A after the retry = %q, want v2", e.Body)
	}
	if n := counter(a.m.invalidations.WithLabelValues("retried")); n != 1 {
		t.Errorf("retried invalidations = %v, want 1", n)
	}
}

// TestLostGeneration: a generation counter lost after an invalidation
// (evicted, Redis restarted without it) must not make the older views
// current again, in Redis or in any near-cache.
func TestLostGeneration(t *testing.T) {
	prefix := redistest.Prefix(t)
	rdb := redistest.MustClient(t, prefix)
	ctx := context.Background()
	a := MustCache(t, Options{Redis: rdb, Prefix: prefix})
	b := MustCache(t, Options{Redis: mustClient(t, os.Getenv("TEST_REDIS_URL")), Prefix: prefix})
	src := &source{body: "v1"}
	mustFetch(t, a, NSProviders, "k", src)
	mustFetch(t, b, NSProviders, "k", src)
	old, err := rdb.Get(ctx, a.genKey(NSProviders)).Int64()
	if err != nil {
		t.Fatal(err)
	}

	src.set("v2")
	if err := a.Invalidate(ctx, NSProviders); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, a.genKey(NSProviders)).Err(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*Cache{"A": a, "B": b} {
		if e := mustFetch(t, c, NSProviders, "k", src); string(e.Body) != "v2" {
			t.Errorf("%s after the counter was lost = %q, want v2", name, e.Body)
		}
	}
	now, err := rdb.Get(ctx, a.genKey(NSProviders)).Int64()
	if err != nil || now <= old+1 {
		t.Errorf("new generation = %d, %v; want above the lost one %d", now, err, old+1)
	}

	// A lost counter with no invalidation before it also starts afresh.
	rdb.Del(ctx, a.genKey(NSProviders))
	if err := a.Invalidate(ctx, NSProviders); err != nil {
		t.Fatal(err)
	}
	if g, _ := rdb.Get(ctx, a.genKey(NSProviders)).Int64(); g <= now {
		t.Errorf("generation bumped from nothing = %d, want above %d", g, now)
	}
}

func TestPing(t *testing.T) {
	if err := NewLocal().Ping(context.Background()); err != nil {
		t.Errorf("local Ping = %v", err)
	}
	prefix := redistest.Prefix(t)
	c := MustCache(t, Options{Redis: redistest.MustClient(t, prefix), Prefix: prefix})
	if err := c.Ping(context.Background()); err != nil {
		t.Errorf("redis Ping = %v", err)
	}
}

func TestRedisClient(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		cluster   bool
		err       bool
	}{
		{"Single", "redis://127.0.0.1:6379/0", false, false},
		{"SingleTLSWithPassword", "rediss://user:secret@cache.example.org:6380/2?pool_size=20", false, false},
		{"ClusterBySeeds", "redis://10.0.0.1:6379?addr=10.0.0.2:6379", true, false},
		{"ClusterByFlag", "redis://clustercfg.example.org:6379?cluster=true", true, false},
		{"ClusterByCommas", "redis://10.0.0.1:6379,10.0.0.2:6379", true, false},
		{"ClusterPlainList", "10.0.0.1:6379, 10.0.0.2:6379", true, false},
		{"Empty", " ", false, true},
		{"BadScheme", "http://127.0.0.1:6379", false, true},
		{"BadOption", "redis://127.0.0.1:6379?nonsense=1", false, true},
		{"BadClusterFlag", "redis://127.0.0.1:6379?cluster=maybe", false, true},
		{"ClusterWithDB", "redis://10.0.0.1:6379,10.0.0.2:6379/3", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb, err := RedisClient(tc.url)
			if tc.err {
				if err == nil {
					rdb.Close()
					t.Fatalf("RedisClient(%q) = nil error, want one", tc.url)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("RedisClient(%q): %v", tc.url, err)
			}
			defer rdb.Close()
			switch cl := rdb.(type) {
			case *redis.ClusterClient:
				if !tc.cluster {
					t.Errorf("got a cluster client, want one server")
				}
				if !cl.Options().ContextTimeoutEnabled {
					t.Error("the client ignores context deadlines")
				}
			case *redis.Client:
				if tc.cluster {
					t.Errorf("got a one-server client, want a cluster")
				}
				if !cl.Options().ContextTimeoutEnabled {
					t.Error("the client ignores context deadlines")
				}
			default:
				t.Errorf("got %T", rdb)
			}
		})
	}
}

func TestMetricsShareRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := MustCache(t, Options{Registerer: reg})
	b := MustCache(t, Options{Registerer: reg})
	src := &source{body: "v"}
	mustFetch(t, a, NSReference, "regions", src)
	mustFetch(t, b, NSReference, "regions", src)
	if got := gathered(t, reg, "csm_cache_requests_total", "result", "miss"); got != 2 {
		t.Errorf("csm_cache_requests_total{result=miss} = %v, want 2 from both caches", got)
	}
}

func gathered(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("%s{%s=%q} not registered", name, label, value)
	return 0
}

// TestMaxBytes: the views held in process stay within the byte budget,
// the least recently used going first, and each still loads when asked.
func TestMaxBytes(t *testing.T) {
	c := MustCache(t, Options{MaxBytes: 100})
	srcs := make([]*source, 6)
	for i := range srcs {
		srcs[i] = &source{body: strings.Repeat(string(rune('a'+i)), 40)}
		mustFetch(t, c, NSProviders, fmt.Sprint(i), srcs[i])
		if b := c.bytes.Load(); b > 100 {
			t.Fatalf("after %d views: %d bytes held, budget 100", i+1, b)
		}
	}
	if n := c.items.Len(); n != 2 {
		t.Errorf("%d views held of 40 bytes each in 100, want 2", n)
	}
	if e := mustFetch(t, c, NSProviders, "5", srcs[5]); srcs[5].loads.Load() != 1 || string(e.Body) != srcs[5].body {
		t.Error("the newest view was not kept")
	}
	if e := mustFetch(t, c, NSProviders, "0", srcs[0]); srcs[0].loads.Load() != 2 || string(e.Body) != srcs[0].body {
		t.Error("the oldest view was not evicted, or not loaded again")
	}
	mustFetch(t, c, NSProviders, "0", &source{body: strings.Repeat("z", 10)}) // a hit: nothing replaced
	if b := c.bytes.Load(); b != 80 {
		t.Errorf("%d bytes held, want 80 (two views of 40)", b)
	}
}
