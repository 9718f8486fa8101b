package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
)

// comparisonResponse is the side-by-side table of a closed tender's bids
// and the in-house option, as DESIGN.md's formulas give it.
type comparisonResponse struct {
	TenderID         string              `json:"tender_id"`
	Status           string              `json:"status"`
	Criteria         []criterionJSON     `json:"criteria"`
	BudgetPence      int64               `json:"budget_pence"`
	LowestPricePence int64               `json:"lowest_price_pence"`
	Rows             []comparisonRowJSON `json:"rows"`
	Sensitivity      sensitivityJSON     `json:"sensitivity"`
	SectorMix        map[string]int      `json:"sector_mix"`
}

type comparisonRowJSON struct {
	BidID        string             `json:"bid_id,omitempty"`
	InHouse      bool               `json:"in_house"`
	Supplier     rowSupplierJSON    `json:"supplier"`
	PricePence   int64              `json:"price_pence"`
	Scores       map[string]float64 `json:"scores"`
	QualityTotal float64            `json:"quality_total"`
	Total        float64            `json:"total"`
	Rank         int                `json:"rank"`
	OverBudget   bool               `json:"over_budget"`
	Incomplete   bool               `json:"incomplete"`
	SubmittedAt  string             `json:"submitted_at,omitempty"`
	Shares       []shareJSON        `json:"shares"`
}

// rowSupplierJSON is a row's supplier; the in-house row has a name only.
type rowSupplierJSON struct {
	ID     string `json:"id,omitempty"`
	Name   string `json:"name"`
	Sector string `json:"sector,omitempty"`
}

// shareJSON is one joint commissioner's part of a row's price, and what
// that part leaves of its yearly running-cost allowance.
type shareJSON struct {
	OrganisationID     string `json:"organisation_id"`
	Name               string `json:"name"`
	SharePPM           int64  `json:"share_ppm"`
	PricePence         int64  `json:"price_pence"`
	AllowanceLeftPence int64  `json:"allowance_left_pence"`
}

type sensitivityJSON struct {
	LeaderBidID     string `json:"leader_bid_id,omitempty"`
	LeaderInHouse   bool   `json:"leader_in_house"`
	PriceWeight     int    `json:"price_weight"`
	PriceWeightLow  int    `json:"price_weight_low"`
	PriceWeightHigh int    `json:"price_weight_high"`
}

func toComparison(t *market.Tender, cmp market.Comparison, now time.Time) comparisonResponse {
	r := comparisonResponse{
		TenderID: t.ID, Status: string(t.Status(now)), Criteria: toCriteria(cmp.Criteria),
		BudgetPence: t.BudgetPence, LowestPricePence: cmp.LowestPrice,
		Rows: make([]comparisonRowJSON, len(cmp.Rows)),
		Sensitivity: sensitivityJSON{
			LeaderBidID: cmp.Sensitivity.LeaderBidID, LeaderInHouse: cmp.Sensitivity.LeaderInHouse,
			PriceWeight: cmp.Sensitivity.PriceWeight, PriceWeightLow: cmp.Sensitivity.PriceWeightLow, PriceWeightHigh: cmp.Sensitivity.PriceWeightHigh,
		},
		SectorMix: map[string]int{},
	}
	for _, sec := range market.Sectors {
		r.SectorMix[string(sec)] = cmp.SectorMix[sec]
	}
	for i, row := range cmp.Rows {
		shares := make([]shareJSON, len(row.Shares))
		for j, sh := range row.Shares {
			shares[j] = shareJSON{OrganisationID: sh.OrganisationID, Name: sh.Name, SharePPM: sh.SharePPM,
				PricePence: sh.PricePence, AllowanceLeftPence: sh.AllowanceLeftPence}
		}
		r.Rows[i] = comparisonRowJSON{
			BidID: row.BidID, InHouse: row.InHouse,
			Supplier:   rowSupplierJSON{ID: row.SupplierID, Name: row.SupplierName, Sector: string(row.Sector)},
			PricePence: row.PricePence, Scores: nonNilScores(row.Scores),
			QualityTotal: row.QualityTotal, Total: row.Total, Rank: row.Rank,
			OverBudget: row.OverBudget, Incomplete: row.Incomplete,
			SubmittedAt: rfc3339Milli(row.SubmittedAt), Shares: shares,
		}
	}
	return r
}

// comparisonCSV writes the table of r as CSV: a header row, then one row
// per bid and the in-house row, in rank order. Text a spreadsheet would
// read as a formula is prefixed with a quote.
func comparisonCSV(r *comparisonResponse) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	header := []string{"rank", "bid_id", "in_house", "supplier_id", "supplier_name", "sector", "price_pence"}
	for _, c := range r.Criteria {
		header = append(header, "score:"+c.Key)
	}
	header = append(header, "quality_total", "total", "over_budget", "incomplete", "submitted_at")
	if len(r.Rows) > 0 {
		for _, sh := range r.Rows[0].Shares {
			header = append(header, "share_pence:"+sh.Name, "allowance_left_pence:"+sh.Name)
		}
	}
	w.Write(safeCells(header))
	for _, row := range r.Rows {
		rec := []string{
			strconv.Itoa(row.Rank), row.BidID, strconv.FormatBool(row.InHouse), row.Supplier.ID, row.Supplier.Name,
			row.Supplier.Sector, strconv.FormatInt(row.PricePence, 10),
		}
		for _, c := range r.Criteria {
			rec = append(rec, formatPoints(row.Scores[c.Key]))
		}
		rec = append(rec, formatPoints(row.QualityTotal), formatPoints(row.Total),
			strconv.FormatBool(row.OverBudget), strconv.FormatBool(row.Incomplete), row.SubmittedAt)
		for _, sh := range row.Shares {
			rec = append(rec, strconv.FormatInt(sh.PricePence, 10), strconv.FormatInt(sh.AllowanceLeftPence, 10))
		}
		w.Write(safeCells(rec))
	}
	w.Flush()
	return buf.Bytes()
}

// formatPoints writes points as JSON does: 40, 33.75.
func formatPoints(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// safeCells defuses formula injection (CWE-1236): a cell starting with
// = + - @, a tab or a carriage return is prefixed with a single quote, so
// that a spreadsheet shows a supplier's name rather than running it. A
// number (a negative allowance left) is left as it is: no spreadsheet
// runs one.
func safeCells(rec []string) []string {
	for i, v := range rec {
		if v == "" || !strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			continue
		}
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			continue
		}
		rec[i] = "'" + v
	}
	return rec
}

var csvContentType = []string{"text/csv; charset=utf-8"}

// getComparison serves the comparison as JSON, or as CSV with
// ?format=csv. It is private to the tender's cleared commissioners and
// evaluators: never cached outside this process. Within it, the built
// table is kept (see comparisonMemo), since every reader of a tender sees
// the same one.
func (s *server) getComparison(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	format := "json"
	q, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		s.fail(c, market.Invalid("query", "is not valid URL encoding"))
		return
	}
	switch vs := q["format"]; {
	case len(vs) > 1:
		s.fail(c, market.Invalid("format", "must be given at most once"))
		return
	case len(vs) == 1 && vs[0] == "csv":
		format = "csv"
	case len(vs) == 1 && vs[0] != "" && vs[0] != "json":
		s.fail(c, market.Invalid("format", "must be json or csv"))
		return
	}
	ctx := c.Request.Context()
	t, es, err := s.evaluations.CompareAccess(ctx, principal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	built, err := s.comparisons.get(ctx, &t, es, func(ctx context.Context) (*builtComparison, error) {
		cmp, err := s.evaluations.Comparison(ctx, &t, es)
		if err != nil {
			return nil, err
		}
		r := toComparison(&t, cmp, s.now())
		body, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		return &builtComparison{json: body, csv: comparisonCSV(&r)}, nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h["Cache-Control"] = noStore
	body := built.json
	h["Content-Type"] = jsonContentType
	if format == "csv" {
		body = built.csv
		h["Content-Type"] = csvContentType
		h["Content-Disposition"] = []string{`attachment; filename="comparison-` + t.ID + `.csv"`}
	}
	c.Writer.WriteHeader(http.StatusOK)
	c.Writer.Write(body)
}

// builtComparison is a comparison rendered both ways.
type builtComparison struct {
	json, csv []byte
}

// comparisonMemo keeps, in this process only, the last comparison built
// for each recent tender, under a key that changes whenever anything it
// was built from may have: the tender's version (every award write bumps
// it), the evaluators and their declarations, a scoring stamp that every
// score and moderation write renews (in the shared cache, so that a write
// on any replica renews it for all), and the directory's stamp (names,
// sectors, populations). A comparison of 1,000 bids reads 45,000 scores
// and a thousand suppliers; with the memo a reader costs the checks of
// CompareAccess and two cache hits. The memo never leaves the process:
// the comparison is private, and only its readers' rule is shared.
type comparisonMemo struct {
	cache   *cache.Cache
	entries *lru.Cache[string, *memoEntry] // tender ID -> its last comparison
	flights singleflight.Group
}

type memoEntry struct {
	key   string
	built *builtComparison
}

// memoTenders bounds how many tenders' comparisons one process keeps.
const memoTenders = 64

// stampTTL bounds a stamp's life; a stamp that expires only costs one
// rebuild.
const stampTTL = time.Hour

func scoringNS(tenderID string) string { return "scoring:" + tenderID }

// withComparisonMemo returns a copy of ev whose Store renews the scoring
// stamp after each write, and the memo that relies on it.
func withComparisonMemo(ev *market.Evaluations, c *cache.Cache) (*market.Evaluations, *comparisonMemo) {
	entries, _ := lru.New[string, *memoEntry](memoTenders)
	m := &comparisonMemo{cache: c, entries: entries}
	cp := *ev
	if cp.Store != nil {
		cp.Store = stampingStore{EvaluationStore: cp.Store, c: c}
	}
	return &cp, m
}

// stamp returns the current stamp of ns, making one when there is none.
func (m *comparisonMemo) stamp(ctx context.Context, ns string) (string, error) {
	e, err := m.cache.Fetch(ctx, ns, "stamp", stampTTL, newStamp)
	return string(e.Body), err
}

// newStamp makes a stamp no earlier one equals.
func newStamp(context.Context) ([]byte, error) {
	var b [12]byte
	rand.Read(b[:])
	return []byte(hex.EncodeToString(b[:])), nil
}

// get returns the memo's comparison of t for es when it is current, and
// otherwise builds, keeps and returns a new one; concurrent readers of one
// tender share one build.
func (m *comparisonMemo) get(ctx context.Context, t *market.Tender, es []market.Evaluator, build func(context.Context) (*builtComparison, error)) (*builtComparison, error) {
	// The stamps are read before the data the build reads, so that a write
	// landing in between only makes the next reader rebuild.
	scoring, err := m.stamp(ctx, scoringNS(t.ID))
	if err != nil {
		return nil, err
	}
	dir, err := m.stamp(ctx, cache.NSProviders)
	if err != nil {
		return nil, err
	}
	var key strings.Builder
	key.WriteString(strconv.FormatInt(t.Version, 10))
	key.WriteString("|" + scoring + "|" + dir)
	for _, e := range es {
		key.WriteString("|" + e.UserID + ":" + strconv.FormatBool(e.Cleared()))
	}
	k := key.String()
	if e, ok := m.entries.Get(t.ID); ok && e.key == k {
		return e.built, nil
	}
	v, err, _ := m.flights.Do(t.ID+"\x00"+k, func() (any, error) {
		b, err := build(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		m.entries.Add(t.ID, &memoEntry{key: k, built: b})
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*builtComparison), nil
}

// stampingStore renews a tender's scoring stamp after each evaluation
// write, as the cache's store wrappers invalidate the public views.
type stampingStore struct {
	market.EvaluationStore
	c *cache.Cache
}

func (s stampingStore) renew(ctx context.Context, tenderID string) {
	// A failed renewal is logged and retried by the cache itself.
	_ = s.c.Invalidate(context.WithoutCancel(ctx), scoringNS(tenderID))
}

func (s stampingStore) AssignEvaluator(ctx context.Context, e *market.Evaluator, ev market.AuditEvent) error {
	err := s.EvaluationStore.AssignEvaluator(ctx, e, ev)
	if err == nil {
		s.renew(ctx, e.TenderID)
	}
	return err
}

func (s stampingStore) DeclareConflicts(ctx context.Context, e *market.Evaluator, ev market.AuditEvent) error {
	err := s.EvaluationStore.DeclareConflicts(ctx, e, ev)
	if err == nil {
		s.renew(ctx, e.TenderID)
	}
	return err
}

func (s stampingStore) PutScores(ctx context.Context, scores []market.Score, ev market.AuditEvent) error {
	err := s.EvaluationStore.PutScores(ctx, scores, ev)
	if err == nil {
		s.renew(ctx, ev.TenderID)
	}
	return err
}

func (s stampingStore) PutModeration(ctx context.Context, m *market.Moderation, ev market.AuditEvent) error {
	err := s.EvaluationStore.PutModeration(ctx, m, ev)
	if err == nil {
		s.renew(ctx, m.TenderID)
	}
	return err
}
