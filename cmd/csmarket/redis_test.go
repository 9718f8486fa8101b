package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// tcpProxy forwards connections to a backend until it is cut, when it closes
// every connection and refuses new ones: Redis going away, as the API sees it.
type tcpProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, backend string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			go func() { io.Copy(b, c); b.Close() }()
			go func() { io.Copy(c, b); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// cacheCount reads csm_cache_requests_total{result=...} from /metrics.
func cacheCount(t *testing.T, base, result string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`csm_cache_requests_total\{[^}]*result="` + result + `"[^}]*\} ([0-9.e+]+)`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestServeRedisHitsAndLoss: with Redis configured a repeated request is a
// cache hit, and when Redis goes away mid-run every request is still
// answered from the store.
func TestServeRedisHitsAndLoss(t *testing.T) {
	raw := os.Getenv("TEST_REDIS_URL")
	if raw == "" {
		t.Skip("TEST_REDIS_URL not set: Redis end-to-end test skipped")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()

	dir := t.TempDir()
	vars := map[string]string{
		"CSM_ADDR":          "127.0.0.1:0",
		"CSM_DATABASE_URL":  "sqlite:" + filepath.Join(dir, "redis.db"),
		"CSM_JWT_KEY_FILE":  filepath.Join(dir, "keys.pem"),
		"CSM_REDIS_URL":     u.String(),
		"CSM_REDIS_TIMEOUT": "50ms",
	}
	if err := run(context.Background(), []string{"seed"}, env(vars), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	base := startServer(t, vars).base

	// A unique query, so that earlier runs sharing this Redis cannot have
	// cached it.
	path := "/api/v1/providers?q=" + strconv.FormatInt(time.Now().UnixNano(), 36) + "&page_size=7"
	status := func() int {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	hits := cacheCount(t, base, "hit")
	if s := status(); s != 200 {
		t.Fatalf("first request: %d", s)
	}
	if s := status(); s != 200 {
		t.Fatalf("second request: %d", s)
	}
	if got := cacheCount(t, base, "hit"); got < hits+1 {
		t.Fatalf("repeated request was not a cache hit: hits %v -> %v", hits, got)
	}

	proxy.cut()
	errorsBefore := cacheCount(t, base, "error")
	for i := 0; i < 50; i++ {
		if s := status(); s != 200 {
			t.Fatalf("request %d after Redis went away: %d", i, s)
		}
	}
	resp, err := http.Get(base + "/api/v1/providers/does-not-exist")
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("unknown provider with Redis gone: %v %v", err, resp.StatusCode)
	}
	resp.Body.Close()
	if got := cacheCount(t, base, "error"); got <= errorsBefore {
		t.Fatalf("Redis failures not counted: errors %v -> %v", errorsBefore, got)
	}
	resp, err = http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"degraded"`) {
		t.Errorf("/readyz with Redis gone: %d %s, want 200 degraded", resp.StatusCode, body)
	}
}
