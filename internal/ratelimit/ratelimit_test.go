package ratelimit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/csmarket/csmarket/internal/redistest"
)

var perMinute = Limit{Events: 10, Per: time.Minute}

// MustLimiter returns a limiter on o with a quiet logger and a fresh
// registry unless they are set.
func MustLimiter(tb testing.TB, o Options) *Limiter {
	tb.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	return New(o)
}

// backend makes limiters that behave as separate API replicas sharing one
// backend: on Redis, each has its own client on one prefix.
type backend struct {
	name   string
	shared bool // replicas share budgets
	new    func(tb testing.TB, o Options) *Limiter
}

func backends(t *testing.T) []backend {
	bs := []backend{{name: "local", new: MustLimiter}}
	if os.Getenv("TEST_REDIS_URL") == "" {
		t.Log("TEST_REDIS_URL not set: Redis backend skipped")
		return bs
	}
	var prefixes sync.Map // testing.TB -> its prefix
	return append(bs, backend{name: "redis", shared: true, new: func(tb testing.TB, o Options) *Limiter {
		p, _ := prefixes.LoadOrStore(tb, redistest.Prefix(tb))
		o.Prefix = p.(string)
		o.Redis = redistest.MustClient(tb, o.Prefix)
		o.Timeout = time.Second // a loaded CI host must not turn into fallbacks
		return MustLimiter(tb, o)
	}})
}

func counterValue(tb testing.TB, reg *prometheus.Registry, name, label, value string) float64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" {
				return m.GetCounter().GetValue()
			}
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestParseLimit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Limit
	}{
		{"10/1m", Limit{10, time.Minute}},
		{"600/1m", Limit{600, time.Minute}},
		{" 5 / 30s ", Limit{5, 30 * time.Second}},
		{"100/h", Limit{100, time.Hour}},
		{"2/1m30s", Limit{2, 90 * time.Second}},
		{"1/24h", Limit{1, 24 * time.Hour}},
		{"off", Limit{}},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseLimit(c.in)
			if err != nil || got != c.want {
				t.Fatalf("ParseLimit(%q) = %v, %v; want %v", c.in, got, err, c.want)
			}
			if back, err := ParseLimit(got.String()); err != nil || back != got {
				t.Errorf("ParseLimit(%q.String() = %q) = %v, %v", c.in, got.String(), back, err)
			}
		})
	}
	for _, in := range []string{"", "10", "10/", "/1m", "0/1m", "-1/1m", "ten/1m", "10/0s", "10/-1m", "10/fortnight", "10/1m/2", "1.5/1m", "10000000/1ms"} {
		t.Run("Bad"+in, func(t *testing.T) {
			l, err := ParseLimit(in)
			if err == nil {
				t.Fatalf("ParseLimit(%q) = %v, want an error", in, l)
			}
			if !strings.Contains(err.Error(), "10/1m") {
				t.Errorf("error %q does not show the form", err)
			}
		})
	}
}

func TestBurstThenLimited(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			l := b.new(t, Options{Registerer: reg})
			ctx := context.Background()
			for i := range perMinute.Events {
				if ok, ra := l.Allow(ctx, "login:ip:192.0.2.1", perMinute); !ok {
					t.Fatalf("event %d of the burst refused (retry after %v)", i+1, ra)
				}
			}
			ok, ra := l.Allow(ctx, "login:ip:192.0.2.1", perMinute)
			if ok {
				t.Fatal("the 11th event in a minute was allowed")
			}
			// One event every 6 s: the next is due 6 s after the burst began.
			if ra < 5*time.Second || ra > 6*time.Second || ra%time.Second != 0 {
				t.Errorf("retry after %v, want 5 or 6 whole seconds", ra)
			}
			if a, lim := counterValue(t, reg, "csm_ratelimit_decisions_total", "result", "allowed"), counterValue(t, reg, "csm_ratelimit_decisions_total", "result", "limited"); a != 10 || lim != 1 {
				t.Errorf("decisions allowed=%v limited=%v, want 10 and 1", a, lim)
			}
			if e := counterValue(t, reg, "csm_ratelimit_errors_total", "", ""); e != 0 {
				t.Errorf("errors = %v, want 0", e)
			}
		})
	}
}

func TestRefill(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			l := b.new(t, Options{})
			ctx := context.Background()
			fast := Limit{Events: 2, Per: 400 * time.Millisecond} // one every 200 ms
			l.Allow(ctx, "k", fast)
			l.Allow(ctx, "k", fast)
			ok, ra := l.Allow(ctx, "k", fast)
			if ok || ra != time.Second {
				t.Fatalf("third event = %v, %v; want refused, retry after the minimum 1s", ok, ra)
			}
			time.Sleep(250 * time.Millisecond)
			if ok, _ := l.Allow(ctx, "k", fast); !ok {
				t.Fatal("refused after an interval had passed")
			}
			if ok, _ := l.Allow(ctx, "k", fast); ok {
				t.Fatal("allowed a second event after one interval")
			}
		})
	}
}

func TestKeysIndependent(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			l := b.new(t, Options{})
			ctx := context.Background()
			for range perMinute.Events + 1 {
				l.Allow(ctx, "login:account:a@example.nhs.uk", perMinute)
			}
			if ok, _ := l.Allow(ctx, "login:account:a@example.nhs.uk", perMinute); ok {
				t.Fatal("the spent key was allowed")
			}
			long := "token:" + strings.Repeat("x", 300)
			for _, k := range []string{"login:account:b@example.nhs.uk", "login:ip:192.0.2.1", long, long + "y"} {
				for i := range 3 {
					if ok, _ := l.Allow(ctx, k, perMinute); !ok {
						t.Fatalf("key %.40q refused on event %d after another key was spent", k, i+1)
					}
				}
			}
		})
	}
}

// TestReplicasShareBudget: two API replicas on one Redis enforce one
// budget, not one each.
func TestReplicasShareBudget(t *testing.T) {
	for _, b := range backends(t) {
		if !b.shared {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			r1, r2 := b.new(t, Options{}), b.new(t, Options{})
			ctx := context.Background()
			for i := range perMinute.Events {
				r := r1
				if i%2 == 1 {
					r = r2
				}
				if ok, _ := r.Allow(ctx, "login:ip:192.0.2.9", perMinute); !ok {
					t.Fatalf("event %d refused", i+1)
				}
			}
			for name, r := range map[string]*Limiter{"first": r1, "second": r2} {
				if ok, _ := r.Allow(ctx, "login:ip:192.0.2.9", perMinute); ok {
					t.Errorf("the %s replica allowed an 11th event", name)
				}
			}
		})
	}
}

func TestRedisKeysUsePrefix(t *testing.T) {
	prefix := redistest.Prefix(t)
	rdb := redistest.MustClient(t, prefix)
	l := MustLimiter(t, Options{Redis: rdb, Prefix: prefix, Timeout: time.Second})
	l.Allow(context.Background(), "login:ip:192.0.2.7", perMinute)
	keys, err := rdb.Keys(context.Background(), "*192.0.2.7").Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := prefix + "ratelimit:login:ip:192.0.2.7"; len(keys) != 1 || keys[0] != want {
		t.Errorf("keys %v, want [%s]", keys, want)
	}
}

// deadRedis returns a client for an address where nothing listens, and
// one where a server accepts connections but never answers.
func deadRedis(t *testing.T) (refused, silent redis.UniversalClient) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()

	silentLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := silentLn.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		silentLn.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	mk := func(addr string) redis.UniversalClient {
		c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1, DialTimeout: time.Second})
		t.Cleanup(func() { c.Close() })
		return c
	}
	return mk(closedAddr), mk(silentLn.Addr().String())
}

// TestRedisDown: a failing or silent Redis never refuses a request it
// would not refuse in process, never blocks past Timeout, and is counted
// and logged (once per cooldown, not once per request).
func TestRedisDown(t *testing.T) {
	refused, silent := deadRedis(t)
	for name, rdb := range map[string]redis.UniversalClient{"Refused": refused, "Silent": silent} {
		t.Run(name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			var logs bytes.Buffer
			var logMu sync.Mutex
			l := New(Options{
				Redis: rdb, Prefix: redistest.Prefix(t), Timeout: 50 * time.Millisecond, Registerer: reg,
				Logger: slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, nil)),
			})
			ctx := context.Background()
			start := time.Now()
			ok, _ := l.Allow(ctx, "login:ip:192.0.2.1", perMinute)
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("Allow took %v with a Timeout of 50ms", d)
			}
			if !ok {
				t.Fatal("refused when Redis is down")
			}
			if e := counterValue(t, reg, "csm_ratelimit_errors_total", "", ""); e != 1 {
				t.Errorf("errors = %v, want 1", e)
			}
			if a := counterValue(t, reg, "csm_ratelimit_decisions_total", "result", "allowed"); a != 1 {
				t.Errorf("allowed = %v, want 1", a)
			}
			// During the cooldown Redis is not tried: no wait, no new error,
			// and the process still enforces the limit on its own.
			start = time.Now()
			for range perMinute.Events - 1 {
				if ok, _ := l.Allow(ctx, "login:ip:192.0.2.1", perMinute); !ok {
					t.Fatal("refused within the budget while Redis is down")
				}
			}
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Errorf("9 decisions in the cooldown took %v: Redis was tried", d)
			}
			if ok, ra := l.Allow(ctx, "login:ip:192.0.2.1", perMinute); ok || ra < 5*time.Second {
				t.Errorf("11th event with Redis down = %v, %v; want refused by the process", ok, ra)
			}
			if e := counterValue(t, reg, "csm_ratelimit_errors_total", "", ""); e != 1 {
				t.Errorf("errors = %v after the cooldown's decisions, want still 1", e)
			}
			logMu.Lock()
			n := strings.Count(logs.String(), "ratelimit: redis")
			logMu.Unlock()
			if n != 1 {
				t.Errorf("%d log lines about Redis, want 1:\n%s", n, logs.String())
			}
		})
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// TestRedisRecovers: after the cooldown Redis is tried again.
func TestRedisRecovers(t *testing.T) {
	prefix := redistest.Prefix(t)
	rdb := redistest.MustClient(t, prefix)
	reg := prometheus.NewRegistry()
	l := MustLimiter(t, Options{Redis: rdb, Prefix: prefix, Timeout: time.Second, Registerer: reg})
	l.redisFailed(time.Now(), fmt.Errorf("simulated"))
	l.Allow(context.Background(), "k", perMinute) // in process, during the cooldown
	if n, _ := rdb.Exists(context.Background(), prefix+"ratelimit:k").Result(); n != 0 {
		t.Fatal("Redis was used during the cooldown")
	}
	l.now = func() time.Time { return time.Now().Add(cooldown) }
	l.Allow(context.Background(), "k", perMinute)
	if n, _ := rdb.Exists(context.Background(), prefix+"ratelimit:k").Result(); n != 1 {
		t.Fatal("Redis was not used again after the cooldown")
	}
}

func TestZeroLimitAllows(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			l := b.new(t, Options{})
			for range 100 {
				if ok, _ := l.Allow(context.Background(), "k", Limit{}); !ok {
					t.Fatal("the zero Limit refused")
				}
			}
		})
	}
}

// TestLocalBounded: with many client addresses the in-process map stays
// bounded, idle keys are dropped, and a key being refused is not reset by
// a flood of new keys.
func TestLocalBounded(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l := MustLimiter(t, Options{})
	l.now = func() time.Time { return now }
	l.local = newLocal(100)
	ctx := context.Background()

	for range perMinute.Events {
		l.Allow(ctx, "login:ip:203.0.113.66", perMinute)
	}
	for i := range 10_000 {
		l.Allow(ctx, fmt.Sprintf("login:ip:10.0.%d.%d", i/256, i%256), perMinute)
		if n := l.local.len(); n > 100 {
			t.Fatalf("%d keys held after %d addresses, want at most 100", n, i+1)
		}
	}
	if ok, _ := l.Allow(ctx, "login:ip:203.0.113.66", perMinute); ok {
		t.Fatal("a flood of new addresses reset a spent budget")
	}

	now = now.Add(2 * time.Minute) // every budget is whole again
	l.Allow(ctx, "login:ip:192.0.2.1", perMinute)
	if n := l.local.len(); n != 1 {
		t.Errorf("%d keys held after they all went idle, want 1", n)
	}
	if ok, _ := l.Allow(ctx, "login:ip:203.0.113.66", perMinute); !ok {
		t.Error("a budget did not refill after its period")
	}
}

// TestLocalMatchesGCRA checks the in-process arithmetic against the
// documented behaviour, on a controlled clock.
func TestLocalMatchesGCRA(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := newLocal(defaultMaxKeys)
	for i := range 10 {
		if ok, _ := s.allow("k", perMinute, now); !ok {
			t.Fatalf("burst event %d refused", i+1)
		}
	}
	ok, ra := s.allow("k", perMinute, now)
	if ok || ra != 6*time.Second {
		t.Fatalf("11th = %v, %v; want refused for exactly 6s", ok, ra)
	}
	now = now.Add(6 * time.Second)
	if ok, _ := s.allow("k", perMinute, now); !ok {
		t.Fatal("refused 6s later")
	}
	if ok, ra := s.allow("k", perMinute, now); ok || ra != 6*time.Second {
		t.Fatalf("again = %v, %v; want refused for 6s", ok, ra)
	}
}

func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, l *Limiter) {
		lim := Limit{Events: 1 << 30, Per: time.Second}
		i := 0
		for b.Loop() {
			i++
			l.Allow(ctx, "bench:"+strconv.Itoa(i%1000), lim)
		}
	}
	b.Run("local", func(b *testing.B) { run(b, MustLimiter(b, Options{})) })
	b.Run("redis", func(b *testing.B) {
		p := redistest.Prefix(b)
		run(b, MustLimiter(b, Options{Redis: redistest.MustClient(b, p), Prefix: p, Timeout: time.Second}))
	})
}
