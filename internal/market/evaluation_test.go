package market_test

import (
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// compareFixture is DESIGN.md's worked example: weights 40/45/15, two bids
// and the in-house baseline, two cleared evaluators.
func compareFixture() (market.Tender, []market.BidInput, []market.Score, []market.Evaluator, []market.Organisation) {
	tn := publishable()
	tn.PublishedAt = t0
	tn.CreatedBy = "u1"
	bids := []market.BidInput{
		{Bid: market.Bid{ID: "b1", SupplierID: "s1", Status: market.BidSubmitted, PricePence: 42_000_000, SubmittedAt: t0.Add(time.Hour)},
			Supplier: market.Organisation{ID: "s1", Name: "Arden CSU", Sector: market.SectorNHS}},
		{Bid: market.Bid{ID: "b2", SupplierID: "s2", Status: market.BidSubmitted, PricePence: 50_000_000, SubmittedAt: t0.Add(2 * time.Hour)},
			Supplier: market.Organisation{ID: "s2", Name: "Carers First", Sector: market.SectorThirdSector}},
		{Bid: market.Bid{ID: "b3", SupplierID: "s3", Status: market.BidWithdrawn, PricePence: 1_000},
			Supplier: market.Organisation{ID: "s3", Name: "Withdrawn Ltd", Sector: market.SectorIndependent}},
	}
	sc := func(ev, bid, crit string, s int) market.Score {
		return market.Score{EvaluatorID: ev, BidID: bid, Criterion: crit, Score: s, Justification: "because"}
	}
	scores := []market.Score{
		sc("u1", "b1", "approach", 3), sc("u2", "b1", "approach", 3), sc("u1", "b1", "social_value", 2), sc("u2", "b1", "social_value", 2),
		sc("u1", "b2", "approach", 4), sc("u2", "b2", "approach", 3), sc("u1", "b2", "social_value", 4), sc("u2", "b2", "social_value", 4),
		sc("u3", "b2", "approach", 0), // a conflicted evaluator's score never counts
	}
	evs := []market.Evaluator{
		{UserID: "u1", Assigned: true, DeclaredAt: t0},
		{UserID: "u2", Assigned: true, DeclaredAt: t0},
		{UserID: "u3", Assigned: true, DeclaredAt: t0, Conflict: true},
	}
	ccgs := []market.Organisation{
		{ID: "ccg1", Name: "Birmingham", Population: 750_000, RunningCostAllowancePerHeadPence: 2_000},
		{ID: "ccg2", Name: "Coventry", Population: 250_000, RunningCostAllowancePerHeadPence: 2_000},
	}
	return tn, bids, scores, evs, ccgs
}

// TestCompareByHand: the totals a person works out from DESIGN.md.
func TestCompareByHand(t *testing.T) {
	tn, bids, scores, evs, ccgs := compareFixture()
	cmp := market.Compare(&tn, bids, scores, nil, evs, ccgs)
	if cmp.LowestPrice != 42_000_000 {
		t.Fatalf("lowest price %d: a withdrawn bid must not set it", cmp.LowestPrice)
	}
	rows := map[string]market.ComparisonRow{}
	for _, r := range cmp.Rows {
		rows[r.BidID] = r
	}
	if len(cmp.Rows) != 3 {
		t.Fatalf("want two bids and the in-house row, got %d rows", len(cmp.Rows))
	}
	b1 := rows["b1"]
	// price 42m/42m x 40 = 40; approach 3/4 x 45 = 33.75; social value 2/4 x 15 = 7.5
	if b1.Scores["price"] != 40 || b1.Scores["approach"] != 33.75 || b1.Scores["social_value"] != 7.5 || b1.Total != 81.25 {
		t.Errorf("b1: %+v", b1.Scores)
	}
	b2 := rows["b2"]
	// price 42/50 x 40 = 33.6; approach 3.5/4 x 45 = 39.375 -> 39.38; social 4/4 x 15 = 15; total 87.98
	if b2.Scores["price"] != 33.6 || b2.Scores["approach"] != 39.38 || b2.Scores["social_value"] != 15 || b2.Total != 87.98 {
		t.Errorf("b2: %+v total %v", b2.Scores, b2.Total)
	}
	in := rows[""]
	// baseline 46m: 42/46 x 40 = 36.52; approach 2/4 x 45 = 22.5; social 3/4 x 15 = 11.25; total 70.27
	if !in.InHouse || in.Scores["price"] != 36.52 || in.Total != 70.27 {
		t.Errorf("in-house: %+v total %v", in.Scores, in.Total)
	}
	if cmp.Rows[0].BidID != "b2" || cmp.Rows[1].BidID != "b1" || !cmp.Rows[2].InHouse {
		t.Errorf("ranking: %v %v %v", cmp.Rows[0].BidID, cmp.Rows[1].BidID, cmp.Rows[2].InHouse)
	}
	if b2.Rank != 1 || b1.Rank != 2 || in.Rank != 3 {
		t.Errorf("ranks %d %d %d", b2.Rank, b1.Rank, in.Rank)
	}
	if b1.OverBudget || b2.OverBudget {
		t.Errorf("a price at or under the budget ceiling flagged: b1 %v b2 %v", b1.OverBudget, b2.OverBudget)
	}
	tight := tn
	tight.BudgetPence = 45_000_000
	for _, r := range market.Compare(&tight, bids, scores, nil, evs, ccgs).Rows {
		if want := r.PricePence > 45_000_000; r.OverBudget != want {
			t.Errorf("budget 45m: %q (price %d) over_budget=%v", r.BidID, r.PricePence, r.OverBudget)
		}
	}
	if cmp.SectorMix[market.SectorNHS] != 1 || cmp.SectorMix[market.SectorThirdSector] != 1 || cmp.SectorMix[market.SectorIndependent] != 0 {
		t.Errorf("sector mix %v", cmp.SectorMix)
	}
	// Shares: 75% / 25% of 42m; allowances 1.5bn and 0.5bn pence.
	if len(b1.Shares) != 2 || b1.Shares[0].PricePence != 31_500_000 || b1.Shares[1].PricePence != 10_500_000 ||
		b1.Shares[1].AllowanceLeftPence != 500_000_000-10_500_000 {
		t.Errorf("shares %+v", b1.Shares)
	}
	if b1.Incomplete || b2.Incomplete {
		t.Error("fully scored bids flagged incomplete")
	}
	s := cmp.Sensitivity
	if s.LeaderBidID != "b2" || s.PriceWeight != 40 || s.PriceWeightLow != 10 || s.PriceWeightHigh < 40 || s.PriceWeightHigh >= 90 {
		t.Errorf("sensitivity %+v", s)
	}
}

func TestCompareModerationTiesAndIncomplete(t *testing.T) {
	tn, bids, scores, evs, ccgs := compareFixture()
	// Moderation replaces the mean.
	mods := []market.Moderation{{BidID: "b1", Criterion: "approach", Score: 4, Reason: "agreed at moderation"}}
	cmp := market.Compare(&tn, bids, scores, mods, evs, ccgs)
	for _, r := range cmp.Rows {
		if r.BidID == "b1" && r.Scores["approach"] != 45 {
			t.Errorf("moderated approach %v, want 45", r.Scores["approach"])
		}
	}
	// One evaluator has not scored b2's social value: incomplete.
	var partial []market.Score
	for _, s := range scores {
		if !(s.BidID == "b2" && s.Criterion == "social_value" && s.EvaluatorID == "u2") {
			partial = append(partial, s)
		}
	}
	cmp = market.Compare(&tn, bids, partial, nil, evs, ccgs)
	for _, r := range cmp.Rows {
		if (r.BidID == "b2") != r.Incomplete && !r.InHouse {
			t.Errorf("%s incomplete=%v", r.BidID, r.Incomplete)
		}
	}
	// Equal totals and quality: the earlier submission ranks first.
	tie := []market.BidInput{bids[1], bids[0]}
	tie[0].Bid.PricePence, tie[1].Bid.PricePence = 42_000_000, 42_000_000
	same := []market.Score{}
	for _, s := range scores {
		if s.EvaluatorID != "u3" {
			s.Score = 3
			same = append(same, s)
		}
	}
	tn.Baseline = nil
	cmp = market.Compare(&tn, tie, same, nil, evs, ccgs)
	if cmp.Rows[0].BidID != "b1" {
		t.Errorf("tie: %s ranked first, want the earlier submission b1", cmp.Rows[0].BidID)
	}
}

// TestChainVerifier: a chain built by ComputeHash verifies; each kind of
// tampering is caught at the right event.
func TestChainVerifier(t *testing.T) {
	build := func(n int) []market.AuditEvent {
		var evs []market.AuditEvent
		prev := ""
		for i := 1; i <= n; i++ {
			e := market.AuditEvent{Seq: int64(i), At: t0.Add(time.Duration(i) * time.Second), ActorUser: "u1", ActorOrg: "o1",
				ObjectType: "tender", ObjectID: "t1", TenderID: "t1", Action: "tender.updated", Detail: map[string]string{"n": string(rune('a' + i))}, PrevHash: prev}
			e.Hash = e.ComputeHash()
			prev = e.Hash
			evs = append(evs, e)
		}
		return evs
	}
	verify := func(evs []market.AuditEvent) *market.ChainBreak {
		var v market.ChainVerifier
		for _, e := range evs {
			v.Add(e)
		}
		return v.Break
	}
	if b := verify(build(5)); b != nil {
		t.Fatalf("an intact chain broke: %+v", b)
	}
	cases := map[string]struct {
		tamper func([]market.AuditEvent) []market.AuditEvent
		seq    int64
	}{
		"Edited":       {func(e []market.AuditEvent) []market.AuditEvent { e[2].Action = "bid.withdrawn"; return e }, 3},
		"EditedDetail": {func(e []market.AuditEvent) []market.AuditEvent { e[1].Detail["n"] = "z"; return e }, 2},
		"Deleted":      {func(e []market.AuditEvent) []market.AuditEvent { return append(e[:2], e[3:]...) }, 4},
		"Reordered": {func(e []market.AuditEvent) []market.AuditEvent {
			e[1].Seq, e[2].Seq = e[2].Seq, e[1].Seq
			e[1], e[2] = e[2], e[1]
			return e
		}, 2},
		"Rehashed": {func(e []market.AuditEvent) []market.AuditEvent {
			e[2].Action = "bid.withdrawn"
			e[2].Hash = e[2].ComputeHash()
			return e
		}, 4},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			b := verify(c.tamper(build(5)))
			if b == nil || b.Seq != c.seq {
				t.Fatalf("want a break at %d, got %+v", c.seq, b)
			}
		})
	}
}
