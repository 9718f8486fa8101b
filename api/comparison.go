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
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
)

// comparisonResponse is the side-by-side table of a closed tender's bids
// and the in-house option, as DESIGN.md's formulas give it: one page of
// its rows in rank order, with every fact about the whole table (the
// lowest price, the sensitivity, the sector mix, how many rows there are
// and where the in-house option ranks) on every page.
type comparisonResponse struct {
	TenderID         string              `json:"tender_id"`
	Status           string              `json:"status"`
	Criteria         []criterionJSON     `json:"criteria"`
	BudgetPence      int64               `json:"budget_pence"`
	LowestPricePence int64               `json:"lowest_price_pence"`
	Rows             []comparisonRowJSON `json:"rows"`
	Sensitivity      sensitivityJSON     `json:"sensitivity"`
	SectorMix        map[string]int      `json:"sector_mix"`
	TotalRows        int                 `json:"total_rows"`
	InHouseRank      int                 `json:"in_house_rank,omitempty"`
	NextCursor       string              `json:"next_cursor,omitempty"`
}

// Comparison page sizes. A buyer reads the leaders first; a whole table
// of a thousand bids is 780 KB of JSON, which ?format=csv gives at once.
const (
	defaultComparisonPage = 50
	maxComparisonPage     = 1000
)

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
		SectorMix: map[string]int{}, TotalRows: len(cmp.Rows),
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
		if row.InHouse {
			r.InHouseRank = row.Rank
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

// getComparison serves a page of the comparison as JSON (page_size rows
// from the cursor on, in rank order), or the whole table as CSV with
// ?format=csv. It is private to the tender's cleared commissioners and
// evaluators: never cached outside this process. Within it, the built
// table is kept (see comparisonMemo), since every reader of a tender sees
// the same one; a page is written from it without re-encoding any row.
func (s *server) getComparison(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	q, err := parseComparisonQuery(c.Request.URL.RawQuery)
	if err != nil {
		s.fail(c, err)
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
		return buildComparison(&r)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h["Cache-Control"] = noStore
	if q.csv {
		h["Content-Type"] = csvContentType
		h["Content-Disposition"] = []string{`attachment; filename="comparison-` + t.ID + `.csv"`}
		c.Writer.WriteHeader(http.StatusOK)
		c.Writer.Write(built.csvBytes())
		return
	}
	head, rows, tail := built.page(string(t.Status(s.now())), q.offset, q.size)
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(head) + len(rows) + len(tail))}
	c.Writer.WriteHeader(http.StatusOK)
	c.Writer.Write(head)
	c.Writer.Write(rows)
	c.Writer.Write(tail)
}

// comparisonQuery is what a comparison request asks for.
type comparisonQuery struct {
	csv    bool
	offset int // rows skipped, from the cursor
	size   int
}

var comparisonParams = []string{"format", "cursor", "page_size"}

// parseComparisonQuery reads format, cursor and page_size, naming each
// bad one. The cursor holds the offset of the page's first row.
func parseComparisonQuery(raw string) (comparisonQuery, error) {
	var (
		cq = comparisonQuery{size: defaultComparisonPage}
		p  market.Problems
	)
	q, err := url.ParseQuery(raw)
	if err != nil {
		return cq, market.Invalid("query", "is not valid URL encoding")
	}
	for _, name := range comparisonParams {
		vs := q[name]
		if len(vs) > 1 {
			p.Add(name, "must be given at most once")
			continue
		}
		if len(vs) == 0 || vs[0] == "" {
			continue
		}
		switch v := vs[0]; name {
		case "format":
			switch v {
			case "csv":
				cq.csv = true
			case "json":
			default:
				p.Add("format", "must be json or csv")
			}
		case "cursor":
			n, ok := decodeOffset(v)
			if !ok {
				p.Add("cursor", "is not a cursor this API gave out")
				continue
			}
			cq.offset = n
		case "page_size":
			n, err := strconv.Atoi(v)
			if err != nil {
				p.Add("page_size", "must be an integer")
			} else if n < 1 || n > maxComparisonPage {
				p.Add("page_size", "must be between 1 and %d", maxComparisonPage)
			} else {
				cq.size = n
			}
		}
	}
	return cq, p.Err()
}

// A comparison cursor is the offset of the next page's first row, in the
// opaque form of every cursor.
func encodeOffset(n int) string { return market.EncodeCursor("row", strconv.Itoa(n)) }

func decodeOffset(s string) (int, bool) {
	keys, err := market.DecodeCursor(s)
	if err != nil || len(keys) != 2 || keys[0] != "row" {
		return 0, false
	}
	n, err := strconv.Atoi(keys[1])
	if err != nil || n < 1 || strconv.Itoa(n) != keys[1] {
		return 0, false
	}
	return n, true
}

// builtComparison is a comparison rendered as the pieces of its JSON
// pages: the encoded rows one after another, comma-separated, with where
// each starts, and the members before and after the rows; and as CSV,
// made at the first request for it, since most readers never ask.
type builtComparison struct {
	table    *comparisonResponse
	csvOnce  sync.Once
	csv      []byte
	tenderID []byte // JSON string
	before   []byte // criteria, budget and lowest price members
	rows     []byte // every row, comma-separated
	starts   []int  // where each row starts in rows, and len(rows)+1
	after    []byte // sensitivity, sector mix, total rows, in-house rank members
}

// csvBytes returns the table as CSV, made once.
func (b *builtComparison) csvBytes() []byte {
	b.csvOnce.Do(func() { b.csv = comparisonCSV(b.table) })
	return b.csv
}

// buildComparison renders r, the whole table, as JSON pieces, keeping r
// for the CSV.
func buildComparison(r *comparisonResponse) (*builtComparison, error) {
	b := &builtComparison{table: r, starts: make([]int, 0, len(r.Rows)+1)}
	var err error
	if b.tenderID, err = json.Marshal(r.TenderID); err != nil {
		return nil, err
	}
	if b.before, err = members(struct {
		Criteria         []criterionJSON `json:"criteria"`
		BudgetPence      int64           `json:"budget_pence"`
		LowestPricePence int64           `json:"lowest_price_pence"`
	}{r.Criteria, r.BudgetPence, r.LowestPricePence}); err != nil {
		return nil, err
	}
	if b.after, err = members(struct {
		Sensitivity sensitivityJSON `json:"sensitivity"`
		SectorMix   map[string]int  `json:"sector_mix"`
		TotalRows   int             `json:"total_rows"`
		InHouseRank int             `json:"in_house_rank,omitempty"`
	}{r.Sensitivity, r.SectorMix, r.TotalRows, r.InHouseRank}); err != nil {
		return nil, err
	}
	for i := range r.Rows {
		row, err := json.Marshal(&r.Rows[i])
		if err != nil {
			return nil, err
		}
		b.starts = append(b.starts, len(b.rows))
		b.rows = append(append(b.rows, row...), ',')
	}
	b.starts = append(b.starts, len(b.rows))
	return b, nil
}

// members is the JSON object v without its braces.
func members(v any) ([]byte, error) {
	o, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return o[1 : len(o)-1], nil
}

// page returns the JSON page of up to size rows from offset on, in three
// parts to write one after another; the rows are not copied.
func (b *builtComparison) page(status string, offset, size int) (head, rows, tail []byte) {
	n := len(b.starts) - 1
	from := min(offset, n)
	to := min(from+size, n)
	head = make([]byte, 0, 64+len(b.tenderID)+len(b.before))
	head = append(head, `{"tender_id":`...)
	head = append(head, b.tenderID...)
	head = append(head, `,"status":`...)
	head = strconv.AppendQuote(head, status) // a plain lower-case word
	head = append(head, ',')
	head = append(head, b.before...)
	head = append(head, `,"rows":[`...)
	if to > from {
		rows = b.rows[b.starts[from] : b.starts[to]-1] // without the last comma
	}
	tail = make([]byte, 0, 48+len(b.after))
	tail = append(tail, "],"...)
	tail = append(tail, b.after...)
	if to < n {
		tail = append(tail, `,"next_cursor":"`...)
		tail = append(tail, encodeOffset(to)...)
		tail = append(tail, '"')
	}
	tail = append(tail, '}')
	return head, rows, tail
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
