package ocds_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/ocds"
)

// The instants a tender's times may take: its deadlines are RFC 3339 times
// whose UTC year has four digits (parseDeadline); the other times are the
// clock's.
var (
	earliestTime = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	latestTime   = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

// instant maps any number to an instant of four-digit years, to the
// nanosecond.
func instant(sec int64, nsec uint32) time.Time {
	span := uint64(latestTime - earliestTime + 1)
	s := earliestTime + int64(uint64(sec)%span)
	return time.Unix(s, int64(nsec%1_000_000_000)).UTC()
}

// after is t moved on by d seconds (of any sign), kept to four-digit years.
func after(t time.Time, d int64) time.Time {
	return instant(t.Unix()-earliestTime+d, uint32(t.Nanosecond()))
}

// fuzzOrg is an organisation as registration accepts it: a name it
// refuses (blank, too long) is replaced by one it accepts.
func fuzzOrg(kind market.OrgKind, id, name string, ident market.Identifier, sector market.Sector) market.Organisation {
	o := market.Organisation{ID: id, Kind: kind, Name: name, Sector: sector, Identifiers: []market.Identifier{ident}}
	var p market.Problems
	o.Check("organisation", &p)
	for _, fe := range p {
		if fe.Field == "organisation.name" {
			o.Name = "Organisation " + id
		}
	}
	return o
}

// FuzzBuild holds the OCDS release package to the standard: for any tender
// a buyer can publish (odd titles, descriptions and names, any amount, any
// deadline) in any state, with any bidders and award, Build gives a
// package that validates against OCDS 1.1.5's schema, never carries the
// baseline or a losing price, names bidders only once the bids are
// unsealed, and is the same bytes for the same state.
func FuzzBuild(f *testing.F) {
	pub := published.Unix()
	f.Add("Risk stratification for the Black Country", "Monthly risk stratification.", "NHS Dudley CCG", "Midlands Analytics Ltd",
		int64(budgetPence), int64(winningPence), uint8(0), pub, uint32(0), int64(10*86400), int64(21*86400), int64(5*86400), int64(10*86400), int64(3600), uint16(3), uint8(4), "Approach", uint8(3))
	for state := range uint8(8) {
		f.Add("Joint BI", "", "NHS Walsall CCG", "Black Country Health Data", int64(1), int64(1), state, pub, uint32(999999999),
			int64(60), int64(120), int64(60), int64(600), int64(30*86400), uint16(0xfff), uint8(0x7f), "Social value", uint8(2))
	}
	f.Add("", "", "", "", int64(0), int64(-1), uint8(1), int64(0), uint32(0), int64(0), int64(0), int64(0), int64(0), int64(0), uint16(0), uint8(0), "", uint8(0))
	f.Add("Ünïcödé \u202e\u2028\u0000 <b>&amp;</b> 🏥", "\xff\xfe invalid UTF-8 \xed\xa0\x80", "CCG \"quoted\" \\ back", "Ltd\t\n\r",
		int64(9223372036854775807), int64(-9223372036854775808), uint8(2), int64(-62167219200), uint32(1), int64(-1), int64(1<<40), int64(1), int64(1), int64(1), uint16(0x8001), uint8(0x81), "%s %d%%", uint8(255))
	f.Add("Year 9999", "", "NHS X CCG", "Y Ltd", int64(100_000_000_000), int64(99), uint8(3), int64(253402300799), uint32(0), int64(0), int64(1), int64(1), int64(1), int64(-1), uint16(1), uint8(1), "Q", uint8(1))

	f.Fuzz(func(t *testing.T, title, desc, buyerName, supplierName string, budget, awardValue int64, state uint8,
		pubSec int64, nsec uint32, clarOff, bidOff, decideOff, confirmOff, nowOff int64, caps uint16, regions uint8, criterion string, bidders uint8) {
		tn := market.Tender{
			ID: "0195f3a2-7c1e-7b7a-9c1e-0a1b2c3d4e5f", BuyerID: "org-ccg-1", Title: title, Description: desc,
			ContractMonths: 24, BudgetPence: budget, PublishedAt: instant(pubSec, nsec),
			Baseline: &market.Baseline{PricePence: baselinePence, Scores: map[string]int{"approach": 2}},
			Criteria: []market.Criterion{
				{Key: "price", Name: "Price", Kind: market.CriterionPrice, Weight: 40},
				{Key: "approach", Name: criterion, Kind: market.CriterionQuality, Weight: 60},
			},
		}
		for i, c := range market.Capabilities {
			if caps&(1<<i) != 0 {
				tn.Capabilities = append(tn.Capabilities, c.Key)
			}
		}
		if caps&0x8000 != 0 {
			tn.Capabilities = append(tn.Capabilities, "unknown_capability")
		}
		for i, r := range market.Regions {
			if regions&(1<<i) != 0 {
				tn.Regions = append(tn.Regions, r.Key)
			}
		}
		if regions&0x80 != 0 {
			tn.Regions = append(tn.Regions, "atlantis")
		}
		tn.ClarificationDeadline = after(tn.PublishedAt, clarOff)
		tn.BidDeadline = after(tn.PublishedAt, bidOff)
		decided := after(tn.BidDeadline, decideOff)
		confirmed := after(decided, confirmOff)

		buyer := fuzzOrg(market.KindBuyer, "org-ccg-1", buyerName, market.Identifier{Scheme: market.SchemeNHS, ID: "05C"}, "")
		in := ocds.Input{Tender: tn, Buyer: buyer}
		if state&8 != 0 {
			in.Tender.JointCommissioners = []string{"org-ccg-2"}
			in.JointCommissioners = []market.Organisation{fuzzOrg(market.KindBuyer, "org-ccg-2", buyerName+" (joint)",
				market.Identifier{Scheme: market.SchemeNHS, ID: "05Y"}, "")}
		}
		sectors := []market.Sector{market.SectorNHS, market.SectorLocalAuthority, market.SectorThirdSector, market.SectorIndependent}
		idents := []market.Identifier{{Scheme: market.SchemeCOH, ID: "09506232"}, {Scheme: market.SchemeCharity, ID: "1123456"},
			{Scheme: market.SchemeLAE, ID: "DUD"}, {Scheme: market.SchemeNHS, ID: "0DE"}}
		for i := range int(bidders % 5) {
			name := supplierName
			if i > 0 {
				name = fmt.Sprintf("%s %d", supplierName, i)
			}
			in.Tenderers = append(in.Tenderers, fuzzOrg(market.KindSupplier, fmt.Sprintf("org-sup-%d", i), name, idents[i], sectors[i]))
		}
		var winner market.Organisation
		if len(in.Tenderers) > 0 {
			winner = in.Tenderers[len(in.Tenderers)-1]
		}
		in.PublishedAt = after(tn.BidDeadline, nowOff)
		switch state % 8 {
		case 1, 2, 5: // an award decided: in its standstill, final, or then cancelled
			if winner.ID == "" {
				break
			}
			in.Tender.AwardedAt, in.Tender.AwardBidID, in.Tender.StandstillEndsAt = decided, "bid-1", confirmed
			in.Award = &ocds.Award{Supplier: winner, ValuePence: awardValue, Date: decided}
			in.PublishedAt = after(decided, nowOff)
			switch state % 8 {
			case 2:
				in.Tender.AwardConfirmedAt, in.Award.Final = confirmed, true
				in.PublishedAt = after(confirmed, nowOff)
			case 5:
				in.Tender.CancelledAt, in.Tender.CancelReason = confirmed, "Challenged."
			}
		case 3:
			in.Tender.CancelledAt, in.Tender.CancelReason = after(tn.PublishedAt, decideOff), "Brought in house."
			in.PublishedAt = after(in.Tender.CancelledAt, nowOff)
		case 4:
			in.Tender.UnsuccessfulAt, in.Tender.UnsuccessfulNote = decided, "No bid met the threshold."
			in.PublishedAt = after(decided, nowOff)
		case 6: // still open: the bids are sealed
			in.PublishedAt = after(tn.PublishedAt, nowOff%max(1, bidOff))
		}
		if in.PublishedAt.IsZero() {
			in.PublishedAt = tn.PublishedAt
		}

		b, err := ocds.Build(opts(), in)
		if err != nil {
			if in.Tender.Status(in.PublishedAt) == market.TenderDraft && market.ErrorCode(err) == market.ENOTFOUND {
				return // the zero instant is no publication
			}
			t.Fatalf("Build: %v", err)
		}
		if err := validate(t, b); err != nil {
			t.Fatalf("invalid OCDS: %v\n%s", err, b)
		}
		for _, leak := range []string{"461234", "bid-1"} {
			if bytes.Contains(b, []byte(leak)) && !bytes.Contains([]byte(title+desc+buyerName+supplierName+criterion), []byte(leak)) {
				t.Fatalf("the package carries %q (the baseline or a bid ID):\n%s", leak, b)
			}
		}
		var p pkg
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		latest := ""
		for _, r := range p.Releases {
			latest = max(latest, r.Date)
		}
		if p.PublishedDate != latest {
			t.Fatalf("publishedDate %s, want the latest release's date %s", p.PublishedDate, latest)
		}
		tr := p.Releases[0].Tender
		if sealed := in.Tender.Sealed(in.PublishedAt); sealed != (tr.NumberOfTenderers == nil) || (!sealed && *tr.NumberOfTenderers != len(in.Tenderers)) {
			t.Fatalf("sealed %v, numberOfTenderers %v for %d bidders", sealed, tr.NumberOfTenderers, len(in.Tenderers))
		}

		// The same state, asked later with the bidders in another order,
		// gives the same bytes.
		again := in
		again.Tenderers = slices.Clone(in.Tenderers)
		slices.Reverse(again.Tenderers)
		if in.Tender.Status(in.PublishedAt) == in.Tender.Status(in.PublishedAt.Add(time.Second)) &&
			in.Tender.Sealed(in.PublishedAt) == in.Tender.Sealed(in.PublishedAt.Add(time.Second)) {
			again.PublishedAt = in.PublishedAt.Add(time.Second)
		}
		if b2, err := ocds.Build(opts(), again); err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("the same state gave another package (%v):\n%s\n%s", err, b, b2)
		}
	})
}
