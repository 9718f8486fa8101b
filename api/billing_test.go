package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/csmarket/csmarket/internal/billing"
	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
	"github.com/csmarket/csmarket/internal/stripetest"
)

const (
	testWebhookSecret = "whsec_test_csmarket_levies"
	leviesPath        = "/api/v1/billing/levies"
	webhookPath       = "/api/v1/billing/stripe/webhook"
)

func levyPath(id string) string { return leviesPath + "/" + id }

// billingEnv is the tender env with the levy wired as serve wires it: a
// levy store, the rules, the webhook receiver and, when stripeURL is set,
// invoicing on, with a worker against Stripe at stripeURL.
type billingEnv struct {
	*tenderEnv
	levies  *sqlstore.LevyStore
	metrics *billing.Metrics
	policy  market.LevyPolicy
}

func mustBillingEnv(tb testing.TB, engine string, policy market.LevyPolicy) *billingEnv {
	tb.Helper()
	e := &billingEnv{tenderEnv: mustTenderEnv(tb, engine, nil), policy: policy}
	e.levies = sqlstore.NewLevyStore(e.db, e.clock)
	e.metrics = billing.NewMetrics(nil)
	e.evaluations.Levy = policy
	e.cfg.Evaluations = e.evaluations
	e.cfg.Levies = &market.Levies{Store: e.levies, Clock: e.clock, Policy: policy}
	e.cfg.StripeWebhook = &billing.Webhooks{Secret: testWebhookSecret, Store: e.levies, Clock: e.clock, Metrics: e.metrics}
	e.s = newServer(e.cfg)
	return e
}

// worker returns a worker sending this env's levies to Stripe at url.
func (e *billingEnv) worker(url string) *billing.Worker {
	return billing.NewWorker(e.levies, billing.NewClient(billing.Options{Key: "sk_test_csmarket", APIBase: url, Timeout: 5 * time.Second}),
		billing.WorkerOptions{Clock: e.clock, Metrics: e.metrics, BackoffBase: time.Second, BackoffMax: 4 * time.Second})
}

// award runs a tender led by lead from publication to final award of
// winner's bid of price (the other bidders bid more), and returns the
// tender's ID. The clock moves on past the standstill; every actor of w
// signs in again.
func (e *billingEnv) award(tb testing.TB, w *marketWorld, title string, winner actor, price int64, others ...actor) string {
	tb.Helper()
	t := e.publishedTender(tb, w.lead, title, 2*time.Minute, 5*time.Minute)
	won := e.submitBid(tb, winner, t.ID, price)
	for i, o := range others {
		e.submitBid(tb, o, t.ID, price+int64(i+1)*1_000_000)
	}
	e.clock.Advance(5*time.Minute + time.Second)
	e.declareNone(tb, w.lead, t.ID)
	e.score(tb, w.lead, t.ID, won.ID, 3, 3)
	res, b := e.do(tb, req{method: http.MethodPost, target: tenderPath(t.ID) + "/award", token: w.lead.access, body: awardRequest{BidID: won.ID, Reason: "Best value."}})
	want(tb, res, b, http.StatusOK)
	e.clock.Advance(testStandstill)
	e.relogin(tb, &w.lead, &w.joint, &w.other, &w.nhs, &w.council, &w.charity, &w.firm, &w.operator)
	res, b = e.do(tb, req{method: http.MethodPost, target: tenderPath(t.ID) + "/award/confirm", token: w.lead.access})
	want(tb, res, b, http.StatusOK)
	return t.ID
}

// auditActions returns the actions of tender id's audit trail, in order.
func (e *billingEnv) auditActions(tb testing.TB, id string) []string {
	tb.Helper()
	var out []string
	for _, a := range e.mustAudit(tb, id) {
		action, _, _ := strings.Cut(a, " by ")
		out = append(out, action)
	}
	return out
}

// leviesOf lists the levies a sees, or fails.
func (e *billingEnv) leviesOf(tb testing.TB, a actor, query string) []levyJSON {
	tb.Helper()
	res, b := e.do(tb, req{method: http.MethodGet, target: leviesPath + query, token: a.access})
	want(tb, res, b, http.StatusOK)
	return mustDecode[listResponse[levyJSON]](tb, b).Items
}

func (e *billingEnv) levyFor(tb testing.TB, tenderID string) market.Levy {
	tb.Helper()
	page, err := e.levies.ListLevies(context.Background(), market.LevyFilter{All: true})
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range page.Items {
		if l.TenderID == tenderID {
			return l
		}
	}
	tb.Fatalf("no levy for tender %s", tenderID)
	return market.Levy{}
}

// TestLevyRecordedOnFinalAward: the levy is recorded with the final award,
// once, with its audit event; suppliers see their own, the operator every
// one; buyers, other suppliers and anonymous callers see none.
func TestLevyRecordedOnFinalAward(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustBillingEnv(t, engine, market.LevyPolicy{BasisPoints: 150, WaivedSectors: []market.Sector{market.SectorThirdSector}})
			w := e.mustMarket(t)
			// 1.5% of £420,000.33 is £6,300.00495: 630,000.495p rounds to 630,000p;
			// and of 42,000,033 + 1p: 630,000.51 rounds up to 630,001.
			first := e.award(t, w, "Levy on BI", w.firm, 42_000_033, w.nhs)
			second := e.award(t, w, "Levy rounding up", w.nhs, 42_000_034)
			waived := e.award(t, w, "Levy waived", w.charity, 10_000_000)

			t.Run("Amounts", func(t *testing.T) {
				for _, tc := range []struct {
					tender string
					amount int64
					status string
				}{{first, 630_000, "not_sent"}, {second, 630_001, "not_sent"}, {waived, 0, "waived"}} {
					l := e.levyFor(t, tc.tender)
					if l.AmountPence != tc.amount || string(l.Status) != tc.status || l.BasisPoints != 150 {
						t.Errorf("levy of %s: %d pence, %s, %d bp; want %d, %s", tc.tender, l.AmountPence, l.Status, l.BasisPoints, tc.amount, tc.status)
					}
				}
			})
			t.Run("SupplierSeesOwn", func(t *testing.T) {
				items := e.leviesOf(t, w.firm, "")
				if len(items) != 1 || items[0].Tender.ID != first || items[0].AmountPence != 630_000 || items[0].AwardValuePence != 42_000_033 {
					t.Fatalf("firm's levies: %+v", items)
				}
				l := items[0]
				if l.Supplier.ID != w.firm.orgID || l.Status != "not_sent" || len(l.History) != 1 || l.Currency != "GBP" {
					t.Errorf("levy %+v", l)
				}
				if l.Attempts != nil || l.LastError != "" {
					t.Errorf("the worker's attempts are shown to the supplier: %+v", l)
				}
				res, b := e.do(t, req{method: http.MethodGet, target: levyPath(l.ID), token: w.firm.access})
				want(t, res, b, http.StatusOK)
				// A filter naming another supplier finds nothing.
				if items := e.leviesOf(t, w.firm, "?supplier="+w.nhs.orgID); len(items) != 0 {
					t.Errorf("the firm filtered by the NHS supplier and saw %+v", items)
				}
			})
			t.Run("OthersSeeNothing", func(t *testing.T) {
				own := e.levyFor(t, first)
				for name, tc := range map[string]struct {
					token  string
					status int
				}{
					"Anonymous":     {"", http.StatusUnauthorized},
					"LeadBuyer":     {w.lead.access, http.StatusForbidden},
					"OtherBuyer":    {w.other.access, http.StatusForbidden},
					"ForgedToken":   {w.firm.access[:len(w.firm.access)-4] + "AAAA", http.StatusUnauthorized},
					"OtherSupplier": {w.council.access, http.StatusOK},
				} {
					t.Run(name, func(t *testing.T) {
						res, b := e.do(t, req{method: http.MethodGet, target: leviesPath, token: tc.token})
						want(t, res, b, tc.status)
						if tc.status == http.StatusOK && len(mustDecode[listResponse[levyJSON]](t, b).Items) != 0 {
							t.Errorf("%s saw levies: %s", name, b)
						}
						res2, b2 := e.do(t, req{method: http.MethodGet, target: levyPath(own.ID), token: tc.token})
						if tc.status == http.StatusOK {
							want(t, res2, b2, http.StatusNotFound)
						} else {
							want(t, res2, b2, tc.status)
						}
						// The refused read echoes the ID asked for in its
						// instance, and nothing else of the levy.
						for i, body := range [][]byte{b, b2} {
							for _, secret := range []string{own.ID, "630000", "42000033", own.TenderID} {
								if i == 1 && secret == own.ID {
									continue
								}
								if strings.Contains(string(body), secret) {
									t.Errorf("%s's answer reveals %s: %s", name, secret, body)
								}
							}
						}
					})
				}
			})
			t.Run("OperatorSeesAll", func(t *testing.T) {
				items := e.leviesOf(t, w.operator, "")
				if len(items) != 3 || items[0].Tender.ID != waived {
					t.Fatalf("operator's levies (newest first): %+v", items)
				}
				if items[0].Attempts == nil {
					t.Errorf("the operator is not shown attempts")
				}
				if got := e.leviesOf(t, w.operator, "?status=waived"); len(got) != 1 || got[0].Tender.ID != waived {
					t.Errorf("status=waived: %+v", got)
				}
				if got := e.leviesOf(t, w.operator, "?supplier="+w.nhs.orgID); len(got) != 1 || got[0].Tender.ID != second {
					t.Errorf("supplier filter: %+v", got)
				}
				page1 := e.leviesOf(t, w.operator, "?page_size=2")
				res, b := e.do(t, req{method: http.MethodGet, target: leviesPath + "?page_size=2", token: w.operator.access})
				want(t, res, b, http.StatusOK)
				next := mustDecode[listResponse[levyJSON]](t, b).NextCursor
				if len(page1) != 2 || next == "" {
					t.Fatalf("first page of 2: %d items, cursor %q", len(page1), next)
				}
				page2 := e.leviesOf(t, w.operator, "?page_size=2&cursor="+next)
				if len(page2) != 1 || page2[0].Tender.ID != first {
					t.Errorf("second page: %+v", page2)
				}
				future := e.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
				if got := e.leviesOf(t, w.operator, "?from="+future); len(got) != 0 {
					t.Errorf("from the future: %+v", got)
				}
			})
			t.Run("CSV", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodGet, target: leviesPath + "?format=csv", token: w.operator.access})
				want(t, res, b, http.StatusOK)
				if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
					t.Errorf("Content-Type %q", ct)
				}
				rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
				if err != nil || len(rows) != 4 {
					t.Fatalf("CSV rows %d (%v): %s", len(rows), err, b)
				}
				amount := slices.Index(rows[0], "amount_pence")
				if amount < 0 || rows[3][amount] != "630000" {
					t.Errorf("CSV %v", rows)
				}
			})
			t.Run("BadQueries", func(t *testing.T) {
				for q, field := range map[string]string{
					"?status=owing":            "status",
					"?from=2026-01-01":         "from",
					"?to=yesterday":            "to",
					"?format=xml":              "format",
					"?page_size=0":             "page_size",
					"?cursor=%%%":              "query",
					"?cursor=bm90LWEtY3Vyc29y": "cursor",
					"?supplier=../../etc":      "supplier",
					"?status=paid&status=void": "status",
					"?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z": "to",
				} {
					res, b := e.do(t, req{method: http.MethodGet, target: leviesPath + q, token: w.operator.access})
					want(t, res, b, http.StatusBadRequest)
					if f := fieldsOf(t, b); !slices.Contains(f, field) {
						t.Errorf("%s: fields %v, want %s", q, f, field)
					}
				}
			})
			t.Run("RetryRules", func(t *testing.T) {
				l := e.levyFor(t, first)
				res, b := e.do(t, req{method: http.MethodPost, target: levyPath(l.ID) + "/retry", token: w.firm.access})
				want(t, res, b, http.StatusForbidden)
				res, b = e.do(t, req{method: http.MethodPost, target: levyPath(l.ID) + "/retry", token: w.operator.access})
				want(t, res, b, http.StatusConflict) // invoicing is off
				res, b = e.do(t, req{method: http.MethodPost, target: levyPath("no-such-levy") + "/retry", token: w.operator.access})
				want(t, res, b, http.StatusNotFound)
				if after := e.levyFor(t, first); after.Status != market.LevyNotSent || len(after.History) != 1 {
					t.Errorf("a refused retry changed the levy: %+v", after)
				}
			})
			t.Run("Audited", func(t *testing.T) {
				actions := e.auditActions(t, first)
				if !slices.Contains(actions, "levy.recorded") || !slices.Contains(actions, "tender.awarded") {
					t.Errorf("audit of the awarded tender: %v", actions)
				}
			})
		})
	}
}

// signed returns a Stripe invoice event signed as Stripe signs it.
func signedEvent(tb testing.TB, id, typ, levyID, invoiceID string, at time.Time) (string, string) {
	tb.Helper()
	payload := fmt.Sprintf(`{"id": %q, "object": "event", "api_version": "2023-10-16", "type": %q, "created": %d,
		"data": {"object": {"id": %q, "object": "invoice", "status": "open",
		"hosted_invoice_url": "https://invoice.stripe.com/i/acct_test/%s",
		"metadata": {"csm_levy_id": %q}}}}`, id, typ, at.Unix(), invoiceID, invoiceID, levyID)
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(payload), Secret: testWebhookSecret, Timestamp: at})
	return payload, sp.Header
}

func (e *billingEnv) postEvent(tb testing.TB, payload, signature string) (*http.Response, []byte) {
	tb.Helper()
	h := map[string]string{}
	if signature != "" {
		h["Stripe-Signature"] = signature
	}
	return e.do(tb, req{method: http.MethodPost, target: webhookPath, body: payload, header: h})
}

// TestLevyInvoicedThroughStripe is the whole procurement: the
// award confirmed, the worker against stripe-mock invoicing the winner's
// levy exactly once however often and by however many workers it runs,
// then Stripe's signed events moving it to paid, never back, each event
// applied once and every forged one refused.
func TestLevyInvoicedThroughStripe(t *testing.T) {
	mock := stripetest.MustURL(t)
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustBillingEnv(t, engine, market.LevyPolicy{BasisPoints: 100, Invoicing: true})
			w := e.mustMarket(t)
			proxy := stripetest.NewProxy(t, mock)
			tenders := []string{
				e.award(t, w, "Levy one", w.firm, 42_000_000, w.nhs),
				e.award(t, w, "Levy two", w.nhs, 30_000_000),
				e.award(t, w, "Levy three", w.council, 20_000_050),
			}
			for _, id := range tenders {
				if l := e.levyFor(t, id); l.Status != market.LevyPending {
					t.Fatalf("levy of %s is %s before the worker ran, want pending", id, l.Status)
				}
			}

			t.Run("FourWorkersRacing", func(t *testing.T) {
				var wg sync.WaitGroup
				counts := make([]int, 4)
				for i := range counts {
					wg.Go(func() { counts[i] = e.worker(proxy.URL).Drain(t.Context()) })
				}
				wg.Wait()
				if total := counts[0] + counts[1] + counts[2] + counts[3]; total != len(tenders) {
					t.Errorf("workers worked on %v levies, want %d in all", counts, len(tenders))
				}
			})
			t.Run("RunAgain", func(t *testing.T) {
				before := len(proxy.Calls())
				if n := e.worker(proxy.URL).Drain(t.Context()); n != 0 {
					t.Errorf("a second run worked on %d levies", n)
				}
				if after := len(proxy.Calls()); after != before {
					t.Errorf("a second run called Stripe %d times", after-before)
				}
			})
			t.Run("OneInvoiceEach", func(t *testing.T) {
				keys := map[string]int{}
				for _, c := range proxy.Answered(http.MethodPost, "/v1/invoices") {
					if !strings.Contains(c.Path, "/finalize") && !strings.Contains(c.Path, "/send") {
						keys[c.IdempotencyKey]++
					}
				}
				if len(keys) != len(tenders) {
					t.Errorf("invoices created under %d keys, want %d: %v", len(keys), len(tenders), keys)
				}
				for k, n := range keys {
					if n != 1 || k == "" {
						t.Errorf("invoice key %q used %d times", k, n)
					}
				}
				if n := len(proxy.Answered(http.MethodPost, "/v1/invoiceitems")); n != len(tenders) {
					t.Errorf("%d invoice items, want %d", n, len(tenders))
				}
				if n := len(proxy.Answered(http.MethodPost, "/v1/customers")); n != len(tenders) {
					t.Errorf("%d customers created, want one per supplier (%d)", n, len(tenders))
				}
				for _, c := range proxy.Calls() {
					if c.Method == http.MethodPost && c.IdempotencyKey == "" {
						t.Errorf("%s %s without an idempotency key", c.Method, c.Path)
					}
				}
				for _, id := range tenders {
					l := e.levyFor(t, id)
					if l.Status != market.LevySent || l.StripeInvoiceID == "" || l.StripeCustomerID == "" {
						t.Errorf("levy of %s: %s, invoice %q, customer %q", id, l.Status, l.StripeInvoiceID, l.StripeCustomerID)
					}
				}
			})
			t.Run("CustomerReused", func(t *testing.T) {
				id := e.award(t, w, "Levy four", w.firm, 10_000_000)
				before := len(proxy.Answered(http.MethodPost, "/v1/customers"))
				if n := e.worker(proxy.URL).Drain(t.Context()); n != 1 {
					t.Fatalf("worked on %d levies", n)
				}
				if after := len(proxy.Answered(http.MethodPost, "/v1/customers")); after != before {
					t.Errorf("a second levy of the same supplier created another customer")
				}
				if l, first := e.levyFor(t, id), e.levyFor(t, tenders[0]); l.StripeCustomerID != first.StripeCustomerID {
					t.Errorf("customers %s and %s for one supplier", l.StripeCustomerID, first.StripeCustomerID)
				}
			})

			l := e.levyFor(t, tenders[0])
			t.Run("SupplierSeesSent", func(t *testing.T) {
				items := e.leviesOf(t, w.firm, "")
				if len(items) != 2 {
					t.Fatalf("firm's levies %+v", items)
				}
				if got := items[1]; got.Status != "sent" || got.StripeInvoiceID == "" || got.AmountPence != 420_000 {
					t.Errorf("levy %+v", got)
				}
			})
			t.Run("BadSignatures", func(t *testing.T) {
				now := time.Now()
				payload, sig := signedEvent(t, "evt_forged", "invoice.paid", l.ID, l.StripeInvoiceID, now)
				_, otherSig := signedEvent(t, "evt_other", "invoice.paid", l.ID, l.StripeInvoiceID, now)
				stalePayload, staleSig := signedEvent(t, "evt_stale", "invoice.paid", l.ID, l.StripeInvoiceID, now.Add(-10*time.Minute))
				forged := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(payload), Secret: "whsec_not_ours", Timestamp: now})
				for name, tc := range map[string][2]string{
					"Missing":     {payload, ""},
					"Forged":      {payload, forged.Header},
					"OtherBody":   {payload, otherSig},
					"AlteredBody": {strings.Replace(payload, "invoice.paid", "invoice.voided", 1), sig},
					"Stale":       {stalePayload, staleSig},
					"Garbage":     {payload, "t=abc,v1=zz"},
				} {
					t.Run(name, func(t *testing.T) {
						res, b := e.postEvent(t, tc[0], tc[1])
						want(t, res, b, http.StatusBadRequest)
						if f := fieldsOf(t, b); !slices.Equal(f, []string{"Stripe-Signature"}) {
							t.Errorf("fields %v", f)
						}
					})
				}
				if after := e.levyFor(t, tenders[0]); after.Status != market.LevySent || len(after.History) != len(l.History) {
					t.Errorf("a refused event changed the levy: %s, %d history entries", after.Status, len(after.History))
				}
			})
			t.Run("PaidOnceNeverBack", func(t *testing.T) {
				paid, paidSig := signedEvent(t, "evt_paid_1", "invoice.paid", l.ID, l.StripeInvoiceID, time.Now())
				for range 2 {
					res, b := e.postEvent(t, paid, paidSig)
					want(t, res, b, http.StatusOK)
				}
				after := e.levyFor(t, tenders[0])
				if after.Status != market.LevyPaid || len(after.History) != len(l.History)+1 {
					t.Fatalf("after invoice.paid twice: %s with %d history entries (had %d)", after.Status, len(after.History), len(l.History))
				}
				for _, typ := range []string{"invoice.finalized", "invoice.payment_failed", "invoice.marked_uncollectible"} {
					p, s := signedEvent(t, "evt_late_"+typ, typ, l.ID, l.StripeInvoiceID, time.Now())
					res, b := e.postEvent(t, p, s)
					want(t, res, b, http.StatusOK)
				}
				if late := e.levyFor(t, tenders[0]); late.Status != market.LevyPaid || len(late.History) != len(after.History) {
					t.Errorf("late events moved a paid levy to %s", late.Status)
				}
				p, s := signedEvent(t, "evt_customer", "customer.updated", l.ID, l.StripeInvoiceID, time.Now())
				res, b := e.postEvent(t, p, s)
				want(t, res, b, http.StatusOK)
				items := e.leviesOf(t, w.firm, "")
				if items[1].Status != "paid" {
					t.Errorf("the supplier sees %s", items[1].Status)
				}
				if !slices.Contains(e.auditActions(t, tenders[0]), "levy.paid") {
					t.Errorf("no levy.paid audit event")
				}
			})
			t.Run("PaymentFailedThenPaid", func(t *testing.T) {
				l2 := e.levyFor(t, tenders[1])
				for i, typ := range []string{"invoice.payment_failed", "invoice.finalized", "invoice.paid", "invoice.voided"} {
					p, s := signedEvent(t, "evt_two_"+strconv.Itoa(i), typ, l2.ID, l2.StripeInvoiceID, time.Now())
					res, b := e.postEvent(t, p, s)
					want(t, res, b, http.StatusOK)
				}
				if got := e.levyFor(t, tenders[1]); got.Status != market.LevyPaid {
					t.Errorf("payment_failed, finalized, paid, voided ended %s, want paid", got.Status)
				}
			})
		})
	}
}

// TestLevyStripeOutage: Stripe unreachable (a closed port), then cut in the
// middle of the steps, then refusing: the award is confirmed regardless,
// the levy stays pending with backoff, and is sent once Stripe is back;
// a refusal fails it with Stripe's message until the operator retries.
func TestLevyStripeOutage(t *testing.T) {
	mock := stripetest.MustURL(t)
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustBillingEnv(t, engine, market.LevyPolicy{BasisPoints: 100, Invoicing: true})
			w := e.mustMarket(t)
			proxy := stripetest.NewProxy(t, mock)

			t.Run("ClosedPort", func(t *testing.T) {
				id := e.award(t, w, "Stripe down", w.firm, 42_000_000)
				if n := e.worker(stripetest.ClosedURL(t)).Drain(t.Context()); n != 1 {
					t.Fatalf("worked on %d levies", n)
				}
				l := e.levyFor(t, id)
				if l.Status != market.LevyPending || l.Attempts != 1 || !l.NextAttemptAt.After(e.clock.Now()) || l.LastError == "" {
					t.Fatalf("after Stripe was unreachable: %s, %d attempts, next %v, error %q", l.Status, l.Attempts, l.NextAttemptAt, l.LastError)
				}
				// Not due yet: a worker leaves it alone.
				if n := e.worker(proxy.URL).Drain(t.Context()); n != 0 {
					t.Errorf("a levy in backoff was worked on")
				}
				e.clock.Advance(5 * time.Second)
				if n := e.worker(proxy.URL).Drain(t.Context()); n != 1 {
					t.Fatalf("after the backoff, worked on %d levies", n)
				}
				if l := e.levyFor(t, id); l.Status != market.LevySent {
					t.Errorf("after Stripe returned: %s (%s)", l.Status, l.LastError)
				}
			})
			t.Run("CutMidRun", func(t *testing.T) {
				id := e.award(t, w, "Stripe cut", w.nhs, 30_000_000)
				proxy.Set(stripetest.Cut, 3) // customer search and creation, the invoice; then cut
				e.worker(proxy.URL).Drain(t.Context())
				l := e.levyFor(t, id)
				if l.Status != market.LevyPending || l.StripeInvoiceID == "" || l.Step != market.StepInvoice {
					t.Fatalf("after the cut: %s, step %q, invoice %q", l.Status, l.Step, l.StripeInvoiceID)
				}
				proxy.Set(stripetest.Forward, -1)
				e.clock.Advance(5 * time.Second)
				e.worker(proxy.URL).Drain(t.Context())
				if l := e.levyFor(t, id); l.Status != market.LevySent {
					t.Fatalf("after the cut mended: %s (%s)", l.Status, l.LastError)
				}
				keys := map[string]bool{}
				for _, c := range proxy.Answered(http.MethodPost, "/v1/invoices") {
					if strings.Contains(c.IdempotencyKey, l.ID) && strings.HasSuffix(c.IdempotencyKey, "-invoice") {
						keys[c.IdempotencyKey] = true
					}
				}
				if len(keys) != 1 {
					t.Errorf("the levy's invoice was created under %d keys", len(keys))
				}
			})
			t.Run("BlackHoleNeverBlocksTheAward", func(t *testing.T) {
				proxy.Set(stripetest.BlackHole, -1)
				first := e.award(t, w, "Stripe hangs", w.council, 20_000_000)
				calls := len(proxy.Calls())
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan struct{})
				wk := billing.NewWorker(e.levies, billing.NewClient(billing.Options{Key: "sk_test", APIBase: proxy.URL, Timeout: time.Minute}),
					billing.WorkerOptions{Clock: e.clock, Poll: 10 * time.Millisecond})
				go func() { defer close(done); wk.Run(ctx) }()
				for len(proxy.Calls()) == calls { // until the worker hangs on Stripe
					time.Sleep(5 * time.Millisecond)
				}
				// A second award is confirmed while the worker waits on Stripe.
				second := e.award(t, w, "Stripe still hangs", w.firm, 21_000_000)
				for _, id := range []string{first, second} {
					if l := e.levyFor(t, id); l.Status != market.LevyPending {
						t.Errorf("levy %s while Stripe hangs", l.Status)
					}
				}
				cancel()
				<-done
				if l := e.levyFor(t, first); l.Status != market.LevyPending || l.Attempts != 1 {
					t.Errorf("after the hung call was abandoned: %s, %d attempts", l.Status, l.Attempts)
				}
				proxy.Set(stripetest.Forward, -1)
			})
			t.Run("RefusedThenRetried", func(t *testing.T) {
				e.worker(proxy.URL).Drain(t.Context()) // the black-holed levy, its lease long passed
				id := e.award(t, w, "Stripe refuses", w.charity, 15_000_000)
				proxy.Set(stripetest.Refuse, -1)
				e.worker(proxy.URL).Drain(t.Context())
				l := e.levyFor(t, id)
				if l.Status != market.LevyFailed || !strings.Contains(l.LastError, "no email address") {
					t.Fatalf("after Stripe's 400: %s, %q", l.Status, l.LastError)
				}
				items := e.leviesOf(t, w.operator, "?status=failed")
				if len(items) == 0 || items[0].LastError == "" {
					t.Fatalf("the operator's failed levies: %+v", items)
				}
				proxy.Set(stripetest.Forward, -1)
				res, b := e.do(t, req{method: http.MethodPost, target: levyPath(l.ID) + "/retry", token: w.operator.access})
				want(t, res, b, http.StatusOK)
				if got := mustDecode[levyJSON](t, b); got.Status != "pending" {
					t.Errorf("after retry: %s", got.Status)
				}
				e.worker(proxy.URL).Drain(t.Context())
				if l := e.levyFor(t, id); l.Status != market.LevySent {
					t.Errorf("after the retry: %s (%s)", l.Status, l.LastError)
				}
				if !slices.Contains(e.auditActions(t, id), "levy.retried") || !slices.Contains(e.auditActions(t, id), "levy.failed") {
					t.Errorf("audit: %v", e.auditActions(t, id))
				}
			})
		})
	}
}

// TestWebhookWithoutSecret refuses every event when no secret is set.
func TestWebhookWithoutSecret(t *testing.T) {
	e := mustBillingEnv(t, sqlstore.EngineSQLite, market.LevyPolicy{BasisPoints: 100})
	e.cfg.StripeWebhook = &billing.Webhooks{Store: e.levies, Clock: e.clock}
	e.s = newServer(e.cfg)
	payload, sig := signedEvent(t, "evt_1", "invoice.paid", "x", "in_1", time.Now())
	res, b := e.postEvent(t, payload, sig)
	want(t, res, b, http.StatusBadRequest)
	var p struct{ Errors []struct{ Message string } }
	json.Unmarshal(b, &p)
	if len(p.Errors) != 1 || !strings.Contains(p.Errors[0].Message, "CSM_STRIPE_WEBHOOK_SECRET") {
		t.Errorf("problem %s", b)
	}
}
