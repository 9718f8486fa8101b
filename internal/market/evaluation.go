package market

import (
	"context"
	"math"
	"sort"
	"strings"
	"time"
)

// DefaultStandstill is the pause between the award decision and the final
// award, during which the decision can be challenged and revoked.
const DefaultStandstill = 240 * time.Hour

// Evaluator is a user assigned to score a tender's bids, with its
// declaration of conflicts of interest. Until it has declared, it sees no
// bid content; a declared conflict bars it from the tender's bids and
// scores altogether.
type Evaluator struct {
	TenderID          string
	UserID            string
	OrganisationID    string
	Assigned          bool // may score; a commissioner's buyer may declare without being assigned, to read bids
	AssignedBy        string
	AssignedAt        time.Time
	DeclaredAt        time.Time // zero until declared
	Conflict          bool
	ConflictSuppliers []string // supplier organisation IDs
	ConflictDetails   string
}

// Cleared reports whether the evaluator may read bids and score: declared,
// with no conflict.
func (e *Evaluator) Cleared() bool { return !e.DeclaredAt.IsZero() && !e.Conflict }

// Score is one evaluator's score of one bid on one quality criterion.
type Score struct {
	TenderID      string
	BidID         string
	EvaluatorID   string // user ID
	Criterion     string
	Score         int // 0 unacceptable .. 4 excellent
	Justification string
	UpdatedAt     time.Time
}

// Moderation is the lead buyer's moderated score of a bid on a criterion,
// which replaces the evaluators' mean, with the reason.
type Moderation struct {
	TenderID  string
	BidID     string
	Criterion string
	Score     int
	Reason    string
	By        string
	At        time.Time
}

// Limits on scoring text.
const (
	MaxJustificationLen = 4000
	MaxReasonLen        = 4000
)

// CommissionerShare is one joint commissioner's part of a price.
type CommissionerShare struct {
	OrganisationID string
	Name           string
	SharePPM       int64
	PricePence     int64 // its share of the price
	// AllowanceLeftPence is what the share leaves of the commissioner's
	// yearly running-cost allowance (population x allowance per head);
	// negative when the share alone exceeds it.
	AllowanceLeftPence int64
}

// ComparisonRow is one bid, or the in-house baseline, in the comparison.
type ComparisonRow struct {
	BidID        string // "" for the in-house row
	InHouse      bool
	SupplierID   string
	SupplierName string
	Sector       Sector
	PricePence   int64
	Scores       map[string]float64 // criterion key -> points
	QualityTotal float64
	Total        float64
	Rank         int
	OverBudget   bool
	Incomplete   bool // not every cleared evaluator has scored every quality criterion
	SubmittedAt  time.Time
	Shares       []CommissionerShare
}

// Sensitivity says how robust the leader is to the weight of price: the
// range of price weights (quality weights scaled to fill the rest) over
// which the current leader stays first.
type Sensitivity struct {
	LeaderBidID     string
	LeaderInHouse   bool
	PriceWeight     int
	PriceWeightLow  int
	PriceWeightHigh int
}

// Comparison is the side-by-side table of a closed tender's bids.
type Comparison struct {
	Criteria    []Criterion
	LowestPrice int64
	Rows        []ComparisonRow
	Sensitivity Sensitivity
	SectorMix   map[Sector]int // submitted bids by sector
}

// round2 keeps two decimals, so that totals read as a person would work
// them out by hand.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// BidInput is what Compare needs of a bid.
type BidInput struct {
	Bid      Bid
	Supplier Organisation
}

// Compare builds the comparison by the formulas of the design: price score
// = lowest price / bid price x weight, the lowest among submitted bids (the
// in-house baseline is scored against that same lowest and never changes
// it); quality score = mean score of the cleared evaluators who scored it
// (or the moderated score) / 4 x weight; total = sum; ranked by total, then
// quality total, then earlier submission. It runs in time linear in the
// number of bids and scores.
func Compare(t *Tender, bids []BidInput, scores []Score, moderations []Moderation, evaluators []Evaluator, commissioners []Organisation) Comparison {
	cmp := Comparison{Criteria: t.Criteria, SectorMix: map[Sector]int{}}
	price, _ := t.PriceCriterion()
	quality := t.QualityCriteria()

	cleared := map[string]bool{}
	for _, e := range evaluators {
		if e.Cleared() {
			cleared[e.UserID] = true
		}
	}
	type acc struct {
		sum, n int
		by     map[string]bool
	}
	sums := map[string]map[string]*acc{} // bid -> criterion -> sum
	for _, s := range scores {
		if !cleared[s.EvaluatorID] {
			continue
		}
		m := sums[s.BidID]
		if m == nil {
			m = map[string]*acc{}
			sums[s.BidID] = m
		}
		a := m[s.Criterion]
		if a == nil {
			a = &acc{by: map[string]bool{}}
			m[s.Criterion] = a
		}
		a.sum += s.Score
		a.n++
		a.by[s.EvaluatorID] = true
	}
	moderated := map[string]map[string]int{}
	for _, m := range moderations {
		if moderated[m.BidID] == nil {
			moderated[m.BidID] = map[string]int{}
		}
		moderated[m.BidID][m.Criterion] = m.Score
	}

	var lowest int64
	for _, b := range bids {
		if b.Bid.Status == BidSubmitted && (lowest == 0 || b.Bid.PricePence < lowest) {
			lowest = b.Bid.PricePence
		}
	}
	cmp.LowestPrice = lowest
	shares := CostShares(commissioners)

	row := func(r *ComparisonRow, qualityScore func(Criterion) (float64, bool)) {
		r.Scores = map[string]float64{}
		if lowest > 0 && r.PricePence > 0 {
			r.Scores[price.Key] = round2(float64(lowest) / float64(r.PricePence) * float64(price.Weight))
		} else {
			r.Scores[price.Key] = 0
		}
		for _, c := range quality {
			q, ok := qualityScore(c)
			if !ok {
				r.Incomplete = true
			}
			r.Scores[c.Key] = round2(q / 4 * float64(c.Weight))
			r.QualityTotal += r.Scores[c.Key]
		}
		r.QualityTotal = round2(r.QualityTotal)
		r.Total = round2(r.QualityTotal + r.Scores[price.Key])
		r.OverBudget = t.BudgetPence > 0 && r.PricePence > t.BudgetPence
		for _, o := range commissioners {
			part := r.PricePence * shares[o.ID] / 1_000_000
			r.Shares = append(r.Shares, CommissionerShare{
				OrganisationID: o.ID, Name: o.Name, SharePPM: shares[o.ID], PricePence: part,
				AllowanceLeftPence: o.RunningCostAllowancePence() - part,
			})
		}
	}

	for _, b := range bids {
		if b.Bid.Status != BidSubmitted {
			continue
		}
		cmp.SectorMix[b.Supplier.Sector]++
		r := ComparisonRow{
			BidID: b.Bid.ID, SupplierID: b.Supplier.ID, SupplierName: b.Supplier.Name, Sector: b.Supplier.Sector,
			PricePence: b.Bid.PricePence, SubmittedAt: b.Bid.SubmittedAt,
		}
		byCrit := sums[b.Bid.ID]
		row(&r, func(c Criterion) (float64, bool) {
			if m, ok := moderated[b.Bid.ID][c.Key]; ok {
				return float64(m), true
			}
			a := byCrit[c.Key]
			if a == nil || a.n == 0 {
				return 0, false
			}
			return float64(a.sum) / float64(a.n), len(a.by) >= len(cleared)
		})
		cmp.Rows = append(cmp.Rows, r)
	}
	if t.Baseline != nil {
		r := ComparisonRow{InHouse: true, SupplierName: "In-house option", PricePence: t.Baseline.PricePence}
		row(&r, func(c Criterion) (float64, bool) {
			s, ok := t.Baseline.Scores[c.Key]
			return float64(s), ok
		})
		cmp.Rows = append(cmp.Rows, r)
	}
	rankRows(cmp.Rows)
	cmp.Sensitivity = sensitivity(t, cmp.Rows)
	return cmp
}

// rankRows sorts by total, then quality total, then earlier submission,
// with the in-house row after any bid it ties with, and numbers the ranks.
func rankRows(rows []ComparisonRow) {
	sort.SliceStable(rows, func(i, j int) bool { return ahead(&rows[i], &rows[j]) })
	for i := range rows {
		rows[i].Rank = i + 1
	}
}

func ahead(a, b *ComparisonRow) bool {
	if a.Total != b.Total {
		return a.Total > b.Total
	}
	if a.QualityTotal != b.QualityTotal {
		return a.QualityTotal > b.QualityTotal
	}
	if a.InHouse != b.InHouse {
		return !a.InHouse
	}
	return a.SubmittedAt.Before(b.SubmittedAt)
}

// sensitivity reweights the rows for every price weight from 10 to 90,
// quality weights scaled in proportion to fill the rest, and finds the
// contiguous range around the tender's own price weight over which the
// leader stays first.
func sensitivity(t *Tender, rows []ComparisonRow) Sensitivity {
	price, ok := t.PriceCriterion()
	if !ok || len(rows) == 0 {
		return Sensitivity{}
	}
	leader := rows[0]
	s := Sensitivity{LeaderBidID: leader.BidID, LeaderInHouse: leader.InHouse, PriceWeight: price.Weight,
		PriceWeightLow: price.Weight, PriceWeightHigh: price.Weight}
	qualityWeight := 100 - price.Weight
	leads := func(w int) bool {
		total := func(r *ComparisonRow) (float64, float64) {
			var q float64
			if qualityWeight > 0 {
				q = r.QualityTotal * float64(100-w) / float64(qualityWeight)
			}
			p := 0.0
			if price.Weight > 0 {
				p = r.Scores[price.Key] * float64(w) / float64(price.Weight)
			}
			return round2(p + q), round2(q)
		}
		lt, lq := total(&leader)
		for i := 1; i < len(rows); i++ {
			rt, rq := total(&rows[i])
			a := ComparisonRow{Total: rt, QualityTotal: rq, InHouse: rows[i].InHouse, SubmittedAt: rows[i].SubmittedAt}
			l := ComparisonRow{Total: lt, QualityTotal: lq, InHouse: leader.InHouse, SubmittedAt: leader.SubmittedAt}
			if ahead(&a, &l) {
				return false
			}
		}
		return true
	}
	for w := price.Weight - 1; w >= 10 && leads(w); w-- {
		s.PriceWeightLow = w
	}
	for w := price.Weight + 1; w <= 90 && leads(w); w++ {
		s.PriceWeightHigh = w
	}
	return s
}

// EvaluationStore keeps evaluators, scores, moderations and award
// decisions, each write with its audit event in one transaction.
type EvaluationStore interface {
	// AssignEvaluator adds an evaluator to a tender. ECONFLICT when the
	// user is already assigned.
	AssignEvaluator(ctx context.Context, e *Evaluator, ev AuditEvent) error
	// ListEvaluators returns a tender's evaluators, in assignment order.
	ListEvaluators(ctx context.Context, tenderID string) ([]Evaluator, error)
	// GetEvaluator returns a user's record for a tender. ENOTFOUND.
	GetEvaluator(ctx context.Context, tenderID, userID string) (Evaluator, error)
	// DeclareConflicts records a declaration, once, inserting the record
	// when there is none (a buyer declaring to read bids, or the tender's
	// creator, an evaluator by default). ECONFLICT when it already declared.
	DeclareConflicts(ctx context.Context, e *Evaluator, ev AuditEvent) error
	// PutScores replaces an evaluator's scores of one bid.
	PutScores(ctx context.Context, scores []Score, ev AuditEvent) error
	// ListScores returns every score of a tender.
	ListScores(ctx context.Context, tenderID string) ([]Score, error)
	// PutModeration records (or replaces) a moderated score.
	PutModeration(ctx context.Context, m *Moderation, ev AuditEvent) error
	// ListModerations returns a tender's moderated scores.
	ListModerations(ctx context.Context, tenderID string) ([]Moderation, error)
}

// Award records which bid won, for the standstill and the final award.
type Award struct {
	TenderID  string
	BidID     string
	Reason    string
	DecidedBy string
	DecidedAt time.Time
	RevokedAt time.Time
}

// CheckReason returns an EINVALID error naming field unless reason is
// given and not too long.
func CheckReason(field, reason string) error {
	if r := strings.TrimSpace(reason); r == "" || len(r) > MaxReasonLen {
		return Invalid(field, "a reason of 1 to %d characters is required", MaxReasonLen)
	}
	return nil
}
