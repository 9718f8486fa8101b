package cache

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/csmarket/csmarket/internal/redistest"
)

// counting counts the commands a client sends, pub/sub aside.
type counting struct{ n atomic.Int64 }

func (h *counting) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *counting) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *counting) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// nearPair returns two caches (processes) on one prefix, the second with
// its own client counted, once the second hears the invalidation channel.
func nearPair(t *testing.T) (a, b *Cache, calls *counting, direct redis.UniversalClient) {
	t.Helper()
	prefix := redistest.Prefix(t)
	direct = redistest.MustClient(t, prefix)
	if _, ok := direct.(*redis.Client); !ok {
		t.Skip("TEST_REDIS_URL is a cluster: the near path needs one server")
	}
	a = MustCache(t, Options{Redis: direct, Prefix: prefix})
	rb := mustClient(t, os.Getenv("TEST_REDIS_URL"))
	calls = &counting{}
	rb.AddHook(calls)
	b = MustCache(t, Options{Redis: rb, Prefix: prefix})
	return a, b, calls, direct
}

// waitFresh looks up ns/k through c until c may serve ns from its
// near-cache: a generation is learnt from a lookup made while subscribed.
func waitFresh(t *testing.T, c *Cache, ns string, src *source) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mustFetch(t, c, ns, "k", src)
		if _, ok := c.lis.current(ns); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cache never heard the current generation of %s", ns)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestNearHits: a process that heard the current generation serves the
// views it holds without a Redis round trip; an invalidation made
// anywhere reaches it within the bound; a consistency token makes it ask
// Redis when it has not heard of that generation yet.
func TestNearHits(t *testing.T) {
	if os.Getenv("TEST_REDIS_URL") == "" {
		t.Skip("TEST_REDIS_URL not set: Redis test skipped")
	}
	ctx := context.Background()

	t.Run("NoRoundTrip", func(t *testing.T) {
		a, b, calls, _ := nearPair(t)
		src := &source{body: "v1"}
		mustFetch(t, a, NSProviders, "k", src)
		mustFetch(t, b, NSProviders, "k", src) // B's first look asks Redis
		waitFresh(t, b, NSProviders, src)
		before := calls.n.Load()
		for range 100 {
			if e := mustFetch(t, b, NSProviders, "k", src); string(e.Body) != "v1" {
				t.Fatalf("B = %q, want v1", e.Body)
			}
		}
		if n := calls.n.Load() - before; n > 5 {
			// A round trip is allowed only where the listener fell behind
			// the bound (a loaded machine); 100 hits must not each ask.
			t.Errorf("100 hits sent %d commands to Redis, want (nearly) none", n)
		}
		if n := src.loads.Load(); n != 1 {
			t.Errorf("loads = %d, want 1", n)
		}
	})

	t.Run("InvalidationWithinBound", func(t *testing.T) {
		a, b, _, _ := nearPair(t)
		src := &source{body: "v1"}
		mustFetch(t, b, NSProviders, "k", src)
		waitFresh(t, b, NSProviders, src)
		mustFetch(t, b, NSProviders, "k", src)
		src.set("v2")
		if err := a.Invalidate(ctx, NSProviders); err != nil {
			t.Fatal(err)
		}
		done := time.Now()
		var first time.Duration = -1
		for time.Since(done) < 3*DefaultNearBound {
			start := time.Since(done)
			e := mustFetch(t, b, NSProviders, "k", src)
			switch {
			case string(e.Body) == "v2" && first < 0:
				first = start
			case string(e.Body) == "v1" && first >= 0:
				t.Fatalf("B served v1 again at %v, after serving v2 at %v", start, first)
			case string(e.Body) == "v1" && start > DefaultNearBound:
				t.Fatalf("B served v1 %v after the invalidation returned, beyond the %v bound", start, DefaultNearBound)
			}
			time.Sleep(time.Millisecond)
		}
		t.Logf("B served the new view %v after the invalidation returned", first)
	})

	t.Run("ConsistencyToken", func(t *testing.T) {
		a, b, _, direct := nearPair(t)
		src := &source{body: "v1"}
		mustFetch(t, b, NSProviders, "k", src)
		waitFresh(t, b, NSProviders, src)

		wctx, col := WithCollector(ctx)
		src.set("v2")
		if err := a.Invalidate(wctx, NSProviders); err != nil {
			t.Fatal(err)
		}
		tok := col.Token()
		g, err := direct.Get(ctx, a.genKey(NSProviders)).Result()
		if err != nil || tok != NSProviders+":"+g {
			t.Fatalf("token %q, generation %q %v: want %s:<generation>", tok, g, err, NSProviders)
		}
		m, err := ParseToken(tok)
		if err != nil {
			t.Fatal(err)
		}
		// B hears A's bump (until then it may serve v1, within the bound),
		// and then holds v2.
		deadline := time.Now().Add(5 * time.Second)
		for {
			if e := mustFetch(t, b, NSProviders, "k", src); string(e.Body) == "v2" {
				if gen, ok := b.lis.current(NSProviders); ok && gen == m[NSProviders] {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("B never heard A's bump")
			}
			time.Sleep(time.Millisecond)
		}
		// A bump whose message B has not heard yet: an increment made
		// behind the channel's back, as a message still in flight.
		if err := direct.Incr(ctx, a.genKey(NSProviders)).Err(); err != nil {
			t.Fatal(err)
		}
		src.set("v3")
		next, _ := direct.Get(ctx, a.genKey(NSProviders)).Int64()
		// Without the token B may serve v2, the view of the generation it
		// heard (within the bound), or v3 if its listener fell behind.
		if e, err := b.Fetch(ctx, NSProviders, "k", time.Minute, src.load); err != nil || string(e.Body) != "v2" && string(e.Body) != "v3" {
			t.Fatalf("B without a token = %q, %v: want v2 or v3", e.Body, err)
		}
		newer := Minimum{NSProviders: next}
		if e, err := b.Fetch(WithMinimum(ctx, newer), NSProviders, "k", time.Minute, src.load); err != nil || string(e.Body) != "v3" {
			t.Fatalf("B with the newer token = %q, %v: want v3", e.Body, err)
		}
		if e, err := b.Fetch(WithMinimum(ctx, m), NSProviders, "k", time.Minute, src.load); err != nil || string(e.Body) != "v3" {
			t.Fatalf("B with the older token = %q, %v: want v3", e.Body, err)
		}
	})

	t.Run("ETagNotHeld", func(t *testing.T) {
		a, b, _, direct := nearPair(t)
		src := &source{body: "v1"}
		mustFetch(t, b, NSProviders, "k", src)
		waitFresh(t, b, NSProviders, src)
		if err := direct.Incr(ctx, a.genKey(NSProviders)).Err(); err != nil {
			t.Fatal(err)
		}
		src.set("v2")
		// A client showing a tag B does not hold may have seen it elsewhere.
		got, err := b.Fetch(WithETags(ctx, []string{ETag([]byte("v2"))}), NSProviders, "k", time.Minute, src.load)
		if err != nil || string(got.Body) != "v2" {
			t.Fatalf("B asked with a tag it does not hold = %q, %v: want v2 from Redis", got.Body, err)
		}
	})

	t.Run("SubscriptionLost", func(t *testing.T) {
		prefix := redistest.Prefix(t)
		direct := redistest.MustClient(t, prefix)
		one, ok := direct.(*redis.Client)
		if !ok {
			t.Skip("cluster")
		}
		px := newProxy(t, one.Options().Addr)
		b := MustCache(t, Options{Redis: mustClient(t, "redis://"+px.l.Addr().String()), Prefix: prefix})
		src := &source{body: "v1"}
		mustFetch(t, b, NSProviders, "k", src)
		waitFresh(t, b, NSProviders, src)
		epoch := b.lis.epoch.Load()
		// Cut every connection of B's: the subscription goes, and any
		// message published meanwhile is lost to it.
		px.setDown(true)
		if err := direct.Incr(ctx, b.genKey(NSProviders)).Err(); err != nil {
			t.Fatal(err)
		}
		src.set("v2")
		deadline := time.Now().Add(5 * time.Second)
		for b.lis.epoch.Load() == epoch {
			if time.Now().After(deadline) {
				t.Fatal("B never noticed its subscription was gone")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, ok := b.lis.current(NSProviders); ok {
			t.Fatal("B still trusts what it heard before the subscription was lost")
		}
		px.setDown(false)
		deadline = time.Now().Add(10 * time.Second)
		for {
			e := mustFetch(t, b, NSProviders, "k", src)
			if string(e.Body) == "v2" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("B still serves %q after Redis came back", e.Body)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestConsistencyTokens(t *testing.T) {
	col := &Collector{}
	if col.Token() != "" {
		t.Error("an empty collector gave a token")
	}
	col.add("tenders", 7)
	col.add("providers", 12)
	col.add("providers", 9)
	tok := col.Token()
	if tok != "providers:12,tenders:7" {
		t.Fatalf("token = %q", tok)
	}
	m, err := ParseToken(tok)
	if err != nil || m["providers"] != 12 || m["tenders"] != 7 || len(m) != 2 {
		t.Fatalf("ParseToken(%q) = %v, %v", tok, m, err)
	}
	for _, bad := range []string{
		"", " ", "providers", "providers:", ":5", "providers:x", "providers:-1", "providers:0",
		"providers:99999999999999999999", "a b:1", "providers:1,", "prov\x00iders:1",
		strings.Repeat("a", 129) + ":1", tooMany(),
		strings.Repeat("x", 4097),
	} {
		if _, err := ParseToken(bad); err == nil {
			t.Errorf("ParseToken(%q) = nil error", bad)
		}
	}
	var many []string
	for i := range MaxTokenPairs {
		many = append(many, "ns"+strconv.Itoa(i)+":1")
	}
	if _, err := ParseToken(strings.Join(many, ",")); err != nil {
		t.Errorf("%d pairs refused: %v", MaxTokenPairs, err)
	}
}

func tooMany() string {
	var b strings.Builder
	for i := range MaxTokenPairs + 1 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("ns" + strconv.Itoa(i) + ":1")
	}
	return b.String()
}

// TestListenerBound: what was heard is used only while the latest answered
// PING is within the bound, and only in the epoch it was heard in.
func TestListenerBound(t *testing.T) {
	l := &listener{bound: int64(50 * time.Millisecond), base: time.Now()}
	l.lose()
	e := l.epoch.Load()
	l.learn("providers", 5, e)
	if _, ok := l.current("providers"); ok {
		t.Fatal("used before any PING was answered")
	}
	l.freshAsOf.Store(l.since())
	if g, ok := l.current("providers"); !ok || g != 5 {
		t.Fatalf("current = %d, %v; want 5", g, ok)
	}
	l.learn("providers", 4, e)
	if g, _ := l.current("providers"); g != 5 {
		t.Errorf("an older generation replaced a newer one: %d", g)
	}
	time.Sleep(60 * time.Millisecond)
	if _, ok := l.current("providers"); ok {
		t.Error("used after the bound passed without an answered PING")
	}
	l.freshAsOf.Store(l.since())
	l.learn("providers", 9, e-1) // heard in an epoch gone by
	if g, _ := l.current("providers"); g != 5 {
		t.Errorf("a generation from an earlier epoch was taken: %d", g)
	}
	l.lose()
	l.freshAsOf.Store(l.since())
	if _, ok := l.current("providers"); ok {
		t.Error("a generation heard before the subscription was lost is still used")
	}
}
