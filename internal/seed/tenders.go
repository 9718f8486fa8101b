package seed

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// SyntheticTenders returns n generated tenders led by buyers (organisation
// IDs, taken in turn) and written by author, the same for the same seed,
// with times around now: drafts, open, closed, in standstill, awarded,
// cancelled and unsuccessful ones in proportions like a live market's,
// titles and descriptions of real words for full-text search, one to three
// capabilities and one or two regions each. IDs, versions and creation
// times are left to the store. Awarded tenders name no bid: the lists and
// searches read none.
func SyntheticTenders(n int, seed int64, buyers []string, author string, now time.Time) []market.Tender {
	r := rand.New(rand.NewPCG(uint64(seed), 12))
	ts := make([]market.Tender, n)
	for i := range ts {
		ts[i] = syntheticTender(r, buyers[i%len(buyers)], author, now)
	}
	return ts
}

func syntheticTender(r *rand.Rand, buyer, author string, now time.Time) market.Tender {
	nc := 1 + r.IntN(3)
	caps := r.Perm(len(market.Capabilities))[:nc]
	t := market.Tender{BuyerID: buyer, CreatedBy: author, ContractMonths: 12 * (1 + r.IntN(3)),
		BudgetPence: int64(5+r.IntN(200)) * 10_000_000,
		Criteria: []market.Criterion{{Key: "price", Name: "Price", Kind: market.CriterionPrice, Weight: 40},
			{Key: "quality", Name: "Quality", Kind: market.CriterionQuality, Weight: 60}}}
	for _, c := range caps {
		t.Capabilities = append(t.Capabilities, market.Capabilities[c].Key)
	}
	for _, g := range r.Perm(len(market.Regions))[:1+r.IntN(2)] {
		t.Regions = append(t.Regions, market.Regions[g].Key)
	}
	place := pickPlace(r)
	first := market.Capabilities[caps[0]]
	t.Title = fmt.Sprintf(pick(r, tenderTitles), first.Name, place)
	var d strings.Builder
	fmt.Fprintf(&d, pick(r, tenderOpenings), place)
	for _, c := range caps {
		d.WriteString(" ")
		d.WriteString(capPhrases[c][r.IntN(3)])
	}
	d.WriteString(" ")
	d.WriteString(pick(r, tenderClosings))
	t.Description = d.String()

	// Published over the past year, the newest still open.
	published := now.Add(-time.Duration(r.IntN(365*24)) * time.Hour).Truncate(time.Second)
	t.PublishedAt = published
	t.ClarificationDeadline = published.Add(14 * 24 * time.Hour)
	t.BidDeadline = published.Add(28 * 24 * time.Hour)
	switch k := r.IntN(100); {
	case k < 8: // a draft
		t.PublishedAt = time.Time{}
	case k < 15:
		t.CancelledAt, t.CancelReason = published.Add(7*24*time.Hour), "Requirement withdrawn."
	case k < 20 && t.BidDeadline.Before(now):
		t.UnsuccessfulAt, t.UnsuccessfulNote = t.BidDeadline.Add(10*24*time.Hour), "No compliant bid."
	case k < 70 && t.BidDeadline.Add(20*24*time.Hour).Before(now):
		t.AwardedAt, t.AwardReason = t.BidDeadline.Add(10*24*time.Hour), "Most economically advantageous tender."
		t.StandstillEndsAt = t.AwardedAt.Add(10 * 24 * time.Hour)
		if t.StandstillEndsAt.Before(now) {
			t.AwardConfirmedAt = t.StandstillEndsAt
		}
	}
	return t
}

var tenderTitles = []string{
	"%s support for %s",
	"Provision of %s services: %s",
	"%s for the %s health economy",
	"%s: %s commissioning support",
}

var tenderOpenings = []string{
	"The CCG seeks a provider of commissioning support for %s.",
	"Commissioners in %s invite bids for a contract of commissioning support.",
	"A joint procurement for the CCGs of %s, open to providers from every sector.",
	"The CCG wants to buy support it now runs in house for %s, and will compare bids with its in-house baseline.",
}

var tenderClosings = []string{
	"Bidders should show evidence of similar work for NHS commissioners.",
	"Social value and local employment are part of the evaluation.",
	"The contract starts on award and may be extended by twelve months.",
	"Clarification questions are answered publicly without the asker's identity.",
}
