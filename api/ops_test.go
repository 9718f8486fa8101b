package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

func TestOperations(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Run("health200", func(t *testing.T) { health200(t, mustEnv(t, engine)) })
			t.Run("ready503", func(t *testing.T) { ready503(t, engine) })
			t.Run("metrics200", func(t *testing.T) { metrics200(t, mustEnv(t, engine)) })
			t.Run("requestID", func(t *testing.T) { requestIDs(t, mustEnv(t, engine)) })
			t.Run("route404", func(t *testing.T) { route404(t, mustEnv(t, engine)) })
			t.Run("method405", func(t *testing.T) { method405(t, mustEnv(t, engine)) })
			t.Run("body413", func(t *testing.T) { body413(t, engine) })
			t.Run("panic500", func(t *testing.T) { panic500(t, mustEnv(t, engine)) })
		})
	}
}

func health200(t *testing.T, e *env) {
	for _, target := range []string{"/healthz", "/readyz"} {
		res, body := e.get(t, target)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", target, res.StatusCode, body)
		}
	}
	res, body := e.get(t, "/openapi.yaml")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/yaml" || !bytes.Equal(body, spec) {
		t.Errorf("/openapi.yaml: %d %s, %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(body))
	}
}

func ready503(t *testing.T, engine string) {
	e := mustEnv(t, engine, func(c *Config) {
		c.Ready = func(context.Context) error { return errors.New("dial tcp 10.0.0.1:5432: connection refused") }
	})
	res, body := e.get(t, "/readyz")
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if strings.Contains(string(body), "10.0.0.1") {
		t.Errorf("problem leaks the cause: %s", body)
	}
	if p := mustDecode[problem](t, body); p.Code != market.EUNAVAILABLE {
		t.Errorf("code %q", p.Code)
	}
	logged := e.logs.lines(t, res.Header.Get("X-Request-ID"))
	if !strings.Contains(fmt.Sprint(logged), "connection refused") {
		t.Errorf("the cause is not logged: %v", logged)
	}
	res, _ = e.get(t, "/healthz")
	if res.StatusCode != http.StatusOK {
		t.Errorf("/healthz while unready: %d", res.StatusCode)
	}
}

func metrics200(t *testing.T, e *env) {
	hits := func() float64 {
		t.Helper()
		res, body := e.get(t, "/metrics")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("/metrics: %d", res.StatusCode)
		}
		return metricSum(t, body, "csm_cache_requests_total", `result="hit"`)
	}
	before := hits()
	e.get(t, "/api/v1/providers?region=london")
	e.get(t, "/api/v1/providers?region=london")
	if got := hits() - before; got != 1 {
		t.Errorf("a repeated request counted %v cache hits, want 1", got)
	}

	e.get(t, "/api/v1/providers/0190f0e6-0000-7000-8000-000000000000")
	e.get(t, "/no/such/path.txt")
	_, body := e.get(t, "/metrics")
	for _, series := range []string{
		`csm_http_requests_total{method="GET",route="/api/v1/providers",status="200"}`,
		`csm_http_requests_total{method="GET",route="/api/v1/providers/:id",status="404"}`,
		`csm_http_requests_total{method="GET",route="unmatched",status="404"}`,
		`csm_http_request_duration_seconds_count{method="GET",route="/api/v1/providers"}`,
	} {
		if !bytes.Contains(body, []byte(series)) {
			t.Errorf("/metrics has no %s", series)
		}
	}
	if bytes.Contains(body, []byte("/no/such/path")) {
		t.Errorf("/metrics labels a series with a raw path")
	}
}

// metricSum adds up the samples of the named metric whose labels contain
// label, in Prometheus text format.
func metricSum(tb testing.TB, body []byte, name, label string) float64 {
	tb.Helper()
	var sum float64
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") || !strings.Contains(line, label) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			tb.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

func requestIDs(t *testing.T, e *env) {
	tests := []struct {
		name, sent string
		echoed     bool
	}{
		{"None", "", false},
		{"Safe", "req-42_a.b:c", true},
		{"TooLong", strings.Repeat("a", 65), false},
		{"Unsafe", "id with spaces", false},
		{"Injection", `x","level":"ERROR`, false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.sent != "" {
				hdr = []string{"X-Request-ID", tt.sent}
			}
			res, _ := e.get(t, "/api/v1/providers?sector=council", hdr...)
			id := res.Header.Get("X-Request-ID")
			if tt.echoed && id != tt.sent || !tt.echoed && (id == tt.sent || !safeRequestID(id)) {
				t.Fatalf("sent %q, got %q", tt.sent, id)
			}
			if seen[id] {
				t.Errorf("request ID %q given twice", id)
			}
			seen[id] = true
			lines := e.logs.lines(t, id)
			var access map[string]any
			for _, l := range lines {
				if l["request_id"] != id {
					t.Errorf("log line without the request's ID: %v", l)
				}
				if l["msg"] == "request" {
					access = l
				}
			}
			if access == nil {
				t.Fatalf("no access line for %s in %v", id, lines)
			}
			if access["method"] != "GET" || access["route"] != "/api/v1/providers" || access["status"] != 400.0 ||
				access["bytes"].(float64) <= 0 || access["duration_us"] == nil {
				t.Errorf("access line %v", access)
			}
		})
	}
	t.Run("StoreLine", func(t *testing.T) {
		res, _ := e.get(t, "/api/v1/providers?size=micro")
		id := res.Header.Get("X-Request-ID")
		var found bool
		for _, l := range e.logs.lines(t, id) {
			found = found || l["msg"] == "store: list providers" && l["request_id"] == id
		}
		if !found {
			t.Errorf("the store's line during request %s does not carry its ID", id)
		}
	})
}

func route404(t *testing.T, e *env) {
	for _, target := range []string{"/api/v1/nope", "/api", "/nope.json", "/healthz/", "/metrics/x", "/%00", "/%ff"} {
		t.Run(target, func(t *testing.T) {
			res, body := e.get(t, target)
			if res.StatusCode != http.StatusNotFound {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
		})
	}
}

func method405(t *testing.T, e *env) {
	for _, tt := range []struct{ method, target string }{
		{http.MethodPost, "/api/v1/providers"},
		{http.MethodDelete, "/api/v1/providers/0190f0e6-0000-7000-8000-000000000000"},
		{http.MethodDelete, "/healthz"},
		{"BREW", "/api/v1/regions"},
	} {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			res, body := serve(t, e.s.engine, httptest.NewRequest(tt.method, tt.target, nil))
			if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
				t.Fatalf("status %d, Allow %q: %s", res.StatusCode, res.Header.Get("Allow"), body)
			}
		})
	}
}

func body413(t *testing.T, engine string) {
	const limit = 1024
	e := mustEnv(t, engine, func(c *Config) { c.MaxBodyBytes = limit })
	// echo stands for the update routes to come: it decodes a JSON body
	// the way they will.
	e.s.engine.POST("/test/echo", func(c *gin.Context) {
		var v struct {
			Summary string `json:"summary"`
		}
		if err := e.s.decodeJSON(c, &v); err != nil {
			e.s.fail(c, err)
			return
		}
		writeUncached(c, jsonContentType, []byte(strconv.Quote(v.Summary)))
	})
	big := `{"summary":"` + strings.Repeat("x", limit) + `"}`
	tests := []struct {
		name, method, target, body string
		chunked                    bool
		want                       int
	}{
		{"DeclaredTooLarge", http.MethodPost, "/test/echo", big, false, http.StatusRequestEntityTooLarge},
		{"ChunkedTooLarge", http.MethodPost, "/test/echo", big, true, http.StatusRequestEntityTooLarge},
		{"UnknownRoute", http.MethodPost, "/api/v1/nope", big, false, http.StatusRequestEntityTooLarge},
		{"KnownRouteOtherMethod", http.MethodDelete, "/api/v1/providers/x", big, true, http.StatusMethodNotAllowed},
		{"WithinLimit", http.MethodPost, "/test/echo", `{"summary":"ok"}`, true, http.StatusOK},
		{"UnknownField", http.MethodPost, "/test/echo", `{"summry":"ok"}`, false, http.StatusBadRequest},
		{"Trailing", http.MethodPost, "/test/echo", `{"summary":"ok"} {}`, false, http.StatusBadRequest},
		{"NotJSON", http.MethodPost, "/test/echo", `summary=ok`, false, http.StatusBadRequest},
		{"Empty", http.MethodPost, "/test/echo", ``, false, http.StatusBadRequest},
		{"NotJSONContentType", http.MethodPost, "/test/echo", `{"summary":"ok"}`, false, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.name == "NotJSONContentType" {
				req.Header.Set("Content-Type", "text/plain")
			}
			if tt.chunked {
				req.ContentLength = -1
			}
			res, body := serve(t, e.s.engine, req)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.want, body)
			}
			if tt.want == http.StatusBadRequest {
				want := "body"
				switch tt.name {
				case "UnknownField":
					want = "summry"
				case "NotJSONContentType":
					want = "Content-Type"
				}
				if p := mustDecode[problem](t, body); len(p.Errors) != 1 || p.Errors[0].Field != want {
					t.Errorf("errors %v, want one naming %q", p.Errors, want)
				}
			}
		})
	}
}

func panic500(t *testing.T, e *env) {
	e.s.engine.GET("/test/panic", func(c *gin.Context) { panic("secret stack detail") })
	res, body := e.get(t, "/test/panic")
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	p := mustDecode[problem](t, body)
	if p.Detail != internalMessage || strings.Contains(string(body), "secret") {
		t.Errorf("problem %s", body)
	}
	var logged bool
	for _, l := range e.logs.lines(t, p.RequestID) {
		if l["msg"] == "panic recovered" && strings.Contains(fmt.Sprint(l["stack"]), "panic500") && l["panic"] == "secret stack detail" {
			logged = true
		}
	}
	if !logged {
		t.Errorf("the panic is not logged with its stack")
	}
	res, _ = e.get(t, "/healthz")
	if res.StatusCode != http.StatusOK {
		t.Errorf("after a panic /healthz gives %d", res.StatusCode)
	}
}

func TestFrontend(t *testing.T) {
	app := fstest.MapFS{
		"index.html":    {Data: []byte("<!doctype html><title>app</title>")},
		"assets/app.js": {Data: []byte("console.log(1)")},
	}
	tests := []struct {
		name     string
		frontend fstestFS
		target   string
		want     int
		contains string
	}{
		{"Index", app, "/", http.StatusOK, "<title>app</title>"},
		{"Asset", app, "/assets/app.js", http.StatusOK, "console.log"},
		{"ClientRoute", app, "/providers/123", http.StatusOK, "<title>app</title>"},
		{"MissingAsset", app, "/assets/gone.js", http.StatusNotFound, "not_found"},
		{"APIPath", app, "/api/v1/nope", http.StatusNotFound, "not_found"},
		{"NotBuilt", nil, "/", http.StatusOK, "not built"},
		{"NotBuiltClientRoute", nil, "/providers", http.StatusOK, "not built"},
		{"EmptyFS", fstest.MapFS{}, "/", http.StatusOK, "not built"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{}
			if tt.frontend != nil {
				cfg.Frontend = tt.frontend
			}
			s := newServer(cfg)
			res, body := serve(t, s.engine, httptest.NewRequest(http.MethodGet, tt.target, nil))
			if res.StatusCode != tt.want || !strings.Contains(string(body), tt.contains) {
				t.Fatalf("status %d, want %d; body %.200s", res.StatusCode, tt.want, body)
			}
			if tt.want == http.StatusOK && !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") {
				t.Errorf("CSP %q", res.Header.Get("Content-Security-Policy"))
			}
			if tt.want == http.StatusOK {
				// What protects a page a person browses.
				for name, v := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
					"Strict-Transport-Security": "max-age=63072000; includeSubDomains"} {
					if got := res.Header.Get(name); got != v {
						t.Errorf("%s: %s %q, want %q", tt.target, name, got, v)
					}
				}
			}
		})
	}
}

type fstestFS = fstest.MapFS

// TestContractCheckerFails makes sure the response checker that every
// other test relies on does reject what the contract does not allow.
func TestContractCheckerFails(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
	}{
		{"UnknownRegionKey", `{"items":[{"key":"atlantis","name":"Atlantis","code":"Y00"}]}`, http.StatusOK},
		{"MissingField", `{"items":[{"key":"london","name":"London"}]}`, http.StatusOK},
		{"UndeclaredStatus", `{"items":[]}`, http.StatusAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := newEngine()
			bad.GET("/api/v1/regions", func(c *gin.Context) {
				h := c.Writer.Header()
				for _, k := range []string{"X-Request-Id", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy", "Cache-Control"} {
					h.Set(k, "x")
				}
				h.Set("ETag", `"1"`)
				c.Data(tt.status, "application/json", []byte(tt.body))
			})
			rec := &recordingTB{TB: t}
			serve(rec, bad, httptest.NewRequest(http.MethodGet, "/api/v1/regions", nil))
			if len(rec.errors) == 0 {
				t.Fatal("the contract check passed it")
			}
		})
	}
}

type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

// TestReadyDegraded: a replica whose cache is unreachable stays in the load
// balancer's pool, saying it is degraded; it serves from the store.
func TestReadyDegraded(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustEnv(t, engine, func(c *Config) {
				c.Degraded = func(context.Context) error { return errors.New("redis: connection refused") }
			})
			res, body := e.get(t, "/readyz")
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"degraded"`) {
				t.Fatalf("/readyz with the cache down: %d %s", res.StatusCode, body)
			}
		})
	}
}
