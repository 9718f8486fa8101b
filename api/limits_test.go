package api

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/csmarket/csmarket/internal/ratelimit"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

// TestRateLimits runs on the in-process limiter and, with TEST_REDIS_URL,
// on Redis, where two API processes share one budget.
func TestRateLimits(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			limiter := func(t *testing.T) *ratelimit.Limiter {
				if backend == "memory" {
					return ratelimit.New(ratelimit.Options{})
				}
				rdb, prefix := mustRedis(t)
				return ratelimit.New(ratelimit.Options{Redis: rdb, Prefix: prefix, Timeout: time.Second})
			}
			env := func(t *testing.T, adjust ...func(*Config)) *acctEnv {
				l := limiter(t)
				return mustAccountEnv(t, sqlstore.EngineSQLite, append([]func(*Config){func(c *Config) {
					c.Limiter = l
					c.LoginLimit = ratelimit.Limit{Events: 10, Per: time.Minute}
					c.TokenLimit = ratelimit.Limit{Events: 5, Per: time.Minute}
				}}, adjust...)...)
			}
			t.Run("login429PerAccount", func(t *testing.T) { login429PerAccount(t, env(t)) })
			t.Run("login429PerAddress", func(t *testing.T) { login429PerAddress(t, env(t)) })
			t.Run("login429ProxyHeaders", func(t *testing.T) { login429ProxyHeaders(t, env) })
			t.Run("token429", func(t *testing.T) { token429(t, env(t)) })
			t.Run("register429PerAddress", func(t *testing.T) { register429PerAddress(t, env(t)) })
			if backend == "redis" {
				t.Run("login429SharedByProcesses", func(t *testing.T) {
					l := limiter(t)
					share := func(c *Config) { c.Limiter = l }
					login429Shared(t, env(t, share), env(t, share))
				})
			}
		})
	}
}

func (e *acctEnv) attempt(tb testing.TB, email, password, remote string, header ...string) (*http.Response, []byte) {
	tb.Helper()
	r := req{method: http.MethodPost, target: "/api/v1/auth/login", body: loginRequest{Email: email, Password: password}, remote: remote}
	if len(header) == 2 {
		r.header = map[string]string{header[0]: header[1]}
	}
	return e.do(tb, r)
}

func want429(tb testing.TB, res *http.Response, body []byte) {
	tb.Helper()
	want(tb, res, body, http.StatusTooManyRequests)
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		tb.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
	}
}

// login429PerAccount: the 11th attempt in a minute on one account is
// refused, even with the right password and from a new address, while
// another account from another address is unaffected.
func login429PerAccount(t *testing.T, e *acctEnv) {
	a := e.register(t, supplierRegistration("Iota Ltd", "admin@iota.example", identifierRequest{Scheme: "GB-COH", ID: "14141414"}, nil))
	b := e.register(t, supplierRegistration("Kappa Ltd", "admin@kappa.example", identifierRequest{Scheme: "GB-COH", ID: "15151515"}, nil))
	// Registering signed a in: that was its first attempt of the minute.
	for i := 2; i <= 10; i++ {
		res, body := e.attempt(t, a.email, "not the password!", "203.0.113."+strconv.Itoa(i)+":1")
		want(t, res, body, http.StatusUnauthorized)
	}
	res, body := e.attempt(t, strings.ToUpper(a.email), testPassword, "203.0.113.99:1")
	want429(t, res, body)
	res, body = e.attempt(t, b.email, testPassword, "203.0.113.100:1")
	want(t, res, body, http.StatusOK)
}

// login429PerAddress: one address spraying many accounts is stopped at
// its 11th attempt; another address is not.
func login429PerAddress(t *testing.T, e *acctEnv) {
	a := e.register(t, supplierRegistration("Lambda Ltd", "admin@lambda.example", identifierRequest{Scheme: "GB-COH", ID: "16161616"}, nil))
	const sprayer = "203.0.113.7:5555"
	for i := 1; i <= 10; i++ {
		res, body := e.attempt(t, "guess"+strconv.Itoa(i)+"@lambda.example", testPassword, sprayer)
		want(t, res, body, http.StatusUnauthorized)
	}
	res, body := e.attempt(t, a.email, testPassword, "203.0.113.7:6666") // same address, other port
	want429(t, res, body)
	res, body = e.attempt(t, a.email, testPassword, "[2001:db8::1]:443")
	want(t, res, body, http.StatusOK)
}

// login429ProxyHeaders: X-Forwarded-For is believed only from a trusted
// proxy, so a client cannot dodge the per-address limit by sending it.
func login429ProxyHeaders(t *testing.T, env func(*testing.T, ...func(*Config)) *acctEnv) {
	t.Run("Untrusted", func(t *testing.T) {
		e := env(t)
		for i := 1; i <= 10; i++ {
			res, body := e.attempt(t, "x"+strconv.Itoa(i)+"@mu.example", testPassword, "203.0.113.8:1", "X-Forwarded-For", "198.51.100."+strconv.Itoa(i))
			want(t, res, body, http.StatusUnauthorized)
		}
		res, body := e.attempt(t, "y@mu.example", testPassword, "203.0.113.8:1", "X-Forwarded-For", "198.51.100.200")
		want429(t, res, body)
	})
	t.Run("Trusted", func(t *testing.T) {
		e := env(t, func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8"} })
		for i := 1; i <= 12; i++ {
			res, body := e.attempt(t, "x"+strconv.Itoa(i)+"@nu.example", testPassword, "10.1.2.3:1", "X-Forwarded-For", "198.51.100."+strconv.Itoa(i))
			want(t, res, body, http.StatusUnauthorized)
		}
	})
	if err := CheckTrustedProxies([]string{"10.0.0.0/8", "192.0.2.1"}); err != nil {
		t.Errorf("CheckTrustedProxies: %v", err)
	}
	if err := CheckTrustedProxies([]string{"not-an-address"}); err == nil {
		t.Error("CheckTrustedProxies accepts not-an-address")
	}
}

// token429: a signed-in user's 6th request in a minute, at 5 a minute, is
// refused; another user's are not.
func token429(t *testing.T, e *acctEnv) {
	a := e.register(t, supplierRegistration("Xi Ltd", "admin@xi.example", identifierRequest{Scheme: "GB-COH", ID: "17171717"}, nil))
	b := e.register(t, supplierRegistration("Omicron Ltd", "admin@omicron.example", identifierRequest{Scheme: "GB-COH", ID: "18181818"}, nil))
	me := func(a actor) (*http.Response, []byte) {
		return e.do(t, req{method: http.MethodGet, target: "/api/v1/me", token: a.access})
	}
	for i := 1; i <= 5; i++ {
		res, body := me(a)
		want(t, res, body, http.StatusOK)
	}
	res, body := me(a)
	want429(t, res, body)
	// A second session of the same user shares the user's budget.
	again := e.login(t, a.email)
	res, body = me(again)
	want429(t, res, body)
	res, body = me(b)
	want(t, res, body, http.StatusOK)
	// Public reads do not count against it.
	res, body = e.do(t, req{method: http.MethodGet, target: "/api/v1/regions", token: a.access})
	want(t, res, body, http.StatusOK)
}

// login429Shared: two API processes on one Redis share the budget.
func login429Shared(t *testing.T, p1, p2 *acctEnv) {
	for i := 1; i <= 10; i++ {
		p := p1
		if i%2 == 0 {
			p = p2
		}
		res, body := p.attempt(t, "shared@pi.example", "wrong", "203.0.113."+strconv.Itoa(i)+":1")
		want(t, res, body, http.StatusUnauthorized)
	}
	res, body := p2.attempt(t, "shared@pi.example", "wrong", "203.0.113.50:1")
	want429(t, res, body)
}

// TestCORS: only the configured origins, exactly, may read responses
// from a browser, without credentials.
func TestCORS(t *testing.T) {
	const app = "https://app.example.org"
	e := mustAccountEnv(t, sqlstore.EngineSQLite, func(c *Config) { c.CORSOrigins = []string{app, "http://localhost:5173"} })
	w := e.mustWorld(t)
	get := func(t *testing.T, target, origin, token string) *http.Response {
		t.Helper()
		res, _ := e.do(t, req{method: http.MethodGet, target: target, token: token, header: map[string]string{"Origin": origin}})
		return res
	}
	for _, tt := range []struct {
		name, origin string
		allowed      bool
	}{
		{"Allowed", app, true},
		{"AllowedLocal", "http://localhost:5173", true},
		{"Other", "https://evil.example", false},
		{"Suffix", app + ".evil.example", false},
		{"OtherScheme", "http://app.example.org", false},
		{"OtherPort", app + ":8443", false},
		{"Null", "null", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, target := range []string{"/api/v1/regions", "/api/v1/me"} {
				res := get(t, target, tt.origin, w.supA.access)
				acao := res.Header.Get("Access-Control-Allow-Origin")
				if tt.allowed && (acao != tt.origin || !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "ETag")) {
					t.Errorf("%s: Allow-Origin %q, Expose %q", target, acao, res.Header.Get("Access-Control-Expose-Headers"))
				}
				if !tt.allowed && (acao != "" || res.Header.Get("Access-Control-Expose-Headers") != "") {
					t.Errorf("%s: CORS headers for %s: %v", target, tt.origin, res.Header)
				}
				if !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Origin") {
					t.Errorf("%s: no Vary: Origin", target)
				}
			}
		})
	}
	t.Run("ErrorsReadable", func(t *testing.T) {
		if res := get(t, "/api/v1/me", app, ""); res.StatusCode != http.StatusUnauthorized || res.Header.Get("Access-Control-Allow-Origin") != app {
			t.Errorf("401 %d without Allow-Origin: %v", res.StatusCode, res.Header)
		}
	})
	preflight := func(t *testing.T, origin string) (*http.Response, []byte) {
		t.Helper()
		return e.do(t, req{method: http.MethodOptions, target: "/api/v1/providers/" + w.supA.orgID, header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization, content-type, if-match",
		}})
	}
	t.Run("Preflight", func(t *testing.T) {
		res, body := preflight(t, app)
		want(t, res, body, http.StatusNoContent)
		h := res.Header
		if h.Get("Access-Control-Allow-Origin") != app || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "PUT") {
			t.Errorf("preflight: %v", h)
		}
		for _, name := range []string{"Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key", "X-Request-ID"} {
			if !strings.Contains(h.Get("Access-Control-Allow-Headers"), name) {
				t.Errorf("Allow-Headers %q lacks %s", h.Get("Access-Control-Allow-Headers"), name)
			}
		}
	})
	t.Run("PreflightRefused", func(t *testing.T) {
		res, body := preflight(t, "https://evil.example")
		if res.StatusCode == http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("preflight from another origin: %d %v %s", res.StatusCode, res.Header, body)
		}
	})
	t.Run("NotConfigured", func(t *testing.T) {
		plain := mustAccountEnv(t, sqlstore.EngineSQLite)
		res, _ := do(t, plain.s.engine, req{method: http.MethodGet, target: "/api/v1/regions", header: map[string]string{"Origin": app}})
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("CORS without configured origins: %v", res.Header)
		}
	})
}

// TestJWKS: the published keys verify a token the server issued.
func TestJWKS(t *testing.T) {
	e := mustAccountEnv(t, sqlstore.EngineSQLite)
	a := e.register(t, supplierRegistration("Rho Ltd", "admin@rho.example", identifierRequest{Scheme: "GB-COH", ID: "19191919"}, nil))
	res, body := e.do(t, req{method: http.MethodGet, target: "/.well-known/jwks.json"})
	want(t, res, body, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "application/jwk-set+json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") || strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q", cc)
	}
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid, Alg, Use string }
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	keys := map[string]ed25519.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" || k.Use != "sig" {
			t.Errorf("key %+v", k)
		}
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			t.Fatalf("key %s: x %q", k.Kid, k.X)
		}
		keys[k.Kid] = x
	}
	tok, err := jwt.Parse(a.access, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		return nil, jwt.ErrTokenUnverifiable
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer(testIssuer), jwt.WithAudience(testAudience),
		jwt.WithTimeFunc(e.clock.Now))
	if err != nil {
		t.Fatalf("the JWKS does not verify the server's token: %v", err)
	}
	if sub, _ := tok.Claims.GetSubject(); sub != a.userID {
		t.Errorf("sub %q, want %q", sub, a.userID)
	}
	res2, body2 := e.do(t, req{method: http.MethodGet, target: "/.well-known/jwks.json", header: map[string]string{"If-None-Match": res.Header.Get("ETag")}})
	if res2.StatusCode != http.StatusNotModified || len(body2) != 0 {
		t.Errorf("revalidation: %d %q", res2.StatusCode, body2)
	}
}

// TestNoAccounts: without Accounts the account routes are not there, as
// in a read-only directory. The contract describes the full API, so these
// answers are checked as problems only.
func TestNoAccounts(t *testing.T) {
	e := mustEnv(t, sqlstore.EngineSQLite)
	for _, r := range []*http.Request{
		newRequest(http.MethodGet, "/api/v1/me"),
		newRequest(http.MethodPost, "/api/v1/auth/login"),
		newRequest(http.MethodGet, "/.well-known/jwks.json"),
	} {
		rec := httptest.NewRecorder()
		e.s.engine.ServeHTTP(rec, r)
		what := r.Method + " " + r.URL.Path
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", what, rec.Code)
		}
		checkProblemBody(t, what, rec.Result(), rec.Body.Bytes())
	}
}

// register429PerAddress: one address cannot register an eleventh
// organisation within the minute (each costs a password hash), while
// another address can.
func register429PerAddress(t *testing.T, e *acctEnv) {
	reg := func(i int, remote string) (*http.Response, []byte) {
		r := supplierRegistration("Mass Signup "+strconv.Itoa(i), "admin"+strconv.Itoa(i)+"@mass.example",
			identifierRequest{Scheme: "GB-COH", ID: strconv.Itoa(30000000 + i)}, nil)
		return e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/register", body: r, remote: remote})
	}
	for i := 1; i <= 10; i++ {
		res, body := reg(i, "198.51.100.7:1")
		want(t, res, body, http.StatusCreated)
	}
	res, body := reg(11, "198.51.100.7:1")
	want429(t, res, body)
	res, body = reg(12, "198.51.100.8:1")
	want(t, res, body, http.StatusCreated)
}
