package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/ocds"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

// testMinTenderPeriod stands in for CSM_MIN_TENDER_PERIOD: short, so that
// tests cross deadlines minutes away while access tokens (15 minutes) are
// still good.
const testMinTenderPeriod = time.Minute

// tenderEnv is the accounts env with tenders, on a real tender store
// behind the cache wrapper, and a real idempotency store.
type tenderEnv struct {
	*acctEnv
	store       *countingTenderStore // under the cache wrapper
	tenders     *market.Tenders
	idem        *sqlstore.IdempotencyStore
	evaluations *market.Evaluations
	audit       *sqlstore.AuditStore
}

// testStandstill stands in for CSM_STANDSTILL: short, as testMinTenderPeriod.
const testStandstill = 10 * time.Minute

// countingTenderStore counts the reads that reach the store, so that a
// test can tell a cached answer from a fresh one, and can fail the next
// bid submission as a broken database would.
type countingTenderStore struct {
	market.TenderStore
	gets, lists   atomic.Int64
	failCreateBid atomic.Bool
}

func (s *countingTenderStore) GetTender(ctx context.Context, id string) (market.Tender, error) {
	s.gets.Add(1)
	return s.TenderStore.GetTender(ctx, id)
}

func (s *countingTenderStore) ListTenders(ctx context.Context, f market.TenderFilter) (market.TenderPage, error) {
	s.lists.Add(1)
	return s.TenderStore.ListTenders(ctx, f)
}

func (s *countingTenderStore) CreateBid(ctx context.Context, b *market.Bid, ev market.AuditEvent) error {
	if s.failCreateBid.CompareAndSwap(true, false) {
		return errors.New("connection reset by peer")
	}
	return s.TenderStore.CreateBid(ctx, b, ev)
}

// mustTenderEnv returns a tender env on engine, its views cached in c
// (the accounts env's in-process cache when nil).
func mustTenderEnv(tb testing.TB, engine string, c *cache.Cache) *tenderEnv {
	tb.Helper()
	e := &tenderEnv{acctEnv: mustAccountEnv(tb, engine)}
	if c == nil {
		c = e.cache
	}
	e.store = &countingTenderStore{TenderStore: sqlstore.NewTenderStore(e.db, e.clock)}
	// As cmd wires it: evaluators memoised, every declaration and
	// assignment retiring the memo.
	evals := cache.NewEvaluationStore(sqlstore.NewEvaluationStore(e.db, e.clock), c)
	e.tenders = &market.Tenders{
		Store:           cache.NewTenderStore(e.store, c),
		Declarations:    evals,
		Orgs:            sqlstore.NewOrganisationStore(e.db, e.clock),
		Clock:           e.clock,
		MinTenderPeriod: testMinTenderPeriod,
	}
	e.evaluations = &market.Evaluations{
		Tenders:    e.tenders.Store,
		Store:      evals,
		Users:      e.accounts.Users,
		Clock:      e.clock,
		Standstill: testStandstill,
	}
	e.idem = sqlstore.NewIdempotencyStore(e.db)
	e.audit = sqlstore.NewAuditStore(e.db)
	// The directory's wrappers still invalidate the accounts env's cache;
	// these tests read no directory views.
	e.cfg.Cache = c
	e.cfg.Tenders = e.tenders
	e.cfg.Idempotency = e.idem
	e.cfg.Evaluations = e.evaluations
	e.cfg.Audit = e.audit
	e.cfg.Market = sqlstore.NewMarketStore(e.db)
	e.cfg.OCDS = &ocds.Options{Prefix: "ocds-csmtest", PublisherName: "csmarket", BaseURI: "https://csmarket.example"}
	e.s = newServer(e.cfg)
	return e
}

// set moves the clock to t, backwards too.
func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// market is a marketplace with every kind of caller a tender meets.
type marketWorld struct {
	lead, joint, other, pending actor // CCGs X (lead), J (joint), Z (another), P (pending approval)
	leadEval                    actor // an evaluator of X
	nhs, council, charity, firm actor // suppliers of the four sectors
	operator                    actor
}

func ccgRegistration(name, email, ods string, population int64) registerRequest {
	r := buyerRegistration(name, email, ods)
	r.Organisation.Population = population
	r.Organisation.Regions = []string{"midlands"}
	return r
}

func sectorRegistration(name, email, sector string, id identifierRequest) registerRequest {
	r := supplierRegistration(name, email, id, nil)
	r.Organisation.Sector = sector
	return r
}

func (e *tenderEnv) mustMarket(tb testing.TB) *marketWorld {
	tb.Helper()
	return &marketWorld{
		lead:     e.register(tb, ccgRegistration("NHS Walsall CCG", "lead@nhs.net", "05Y", 250_000)),
		joint:    e.register(tb, ccgRegistration("NHS Wolverhampton CCG", "joint@nhs.net", "06A", 750_000)),
		other:    e.register(tb, ccgRegistration("NHS Dudley CCG", "other@nhs.net", "05C", 300_000)),
		pending:  e.register(tb, ccgRegistration("NHS Pending CCG", "pending@example.org", "05L", 100_000)),
		nhs:      e.register(tb, sectorRegistration("Black Country CSU", "bids@csu.example", "nhs", identifierRequest{Scheme: "GB-NHS", ID: "0DF"})),
		council:  e.register(tb, sectorRegistration("Sandwell Council Commissioning", "bids@council.example", "local_authority", identifierRequest{Scheme: "GB-LAE", ID: "SAW"})),
		charity:  e.register(tb, sectorRegistration("Healthwatch Partners", "bids@charity.example", "third_sector", identifierRequest{Scheme: "GB-CHC", ID: "1123456"})),
		firm:     e.register(tb, sectorRegistration("Meridian Analytics Ltd", "bids@firm.example", "independent", identifierRequest{Scheme: "GB-COH", ID: "09506232"})),
		operator: e.mustOperator(tb),
	}
}

// relogin gives the actors fresh access tokens at the clock's time, after
// a test has moved it further than a token lives.
func (e *tenderEnv) relogin(tb testing.TB, as ...*actor) {
	tb.Helper()
	for _, a := range as {
		n := e.login(tb, a.email)
		a.access, a.refresh = n.access, n.refresh
	}
}

// tenderBody is a tender that meets every publication rule at the clock's
// time when its deadlines are clar and bid.
func tenderBody(title string, clar, bid time.Time, joint ...string) tenderRequest {
	if joint == nil {
		joint = []string{}
	}
	return tenderRequest{
		Title: title, Description: "Dashboards and benchmarking for the boards.",
		Capabilities: []string{"business_intelligence"}, Regions: []string{"midlands"},
		ContractMonths: 24, BudgetPence: 50_000_000,
		ClarificationDeadline: clar.UTC().Format(time.RFC3339Nano), BidDeadline: bid.UTC().Format(time.RFC3339Nano),
		Criteria: []criterionJSON{
			{Key: "price", Name: "Price", Kind: "price", Weight: 40},
			{Key: "approach", Name: "Approach", Kind: "quality", Weight: 45},
			{Key: "social_value", Name: "Social value", Kind: "quality", Weight: 15},
		},
		InHouseBaseline:    &baselineJSON{PricePence: 45_678_901, Scores: map[string]int{"approach": 2, "social_value": 3}},
		JointCommissioners: joint,
	}
}

func bidBody(price int64) bidRequest {
	return bidRequest{PricePence: price, Responses: map[string]string{
		"approach": "Analysts embedded with both CCGs.", "social_value": "Apprenticeships for local people.",
	}}
}

// createTender creates body as a, or fails.
func (e *tenderEnv) createTender(tb testing.TB, a actor, body tenderRequest) tenderResponse {
	tb.Helper()
	res, b := e.do(tb, req{method: http.MethodPost, target: "/api/v1/tenders", token: a.access, body: body})
	want(tb, res, b, http.StatusCreated)
	return mustDecode[tenderResponse](tb, b)
}

// publish publishes tender id as a, or fails.
func (e *tenderEnv) publish(tb testing.TB, a actor, id string) tenderResponse {
	tb.Helper()
	res, b := e.do(tb, req{method: http.MethodPost, target: "/api/v1/tenders/" + id + "/publish", token: a.access})
	want(tb, res, b, http.StatusOK)
	return mustDecode[tenderResponse](tb, b)
}

// publishedTender creates and publishes a tender led by a whose deadlines
// are clar and bid from the clock's time.
func (e *tenderEnv) publishedTender(tb testing.TB, a actor, title string, clar, bid time.Duration, joint ...string) tenderResponse {
	tb.Helper()
	now := e.clock.Now()
	t := e.createTender(tb, a, tenderBody(title, now.Add(clar), now.Add(bid), joint...))
	return e.publish(tb, a, t.ID)
}

// submitBid submits a bid of price as a, or fails.
func (e *tenderEnv) submitBid(tb testing.TB, a actor, tenderID string, price int64) bidResponse {
	tb.Helper()
	res, b := e.do(tb, req{method: http.MethodPost, target: bidsPath(tenderID), token: a.access, body: bidBody(price)})
	want(tb, res, b, http.StatusCreated)
	return mustDecode[bidResponse](tb, b)
}

func tenderPath(id string) string      { return "/api/v1/tenders/" + id }
func bidsPath(id string) string        { return "/api/v1/tenders/" + id + "/bids" }
func bidPath(id, bid string) string    { return "/api/v1/tenders/" + id + "/bids/" + bid }
func questionsPath(id string) string   { return "/api/v1/tenders/" + id + "/questions" }
func answerPath(id, q string) string   { return "/api/v1/tenders/" + id + "/questions/" + q + "/answer" }
func withdrawPath(id, b string) string { return bidPath(id, b) + "/withdraw" }

// secrets are what a refused or public answer must never reveal: bids'
// IDs and prices, the baseline's price, and how many bids there are.
type secrets struct {
	ids    []string
	prices []int64
	count  int
}

// bidKey matches a JSON key that speaks of bids; bid_deadline is the only
// one a tender may carry.
var bidKey = regexp.MustCompile(`(?i)bid`)

// checkReveals fails tb when body reveals any of s.
func checkReveals(tb testing.TB, what string, body []byte, s secrets) {
	tb.Helper()
	// A problem's instance is the path the caller asked for, which may
	// hold a bid ID it already knew; it tells nothing.
	var p map[string]any
	if json.Unmarshal(body, &p) == nil && p["instance"] != nil {
		delete(p, "instance")
		body, _ = json.Marshal(p)
	}
	text := string(body)
	for _, id := range s.ids {
		if strings.Contains(text, id) {
			tb.Errorf("%s reveals the bid ID %s: %.300s", what, id, body)
		}
	}
	for _, p := range s.prices {
		if strings.Contains(text, strconv.FormatInt(p, 10)) {
			tb.Errorf("%s reveals the price %d: %.300s", what, p, body)
		}
	}
	if s.count > 0 {
		countRE := regexp.MustCompile(fmt.Sprintf(`(?i)\b%d\s+(live\s+|submitted\s+)?bids?\b`, s.count))
		if countRE.MatchString(text) {
			tb.Errorf("%s reveals the count of bids: %.300s", what, body)
		}
	}
	if len(body) == 0 {
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		tb.Errorf("%s: not JSON: %v", what, err)
		return
	}
	walkKeys(v, func(k string, val any) {
		if k != "bid_deadline" && bidKey.MatchString(k) {
			tb.Errorf("%s carries the key %q (%v)", what, k, val)
		}
	})
}

func walkKeys(v any, f func(string, any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			f(k, val)
			walkKeys(val, f)
		}
	case []any:
		for _, val := range x {
			walkKeys(val, f)
		}
	}
}

// mustAudit returns the actions of the audit trail of tender id, in order,
// each as "action by organisation".
func (e *tenderEnv) mustAudit(tb testing.TB, tenderID string) []string {
	tb.Helper()
	rows, err := e.db.QueryContext(context.Background(),
		`SELECT action, actor_org FROM audit_events WHERE tender_id = ? ORDER BY seq`, tenderID)
	if err != nil {
		tb.Fatalf("read the audit trail: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var action, org string
		if err := rows.Scan(&action, &org); err != nil {
			tb.Fatal(err)
		}
		out = append(out, action+" by "+org)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func declarePath(id string) string { return "/api/v1/tenders/" + id + "/conflict-declaration" }

// declareNone has a declare no conflict of interest in tender id, which
// it must before it reads the tender's bids, or fails.
func (e *tenderEnv) declareNone(tb testing.TB, a actor, id string) {
	tb.Helper()
	res, b := e.do(tb, req{method: http.MethodPost, target: declarePath(id), token: a.access, body: map[string]any{"conflict": false}})
	want(tb, res, b, http.StatusOK)
}

// declareConflict has a declare a conflict of interest with supplier in
// tender id, or fails.
func (e *tenderEnv) declareConflict(tb testing.TB, a actor, id, supplier string) {
	tb.Helper()
	res, b := e.do(tb, req{method: http.MethodPost, target: declarePath(id), token: a.access,
		body: declarationRequest{Conflict: new(true), Suppliers: []string{supplier}, Details: "My spouse works for the bidder."}})
	want(tb, res, b, http.StatusOK)
}
