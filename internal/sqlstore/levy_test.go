package sqlstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

// mustConfirmed stores a tender awarded to a bid of sup at price, with its
// final award and levy recorded by ConfirmAward, and returns the levy.
func mustConfirmed(tb testing.TB, s *tenderStores, ls *sqlstore.LevyStore, title string, price int64, policy market.LevyPolicy) (market.Tender, market.Levy) {
	tb.Helper()
	t := mustPublished(tb, s, s.draft(title))
	b := mustSubmit(tb, s, t, s.sup1User, price)
	s.clock.Add(11 * 24 * time.Hour)
	t = mustSave(tb, s, t, "tender.award_decided", func(t *market.Tender) {
		t.AwardedAt, t.AwardBidID, t.StandstillEndsAt = s.clock.Now(), b.ID, s.clock.Now()
	})
	v := t.Version
	t.AwardConfirmedAt = s.clock.Now()
	l := policy.NewLevy(&t, &b, &s.sup1, s.sup1User.Email, s.clock.Now())
	if err := s.ts.ConfirmAward(tb.Context(), &t, v, s.event(s.leadUser, "tender", "tender.awarded"),
		&l, market.LevyEvent(nil, &l, "levy.recorded", nil)); err != nil {
		tb.Fatalf("ConfirmAward: %v", err)
	}
	return t, l
}

func TestLevyStore(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		ls := sqlstore.NewLevyStore(s.db, s.clock)
		policy := market.LevyPolicy{BasisPoints: 100, Invoicing: true}

		t.Run("ConfirmAwardRecordsTheLevy", func(t *testing.T) {
			tender, l := mustConfirmed(t, s, ls, "Levied", 42_000_000, policy)
			got, err := ls.GetLevy(ctx, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.TenderID != tender.ID || got.AmountPence != 420_000 || got.Status != market.LevyPending ||
				got.BillingEmail != s.sup1User.Email || len(got.History) != 1 || !got.NextAttemptAt.Equal(micro(l.NextAttemptAt)) {
				t.Errorf("stored levy %+v", got)
			}
			events := mustEvents(t, s)
			last := events[len(events)-1]
			if last.Action != "levy.recorded" || last.ObjectID != l.ID || last.TenderID != tender.ID {
				t.Errorf("last audit event %+v", last)
			}
			// A second levy for the tender is refused, and the tender's
			// confirmation with it: the transaction is one.
			stored, err := s.ts.GetTender(ctx, tender.ID)
			if err != nil {
				t.Fatal(err)
			}
			again := l
			v := stored.Version
			stored.AwardReason = "changed"
			err = s.ts.ConfirmAward(ctx, &stored, v, s.event(s.leadUser, "tender", "tender.awarded"), &again, market.LevyEvent(nil, &again, "levy.recorded", nil))
			wantCode(t, err, market.ECONFLICT)
			after, _ := s.ts.GetTender(ctx, tender.ID)
			if after.Version != v || after.AwardReason == "changed" {
				t.Errorf("a refused levy left the tender changed: version %d (was %d), reason %q", after.Version, v, after.AwardReason)
			}
			if n := len(mustEvents(t, s)); n != len(events) {
				t.Errorf("a refused levy left %d audit events behind", n-len(events))
			}
		})

		t.Run("ClaimsNeverOverlap", func(t *testing.T) {
			const levies, workers = 6, 6
			for i := range levies {
				mustConfirmed(t, s, ls, fmt.Sprintf("Claim %d", i), 10_000_000+int64(i), policy)
			}
			now := s.clock.Now()
			var (
				mu      sync.Mutex
				claimed = map[string]string{}
				wg      sync.WaitGroup
			)
			for w := range workers {
				wg.Go(func() {
					owner := fmt.Sprintf("worker-%d", w)
					for {
						l, err := ls.ClaimLevy(ctx, owner, now, now.Add(time.Minute))
						if market.ErrorCode(err) == market.ENOTFOUND {
							return
						}
						if err != nil {
							t.Errorf("claim: %v", err)
							return
						}
						mu.Lock()
						if prev, ok := claimed[l.ID]; ok {
							t.Errorf("levy %s claimed by %s and %s", l.ID, prev, owner)
						}
						claimed[l.ID] = owner
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(claimed) != levies+1 { // and the one of the test before
				t.Errorf("%d levies claimed, want %d", len(claimed), levies+1)
			}
			// Leased: nothing more to claim until the lease runs out.
			_, err := ls.ClaimLevy(ctx, "late", now, now.Add(time.Minute))
			wantCode(t, err, market.ENOTFOUND)
			later := now.Add(time.Minute)
			l, err := ls.ClaimLevy(ctx, "late", later, later.Add(time.Minute))
			if err != nil {
				t.Fatalf("after the leases ran out: %v", err)
			}
			// The first owner lost it: its save is refused.
			_, err = ls.WorkLevy(ctx, l.ID, claimed[l.ID], true, func(*market.Levy) (*market.AuditEvent, error) { return nil, nil })
			wantCode(t, err, market.ECONFLICT)
			got, err := ls.WorkLevy(ctx, l.ID, "late", true, func(cur *market.Levy) (*market.AuditEvent, error) {
				cur.Status = market.LevySent
				cur.History = append(cur.History, market.LevyChange{At: later, Status: market.LevySent})
				ev := market.LevyEvent(nil, cur, "levy.sent", nil)
				return &ev, nil
			})
			if err != nil || got.Status != market.LevySent || len(got.History) != 2 {
				t.Fatalf("WorkLevy: %+v, %v", got, err)
			}
			// Sent levies are never claimed again.
			for {
				c, err := ls.ClaimLevy(ctx, "sweeper", later.Add(time.Hour), later.Add(2*time.Hour))
				if market.ErrorCode(err) == market.ENOTFOUND {
					break
				}
				if c.ID == l.ID {
					t.Fatalf("a sent levy was claimed")
				}
			}
		})

		t.Run("StripeEventsOnce", func(t *testing.T) {
			_, l := mustConfirmed(t, s, ls, "Webhooked", 5_000_000, policy)
			applied := 0
			change := func(cur *market.Levy) (*market.AuditEvent, error) {
				applied++
				cur.AdvanceTo(market.LevyPaid, s.clock.Now(), "paid")
				ev := market.LevyEvent(nil, cur, "levy.paid", nil)
				return &ev, nil
			}
			if err := ls.RecordStripeEvent(ctx, "evt_1", "invoice.paid", l.ID, change); err != nil {
				t.Fatal(err)
			}
			wantCode(t, ls.RecordStripeEvent(ctx, "evt_1", "invoice.paid", l.ID, change), market.ECONFLICT)
			if applied != 1 {
				t.Errorf("applied %d times", applied)
			}
			got, _ := ls.GetLevy(ctx, l.ID)
			if got.Status != market.LevyPaid || len(got.History) != 2 {
				t.Errorf("levy %+v", got)
			}
			// An event for no levy of ours is recorded and changes nothing.
			if err := ls.RecordStripeEvent(ctx, "evt_2", "invoice.paid", "not-a-levy", change); err != nil {
				t.Errorf("an unknown levy: %v", err)
			}
		})

		t.Run("StripeCustomerKeptOnce", func(t *testing.T) {
			_, err := ls.StripeCustomer(ctx, s.sup2.ID)
			wantCode(t, err, market.ENOTFOUND)
			first, err := ls.SetStripeCustomer(ctx, s.sup2.ID, "cus_first")
			if err != nil || first != "cus_first" {
				t.Fatalf("%q, %v", first, err)
			}
			kept, err := ls.SetStripeCustomer(ctx, s.sup2.ID, "cus_second")
			if err != nil || kept != "cus_first" {
				t.Errorf("a second customer replaced the first: %q, %v", kept, err)
			}
		})
	})
}
