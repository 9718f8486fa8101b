package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// env returns a getenv that sees only vars, as a fresh shell would.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigInvalid(t *testing.T) {
	cases := map[string]map[string]string{
		"CSM_ADDR":                {"CSM_ADDR": "8080"},
		"CSM_DATABASE_URL":        {"CSM_DATABASE_URL": "mysql://x"},
		"CSM_REDIS_URL":           {"CSM_REDIS_URL": "localhost:6379"},
		"CSM_LOG_LEVEL":           {"CSM_LOG_LEVEL": "loud"},
		"CSM_CACHE_TTL":           {"CSM_CACHE_TTL": "soon"},
		"CSM_MAX_BODY_BYTES":      {"CSM_MAX_BODY_BYTES": "-1"},
		"CSM_SHUTDOWN_TIMEOUT":    {"CSM_SHUTDOWN_TIMEOUT": "1 minute"},
		"CSM_CORS_ORIGINS":        {"CSM_CORS_ORIGINS": "*"},
		"CSM_RATE_LOGIN":          {"CSM_RATE_LOGIN": "ten a minute"},
		"CSM_RATE_TOKEN":          {"CSM_RATE_TOKEN": "0/0s"},
		"CSM_TRUSTED_PROXIES":     {"CSM_TRUSTED_PROXIES": "the load balancer"},
		"CSM_BUYER_EMAIL_DOMAINS": {"CSM_BUYER_EMAIL_DOMAINS": "@nhs"},
		"CSM_MIN_TENDER_PERIOD":   {"CSM_MIN_TENDER_PERIOD": "-1h"},
		"CSM_STANDSTILL":          {"CSM_STANDSTILL": "ten days"},
		"CSM_OCID_PREFIX":         {"CSM_OCID_PREFIX": "OCDS prefix!"},
		"CSM_PUBLIC_URL":          {"CSM_PUBLIC_URL": "localhost"},
		"CSM_LEVY_BASIS_POINTS":   {"CSM_LEVY_BASIS_POINTS": "10001"},
		"CSM_LEVY_CAP_PENCE":      {"CSM_LEVY_CAP_PENCE": "-5"},
		"CSM_LEVY_WAIVED_SECTORS": {"CSM_LEVY_WAIVED_SECTORS": "nhs,charity"},
		"CSM_LEVY_DAYS_DUE":       {"CSM_LEVY_DAYS_DUE": "0"},
		"CSM_STRIPE_API_BASE":     {"CSM_STRIPE_API_BASE": "stripe.local"},
		"CSM_STRIPE_TIMEOUT":      {"CSM_STRIPE_TIMEOUT": "forever"},
	}
	for name, vars := range cases {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"serve"}, env(vars), nil, &stdout, &stderr)
			if err == nil {
				t.Fatal("serve started with invalid configuration")
			}
			msg := err.Error()
			if !strings.Contains(msg, name) || strings.Contains(msg, "\n") {
				t.Fatalf("want one line naming %s, got %q", name, msg)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DatabaseURL != "sqlite:data/csmarket.db" || c.RedisURL != "" {
		t.Fatalf("embedded defaults changed: %+v", c)
	}
}

func TestHelp(t *testing.T) {
	for _, cmd := range []string{"serve", "migrate", "seed"} {
		t.Run(cmd, func(t *testing.T) {
			var stdout bytes.Buffer
			err := run(context.Background(), []string{cmd, "--help"}, env(nil), nil, &stdout, io.Discard)
			if err != nil && !strings.Contains(err.Error(), "help") {
				t.Fatalf("--help: %v", err)
			}
			for _, want := range []string{"Usage: csmarket " + cmd, "CSM_DATABASE_URL", "CSM_REDIS_URL"} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("%s --help lacks %q:\n%s", cmd, want, stdout.String())
				}
			}
		})
	}
	t.Run("UnknownCommand", func(t *testing.T) {
		var stderr bytes.Buffer
		if err := run(context.Background(), []string{"frobnicate"}, env(nil), nil, io.Discard, &stderr); !errors.Is(err, errUsage) {
			t.Fatalf("want usage error, got %v", err)
		}
		if !strings.Contains(stderr.String(), "serve") {
			t.Fatalf("usage not printed: %s", stderr.String())
		}
	})
}

// logWatcher collects the server's JSON log lines and reports the address
// from its "listening" line.
type logWatcher struct {
	mu    sync.Mutex
	lines []string
	addr  chan string
	pw    *io.PipeWriter
}

func newLogWatcher() *logWatcher {
	pr, pw := io.Pipe()
	w := &logWatcher{addr: make(chan string, 1), pw: pw}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			w.mu.Lock()
			w.lines = append(w.lines, line)
			w.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				w.addr <- rec.Addr
			}
		}
	}()
	return w
}

func (w *logWatcher) Write(p []byte) (int, error) { return w.pw.Write(p) }

func (w *logWatcher) all() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// TestServeEndToEnd runs csmarket as a user would: seed, then serve on a free
// port; browse the directory; stop it as SIGTERM would.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{
		"CSM_ADDR":         "127.0.0.1:0",
		"CSM_DATABASE_URL": "sqlite:" + filepath.Join(dir, "e2e.db"),
		"CSM_JWT_KEY_FILE": filepath.Join(dir, "keys.pem"),
	}
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		vars["CSM_REDIS_URL"] = u
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"seed"}, env(vars), nil, &out, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if !strings.Contains(out.String(), "loaded the demo") {
		t.Fatalf("seed said %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"seed"}, env(vars), nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "already present") {
		t.Fatalf("second seed: %v %q", err, out.String())
	}

	srv := startServer(t, vars)
	base, logs := srv.base, srv.logs

	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	if resp, _ := get("/readyz"); resp.StatusCode != 200 {
		t.Fatalf("/readyz: %d", resp.StatusCode)
	}
	resp, body := get("/api/v1/providers?sector=third_sector&page_size=100")
	if resp.StatusCode != 200 {
		t.Fatalf("providers: %d %s", resp.StatusCode, body)
	}
	var page struct {
		Items []struct{ Name, Sector string } `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) < 10 {
		t.Fatalf("want the demo's third-sector providers, got %d", len(page.Items))
	}
	for _, p := range page.Items {
		if p.Sector != "third_sector" {
			t.Errorf("%s is %s, listed under third_sector", p.Name, p.Sector)
		}
	}
	resp, body = get("/api/v1/providers?sector=charity")
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(body), `"sector"`) {
		t.Fatalf("bad sector: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp, _ := get("/"); resp.StatusCode != 200 {
		t.Fatalf("/: %d", resp.StatusCode)
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// Access lines are written in batches; stopping writes the rest.
	var access int
	for _, l := range strings.Split(logs.all(), "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			access++
			if !strings.Contains(l, `"request_id"`) {
				t.Errorf("an access line carries no request_id: %s", l)
			}
		}
	}
	if access < 4 {
		t.Errorf("%d access lines after stopping, want one per request (at least 4):\n%s", access, logs.all())
	}
	if !strings.Contains(logs.all(), `"stopped"`) {
		t.Errorf("no graceful stop logged:\n%s", logs.all())
	}
}
