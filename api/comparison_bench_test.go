package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/ratelimit"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

// Sizes of the benchmark's tender: the 1,000 bids, 10 criteria
// (one price and nine quality) and 5 evaluators, every bid fully scored.
const (
	benchBids       = 1000
	benchQuality    = 9
	benchEvaluators = 5
)

// mustScoredTender returns a tender env on engine holding a closed tender
// of n bids, scored by benchEvaluators cleared evaluators on benchQuality
// criteria, its lead buyer (signed in afresh) and the tender's ID. It
// seeds the store directly: the bids through the tender store, one sheet
// of scores per evaluator through the evaluation store, then every other
// bid's scores copied in one transaction.
func mustScoredTender(b testing.TB, engine string, n int) (*tenderEnv, actor, string) {
	b.Helper()
	e := mustTenderEnv(b, engine, nil)
	e.cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	// Counted as in production, but never reached by a benchmark's loop.
	e.cfg.TokenLimit = ratelimit.Limit{Events: 1 << 30, Per: time.Minute}
	e.s = newServer(e.cfg)
	ctx := context.Background()
	lead := e.register(b, ccgRegistration("NHS Walsall CCG", "lead@nhs.net", "05Y", 250_000))
	joint := e.register(b, ccgRegistration("NHS Wolverhampton CCG", "joint@nhs.net", "06A", 750_000))
	evaluators := []actor{lead}
	for i := 1; i < benchEvaluators; i++ {
		evaluators = append(evaluators, e.addUser(b, lead, fmt.Sprintf("evaluator%d@nhs.net", i), "evaluator"))
	}

	now := e.clock.Now()
	body := tenderBody("A thousand bids", now.Add(2*time.Minute), now.Add(5*time.Minute), joint.orgID)
	body.Criteria = []criterionJSON{{Key: "price", Name: "Price", Kind: "price", Weight: 10}}
	responses := map[string]string{}
	body.InHouseBaseline.Scores = map[string]int{}
	for i := range benchQuality {
		k := fmt.Sprintf("q%d", i)
		body.Criteria = append(body.Criteria, criterionJSON{Key: k, Name: "Quality " + k, Kind: "quality", Weight: 10})
		responses[k] = "Our response."
		body.InHouseBaseline.Scores[k] = 2
	}
	t := e.createTender(b, lead, body)
	e.publish(b, lead, t.ID)
	for i, a := range evaluators {
		if i > 0 {
			res, rb := e.do(b, req{method: http.MethodPost, target: evaluatorsPath(t.ID), token: lead.access, body: assignRequest{UserID: a.userID}})
			want(b, res, rb, http.StatusCreated)
		}
		e.declareNone(b, a, t.ID)
	}

	orgs := sqlstore.NewOrganisationStore(e.db, e.clock)
	var bids []market.Bid
	for i := range n {
		o := market.Organisation{Kind: market.KindSupplier, Name: fmt.Sprintf("Supplier %04d Ltd", i),
			Sector: market.Sectors[i%len(market.Sectors)], Status: market.StatusActive,
			Identifiers: []market.Identifier{{Scheme: "GB-COH", ID: fmt.Sprintf("%08d", 10_000_000+i)}}, Regions: []string{"midlands"}}
		if err := orgs.CreateOrganisation(ctx, &o, nil); err != nil {
			b.Fatal(err)
		}
		// Any user satisfies the store's reference; the comparison reads none.
		bid := market.Bid{TenderID: t.ID, SupplierID: o.ID, SubmittedBy: lead.userID, Status: market.BidSubmitted, Version: 1,
			PricePence: int64(30_000_000 + 7_919*i), Responses: responses, SubmittedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
		ev := market.AuditEvent{ActorOrg: o.ID, ObjectType: "bid", TenderID: t.ID, Action: "bid.submitted"}
		if err := e.store.CreateBid(ctx, &bid, ev); err != nil {
			b.Fatal(err)
		}
		bids = append(bids, bid)
	}
	e.clock.Advance(6 * time.Minute) // closed
	for i, a := range evaluators {
		var sheet []market.Score
		for q := range benchQuality {
			sheet = append(sheet, market.Score{TenderID: t.ID, BidID: bids[0].ID, EvaluatorID: a.userID,
				Criterion: fmt.Sprintf("q%d", q), Score: (i + q) % 5, Justification: "Justified."})
		}
		if err := e.evaluations.Store.PutScores(ctx, sheet, market.AuditEvent{ActorUser: a.userID, ObjectType: "bid", ObjectID: bids[0].ID, TenderID: t.ID, Action: "bid.scored"}); err != nil {
			b.Fatal(err)
		}
	}
	err := e.db.InTx(ctx, func(tx *sqlstore.Tx) error {
		for _, bid := range bids[1:] {
			if _, err := tx.ExecContext(ctx, `INSERT INTO scores (tender_id, bid_id, evaluator_id, criterion, score, justification, updated_at)
				SELECT tender_id, ?, evaluator_id, criterion, score, justification, updated_at FROM scores WHERE bid_id = ?`, bid.ID, bids[0].ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	e.relogin(b, &lead)
	return e, lead, t.ID
}

// mustComparisonBench returns the env of mustScoredTender with benchBids
// bids on SQLite, and the lead buyer's request for the first page of its
// comparison.
func mustComparisonBench(b *testing.B) (*tenderEnv, *http.Request) {
	b.Helper()
	ctx := context.Background()
	e, lead, tenderID := mustScoredTender(b, "sqlite", benchBids)
	r := httptest.NewRequest(http.MethodGet, comparisonPath(tenderID), nil)
	r.Header.Set("Authorization", "Bearer "+lead.access)
	r.RemoteAddr = peer
	// Check the seeding once, through the contract.
	res, rb := serve(b, e.s.engine, r.Clone(ctx))
	want(b, res, rb, http.StatusOK)
	if c := mustDecode[comparisonResponse](b, rb); c.TotalRows != benchBids+1 || len(c.Rows) != defaultComparisonPage || c.Rows[0].Incomplete {
		b.Fatalf("comparison of %d rows, page of %d, first %+v", c.TotalRows, len(c.Rows), c.Rows[0])
	}
	return e, r
}

// BenchmarkComparison1000 serves the first page (defaultComparisonPage
// rows) of the comparison of a tender of 1,000 bids through ServeHTTP, signed in as the lead buyer, and reports its
// throughput against the cached provider list's in the same run
// (x_providers; the target is 0.2 or more) and against an authenticated
// GET /api/v1/me (x_me), which is the floor any signed-in request pays:
// verifying the Ed25519 token and reading the user and organisation.
// "cold" renews the tender's scoring stamp before every request, as a
// score write does, so that each one rebuilds the comparison: what the
// memo saves.
func BenchmarkComparison1000(b *testing.B) {
	e, r := mustComparisonBench(b)
	pe, _ := mustBenchEnv(b, slog.NewJSONHandler(io.Discard, nil), io.Discard)
	providersNs := nsPerOp(pe.s.engine, time.Second)
	me := r.Clone(context.Background())
	me.URL.Path = "/api/v1/me"
	meNs := nsPerRequest(e.s.engine, me, time.Second)

	b.Run("warm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			e.s.engine.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(1e9/ns, "req/s")
		b.ReportMetric(providersNs/ns, "x_providers")
		b.ReportMetric(meNs/ns, "x_me")
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			e.s.comparisons.cache.Invalidate(context.Background(), scoringNS(mustTenderID(b, r)))
			b.StartTimer()
			rec := httptest.NewRecorder()
			e.s.engine.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(1e9/ns, "req/s")
		b.ReportMetric(providersNs/ns, "x_providers")
	})
}

// mustTenderID is the tender ID of a comparison request's path.
func mustTenderID(tb testing.TB, r *http.Request) string {
	tb.Helper()
	var id string
	if _, err := fmt.Sscanf(r.URL.Path, "/api/v1/tenders/%s", &id); err != nil {
		tb.Fatal(err)
	}
	return id[:len(id)-len("/comparison")]
}

// nsPerRequest times h on r for about d.
func nsPerRequest(h http.Handler, r *http.Request, d time.Duration) float64 {
	n, start := 0, time.Now()
	for time.Since(start) < d {
		for range 100 {
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
		n += 100
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}
