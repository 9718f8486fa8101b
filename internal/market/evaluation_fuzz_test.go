package market

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"
	"time"
)

// fuzzBytes hands out values from a fuzzer's bytes, zeros once they run
// out, so that every input builds something.
type fuzzBytes struct{ b []byte }

func (r *fuzzBytes) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// intn is in [0, n).
func (r *fuzzBytes) intn(n int) int { return int(r.byte()) % n }

func (r *fuzzBytes) bool() bool { return r.byte()&1 == 1 }

// int64 reads eight bytes, big-endian.
func (r *fuzzBytes) int64() int64 {
	var b [8]byte
	for i := range b {
		b[i] = r.byte()
	}
	return int64(binary.BigEndian.Uint64(b[:]))
}

// between is in [lo, hi], small values as likely as large ones: a byte
// picks how many bits the value may have.
func (r *fuzzBytes) between(lo, hi int64) int64 {
	span := uint64(hi - lo)
	bits := r.byte() % 64
	v := uint64(r.int64()) & (1<<bits - 1)
	if span < math.MaxUint64 {
		v %= span + 1
	}
	return lo + int64(v)
}

// compareInput is what Compare is given for one closed tender, built as
// the rules let a tender reach its comparison: published (one price
// criterion weighing 10 to 90, at least one quality criterion, weights of
// at least 1 adding up to 100, a baseline scoring every quality criterion
// 0 to 4), bids priced 1p to the maximum, scores and moderations 0 to 4,
// commissioners that registration accepted.
type compareInput struct {
	tender        Tender
	bids          []BidInput
	scores        []Score
	moderations   []Moderation
	evaluators    []Evaluator
	commissioners []Organisation
}

var fuzzT0 = time.Date(2025, 11, 20, 9, 30, 0, 0, time.UTC)

func newCompareInput(data []byte) compareInput {
	r := &fuzzBytes{b: data}
	var in compareInput
	t := &in.tender
	t.ID, t.BuyerID = "t1", "ccg0"
	t.BudgetPence = r.between(1, MaxBudgetPence)
	t.PublishedAt, t.BidDeadline = fuzzT0, fuzzT0.Add(time.Hour)

	nq := 1 + r.intn(6)
	priceWeight := 10 + r.intn(81)
	weights := make([]int, nq)
	left := 100 - priceWeight - nq
	for i := range weights {
		weights[i] = 1
		if i == nq-1 {
			weights[i] += left
		} else if left > 0 {
			x := r.intn(left + 1)
			weights[i] += x
			left -= x
		}
	}
	pricePos := r.intn(nq + 1)
	for i, w := range weights {
		if i == pricePos {
			t.Criteria = append(t.Criteria, Criterion{Key: "price", Name: "Price", Kind: CriterionPrice, Weight: priceWeight})
		}
		t.Criteria = append(t.Criteria, Criterion{Key: fmt.Sprintf("q%d", i), Name: fmt.Sprintf("Quality %d", i), Kind: CriterionQuality, Weight: w})
	}
	if pricePos == nq {
		t.Criteria = append(t.Criteria, Criterion{Key: "price", Name: "Price", Kind: CriterionPrice, Weight: priceWeight})
	}
	if r.bool() {
		t.Baseline = &Baseline{PricePence: r.between(1, MaxBudgetPence), Scores: map[string]int{}}
		for i := range nq {
			t.Baseline.Scores[fmt.Sprintf("q%d", i)] = r.intn(5)
		}
	}

	for i := range r.intn(5) {
		e := Evaluator{TenderID: t.ID, UserID: fmt.Sprintf("u%d", i), Assigned: true}
		switch r.intn(3) {
		case 1:
			e.DeclaredAt = fuzzT0
		case 2:
			e.DeclaredAt, e.Conflict = fuzzT0, true
		}
		in.evaluators = append(in.evaluators, e)
	}
	sectors := []Sector{SectorNHS, SectorLocalAuthority, SectorThirdSector, SectorIndependent}
	for i := range r.intn(12) {
		b := Bid{ID: fmt.Sprintf("b%d", i), TenderID: t.ID, SupplierID: fmt.Sprintf("s%d", i), Status: BidSubmitted,
			PricePence: r.between(1, MaxBidPricePence), SubmittedAt: fuzzT0.Add(time.Duration(r.intn(8)) * time.Minute)}
		if r.intn(5) == 0 {
			b.Status = BidWithdrawn
		}
		in.bids = append(in.bids, BidInput{Bid: b, Supplier: Organisation{ID: b.SupplierID, Kind: KindSupplier,
			Name: fmt.Sprintf("Supplier %d", i), Sector: sectors[r.intn(len(sectors))]}})
	}
	// Scores: by any evaluator (or a user no longer one), of any bid (or
	// none of this tender), on any criterion (the price one too, which a
	// store never holds, and an unknown one); one per evaluator, bid and
	// criterion, as the store keeps them.
	seen := map[[3]int]bool{}
	for range r.intn(64) {
		k := [3]int{r.intn(len(in.evaluators) + 1), r.intn(len(in.bids) + 1), r.intn(len(t.Criteria) + 1)}
		score := r.intn(5)
		if seen[k] {
			continue
		}
		seen[k] = true
		s := Score{TenderID: t.ID, EvaluatorID: "gone", BidID: "elsewhere", Criterion: "unknown", Score: score}
		if k[0] < len(in.evaluators) {
			s.EvaluatorID = in.evaluators[k[0]].UserID
		}
		if k[1] < len(in.bids) {
			s.BidID = in.bids[k[1]].Bid.ID
		}
		if k[2] < len(t.Criteria) {
			s.Criterion = t.Criteria[k[2]].Key
		}
		in.scores = append(in.scores, s)
	}
	for range r.intn(8) {
		if len(in.bids) == 0 {
			break
		}
		in.moderations = append(in.moderations, Moderation{TenderID: t.ID, BidID: in.bids[r.intn(len(in.bids))].Bid.ID,
			Criterion: fmt.Sprintf("q%d", r.intn(nq)), Score: r.intn(5)})
	}
	for i := range 1 + r.intn(4) {
		o := Organisation{ID: fmt.Sprintf("ccg%d", i), Kind: KindBuyer, Name: fmt.Sprintf("NHS CCG %d", i),
			Identifiers: []Identifier{{Scheme: SchemeNHS, ID: fmt.Sprintf("0%dA", i)}}, Regions: []string{"midlands"},
			Population: r.between(1, math.MaxInt64), RunningCostAllowancePerHeadPence: r.between(1, math.MaxInt64)}
		var p Problems
		o.Check("organisation", &p)
		if len(p) > 0 {
			continue // registration refuses it: no tender has it as a commissioner
		}
		if i > 0 {
			t.JointCommissioners = append(t.JointCommissioners, o.ID)
		}
		in.commissioners = append(in.commissioners, o)
	}
	return in
}

// FuzzCompare holds the comparison to its formulas on any tender the rules
// let reach one: it never panics; every figure is finite; the rows are the
// submitted bids and the baseline, ranked 1..n in order; each quality
// score is within [0, weight] and each bid's price score too (the
// in-house row's price score is measured against the lowest bid and so
// exceeds the weight when the baseline is cheaper than every bid, as the
// contract says); totals are the sums; the commissioners' shares split
// each price; the sensitivity range holds the tender's own price weight.
func FuzzCompare(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00\x00\x02\x1e\x05\x01\x03\x01\x02\x01\x01\x01\x04\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("the comparison of a closed tender with a few bids, scores and an in-house baseline to rank them by"))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"))
	seed := make([]byte, 512)
	for i := range seed {
		seed[i] = byte(i*37 + 11)
	}
	f.Add(seed)

	f.Fuzz(func(t *testing.T, data []byte) {
		in := newCompareInput(data)
		tn := &in.tender
		cmp := Compare(tn, in.bids, in.scores, in.moderations, in.evaluators, in.commissioners)
		checkComparison(t, &in, &cmp)
	})
}

func checkComparison(t *testing.T, in *compareInput, cmp *Comparison) {
	t.Helper()
	tn := &in.tender
	price, _ := tn.PriceCriterion()
	finite := func(what string, x float64) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatalf("%s is %v", what, x)
		}
	}
	var lowest int64
	submitted := 0
	for _, b := range in.bids {
		if b.Bid.Status == BidSubmitted {
			submitted++
			if lowest == 0 || b.Bid.PricePence < lowest {
				lowest = b.Bid.PricePence
			}
		}
	}
	if cmp.LowestPrice != lowest {
		t.Fatalf("lowest price %d, want %d", cmp.LowestPrice, lowest)
	}
	want := submitted
	if tn.Baseline != nil {
		want++
	}
	if len(cmp.Rows) != want {
		t.Fatalf("%d rows for %d submitted bids (baseline %v)", len(cmp.Rows), submitted, tn.Baseline != nil)
	}
	mix := 0
	for _, n := range cmp.SectorMix {
		mix += n
	}
	if mix != submitted {
		t.Fatalf("sector mix %v counts %d bids, want %d", cmp.SectorMix, mix, submitted)
	}

	seen := map[string]bool{}
	for i := range cmp.Rows {
		r := &cmp.Rows[i]
		what := fmt.Sprintf("row %d (bid %q)", i, r.BidID)
		if r.Rank != i+1 {
			t.Fatalf("%s has rank %d", what, r.Rank)
		}
		if i > 0 && ahead(r, &cmp.Rows[i-1]) {
			t.Fatalf("%s (total %v, quality %v) ranks below row %d (total %v, quality %v)",
				what, r.Total, r.QualityTotal, i-1, cmp.Rows[i-1].Total, cmp.Rows[i-1].QualityTotal)
		}
		if seen[r.BidID] {
			t.Fatalf("%s appears twice", what)
		}
		seen[r.BidID] = true
		if len(r.Scores) != len(tn.Criteria) {
			t.Fatalf("%s scores %v, want one per criterion", what, r.Scores)
		}
		var quality float64
		for _, c := range tn.Criteria {
			s, ok := r.Scores[c.Key]
			if !ok {
				t.Fatalf("%s has no score for %s", what, c.Key)
			}
			finite(what+" "+c.Key, s)
			if s < 0 {
				t.Fatalf("%s scores %v on %s", what, s, c.Key)
			}
			if c.Kind == CriterionQuality {
				quality += s
				if s > float64(c.Weight) {
					t.Fatalf("%s scores %v on %s, which weighs %d", what, s, c.Key, c.Weight)
				}
			}
		}
		ps := r.Scores[price.Key]
		if r.PricePence <= 0 {
			t.Fatalf("%s is priced %d", what, r.PricePence)
		}
		if lowest > 0 {
			if w := round2(float64(lowest) / float64(r.PricePence) * float64(price.Weight)); ps != w {
				t.Fatalf("%s price score %v, want %v", what, ps, w)
			}
		} else if ps != 0 {
			t.Fatalf("%s price score %v with no submitted bid", what, ps)
		}
		if (!r.InHouse || r.PricePence >= lowest) && ps > float64(price.Weight) {
			t.Fatalf("%s price score %v, weight %d (price %d, lowest %d)", what, ps, price.Weight, r.PricePence, lowest)
		}
		finite(what+" quality total", r.QualityTotal)
		finite(what+" total", r.Total)
		if r.QualityTotal != round2(quality) || r.Total != round2(r.QualityTotal+ps) {
			t.Fatalf("%s totals %v and %v, want %v and %v", what, r.QualityTotal, r.Total, round2(quality), round2(r.QualityTotal+ps))
		}
		if !r.InHouse && r.Total > 100 {
			t.Fatalf("%s totals %v", what, r.Total)
		}
		if r.OverBudget != (r.PricePence > tn.BudgetPence) {
			t.Fatalf("%s over budget %v at %d of %d", what, r.OverBudget, r.PricePence, tn.BudgetPence)
		}
		checkShares(t, what, in.commissioners, r)
	}

	s := cmp.Sensitivity
	if len(cmp.Rows) == 0 {
		if s != (Sensitivity{}) {
			t.Fatalf("sensitivity %+v with nothing to compare", s)
		}
		return
	}
	if s.PriceWeight != price.Weight || s.PriceWeightLow > s.PriceWeight || s.PriceWeightHigh < s.PriceWeight ||
		s.PriceWeightLow < 10 || s.PriceWeightHigh > 90 {
		t.Fatalf("sensitivity %+v with price weight %d", s, price.Weight)
	}
	if s.LeaderBidID != cmp.Rows[0].BidID || s.LeaderInHouse != cmp.Rows[0].InHouse {
		t.Fatalf("sensitivity leader %q, ranked first %q", s.LeaderBidID, cmp.Rows[0].BidID)
	}
}

// checkShares fails t unless r's price is split among the commissioners in
// shares of parts per million that add up to a million, each part within
// the price and the parts together short of it by less than a penny each.
func checkShares(t *testing.T, what string, commissioners []Organisation, r *ComparisonRow) {
	t.Helper()
	if len(r.Shares) != len(commissioners) {
		t.Fatalf("%s has %d shares for %d commissioners", what, len(r.Shares), len(commissioners))
	}
	if len(commissioners) == 0 {
		return
	}
	for _, o := range commissioners {
		if o.Population > math.MaxInt64/o.RunningCostAllowancePerHeadPence {
			t.Fatalf("%s: the allowance of %s (%d x %d pence) overflows", what, o.ID, o.Population, o.RunningCostAllowancePerHeadPence)
		}
	}
	var ppm, parts int64
	for i, sh := range r.Shares {
		if sh.OrganisationID != commissioners[i].ID {
			t.Fatalf("%s share %d is %s's, want %s's", what, i, sh.OrganisationID, commissioners[i].ID)
		}
		if sh.SharePPM < 0 || sh.SharePPM > 1_000_000 || sh.PricePence < 0 || sh.PricePence > r.PricePence {
			t.Fatalf("%s share %+v of %d (populations %v)", what, sh, r.PricePence, populations(commissioners))
		}
		if left := commissioners[i].RunningCostAllowancePence() - sh.PricePence; sh.AllowanceLeftPence != left || left > commissioners[i].RunningCostAllowancePence() {
			t.Fatalf("%s share %+v leaves %d of an allowance of %d", what, sh, sh.AllowanceLeftPence, commissioners[i].RunningCostAllowancePence())
		}
		ppm += sh.SharePPM
		parts += sh.PricePence
	}
	if ppm != 1_000_000 || parts > r.PricePence || parts < r.PricePence-int64(len(r.Shares)) {
		t.Fatalf("%s shares add up to %d ppm and %d of %d pence (populations %v)", what, ppm, parts, r.PricePence, populations(commissioners))
	}
}

func populations(os []Organisation) []int64 {
	out := make([]int64, len(os))
	for i, o := range os {
		out[i] = o.Population
	}
	return out
}
