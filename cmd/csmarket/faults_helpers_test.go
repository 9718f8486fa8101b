package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/redis/go-redis/v9"

	"github.com/csmarket/csmarket/internal/seed"
)

// The fault tests run from .ci/faults (make faults), which creates a
// private PostgreSQL cluster for them alone, since they restart and stop
// it: CSM_FAULTS_PG_URL is its superuser URL and CSM_FAULTS_PG_CLUSTER its
// "VERSION NAME" for pg_ctlcluster. Without them the tests skip, so that
// `make test` neither needs nor disturbs such a cluster.

// faultsCluster returns the private cluster's URL and a function that runs
// pg_ctlcluster ACTION on it, skipping the test when there is none.
func faultsCluster(t *testing.T) (adminURL string, pgctl func(action string)) {
	t.Helper()
	adminURL, cluster := os.Getenv("CSM_FAULTS_PG_URL"), os.Getenv("CSM_FAULTS_PG_CLUSTER")
	if adminURL == "" || cluster == "" {
		t.Skip("CSM_FAULTS_PG_URL and CSM_FAULTS_PG_CLUSTER not set: fault tests run from .ci/faults (make faults)")
	}
	// The Redis client logs every failed dial, process-wide; the servers'
	// own logs say what matters.
	quietRedis.Do(func() { redis.SetLogger(redisLogger{newLogger(io.Discard, slog.LevelError)}) })
	ver, name, ok := strings.Cut(cluster, " ")
	if !ok {
		t.Fatalf("CSM_FAULTS_PG_CLUSTER=%q: want \"VERSION NAME\"", cluster)
	}
	return adminURL, func(action string) {
		t.Helper()
		out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", ver, name, action).CombinedOutput()
		if err != nil {
			t.Fatalf("pg_ctlcluster %s %s %s: %v\n%s", ver, name, action, err, out)
		}
	}
}

var quietRedis sync.Once

// faultsDatabase creates a database of its own for the test in the private
// cluster and returns its URL; it is dropped when the test ends.
func faultsDatabase(t *testing.T, adminURL, name string) string {
	t.Helper()
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", adminURL)
		if err != nil {
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// openFaultsDB opens dbURL to check, from outside csmarket, what it stored.
func openFaultsDB(t *testing.T, dbURL string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// faultsRedisURL is TEST_REDIS_URL on a database number of the fault tests'
// own, since they cache views of databases that other tests sharing the
// Redis do not have (views are keyed by request, not by store). "" when
// TEST_REDIS_URL is not set.
func faultsRedisURL(t *testing.T) string {
	t.Helper()
	raw := os.Getenv("TEST_REDIS_URL")
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	u.Path = "/13"
	return u.String()
}

// faultsVars are the settings of a serve in a fault test.
func faultsVars(t *testing.T, dbURL string) map[string]string {
	dir := t.TempDir()
	return map[string]string{
		"CSM_ADDR":              "127.0.0.1:0",
		"CSM_DATABASE_URL":      dbURL,
		"CSM_JWT_KEY_FILE":      dir + "/keys.pem",
		"CSM_MIN_TENDER_PERIOD": "0s",
		"CSM_RATE_TOKEN":        "1000000/1m",
		"CSM_RATE_LOGIN":        "1000/1m",
	}
}

func mustSeed(t *testing.T, vars map[string]string) {
	t.Helper()
	if err := run(t.Context(), []string{"seed"}, env(vars), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
}

// demoEmails returns the demo users' e-mails by role, in seed order.
func demoEmails() map[string][]string {
	out := map[string][]string{}
	for _, u := range seed.DemoUsers() {
		out[string(u.Role)] = append(out[string(u.Role)], u.Email)
	}
	return out
}

// faultClient is the clients' HTTP client: every request has a deadline,
// so that a request the server never answers fails the test instead of
// hanging it.
func faultClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		},
	}
}

// answer is one request's outcome as its client saw it.
type answer struct {
	status     int
	header     http.Header
	body       []byte
	err        error
	took       time.Duration
	method     string
	path       string
	retryAfter string
}

func (a answer) String() string {
	if a.err != nil {
		return fmt.Sprintf("%s %s: %v after %v", a.method, a.path, a.err, a.took.Round(time.Millisecond))
	}
	body := a.body
	if len(body) > 300 {
		body = body[:300]
	}
	return fmt.Sprintf("%s %s: %d %s after %v: %s", a.method, a.path, a.status, a.header.Get("Content-Type"), a.took.Round(time.Millisecond), body)
}

// unavailable reports whether a is a well-formed 503: a problem with a
// Retry-After of whole seconds.
func (a answer) unavailable() bool {
	return a.err == nil && a.status == http.StatusServiceUnavailable &&
		a.header.Get("Content-Type") == "application/problem+json" && a.retryAfter != "" && strings.Trim(a.retryAfter, "0123456789") == ""
}

func (a answer) ok() bool { return a.err == nil && a.status >= 200 && a.status < 300 }

// id returns the "id" of a's JSON body.
func (a answer) id() string {
	var v struct {
		ID string `json:"id"`
	}
	json.Unmarshal(a.body, &v)
	return v.ID
}

// send sends one request; body, when not nil, is sent as JSON.
func send(client *http.Client, method, url, token string, body any, header map[string]string) answer {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return answer{err: err, method: method, path: url}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	a := answer{method: method, path: req.URL.Path}
	resp, err := client.Do(req)
	if err != nil {
		a.err, a.took = err, time.Since(start)
		return a
	}
	a.body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	a.took, a.status, a.header, a.err = time.Since(start), resp.StatusCode, resp.Header, err
	a.retryAfter = resp.Header.Get("Retry-After")
	return a
}

// mustSend sends a request that must succeed with want.
func mustSend(t *testing.T, client *http.Client, want int, method, url, token string, body any, header map[string]string) answer {
	t.Helper()
	a := send(client, method, url, token, body, header)
	if a.err != nil || a.status != want {
		t.Fatalf("want %d: %s", want, a)
	}
	return a
}

func faultLogin(t *testing.T, client *http.Client, base, email string) string {
	t.Helper()
	a := mustSend(t, client, 200, http.MethodPost, base+"/api/v1/auth/login", "", map[string]string{"email": email, "password": seed.DemoPassword}, nil)
	var tp struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(a.body, &tp)
	return tp.AccessToken
}

// whoami returns the signed-in user's ID and organisation ID.
func whoami(t *testing.T, client *http.Client, base, token string) (userID, orgID string) {
	t.Helper()
	a := mustSend(t, client, 200, http.MethodGet, base+"/api/v1/me", token, nil, nil)
	var m struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Organisation struct {
			ID string `json:"id"`
		} `json:"organisation"`
	}
	json.Unmarshal(a.body, &m)
	return m.User.ID, m.Organisation.ID
}

// tenderBody is a tender of a price and one quality criterion, "approach".
func tenderBody(title string, clarify, deadline time.Time) map[string]any {
	return map[string]any{
		"title": title, "description": "Commissioning support, asked for by a fault test.",
		"capabilities": []string{"risk_stratification"}, "regions": []string{"midlands"},
		"contract_months": 24, "budget_pence": 50_000_000,
		"clarification_deadline": clarify.UTC().Format(time.RFC3339Nano), "bid_deadline": deadline.UTC().Format(time.RFC3339Nano),
		"criteria": []map[string]any{
			{"key": "price", "name": "Price", "kind": "price", "weight": 40},
			{"key": "approach", "name": "Approach", "kind": "quality", "weight": 60},
		},
	}
}

// publishedTender creates and publishes a tender as buyer and returns its ID.
func publishedTender(t *testing.T, client *http.Client, base, buyer, title string, clarify, deadline time.Time) string {
	t.Helper()
	id := mustSend(t, client, 201, http.MethodPost, base+"/api/v1/tenders", buyer, tenderBody(title, clarify, deadline), nil).id()
	mustSend(t, client, 200, http.MethodPost, base+"/api/v1/tenders/"+id+"/publish", buyer, nil, nil)
	return id
}

func bidBody(price int64, response string) map[string]any {
	return map[string]any{"price_pence": price, "responses": map[string]string{"approach": response}}
}

// steady calls fn at rate per second, each call in a goroutine of its own
// so that a slow answer does not slow the rate, until ctx is done; then it
// waits for the calls still running.
func steady(ctx context.Context, rate int, fn func(i int)) {
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-tick.C:
		}
		wg.Go(func() { fn(i) })
	}
}

// tally counts answers: 2xx, well-formed 503s, and everything else, which
// a fault test fails on.
type tally struct {
	mu      sync.Mutex
	n, ok   int
	n503    int
	bad     []answer
	maxTook time.Duration
	slowest answer
	took    []time.Duration
}

func (t *tally) add(a answer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	t.took = append(t.took, a.took)
	if a.took > t.maxTook {
		t.maxTook, t.slowest = a.took, a
	}
	switch {
	case a.ok():
		t.ok++
	case a.unavailable():
		t.n503++
	default:
		t.bad = append(t.bad, a)
	}
}

// quantile returns the latency that a fraction q of the answers took at
// most.
func (t *tally) quantile(q float64) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.took) == 0 {
		return 0
	}
	s := slices.Clone(t.took)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return fmt.Sprintf("%d requests: %d 2xx, %d 503 (problem+json, Retry-After), %d other; slowest %v (%s %s)",
		t.n, t.ok, t.n503, len(t.bad), t.maxTook.Round(time.Millisecond), t.slowest.method, t.slowest.path)
}

// failBad fails tb with up to ten of the answers that were neither 2xx nor
// a well-formed 503.
func (t *tally) failBad(tb testing.TB, what string) {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.bad) == 0 {
		return
	}
	var b strings.Builder
	for i, a := range t.bad {
		if i == 10 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(t.bad)-10)
			break
		}
		fmt.Fprintf(&b, "\n  %s", a)
	}
	tb.Errorf("%s: %d answers neither 2xx nor 503 problem+json with Retry-After:%s", what, len(t.bad), b.String())
}

// faultProxy forwards TCP connections to a backend, with a latency added to
// every chunk each way, or refuses them while it is down: Redis slow, then
// gone, as the API sees it.
type faultProxy struct {
	addr    string
	backend string
	delay   atomic.Int64 // nanoseconds
	mu      sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]bool
}

func startFaultProxy(t *testing.T, backend string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{addr: ln.Addr().String(), backend: backend, conns: map[net.Conn]bool{}}
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *faultProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", p.backend)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			if p.ln != ln {
				p.mu.Unlock()
				c.Close()
				b.Close()
				return
			}
			p.conns[c], p.conns[b] = true, true
			p.mu.Unlock()
			go p.pipe(b, c)
			go p.pipe(c, b)
		}
	}()
}

// pipe copies src to dst, each chunk delivered the proxy's delay after it
// was read, in order.
func (p *faultProxy) pipe(dst, src net.Conn) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{buf[:n], time.Now().Add(time.Duration(p.delay.Load()))}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}

// setDelay adds d to every chunk from now on.
func (p *faultProxy) setDelay(d time.Duration) { p.delay.Store(int64(d)) }

// down closes every connection and the listener, so that new connections
// are refused.
func (p *faultProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// up listens again on the same address.
func (p *faultProxy) up(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// refused reports whether err is a refused connection.
func refused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// TestFaultHelperProcess is not a test of its own: run with
// CSM_FAULTS_HELPER=serve it is `csmarket serve` in a process that a fault
// test can SIGKILL or SIGTERM, reading its settings from the environment
// and stopping on SIGTERM as main does.
func TestFaultHelperProcess(t *testing.T) {
	if os.Getenv("CSM_FAULTS_HELPER") != "serve" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := run(ctx, []string{"serve"}, os.Getenv, nil, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "csmarket:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// faultProcess is `csmarket serve` in a process of its own.
type faultProcess struct {
	base string
	addr string
	cmd  *exec.Cmd
	logs *logWatcher
	done chan error
}

// startProcess runs serve with vars in a new process of this test binary
// and waits until it listens; it is killed when the test ends.
func startProcess(t *testing.T, vars map[string]string) *faultProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFaultHelperProcess$", "-test.count=1")
	cmd.Env = []string{"CSM_FAULTS_HELPER=serve", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &faultProcess{cmd: cmd, logs: newLogWatcher(), done: make(chan error, 1)}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	select {
	case p.addr = <-p.logs.addr:
		p.base = "http://" + p.addr
	case err := <-p.done:
		p.done <- err
		t.Fatalf("serve process stopped: %v\n%s", err, p.logs.all())
	case <-time.After(60 * time.Second):
		t.Fatalf("serve process did not start:\n%s", p.logs.all())
	}
	return p
}

// kill ends the process at once, as a crash or the OOM killer would.
func (p *faultProcess) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(10 * time.Second):
		t.Fatal("a SIGKILLed process did not end")
	}
}
