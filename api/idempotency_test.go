package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// TestIdempotencyKey: a creating POST retried with its Idempotency-Key gets
// the first answer again and does nothing twice; the key is the caller's
// organisation's alone, refuses another request, makes a retry wait for
// (or be told of) a first request still running, and is let go when the
// first request failed on the server's side.
func TestIdempotencyKey(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			o := e.publishedTender(t, w.lead, "Idempotent", 2*time.Minute, 5*time.Minute)
			other := e.publishedTender(t, w.lead, "Another", 2*time.Minute, 5*time.Minute)
			key := func(k string) map[string]string { return map[string]string{"Idempotency-Key": k} }
			ownBids := func(t *testing.T, a actor, tenderID string) int {
				t.Helper()
				res, b := e.do(t, req{method: http.MethodGet, target: bidsPath(tenderID), token: a.access})
				want(t, res, b, http.StatusOK)
				return len(mustDecode[listResponse[bidResponse]](t, b).Items)
			}

			t.Run("Replay", func(t *testing.T) {
				r := req{method: http.MethodPost, target: bidsPath(o.ID), token: w.nhs.access, body: bidBody(40_000_000), header: key("k-replay")}
				res1, b1 := e.do(t, r)
				want(t, res1, b1, http.StatusCreated)
				if res1.Header.Get("Idempotent-Replayed") != "" {
					t.Errorf("the first answer is marked replayed")
				}
				res2, b2 := e.do(t, r)
				want(t, res2, b2, http.StatusCreated)
				if string(b2) != string(b1) || res2.Header.Get("Location") != res1.Header.Get("Location") ||
					res2.Header.Get("Idempotent-Replayed") != "true" || res2.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("replay: %v %s; first: %v %s", res2.Header, b2, res1.Header, b1)
				}
				if n := ownBids(t, w.nhs, o.ID); n != 1 {
					t.Errorf("%d bids after a replay", n)
				}
			})
			t.Run("SameKeyOtherBody", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPost, target: bidsPath(o.ID), token: w.nhs.access, body: bidBody(1_000), header: key("k-replay")})
				want(t, res, b, http.StatusUnprocessableEntity)
				if f := fieldsOf(t, b); !slices.Equal(f, []string{"Idempotency-Key"}) {
					t.Errorf("errors name %v", f)
				}
			})
			t.Run("SameKeyOtherPath", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPost, target: bidsPath(other.ID), token: w.nhs.access, body: bidBody(40_000_000), header: key("k-replay")})
				want(t, res, b, http.StatusUnprocessableEntity)
				if n := ownBids(t, w.nhs, other.ID); n != 0 {
					t.Errorf("%d bids on the other tender", n)
				}
			})
			t.Run("KeysAreTheOrganisations", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPost, target: bidsPath(o.ID), token: w.firm.access, body: bidBody(40_000_000), header: key("k-replay")})
				want(t, res, b, http.StatusCreated)
				if res.Header.Get("Idempotent-Replayed") != "" || mustDecode[bidResponse](t, b).Supplier.ID != w.firm.orgID {
					t.Errorf("another organisation got a replay: %s", b)
				}
			})
			t.Run("RefusalIsReplayed", func(t *testing.T) {
				r := req{method: http.MethodPost, target: bidsPath(o.ID), token: w.council.access, body: bidRequest{PricePence: 40_000_000}, header: key("k-refused")}
				res1, b1 := e.do(t, r)
				want(t, res1, b1, http.StatusBadRequest)
				res2, b2 := e.do(t, r)
				want(t, res2, b2, http.StatusBadRequest)
				p1, p2 := mustDecode[problem](t, b1), mustDecode[problem](t, b2)
				if res2.Header.Get("Idempotent-Replayed") != "true" || p1.Detail != p2.Detail || !slices.Equal(p1.Errors, p2.Errors) || p1.RequestID == p2.RequestID {
					t.Errorf("replayed refusal %s; first %s", b2, b1)
				}
			})
			t.Run("StillRunning", func(t *testing.T) {
				body := bidBody(40_000_000)
				raw, _ := json.Marshal(body)
				target := bidsPath(o.ID)
				scope := w.charity.orgID + " /api/v1/tenders/:id/bids"
				if rec, err := e.idem.ReserveIdempotency(context.Background(), scope, "k-running", requestHash(http.MethodPost, target, raw), e.clock.Now()); err != nil || rec != nil {
					t.Fatalf("reserve: %v, %v", rec, err)
				}
				e.s.idempotencyWait = 50 * time.Millisecond
				defer func() { e.s.idempotencyWait = defaultIdempotencyWait }()
				res, b := e.do(t, req{method: http.MethodPost, target: target, token: w.charity.access, body: body, header: key("k-running")})
				want(t, res, b, http.StatusConflict)
				if f := fieldsOf(t, b); !slices.Equal(f, []string{"Idempotency-Key"}) {
					t.Errorf("errors name %v", f)
				}
				if n := ownBids(t, w.charity, o.ID); n != 0 {
					t.Errorf("%d bids while the first request runs", n)
				}
			})
			t.Run("ServerFailureReleasesTheKey", func(t *testing.T) {
				r := req{method: http.MethodPost, target: bidsPath(other.ID), token: w.council.access, body: bidBody(40_000_000), header: key("k-retry")}
				e.store.failCreateBid.Store(true)
				res, b := e.do(t, r)
				want(t, res, b, http.StatusInternalServerError)
				res, b = e.do(t, r)
				want(t, res, b, http.StatusCreated)
				if res.Header.Get("Idempotent-Replayed") != "" {
					t.Errorf("the retry after a 500 was a replay")
				}
			})
			t.Run("TenderCreation", func(t *testing.T) {
				now := e.clock.Now()
				r := req{method: http.MethodPost, target: "/api/v1/tenders", token: w.lead.access, body: tenderBody("Once only", now.Add(2*time.Minute), now.Add(5*time.Minute)), header: key("k-tender")}
				res1, b1 := e.do(t, r)
				want(t, res1, b1, http.StatusCreated)
				res2, b2 := e.do(t, r)
				want(t, res2, b2, http.StatusCreated)
				if string(b1) != string(b2) || res1.Header.Get("Location") != res2.Header.Get("Location") || res1.Header.Get("ETag") != res2.Header.Get("ETag") {
					t.Errorf("replayed creation differs")
				}
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/tenders?status=draft", token: w.lead.access})
				want(t, res, b, http.StatusOK)
				if n := strings.Count(string(b), `"Once only"`); n != 1 {
					t.Errorf("%d drafts made", n)
				}
			})
			t.Run("BadKey", func(t *testing.T) {
				for _, k := range []string{"has space", strings.Repeat("k", 256), "naïve"} {
					res, b := e.do(t, req{method: http.MethodPost, target: bidsPath(o.ID), token: w.charity.access, body: bidBody(40_000_000), header: key(k)})
					want(t, res, b, http.StatusBadRequest)
					if f := fieldsOf(t, b); !slices.Equal(f, []string{"Idempotency-Key"}) {
						t.Errorf("errors name %v", f)
					}
				}
			})
		})
	}
}
