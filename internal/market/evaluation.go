package market

import (
	"context"
	"math"
	"slices"
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
// quality total, then earlier submission. Its time grows linearly with
// the scores and, but for the n log n ranking, with the bids
// (BenchmarkCompare, TestCompareGrowth).
func Compare(t *Tender, bids []BidInput, scores []Score, moderations []Moderation, evaluators []Evaluator, commissioners []Organisation) Comparison {
	cmp := Comparison{Criteria: t.Criteria, SectorMix: map[Sector]int{}}
	price, _ := t.PriceCriterion()
	quality := t.QualityCriteria()

	// Evaluators and quality criteria are numbered, so that the sums below
	// are slices per bid rather than maps per score: one lookup of the bid
	// per run of its scores, and two allocations per bid.
	cleared := map[string]int{} // user ID -> number
	for _, e := range evaluators {
		if _, ok := cleared[e.UserID]; e.Cleared() && !ok {
			cleared[e.UserID] = len(cleared)
		}
	}
	critIndex := map[string]int{}
	for i, c := range quality {
		if _, ok := critIndex[c.Key]; !ok {
			critIndex[c.Key] = i
		}
	}
	type acc struct{ sum, n, evaluators int }
	type bidSums struct {
		accs   []acc  // by quality criterion number
		scored []bool // criterion number x evaluator number: has scored
	}
	sums := map[string]*bidSums{}
	var (
		lastBid string
		bs      *bidSums
	)
	for _, s := range scores {
		e, ok := cleared[s.EvaluatorID]
		if !ok {
			continue
		}
		ci, ok := critIndex[s.Criterion]
		if !ok {
			continue // not a quality criterion: never read
		}
		if bs == nil || s.BidID != lastBid {
			lastBid, bs = s.BidID, sums[s.BidID]
			if bs == nil {
				bs = &bidSums{accs: make([]acc, len(quality)), scored: make([]bool, len(quality)*len(cleared))}
				sums[s.BidID] = bs
			}
		}
		a := &bs.accs[ci]
		a.sum += s.Score
		a.n++
		if k := ci*len(cleared) + e; !bs.scored[k] {
			bs.scored[k] = true
			a.evaluators++
		}
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
		r.Scores = make(map[string]float64, len(t.Criteria))
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
			points := round2(q / 4 * float64(c.Weight))
			r.Scores[c.Key] = points
			r.QualityTotal += points
		}
		r.QualityTotal = round2(r.QualityTotal)
		r.Total = round2(r.QualityTotal + r.Scores[price.Key])
		r.OverBudget = t.BudgetPence > 0 && r.PricePence > t.BudgetPence
		if len(commissioners) > 0 {
			r.Shares = make([]CommissionerShare, 0, len(commissioners))
		}
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
		bs := sums[b.Bid.ID]
		mods := moderated[b.Bid.ID]
		row(&r, func(c Criterion) (float64, bool) {
			if m, ok := mods[c.Key]; ok {
				return float64(m), true
			}
			if bs == nil {
				return 0, false
			}
			a := bs.accs[critIndex[c.Key]]
			if a.n == 0 {
				return 0, false
			}
			return float64(a.sum) / float64(a.n), a.evaluators >= len(cleared)
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
// It sorts positions, not rows, with the original position as the last
// tie-break: the order of a stable sort, in n log n time, moving integers
// rather than whole rows.
func rankRows(rows []ComparisonRow) {
	keys := make([]rankKey, len(rows))
	order := make([]int, len(rows))
	for i := range rows {
		keys[i], order[i] = keyOf(&rows[i]), i
	}
	slices.SortFunc(order, func(i, j int) int {
		switch {
		case keys[i].ahead(&keys[j]):
			return -1
		case keys[j].ahead(&keys[i]):
			return 1
		case i < j:
			return -1
		case i > j:
			return 1
		}
		return 0
	})
	sorted := make([]ComparisonRow, len(rows))
	for rank, i := range order {
		sorted[rank] = rows[i]
		sorted[rank].Rank = rank + 1
	}
	copy(rows, sorted)
}

// rankKey is what the ranking compares of a row.
type rankKey struct {
	total, quality float64
	inHouse        bool
	submitted      time.Time
}

func keyOf(r *ComparisonRow) rankKey {
	return rankKey{total: r.Total, quality: r.QualityTotal, inHouse: r.InHouse, submitted: r.SubmittedAt}
}

func ahead(a, b *ComparisonRow) bool {
	ka, kb := keyOf(a), keyOf(b)
	return ka.ahead(&kb)
}

func (a *rankKey) ahead(b *rankKey) bool {
	if a.total != b.total {
		return a.total > b.total
	}
	if a.quality != b.quality {
		return a.quality > b.quality
	}
	if a.inHouse != b.inHouse {
		return !a.inHouse
	}
	return a.submitted.Before(b.submitted)
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
	// Each row's price points and quality total, read once: the loop below
	// reweights every row for up to 80 weights.
	type points struct {
		price, quality float64
		key            rankKey
	}
	pts := make([]points, len(rows))
	for i := range rows {
		pts[i] = points{price: rows[i].Scores[price.Key], quality: rows[i].QualityTotal, key: keyOf(&rows[i])}
	}
	leads := func(w int) bool {
		total := func(r *points) rankKey {
			var q float64
			if qualityWeight > 0 {
				q = r.quality * float64(100-w) / float64(qualityWeight)
			}
			p := 0.0
			if price.Weight > 0 {
				p = r.price * float64(w) / float64(price.Weight)
			}
			k := r.key
			k.total, k.quality = round2(p+q), round2(q)
			return k
		}
		l := total(&pts[0])
		for i := 1; i < len(pts); i++ {
			if a := total(&pts[i]); a.ahead(&l) {
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
	// ListScoreValues returns every score of a tender without its
	// justification and time, for the comparison.
	ListScoreValues(ctx context.Context, tenderID string) ([]Score, error)
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
