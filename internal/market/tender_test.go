package market_test

import (
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func publishable() market.Tender {
	return market.Tender{
		ID: "t1", BuyerID: "ccg1", Title: "Business intelligence for Birmingham", Description: "Dashboards and SUS analysis.",
		Capabilities: []string{"business_intelligence"}, Regions: []string{"midlands"},
		ContractMonths: 24, BudgetPence: 50_000_000,
		ClarificationDeadline: t0.Add(8 * 24 * time.Hour), BidDeadline: t0.Add(10 * 24 * time.Hour),
		Criteria: []market.Criterion{
			{Key: "price", Name: "Price", Kind: market.CriterionPrice, Weight: 40},
			{Key: "approach", Name: "Approach", Kind: market.CriterionQuality, Weight: 45},
			{Key: "social_value", Name: "Social value", Kind: market.CriterionQuality, Weight: 15},
		},
		Baseline:           &market.Baseline{PricePence: 46_000_000, Scores: map[string]int{"approach": 2, "social_value": 3}},
		JointCommissioners: []string{"ccg2"},
	}
}

func TestTenderStatus(t *testing.T) {
	tn := publishable()
	if s := tn.Status(t0); s != market.TenderDraft {
		t.Fatalf("unpublished: %s", s)
	}
	tn.PublishedAt = t0
	cases := []struct {
		at   time.Time
		want market.TenderStatus
	}{
		{tn.BidDeadline.Add(-time.Millisecond), market.TenderOpen},
		{tn.BidDeadline, market.TenderClosed},
		{tn.BidDeadline.Add(time.Millisecond), market.TenderClosed},
	}
	for _, c := range cases {
		if s := tn.Status(c.at); s != c.want {
			t.Errorf("at deadline%+v: %s, want %s", c.at.Sub(tn.BidDeadline), s, c.want)
		}
		if sealed := tn.Sealed(c.at); sealed != (c.want == market.TenderOpen) {
			t.Errorf("at deadline%+v: sealed=%v", c.at.Sub(tn.BidDeadline), sealed)
		}
	}
	if !tn.QuestionsOpen(tn.ClarificationDeadline.Add(-time.Millisecond)) || tn.QuestionsOpen(tn.ClarificationDeadline) {
		t.Error("questions must close exactly at the clarification deadline")
	}
	tn.AwardedAt = tn.BidDeadline.Add(time.Hour)
	if s := tn.Status(tn.AwardedAt); s != market.TenderStandstill {
		t.Errorf("after award decision: %s", s)
	}
	tn.AwardConfirmedAt = tn.AwardedAt.Add(240 * time.Hour)
	if s := tn.Status(tn.AwardConfirmedAt); s != market.TenderAwarded {
		t.Errorf("after confirmation: %s", s)
	}
	tn.CancelledAt = tn.AwardConfirmedAt
	if s := tn.Status(t0); s != market.TenderCancelled {
		t.Errorf("cancelled: %s", s)
	}
}

func TestCheckPublish(t *testing.T) {
	cases := map[string]struct {
		edit  func(*market.Tender)
		field string
	}{
		"Valid":        {func(*market.Tender) {}, ""},
		"DeadlinePast": {func(tn *market.Tender) { tn.BidDeadline = t0.Add(-time.Hour) }, "bid_deadline"},
		"PeriodTooShort": {func(tn *market.Tender) {
			tn.BidDeadline = t0.Add(24 * time.Hour)
			tn.ClarificationDeadline = t0.Add(time.Hour)
		}, "bid_deadline"},
		"ClarificationAfterBid": {func(tn *market.Tender) { tn.ClarificationDeadline = tn.BidDeadline.Add(time.Hour) }, "clarification_deadline"},
		"ClarificationPast":     {func(tn *market.Tender) { tn.ClarificationDeadline = t0.Add(-time.Hour) }, "clarification_deadline"},
		"DuplicateKey":          {func(tn *market.Tender) { tn.Criteria[2].Key = "approach" }, "criteria[2].key"},
		"WeightsNot100":         {func(tn *market.Tender) { tn.Criteria[2].Weight = 10 }, "criteria"},
		"TwoPriceCriteria":      {func(tn *market.Tender) { tn.Criteria[2].Kind = market.CriterionPrice }, "criteria"},
		"NoPriceCriterion":      {func(tn *market.Tender) { tn.Criteria[0].Kind = market.CriterionQuality }, "criteria"},
		"PriceWeightTooHigh": {func(tn *market.Tender) {
			tn.Criteria[0].Weight = 95
			tn.Criteria[1].Weight = 4
			tn.Criteria[2].Weight = 1
		}, "criteria[0].weight"},
		"PriceWeightTooLow":       {func(tn *market.Tender) { tn.Criteria[0].Weight = 5; tn.Criteria[1].Weight = 80 }, "criteria[0].weight"},
		"NoCapability":            {func(tn *market.Tender) { tn.Capabilities = nil }, "capabilities"},
		"NoRegion":                {func(tn *market.Tender) { tn.Regions = nil }, "regions"},
		"NoBudget":                {func(tn *market.Tender) { tn.BudgetPence = 0 }, "budget_pence"},
		"BaselineScoreMissing":    {func(tn *market.Tender) { delete(tn.Baseline.Scores, "social_value") }, "in_house_baseline.scores.social_value"},
		"BaselineScoreOutOfRange": {func(tn *market.Tender) { tn.Baseline.Scores["approach"] = 5 }, "in_house_baseline.scores.approach"},
		"JointIsLead":             {func(tn *market.Tender) { tn.JointCommissioners = []string{"ccg1"} }, "joint_commissioners[0]"},
		"BadKey":                  {func(tn *market.Tender) { tn.Criteria[1].Key = "Approach!" }, "criteria[1].key"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tn := publishable()
			tn.Baseline.Scores = map[string]int{"approach": 2, "social_value": 3}
			c.edit(&tn)
			var p market.Problems
			tn.CheckPublish(t0, 168*time.Hour, &p)
			if c.field == "" {
				if len(p) > 0 {
					t.Fatalf("publishable tender refused: %v", p)
				}
				return
			}
			for _, f := range p {
				if f.Field == c.field {
					return
				}
			}
			t.Fatalf("want a problem on %s, got %v", c.field, p)
		})
	}
	t.Run("ZeroMinimumPeriod", func(t *testing.T) {
		tn := publishable()
		tn.ClarificationDeadline, tn.BidDeadline = t0.Add(time.Second), t0.Add(2*time.Second)
		var p market.Problems
		tn.CheckPublish(t0, 0, &p)
		if len(p) > 0 {
			t.Fatalf("a 0s minimum tender period must allow short tenders: %v", p)
		}
	})
}

func TestCostShares(t *testing.T) {
	orgs := []market.Organisation{{ID: "a", Population: 716_300}, {ID: "b", Population: 462_100}, {ID: "c", Population: 1}}
	shares := market.CostShares(orgs)
	var sum int64
	for _, s := range shares {
		sum += s
	}
	if sum != 1_000_000 {
		t.Fatalf("shares add up to %d ppm", sum)
	}
	if shares["a"] != 716_300*1_000_000/(716_300+462_100+1) {
		t.Errorf("share of a: %d", shares["a"])
	}
	if shares["a"] <= shares["b"] || shares["b"] <= shares["c"] {
		t.Errorf("shares must follow populations: %v", shares)
	}
}

// TestCanSeeBid is the sealed-bid rule at the domain's level: who sees a
// submitted bid before and after the deadline.
func TestCanSeeBid(t *testing.T) {
	tn := publishable()
	tn.PublishedAt = t0
	bid := market.Bid{ID: "b1", TenderID: "t1", SupplierID: "sup1", Status: market.BidSubmitted}
	withdrawn := bid
	withdrawn.Status = market.BidWithdrawn
	who := map[string]*market.Principal{
		"anonymous":      nil,
		"bidder":         {OrganisationID: "sup1", OrgKind: market.KindSupplier, Role: market.RoleSupplier},
		"otherSupplier":  {OrganisationID: "sup2", OrgKind: market.KindSupplier, Role: market.RoleSupplier},
		"leadBuyer":      {OrganisationID: "ccg1", OrgKind: market.KindBuyer, Role: market.RoleBuyer},
		"jointBuyer":     {OrganisationID: "ccg2", OrgKind: market.KindBuyer, Role: market.RoleBuyer},
		"leadEvaluator":  {OrganisationID: "ccg1", OrgKind: market.KindBuyer, Role: market.RoleEvaluator},
		"otherCCG":       {OrganisationID: "ccg3", OrgKind: market.KindBuyer, Role: market.RoleBuyer},
		"operator":       {OrganisationID: "op", OrgKind: market.KindOperator, Role: market.RoleOperator},
		"supplierAsLead": {OrganisationID: "ccg1", OrgKind: market.KindSupplier, Role: market.RoleSupplier},
	}
	before, after := tn.BidDeadline.Add(-time.Millisecond), tn.BidDeadline
	declared := func(p *market.Principal, conflict, assigned bool) *market.Evaluator {
		if p == nil {
			return nil
		}
		return &market.Evaluator{TenderID: tn.ID, UserID: p.UserID, Assigned: assigned, DeclaredAt: t0, Conflict: conflict}
	}
	for name, p := range who {
		if p != nil {
			p.UserID = "u-" + name
		}
	}
	// With a declaration of no conflict: the commissioners' buyers and the
	// assigned evaluator see bids after the deadline, nobody else.
	wantAfter := map[string]bool{"bidder": true, "leadBuyer": true, "jointBuyer": true, "leadEvaluator": true}
	for name, p := range who {
		decl := declared(p, false, true)
		if got := market.CanSeeBid(p, &tn, &bid, before, decl); got != (name == "bidder") {
			t.Errorf("%s before the deadline: sees=%v", name, got)
		}
		if got := market.CanSeeBid(p, &tn, &bid, after, decl); got != wantAfter[name] {
			t.Errorf("%s after the deadline: sees=%v", name, got)
		}
		if got := market.CanSeeBid(p, &tn, &withdrawn, after, decl); got != (name == "bidder") {
			t.Errorf("%s, withdrawn bid after the deadline: sees=%v", name, got)
		}
		// Without a declaration, or with a conflict, only the bidder.
		for label, d := range map[string]*market.Evaluator{"undeclared": nil, "conflicted": declared(p, true, true)} {
			if got := market.CanSeeBid(p, &tn, &bid, after, d); got != (name == "bidder") {
				t.Errorf("%s %s after the deadline: sees=%v", name, label, got)
			}
		}
	}
	if market.CanSeeBid(who["leadEvaluator"], &tn, &bid, after, declared(who["leadEvaluator"], false, false)) {
		t.Error("an evaluator not assigned to the tender saw a bid")
	}
	if market.CanSeeBid(who["leadBuyer"], &tn, &bid, after, declared(who["jointBuyer"], false, true)) {
		t.Error("another user's declaration let a buyer see a bid")
	}
	draft := publishable()
	if market.CanSeeTender(nil, &draft) || market.CanSeeTender(who["otherCCG"], &draft) || !market.CanSeeTender(who["jointBuyer"], &draft) {
		t.Error("a draft is seen by its commissioners only")
	}
	if market.CanSeeBaseline(who["bidder"], &tn) || !market.CanSeeBaseline(who["jointBuyer"], &tn) {
		t.Error("the baseline is the commissioners' only")
	}
}

func TestCheckBid(t *testing.T) {
	tn := publishable()
	var p market.Problems
	market.CheckBid(&tn, 0, map[string]string{"approach": "x", "price": "y", "other": strings.Repeat("z", 5)}, &p)
	fields := map[string]bool{}
	for _, f := range p {
		fields[f.Field] = true
	}
	for _, want := range []string{"price_pence", "responses.social_value", "responses.price", "responses.other"} {
		if !fields[want] {
			t.Errorf("want a problem on %s, got %v", want, p)
		}
	}
	p = nil
	market.CheckBid(&tn, 42_000_000, map[string]string{"approach": "We will...", "social_value": "Local jobs."}, &p)
	if len(p) > 0 {
		t.Fatalf("a complete bid refused: %v", p)
	}
}
