package api

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/ratelimit"
	"github.com/csmarket/csmarket/internal/sqlstore"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// TestUpdateListing: a supplier edits its own listing under If-Match, and
// the public profile and directory show the edit at once.
func TestUpdateListing(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustAccountEnv(t, engine)
			w := e.mustWorld(t)
			t.Run("update428", func(t *testing.T) { update428(t, e, w) })
			t.Run("update412", func(t *testing.T) { update412(t, e, w) })
			t.Run("update400", func(t *testing.T) { update400(t, e, w) })
			t.Run("update200Visible", func(t *testing.T) { update200Visible(t, e, w) })
			t.Run("update404", func(t *testing.T) {
				res, body := e.do(t, req{method: http.MethodPut, target: "/api/v1/providers/%00", token: w.supA.access, body: validListing("x")})
				want(t, res, body, http.StatusNotFound)
			})
		})
	}
}

func (e *acctEnv) put(tb testing.TB, a actor, body any, ifMatch ...string) (*http.Response, []byte) {
	tb.Helper()
	r := req{method: http.MethodPut, target: "/api/v1/providers/" + a.orgID, token: a.access, body: body}
	if len(ifMatch) > 0 {
		r.header = map[string]string{"If-Match": ifMatch[0]}
	}
	return e.do(tb, r)
}

func update428(t *testing.T, e *acctEnv, w *world) {
	res, body := e.put(t, w.supA, validListing("Without If-Match."))
	want(t, res, body, http.StatusPreconditionRequired)
	if p := mustDecode[problem](t, body); p.Code != "precondition_required" {
		t.Errorf("code %q", p.Code)
	}
}

func update412(t *testing.T, e *acctEnv, w *world) {
	etag := e.etagOf(t, w.supA.orgID)
	for _, tt := range []struct{ name, ifMatch string }{
		{"Other", `"0123456789abcdef01234567"`},
		{"Weak", "W/" + etag},
		{"Unquoted", strings.Trim(etag, `"`)},
		{"OthersETag", e.etagOf(t, w.supB.orgID)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.put(t, w.supA, validListing("Stale."), tt.ifMatch)
			want(t, res, body, http.StatusPreconditionFailed)
		})
	}
	if got := e.etagOf(t, w.supA.orgID); got != etag {
		t.Errorf("refused updates moved the ETag: %s -> %s", etag, got)
	}
}

func update400(t *testing.T, e *acctEnv, w *world) {
	etag := e.etagOf(t, w.supA.orgID)
	for _, tt := range []struct {
		name   string
		body   string
		fields []string
	}{
		{"Empty", ``, []string{"body"}},
		{"NoSummary", `{"summary":"","capabilities":["finance"],"regions":["london"],"size":"small"}`, []string{"summary"}},
		{"RateNotANumber", `{"summary":"x","capabilities":["finance"],"regions":["london"],"size":"small","day_rate_min_pence":"lots"}`, []string{"day_rate_min_pence"}},
		{"RatesInverted", `{"summary":"x","capabilities":["finance"],"regions":["london"],"size":"small","day_rate_min_pence":900,"day_rate_max_pence":100}`, []string{"day_rate_max_pence"}},
		{"ProviderFieldsNotListing", `{"summary":"x","capabilities":["finance"],"regions":["london"],"size":"small","name":"Renamed"}`, []string{"name"}},
		{"UnknownCaseStudyField", `{"summary":"x","capabilities":["finance"],"regions":["london"],"size":"small","case_studies":[{"title":"t","year":2020}]}`, []string{"case_studies[0].year"}},
		{"BadWebsite", `{"summary":"x","capabilities":["finance"],"regions":["london"],"size":"small","contact":{"website":"javascript:alert(1)"}}`, []string{"contact.website"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.put(t, w.supA, tt.body, etag)
			want(t, res, body, http.StatusBadRequest)
			if got := fieldsOf(t, body); strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("errors name %q, want %q", got, tt.fields)
			}
		})
	}
}

// update200Visible edits through one API handler and reads through
// another sharing the store: with TEST_REDIS_URL set, each has its own
// cache on one Redis, as two API processes do; without, they share the
// process's cache.
func update200Visible(t *testing.T, e *acctEnv, w *world) {
	second := e.secondHandler(t)
	id := w.supA.orgID
	profile, list := "/api/v1/providers/"+id, "/api/v1/providers?capability=business_intelligence"
	var before [2]string
	for i, h := range []http.Handler{e.s.engine, second} {
		res, body := do(t, h, req{method: http.MethodGet, target: profile})
		want(t, res, body, http.StatusOK)
		before[i] = res.Header.Get("ETag")
		do(t, h, req{method: http.MethodGet, target: list})
	}
	if before[0] != before[1] {
		t.Fatalf("two handlers give ETags %s and %s for one provider", before[0], before[1])
	}

	edit := validListing("Alpha, edited: population health management.")
	res, body := e.put(t, w.supA, edit, before[0])
	want(t, res, body, http.StatusOK)
	put := mustDecode[providerResponse](t, body)
	newETag := res.Header.Get("ETag")
	if put.Summary != edit.Summary || put.Version != 2 || newETag == "" || newETag == before[0] || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("PUT: ETag %s, Cache-Control %q, %s", newETag, res.Header.Get("Cache-Control"), body)
	}

	for name, h := range map[string]http.Handler{"Same": e.s.engine, "Second": second} {
		t.Run(name, func(t *testing.T) {
			res, body := do(t, h, req{method: http.MethodGet, target: profile, header: map[string]string{"If-None-Match": before[0]}})
			want(t, res, body, http.StatusOK)
			if res.Header.Get("ETag") != newETag || mustDecode[providerResponse](t, body).Summary != edit.Summary {
				t.Errorf("profile: ETag %s (PUT gave %s): %.300s", res.Header.Get("ETag"), newETag, body)
			}
			res, body = do(t, h, req{method: http.MethodGet, target: list})
			want(t, res, body, http.StatusOK)
			if !strings.Contains(string(body), edit.Summary) {
				t.Errorf("directory does not show the edit: %.300s", body)
			}
		})
	}

	res, body = e.put(t, w.supA, validListing("With the old ETag."), before[0])
	want(t, res, body, http.StatusPreconditionFailed)
	res, body = e.put(t, w.supA, validListing("Alpha, with any version."), "*")
	want(t, res, body, http.StatusOK)
	res, body = e.put(t, w.supA2, validListing("Alpha, by its second user."), `"stale", `+res.Header.Get("ETag"))
	want(t, res, body, http.StatusOK)
}

// secondHandler is another API over e's store, as a second process is:
// its own accounts (wrapped as cmd wraps them) and limiter, and with
// TEST_REDIS_URL its own cache on a Redis shared with e's (which it then
// rebuilds onto that Redis too). Its cache asks Redis on every hit, so
// that a write through e shows on it at once; secondNearHandler's serves
// from its near-cache, as a replica does.
func (e *acctEnv) secondHandler(tb testing.TB) http.Handler {
	return e.second(tb, -1)
}

func (e *acctEnv) secondNearHandler(tb testing.TB) http.Handler {
	return e.second(tb, 0)
}

func (e *acctEnv) second(tb testing.TB, nearBound time.Duration) http.Handler {
	tb.Helper()
	c := e.cache
	if rdb, prefix := redisIfSet(tb); rdb != nil {
		c = cache.New(cache.Options{Redis: rdb, Prefix: prefix, NearBound: nearBound})
		tb.Cleanup(func() { c.Close() })
		mine := cache.New(cache.Options{Redis: rdb, Prefix: prefix})
		tb.Cleanup(func() { mine.Close() })
		e.rewire(mine)
	}
	providers := cache.NewProviderStore(sqlstore.NewProviderStore(e.db, e.clock), c)
	cfg := e.cfg
	cfg.Providers, cfg.Cache = providers, c
	cfg.Accounts = newTestAccounts(e.db, e.clock, providers, e.keys.set)
	cfg.Accounts.Users = cache.NewUserStore(cfg.Accounts.Users, c)
	cfg.Limiter = ratelimit.New(ratelimit.Options{})
	cfg.Registry = prometheus.NewRegistry()
	cfg.Logger = slog.New(slog.NewJSONHandler(e.logs, nil))
	return New(cfg)
}

// rewire rebuilds e's handler onto cache c, keeping its accounts' store:
// its directory and its account writes (a registration, a disabled
// organisation) then invalidate c.
func (e *acctEnv) rewire(c *cache.Cache) {
	e.cache = c
	e.providers = cache.NewProviderStore(sqlstore.NewProviderStore(e.db, e.clock), c)
	e.accounts.Providers = e.providers
	e.accounts.Users = cache.NewUserStore(sqlstore.NewUserStore(e.db, e.clock), c)
	e.cfg.Providers, e.cfg.Cache = e.providers, c
	e.cfg.Registry = prometheus.NewRegistry()
	e.s = newServer(e.cfg)
}
