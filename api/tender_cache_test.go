package api

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// TestPublicTenderViews: the public list and detail come from the cache,
// answer If-None-Match with 304, show a write at once, and never show a
// status the clock has overtaken: a cached "open" tender is "closed" the
// moment its deadline passes, whatever the cache's TTL and jitter. Views
// private to a caller are never kept. Run in process, and on Redis when
// TEST_REDIS_URL is set.
func TestPublicTenderViews(t *testing.T) {
	backends := map[string]func(t *testing.T) *cache.Cache{
		"InProcess": func(t *testing.T) *cache.Cache { return nil },
		"Redis": func(t *testing.T) *cache.Cache {
			rdb, prefix := mustRedis(t)
			c := cache.New(cache.Options{Redis: rdb, Prefix: prefix, Timeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
			t.Cleanup(func() { c.Close() })
			return c
		},
	}
	for _, engine := range sqlstoretest.Engines(t) {
		for _, backend := range sortedKeys(backends) {
			t.Run(engine+"/"+backend, func(t *testing.T) {
				e := mustTenderEnv(t, engine, backends[backend](t))
				w := e.mustMarket(t)
				start := e.clock.Now()
				o := e.publishedTender(t, w.lead, "Cached tender", 2*time.Minute, 5*time.Minute, w.joint.orgID)
				get := func(t *testing.T, target string, a actor, header ...string) (*http.Response, []byte) {
					t.Helper()
					h := map[string]string{}
					for i := 0; i+1 < len(header); i += 2 {
						h[header[i]] = header[i+1]
					}
					return e.do(t, req{method: http.MethodGet, target: target, token: a.access, header: h})
				}
				status := func(t *testing.T, body []byte) tenderResponse {
					t.Helper()
					return mustDecode[tenderResponse](t, body)
				}

				t.Run("DetailIsCached", func(t *testing.T) {
					res, b := get(t, tenderPath(o.ID), actor{})
					want(t, res, b, http.StatusOK)
					if cc := res.Header.Get("Cache-Control"); cc != "public, no-cache" {
						t.Errorf("Cache-Control %q", cc)
					}
					before := e.store.gets.Load()
					res2, b2 := get(t, tenderPath(o.ID), w.nhs)
					want(t, res2, b2, http.StatusOK)
					res3, b3 := get(t, tenderPath(o.ID), actor{}, "If-None-Match", res.Header.Get("ETag"))
					want(t, res3, b3, http.StatusNotModified)
					// The supplier's request reads the tender to learn it may
					// not see the baseline (from the store, or from the
					// tender memo that the detail's first read filled); the
					// view itself is cached.
					if n := e.store.gets.Load() - before; n > 1 {
						t.Errorf("%d store reads for two cached answers, want at most 1", n)
					}
					if string(b2) != string(b) || res2.Header.Get("ETag") != res.Header.Get("ETag") {
						t.Errorf("the supplier's view differs from the public one")
					}
				})
				t.Run("CommissionersViewIsPrivate", func(t *testing.T) {
					res, b := get(t, tenderPath(o.ID), w.lead)
					want(t, res, b, http.StatusOK)
					if cc := res.Header.Get("Cache-Control"); cc != "no-store" || !strings.Contains(string(b), "in_house_baseline") {
						t.Errorf("lead's view: Cache-Control %q, body %s", cc, b)
					}
					res, b = get(t, tenderPath(o.ID), actor{})
					want(t, res, b, http.StatusOK)
					if strings.Contains(string(b), "in_house_baseline") {
						t.Errorf("the public view shows the baseline after a commissioner's read: %s", b)
					}
				})
				t.Run("ListIsCached", func(t *testing.T) {
					res, b := get(t, "/api/v1/tenders", actor{})
					want(t, res, b, http.StatusOK)
					before := e.store.lists.Load()
					res2, b2 := get(t, "/api/v1/tenders?page_size=20", actor{}, "If-None-Match", res.Header.Get("ETag"))
					want(t, res2, b2, http.StatusNotModified)
					if n := e.store.lists.Load() - before; n != 0 {
						t.Errorf("%d store reads for a cached list", n)
					}
				})
				t.Run("WriteShowsAtOnce", func(t *testing.T) {
					res, b := get(t, "/api/v1/tenders", actor{})
					want(t, res, b, http.StatusOK)
					etag := res.Header.Get("ETag")
					n := e.publishedTender(t, w.lead, "Brand new tender", 2*time.Minute, 5*time.Minute)
					res, b = get(t, "/api/v1/tenders", actor{}, "If-None-Match", etag)
					want(t, res, b, http.StatusOK)
					if !strings.Contains(string(b), n.ID) {
						t.Errorf("the list does not show the tender just published: %s", b)
					}
					res, b = get(t, tenderPath(n.ID), actor{})
					want(t, res, b, http.StatusOK)
					res, b = e.do(t, req{method: http.MethodPost, target: tenderPath(n.ID) + "/cancel", token: w.lead.access, body: cancelRequest{Reason: "Budget withdrawn."}})
					want(t, res, b, http.StatusOK)
					res, b = get(t, tenderPath(n.ID), actor{})
					want(t, res, b, http.StatusOK)
					if got := status(t, b); got.Status != "cancelled" || got.CancelReason != "Budget withdrawn." {
						t.Errorf("after cancelling, the public view is %s (%q)", got.Status, got.CancelReason)
					}
				})
				t.Run("AnswersShowAtOnce", func(t *testing.T) {
					res, b := e.do(t, req{method: http.MethodPost, target: questionsPath(o.ID), token: w.nhs.access, body: questionRequest{Question: "Is there an incumbent?"}})
					want(t, res, b, http.StatusCreated)
					q := mustDecode[questionResponse](t, b)
					res, b = get(t, questionsPath(o.ID), actor{})
					want(t, res, b, http.StatusOK)
					if strings.Contains(string(b), q.ID) {
						t.Errorf("the public sees an unanswered question: %s", b)
					}
					res, b = e.do(t, req{method: http.MethodPost, target: answerPath(o.ID, q.ID), token: w.lead.access, body: answerRequest{Answer: "No."}})
					want(t, res, b, http.StatusOK)
					res, b = get(t, questionsPath(o.ID), actor{})
					want(t, res, b, http.StatusOK)
					if !strings.Contains(string(b), q.ID) || strings.Contains(string(b), w.nhs.orgID) {
						t.Errorf("the public questions after the answer: %s", b)
					}
				})
				t.Run("ClarificationDeadlineTurnsTheView", func(t *testing.T) {
					res, b := get(t, tenderPath(o.ID), actor{})
					want(t, res, b, http.StatusOK)
					if !status(t, b).QuestionsOpen {
						t.Fatalf("questions closed before the clarification deadline")
					}
					e.clock.set(start.Add(2 * time.Minute))
					res, b = get(t, tenderPath(o.ID), actor{})
					want(t, res, b, http.StatusOK)
					if got := status(t, b); got.QuestionsOpen || got.Status != "open" {
						t.Errorf("at the clarification deadline: questions_open %v, status %s", got.QuestionsOpen, got.Status)
					}
				})
				t.Run("CachedOpenTenderClosesAtDeadline", func(t *testing.T) {
					e.clock.set(start.Add(5*time.Minute - time.Millisecond))
					res, b := get(t, tenderPath(o.ID), actor{})
					want(t, res, b, http.StatusOK)
					openETag := res.Header.Get("ETag")
					before := e.store.gets.Load()
					res, b = get(t, tenderPath(o.ID), actor{})
					want(t, res, b, http.StatusOK)
					if got := status(t, b).Status; got != "open" || e.store.gets.Load() != before {
						t.Fatalf("1 ms before the deadline: %s, from the store: %v", got, e.store.gets.Load() != before)
					}
					resList, bList := get(t, "/api/v1/tenders?status=open", actor{})
					want(t, resList, bList, http.StatusOK)
					if !strings.Contains(string(bList), o.ID) {
						t.Fatalf("the open list lacks the open tender")
					}

					e.clock.set(start.Add(5 * time.Minute))
					res, b = get(t, tenderPath(o.ID), actor{}, "If-None-Match", openETag)
					want(t, res, b, http.StatusOK)
					if got := status(t, b).Status; got != "closed" {
						t.Errorf("at the deadline the cached view says %s", got)
					}
					res, b = get(t, "/api/v1/tenders?status=open", actor{})
					want(t, res, b, http.StatusOK)
					if strings.Contains(string(b), o.ID) {
						t.Errorf("at the deadline the open list still shows the tender: %s", b)
					}
					res, b = get(t, "/api/v1/tenders?status=closed", actor{})
					want(t, res, b, http.StatusOK)
					if !strings.Contains(string(b), o.ID) {
						t.Errorf("at the deadline the closed list lacks the tender: %s", b)
					}
					res, b = get(t, "/api/v1/tenders", actor{})
					want(t, res, b, http.StatusOK)
					for _, it := range mustDecode[listResponse[tenderResponse]](t, b).Items {
						if it.ID == o.ID && it.Status != "closed" {
							t.Errorf("at the deadline the list says %s", it.Status)
						}
					}
				})
				t.Run("BidsAreNeverCached", func(t *testing.T) {
					e.relogin(t, &w.nhs, &w.lead)
					n := e.publishedTender(t, w.lead, "Bids uncached", 2*time.Minute, 5*time.Minute)
					bid := e.submitBid(t, w.nhs, n.ID, 40_000_000)
					for _, target := range []string{bidsPath(n.ID), bidPath(n.ID, bid.ID)} {
						res, b := get(t, target, w.nhs)
						want(t, res, b, http.StatusOK)
						if cc := res.Header.Get("Cache-Control"); cc != "no-store" || res.Header.Get("ETag") != "" {
							t.Errorf("%s: Cache-Control %q, ETag %q", target, cc, res.Header.Get("ETag"))
						}
					}
				})
			})
		}
	}
}
