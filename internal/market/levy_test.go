package market

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestLevyAmount(t *testing.T) {
	tests := map[string]struct {
		value    int64
		bp       int
		capPence int64
		want     int64
	}{
		"OnePercent":            {42_000_000, 100, 0, 420_000},
		"HalfPennyRoundsUp":     {50, 100, 0, 1},  // 0.5p
		"JustUnderHalfPenny":    {49, 100, 0, 0},  // 0.49p
		"JustOverHalfPenny":     {150, 100, 0, 2}, // 1.5p
		"OddBasisPoints":        {42_000_033, 150, 0, 630_000},
		"OddBasisPointsUp":      {42_000_034, 150, 0, 630_001},
		"ZeroAward":             {0, 100, 0, 0},
		"ZeroRate":              {42_000_000, 0, 0, 0},
		"Capped":                {100_000_000_000, 100, 50_000_000, 50_000_000},
		"UnderTheCap":           {1_000_000, 100, 50_000_000, 10_000},
		"WholeValue":            {12_345, 10_000, 0, 12_345},
		"LargestInt64NoWrap":    {math.MaxInt64, 10_000, 0, math.MaxInt64},
		"LargestInt64OnePct":    {math.MaxInt64, 100, 0, 92_233_720_368_547_758},
		"NegativeIsNothing":     {-100, 100, 0, 0},
		"CapOfZeroIsNoCap":      {10_000_000_000, 100, 0, 100_000_000},
		"OneBasisPointOfAPenny": {1, 1, 0, 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := LevyAmount(tt.value, tt.bp, tt.capPence); got != tt.want {
				t.Errorf("LevyAmount(%d, %d, %d) = %d, want %d", tt.value, tt.bp, tt.capPence, got, tt.want)
			}
		})
	}
}

func TestNewLevy(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	tender := &Tender{ID: "t1", Title: "BI"}
	bid := &Bid{ID: "b1", PricePence: 42_000_000}
	org := func(s Sector) *Organisation { return &Organisation{ID: "o1", Name: "Supplier", Sector: s} }
	tests := map[string]struct {
		policy LevyPolicy
		sector Sector
		price  int64
		status LevyStatus
		amount int64
	}{
		"InvoicingOn":     {LevyPolicy{BasisPoints: 100, Invoicing: true}, SectorIndependent, 42_000_000, LevyPending, 420_000},
		"InvoicingOff":    {LevyPolicy{BasisPoints: 100}, SectorIndependent, 42_000_000, LevyNotSent, 420_000},
		"WaivedSector":    {LevyPolicy{BasisPoints: 100, Invoicing: true, WaivedSectors: []Sector{SectorThirdSector}}, SectorThirdSector, 42_000_000, LevyWaived, 0},
		"OtherSectorPays": {LevyPolicy{BasisPoints: 100, Invoicing: true, WaivedSectors: []Sector{SectorThirdSector}}, SectorNHS, 42_000_000, LevyPending, 420_000},
		"ZeroAward":       {LevyPolicy{BasisPoints: 100, Invoicing: true}, SectorNHS, 0, LevyWaived, 0},
		"ZeroRate":        {LevyPolicy{BasisPoints: 0, Invoicing: true}, SectorNHS, 42_000_000, LevyWaived, 0},
		"Capped":          {LevyPolicy{BasisPoints: 100, CapPence: 100_000, Invoicing: true}, SectorNHS, 42_000_000, LevyPending, 100_000},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			b := *bid
			b.PricePence = tt.price
			l := tt.policy.NewLevy(tender, &b, org(tt.sector), "bids@example.org", now)
			if l.Status != tt.status || l.AmountPence != tt.amount {
				t.Errorf("status %s, amount %d; want %s, %d", l.Status, l.AmountPence, tt.status, tt.amount)
			}
			if l.AwardValuePence != tt.price || l.BasisPoints != tt.policy.BasisPoints || l.SupplierSector != tt.sector {
				t.Errorf("levy %+v", l)
			}
			if len(l.History) != 1 || l.History[0].Status != tt.status {
				t.Errorf("history %+v", l.History)
			}
			if tt.status == LevyPending && !l.NextAttemptAt.Equal(now) {
				t.Errorf("a pending levy is due at %v, want now", l.NextAttemptAt)
			}
			if tt.status == LevyWaived && l.WaivedReason == "" {
				t.Errorf("a waived levy without a reason")
			}
		})
	}
}

// TestAdvanceTo replays Stripe's events in every order the tests care
// about: a levy only ever moves forward.
func TestAdvanceTo(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		from   LevyStatus
		events []LevyStatus
		want   LevyStatus
	}{
		"SentThenPaid":              {LevySent, []LevyStatus{LevyPaid}, LevyPaid},
		"PaidThenFinalized":         {LevySent, []LevyStatus{LevyPaid, LevySent}, LevyPaid},
		"PaidThenPaymentFailed":     {LevySent, []LevyStatus{LevyPaid, LevyPaymentFailed}, LevyPaid},
		"PaidThenVoided":            {LevySent, []LevyStatus{LevyPaid, LevyVoid}, LevyPaid},
		"FailedPaymentThenPaid":     {LevySent, []LevyStatus{LevyPaymentFailed, LevyPaid}, LevyPaid},
		"UncollectibleThenPaid":     {LevySent, []LevyStatus{LevyUncollectible, LevyPaid}, LevyPaid},
		"UncollectibleThenVoided":   {LevySent, []LevyStatus{LevyUncollectible, LevyVoid}, LevyVoid},
		"VoidedThenPaid":            {LevySent, []LevyStatus{LevyVoid, LevyPaid}, LevyVoid},
		"PendingFinalizedStays":     {LevyPending, []LevyStatus{LevySent}, LevyPending},
		"PendingPaid":               {LevyPending, []LevyStatus{LevyPaid}, LevyPaid},
		"FailedThenPaid":            {LevyFailed, []LevyStatus{LevyPaid}, LevyPaid},
		"WaivedIgnoresEverything":   {LevyWaived, []LevyStatus{LevySent, LevyPaid}, LevyWaived},
		"NotSentIgnoresEverything":  {LevyNotSent, []LevyStatus{LevyPaid}, LevyNotSent},
		"NotAnInvoiceStatusIgnored": {LevySent, []LevyStatus{LevyPending, LevyFailed}, LevySent},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			l := Levy{Status: tt.from, History: []LevyChange{{At: at, Status: tt.from}}}
			moves := 0
			for _, st := range tt.events {
				if l.AdvanceTo(st, at, "") {
					moves++
				}
			}
			if l.Status != tt.want {
				t.Errorf("ended %s, want %s", l.Status, tt.want)
			}
			if len(l.History) != 1+moves {
				t.Errorf("%d history entries after %d moves", len(l.History), moves)
			}
		})
	}
}

func TestInvoiceStatusFor(t *testing.T) {
	for typ, want := range map[string]LevyStatus{
		"invoice.finalized": LevySent, "invoice.paid": LevyPaid, "invoice.payment_failed": LevyPaymentFailed,
		"invoice.voided": LevyVoid, "invoice.marked_uncollectible": LevyUncollectible,
	} {
		if got, ok := InvoiceStatusFor(typ); !ok || got != want {
			t.Errorf("%s: %s, %v", typ, got, ok)
		}
	}
	for _, typ := range []string{"customer.created", "invoice.created", "charge.succeeded", ""} {
		if _, ok := InvoiceStatusFor(typ); ok {
			t.Errorf("%q moves a levy", typ)
		}
	}
}

func TestParseSectors(t *testing.T) {
	got, err := ParseSectors(" third_sector, nhs ,,")
	if err != nil || !slices.Equal(got, []Sector{SectorThirdSector, SectorNHS}) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := ParseSectors("charity"); err == nil {
		t.Errorf("charity accepted as a sector")
	}
}
