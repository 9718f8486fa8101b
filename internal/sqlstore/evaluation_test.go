package sqlstore_test

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

// evaluationStores adds the evaluation store to the tender stores, with a
// published tender whose deadline has passed and two bids on it.
type evaluationStores struct {
	*tenderStores
	es     *sqlstore.EvaluationStore
	tender market.Tender
	b1, b2 market.Bid
}

func eachEngineEvaluations(t *testing.T, fn func(t *testing.T, s *evaluationStores)) {
	eachEngineTenders(t, func(t *testing.T, ts *tenderStores) {
		s := &evaluationStores{tenderStores: ts, es: sqlstore.NewEvaluationStore(ts.db, ts.clock)}
		s.tender = mustPublished(t, ts, ts.draft("Evaluated"))
		s.b1 = mustSubmit(t, ts, s.tender, ts.sup1User, 40_000_000)
		ts.clock.Add(time.Minute)
		s.b2 = mustSubmit(t, ts, s.tender, ts.sup2User, 45_000_000)
		ts.clock.Add(s.tender.BidDeadline.Sub(ts.clock.Now()) + time.Hour)
		fn(t, s)
	})
}

func TestEvaluators(t *testing.T) {
	eachEngineEvaluations(t, func(t *testing.T, s *evaluationStores) {
		ctx := t.Context()
		tid := s.tender.ID
		_, err := s.es.GetEvaluator(ctx, tid, s.jointUser.ID)
		wantCode(t, err, market.ENOTFOUND)
		if es, err := s.es.ListEvaluators(ctx, tid); err != nil || es == nil || len(es) != 0 {
			t.Fatalf("ListEvaluators of none = %v, %v; want an empty list", es, err)
		}

		assigned := market.Evaluator{TenderID: tid, UserID: s.jointUser.ID, OrganisationID: s.joint.ID,
			Assigned: true, AssignedBy: s.leadUser.ID, AssignedAt: s.clock.Now()}
		evs := expectEvents(t, s.tenderStores, func() {
			if err := s.es.AssignEvaluator(ctx, &assigned, s.event(s.leadUser, "evaluator", "evaluator.assigned")); err != nil {
				t.Fatalf("AssignEvaluator: %v", err)
			}
		}, "evaluator.assigned")
		if evs[0].ObjectID != s.jointUser.ID || evs[0].TenderID != tid {
			t.Errorf("assignment event %+v: want the user, the tender", evs[0])
		}
		want := market.Evaluator{TenderID: tid, UserID: s.jointUser.ID, OrganisationID: s.joint.ID, Assigned: true,
			AssignedBy: s.leadUser.ID, AssignedAt: micro(s.clock.Now()), ConflictSuppliers: []string{}}
		if !reflect.DeepEqual(assigned, want) {
			t.Errorf("assigned\n%+v\nwant\n%+v", assigned, want)
		}
		if got, err := s.es.GetEvaluator(ctx, tid, s.jointUser.ID); err != nil || !reflect.DeepEqual(got, want) || got.Cleared() {
			t.Errorf("GetEvaluator = %+v, %v; want %+v, not cleared", got, err, want)
		}

		t.Run("ErrAssignTwice", func(t *testing.T) {
			again := market.Evaluator{TenderID: tid, UserID: s.jointUser.ID, OrganisationID: s.joint.ID,
				Assigned: true, AssignedBy: s.leadUser.ID, AssignedAt: s.clock.Now().Add(time.Hour)}
			expectEvents(t, s.tenderStores, func() {
				wantCode(t, s.es.AssignEvaluator(ctx, &again, s.event(s.leadUser, "evaluator", "evaluator.assigned")), market.ECONFLICT)
			})
			if got, _ := s.es.GetEvaluator(ctx, tid, s.jointUser.ID); !reflect.DeepEqual(got, want) {
				t.Errorf("a refused assignment changed the record: %+v", got)
			}
		})

		s.clock.Add(time.Minute)
		decl := market.Evaluator{TenderID: tid, UserID: s.jointUser.ID, OrganisationID: s.joint.ID,
			DeclaredAt: s.clock.Now(), Conflict: true, ConflictSuppliers: []string{s.sup2.ID}, ConflictDetails: "Former employer."}
		expectEvents(t, s.tenderStores, func() {
			if err := s.es.DeclareConflicts(ctx, &decl, s.event(s.jointUser, "evaluator", "evaluator.declared_conflict")); err != nil {
				t.Fatalf("DeclareConflicts: %v", err)
			}
		}, "evaluator.declared_conflict")
		want.DeclaredAt, want.Conflict, want.ConflictSuppliers, want.ConflictDetails = micro(s.clock.Now()), true, []string{s.sup2.ID}, "Former employer."
		if !reflect.DeepEqual(decl, want) {
			t.Errorf("declared (the assignment kept)\n%+v\nwant\n%+v", decl, want)
		}
		if got, err := s.es.GetEvaluator(ctx, tid, s.jointUser.ID); err != nil || !reflect.DeepEqual(got, want) || got.Cleared() {
			t.Errorf("GetEvaluator = %+v, %v; want %+v, not cleared (a conflict)", got, err, want)
		}

		t.Run("ErrDeclareTwice", func(t *testing.T) {
			again := market.Evaluator{TenderID: tid, UserID: s.jointUser.ID, OrganisationID: s.joint.ID, DeclaredAt: s.clock.Now()}
			expectEvents(t, s.tenderStores, func() {
				wantCode(t, s.es.DeclareConflicts(ctx, &again, s.event(s.jointUser, "evaluator", "evaluator.declared_no_conflict")), market.ECONFLICT)
			})
			if got, _ := s.es.GetEvaluator(ctx, tid, s.jointUser.ID); !reflect.DeepEqual(got, want) {
				t.Errorf("a second declaration changed the record: %+v", got)
			}
		})

		// The creator declares without a record: the declaration inserts
		// it, assigned by default.
		s.clock.Add(time.Minute)
		creator := market.Evaluator{TenderID: tid, UserID: s.leadUser.ID, OrganisationID: s.lead.ID, Assigned: true,
			AssignedBy: s.leadUser.ID, AssignedAt: s.tender.CreatedAt, DeclaredAt: s.clock.Now()}
		if err := s.es.DeclareConflicts(ctx, &creator, s.event(s.leadUser, "evaluator", "evaluator.declared_no_conflict")); err != nil {
			t.Fatalf("DeclareConflicts of the creator: %v", err)
		}
		if !creator.Cleared() || !creator.Assigned || !creator.AssignedAt.Equal(s.tender.CreatedAt) || creator.AssignedBy != s.leadUser.ID {
			t.Errorf("creator's record %+v: want cleared, assigned at the tender's creation", creator)
		}

		// A buyer who declared to read bids, unassigned, may be assigned
		// later; its declaration stays.
		s.clock.Add(time.Minute)
		otherUser := newUser("Second Buyer", "second@lead.example.org", market.RoleBuyer)
		otherUser.OrganisationID = s.lead.ID
		if err := s.u.CreateUser(ctx, &otherUser); err != nil {
			t.Fatal(err)
		}
		reader := market.Evaluator{TenderID: tid, UserID: otherUser.ID, OrganisationID: s.lead.ID}
		if err := s.es.DeclareConflicts(ctx, &reader, s.event(otherUser, "evaluator", "evaluator.declared_no_conflict")); err != nil {
			t.Fatalf("DeclareConflicts unassigned: %v", err)
		}
		if reader.Assigned || !reader.Cleared() || !reader.DeclaredAt.Equal(micro(s.clock.Now())) || !reader.AssignedAt.IsZero() {
			t.Errorf("unassigned declaration %+v: want cleared, not assigned, declared now", reader)
		}
		s.clock.Add(time.Minute)
		late := market.Evaluator{TenderID: tid, UserID: otherUser.ID, OrganisationID: s.lead.ID, Assigned: true,
			AssignedBy: s.leadUser.ID, AssignedAt: s.clock.Now()}
		if err := s.es.AssignEvaluator(ctx, &late, s.event(s.leadUser, "evaluator", "evaluator.assigned")); err != nil {
			t.Fatalf("AssignEvaluator after a declaration: %v", err)
		}
		if !late.Assigned || !late.Cleared() || !late.DeclaredAt.Equal(reader.DeclaredAt) || !late.AssignedAt.Equal(micro(s.clock.Now())) {
			t.Errorf("assigned after declaring: %+v; want assigned now, the declaration kept", late)
		}

		es, err := s.es.ListEvaluators(ctx, tid)
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, e := range es {
			order = append(order, e.UserID)
		}
		if want := []string{s.leadUser.ID, s.jointUser.ID, otherUser.ID}; !slices.Equal(order, want) {
			t.Errorf("evaluators in order %q, want %q (assignment order)", order, want)
		}
		if other, err := s.es.ListEvaluators(ctx, "another"); err != nil || len(other) != 0 {
			t.Errorf("another tender's evaluators = %v, %v", other, err)
		}
	})
}

// TestDeclareConcurrently declares one user's interests from many
// goroutines at once: exactly one declaration is kept, with one event.
func TestDeclareConcurrently(t *testing.T) {
	eachEngineEvaluations(t, func(t *testing.T, s *evaluationStores) {
		ctx := t.Context()
		const declarers = 8
		mustWarmPool(t, s.db, declarers)
		before := len(mustEvents(t, s.tenderStores))
		var wg sync.WaitGroup
		errs := make([]error, declarers)
		start := make(chan struct{})
		for i := range declarers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e := market.Evaluator{TenderID: s.tender.ID, UserID: s.jointUser.ID, OrganisationID: s.joint.ID,
					Conflict: i%2 == 0, ConflictDetails: "Race."}
				<-start
				errs[i] = s.es.DeclareConflicts(ctx, &e, s.event(s.jointUser, "evaluator", "evaluator.declared"))
			}()
		}
		close(start)
		wg.Wait()
		wins := countWins(t, errs, market.ECONFLICT, "declaration")
		if evs := mustEvents(t, s.tenderStores)[before:]; wins != 1 || len(evs) != 1 {
			t.Errorf("%d concurrent declarations succeeded with %d events, want 1 and 1", wins, len(evs))
		}
	})
}

func TestScores(t *testing.T) {
	eachEngineEvaluations(t, func(t *testing.T, s *evaluationStores) {
		ctx := t.Context()
		tid := s.tender.ID
		sheet := func(bid market.Bid, evaluator market.User, scores map[string]int) []market.Score {
			var out []market.Score
			for _, c := range []string{"approach", "social_value"} {
				if sc, ok := scores[c]; ok {
					out = append(out, market.Score{TenderID: tid, BidID: bid.ID, EvaluatorID: evaluator.ID, Criterion: c,
						Score: sc, Justification: "Because " + c + ".", UpdatedAt: s.clock.Now()})
				}
			}
			return out
		}
		put := func(scores []market.Score) {
			t.Helper()
			evs := expectEvents(t, s.tenderStores, func() {
				if err := s.es.PutScores(ctx, scores, s.event(s.leadUser, "bid", "bid.scored")); err != nil {
					t.Fatalf("PutScores: %v", err)
				}
			}, "bid.scored")
			if evs[0].ObjectID != scores[0].BidID || evs[0].TenderID != tid {
				t.Errorf("scoring event %+v: want the bid, the tender", evs[0])
			}
		}
		lead1 := sheet(s.b1, s.leadUser, map[string]int{"approach": 3, "social_value": 2})
		put(lead1)
		if !lead1[0].UpdatedAt.Equal(micro(s.clock.Now())) || lead1[0].UpdatedAt.Nanosecond()%1000 != 0 {
			t.Errorf("UpdatedAt %v, want the clock's time at microseconds", lead1[0].UpdatedAt)
		}
		joint1 := sheet(s.b1, s.jointUser, map[string]int{"approach": 4, "social_value": 4})
		put(joint1)
		lead2 := sheet(s.b2, s.leadUser, map[string]int{"approach": 1})
		put(lead2)

		// A new sheet replaces the evaluator's scores of that bid, and only
		// those: a criterion it no longer scores is gone.
		s.clock.Add(time.Minute)
		lead1b := sheet(s.b1, s.leadUser, map[string]int{"approach": 0})
		lead1b[0].Justification = "Changed my mind."
		put(lead1b)

		got, err := s.es.ListScores(ctx, tid)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Concat(lead1b, joint1, lead2)
		slices.SortFunc(want, func(a, b market.Score) int {
			return cmpStrings(a.BidID+"|"+a.EvaluatorID+"|"+a.Criterion, b.BidID+"|"+b.EvaluatorID+"|"+b.Criterion)
		})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ListScores =\n%+v\nwant\n%+v", got, want)
		}
		if none, err := s.es.ListScores(ctx, "another"); err != nil || none == nil || len(none) != 0 {
			t.Errorf("scores of another tender = %v, %v; want an empty list", none, err)
		}
		// The comparison's read of the same scores, from the sheets the
		// triggers keep: every value, without justifications or times.
		values := func(t *testing.T) {
			t.Helper()
			got, err := s.es.ListScoreValues(ctx, tid)
			if err != nil {
				t.Fatal(err)
			}
			all, err := s.es.ListScores(ctx, tid)
			if err != nil {
				t.Fatal(err)
			}
			var want []market.Score
			for _, sc := range all {
				want = append(want, market.Score{TenderID: sc.TenderID, BidID: sc.BidID, EvaluatorID: sc.EvaluatorID, Criterion: sc.Criterion, Score: sc.Score})
			}
			byKey := func(a, b market.Score) int {
				return cmpStrings(a.BidID+"|"+a.EvaluatorID+"|"+a.Criterion, b.BidID+"|"+b.EvaluatorID+"|"+b.Criterion)
			}
			slices.SortFunc(got, byKey)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ListScoreValues =\n%+v\nwant\n%+v", got, want)
			}
		}
		values(t)
		if none, err := s.es.ListScoreValues(ctx, "another"); err != nil || len(none) != 0 {
			t.Errorf("score values of another tender = %v, %v; want none", none, err)
		}
		t.Run("SheetsFollowEveryWrite", func(t *testing.T) {
			// Writers other than PutScores (a fix by hand, a migration)
			// keep the sheets too.
			if _, err := s.db.ExecContext(ctx, "UPDATE scores SET score = 1 WHERE bid_id = ? AND evaluator_id = ?", s.b1.ID, s.jointUser.ID); err != nil {
				t.Fatal(err)
			}
			values(t)
			if _, err := s.db.ExecContext(ctx, "UPDATE scores SET score = 4 WHERE bid_id = ? AND evaluator_id = ?", s.b1.ID, s.jointUser.ID); err != nil {
				t.Fatal(err)
			}
			values(t)
		})

		t.Run("ErrNotOneSheet", func(t *testing.T) {
			mixed := slices.Concat(sheet(s.b1, s.leadUser, map[string]int{"approach": 1}), sheet(s.b2, s.leadUser, map[string]int{"approach": 1}))
			expectEvents(t, s.tenderStores, func() {
				if err := s.es.PutScores(ctx, mixed, s.event(s.leadUser, "bid", "bid.scored")); err == nil {
					t.Error("PutScores of two bids at once succeeded")
				}
				if err := s.es.PutScores(ctx, nil, s.event(s.leadUser, "bid", "bid.scored")); err == nil {
					t.Error("PutScores of nothing succeeded")
				}
			})
			if after, _ := s.es.ListScores(ctx, tid); !reflect.DeepEqual(after, want) {
				t.Errorf("a refused sheet changed the scores")
			}
			values(t)
		})
	})
}

func cmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestModerations(t *testing.T) {
	eachEngineEvaluations(t, func(t *testing.T, s *evaluationStores) {
		ctx := t.Context()
		tid := s.tender.ID
		m := market.Moderation{TenderID: tid, BidID: s.b1.ID, Criterion: "approach", Score: 2, Reason: "Evaluators disagreed.", By: s.leadUser.ID}
		evs := expectEvents(t, s.tenderStores, func() {
			if err := s.es.PutModeration(ctx, &m, s.event(s.leadUser, "bid", "bid.moderated")); err != nil {
				t.Fatalf("PutModeration: %v", err)
			}
		}, "bid.moderated")
		if evs[0].ObjectID != s.b1.ID || !m.At.Equal(micro(s.clock.Now())) {
			t.Errorf("event %+v, moderation %+v", evs[0], m)
		}
		other := market.Moderation{TenderID: tid, BidID: s.b2.ID, Criterion: "approach", Score: 1, Reason: "Thin.", By: s.leadUser.ID}
		if err := s.es.PutModeration(ctx, &other, s.event(s.leadUser, "bid", "bid.moderated")); err != nil {
			t.Fatal(err)
		}
		s.clock.Add(time.Minute)
		m2 := market.Moderation{TenderID: tid, BidID: s.b1.ID, Criterion: "approach", Score: 3, Reason: "On reflection.", By: s.jointUser.ID, At: s.clock.Now()}
		expectEvents(t, s.tenderStores, func() {
			if err := s.es.PutModeration(ctx, &m2, s.event(s.leadUser, "bid", "bid.moderated")); err != nil {
				t.Fatalf("PutModeration again: %v", err)
			}
		}, "bid.moderated")
		got, err := s.es.ListModerations(ctx, tid)
		want := []market.Moderation{m2, other}
		if s.b2.ID < s.b1.ID {
			want = []market.Moderation{other, m2}
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ListModerations =\n%+v, %v\nwant the latest per bid and criterion\n%+v", got, err, want)
		}
		if none, err := s.es.ListModerations(ctx, "another"); err != nil || none == nil || len(none) != 0 {
			t.Errorf("moderations of another tender = %v, %v", none, err)
		}
	})
}

func TestAwardFields(t *testing.T) {
	eachEngineEvaluations(t, func(t *testing.T, s *evaluationStores) {
		ctx := t.Context()
		read := func(want market.Tender) {
			t.Helper()
			if got, err := s.ts.GetTender(ctx, want.ID); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("GetTender =\n%+v, %v\nwant\n%+v", got, err, want)
			}
			page, err := s.ts.ListTenders(ctx, market.TenderFilter{Now: s.clock.Now()})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(page.Items, func(x market.Tender) bool { return x.ID == want.ID })
			if i < 0 || !reflect.DeepEqual(page.Items[i], want) {
				t.Errorf("ListTenders lists the tender as %+v, want %+v", page.Items, want)
			}
		}
		tender := mustSave(t, s.tenderStores, s.tender, "tender.award_decided", func(t *market.Tender) {
			t.AwardedAt, t.AwardBidID, t.AwardReason = s.clock.Now(), s.b1.ID, "Best value."
			t.StandstillEndsAt = s.clock.Now().Add(market.DefaultStandstill)
		})
		if tender.AwardBidID != s.b1.ID || tender.AwardReason != "Best value." || tender.Status(s.clock.Now()) != market.TenderStandstill {
			t.Fatalf("saved %+v", tender)
		}
		read(tender)

		revoked := mustSave(t, s.tenderStores, tender, "tender.award_revoked", func(t *market.Tender) {
			t.AwardedAt, t.AwardBidID, t.AwardReason, t.StandstillEndsAt = time.Time{}, "", "", time.Time{}
		})
		read(revoked)
		var bid any
		if err := s.db.QueryRowContext(ctx, "SELECT award_bid_id FROM tenders WHERE id = ?", tender.ID).Scan(&bid); err != nil || bid != nil {
			t.Errorf("award_bid_id after revocation = %v, %v; want NULL", bid, err)
		}

		s.clock.Add(time.Hour)
		final := mustSave(t, s.tenderStores, revoked, "tender.award_decided", func(t *market.Tender) {
			t.AwardedAt, t.AwardBidID, t.AwardReason = s.clock.Now(), s.b2.ID, "Second thoughts."
			t.StandstillEndsAt = s.clock.Now().Add(time.Hour)
		})
		s.clock.Add(2 * time.Hour)
		final = mustSave(t, s.tenderStores, final, "tender.awarded", func(t *market.Tender) { t.AwardConfirmedAt = s.clock.Now() })
		if final.Status(s.clock.Now()) != market.TenderAwarded {
			t.Errorf("status %s, want awarded", final.Status(s.clock.Now()))
		}
		read(final)
	})
}

// TestEvaluationsService runs the domain's evaluation and award rules on
// the store, from declarations to the final award.
func TestEvaluationsService(t *testing.T) {
	eachEngineEvaluations(t, func(t *testing.T, s *evaluationStores) {
		ctx := t.Context()
		svc := &market.Evaluations{Tenders: s.ts, Store: s.es, Users: s.u, Clock: s.clock, Standstill: time.Hour}
		principal := func(o market.Organisation, u market.User) *market.Principal {
			return &market.Principal{UserID: u.ID, OrganisationID: o.ID, OrgKind: o.Kind, OrgStatus: o.Status, Role: u.Role}
		}
		lead, joint := principal(s.lead, s.leadUser), principal(s.joint, s.jointUser)
		if _, err := svc.AssignEvaluator(ctx, lead, s.tender.ID, s.jointUser.ID); err != nil {
			t.Fatalf("AssignEvaluator: %v", err)
		}
		_, err := svc.AssignEvaluator(ctx, lead, s.tender.ID, s.jointUser.ID)
		wantCode(t, err, market.ECONFLICT)
		_, err = svc.PutScores(ctx, joint, s.tender.ID, s.b1.ID, map[string]market.ScoreInput{"approach": {Score: 3, Justification: "Good."}})
		wantCode(t, err, market.EFORBIDDEN) // not declared yet
		for _, p := range []*market.Principal{lead, joint} {
			if _, err := svc.Declare(ctx, p, s.tender.ID, false, nil, ""); err != nil {
				t.Fatalf("Declare: %v", err)
			}
		}
		_, err = svc.Declare(ctx, joint, s.tender.ID, false, nil, "")
		wantCode(t, err, market.ECONFLICT)
		for _, sc := range []struct {
			p   *market.Principal
			bid string
			n   int
		}{{lead, s.b1.ID, 4}, {joint, s.b1.ID, 2}, {lead, s.b2.ID, 4}, {joint, s.b2.ID, 4}} {
			if _, err := svc.PutScores(ctx, sc.p, s.tender.ID, sc.bid, map[string]market.ScoreInput{"approach": {Score: sc.n, Justification: "Seen."}}); err != nil {
				t.Fatalf("PutScores: %v", err)
			}
		}
		cmp, err := svc.Compare(ctx, lead, s.tender.ID)
		if err != nil {
			t.Fatalf("Compare: %v", err)
		}
		// Price 40: b1 40 x 40m/40m = 40, b2 40 x 40m/45m = 35.56; approach
		// 60: b1 mean 3 / 4 x 60 = 45, b2 4 / 4 x 60 = 60. In-house (45m,
		// approach 2): 35.56 + 30.
		totals := map[string]float64{}
		for _, r := range cmp.Rows {
			totals[r.BidID] = r.Total
		}
		if totals[s.b1.ID] != 85 || totals[s.b2.ID] != 95.56 || totals[""] != 65.56 || cmp.Rows[0].BidID != s.b2.ID {
			t.Errorf("totals %v, leader %q; want b1 85, b2 95.56, in-house 65.56, b2 first", totals, cmp.Rows[0].BidID)
		}
		if _, err := svc.Moderate(ctx, lead, s.tender.ID, s.b1.ID, "approach", 4, "Agreed at moderation."); err != nil {
			t.Fatalf("Moderate: %v", err)
		}
		if cmp, _ = svc.Compare(ctx, lead, s.tender.ID); cmp.Rows[0].BidID != s.b1.ID || cmp.Rows[0].Total != 100 {
			t.Errorf("after moderation leader %q with %v, want b1 with 100", cmp.Rows[0].BidID, cmp.Rows[0].Total)
		}
		awarded, err := svc.Award(ctx, lead, s.tender.ID, s.b1.ID, "Highest total.")
		if err != nil || awarded.AwardBidID != s.b1.ID || awarded.StandstillEndsAt.IsZero() {
			t.Fatalf("Award: %+v, %v", awarded, err)
		}
		_, err = svc.ConfirmAward(ctx, lead, s.tender.ID)
		wantCode(t, err, market.ECONFLICT) // standstill
		s.clock.Add(time.Hour)
		if awarded, err = svc.ConfirmAward(ctx, lead, s.tender.ID); err != nil {
			t.Fatalf("ConfirmAward: %v", err)
		}
		got, err := s.ts.GetTender(ctx, s.tender.ID)
		if err != nil || !reflect.DeepEqual(got, awarded) || got.AwardBidID != s.b1.ID || got.AwardReason != "Highest total." {
			t.Errorf("stored award %+v, %v; want %+v", got, err, awarded)
		}
		wantIntactChain(t, sqlstore.NewAuditStore(s.db), len(mustEvents(t, s.tenderStores)))
	})
}

// TestMigrateDerivedTables checks that the migrations making score_sheets
// and tender_bid_tallies fill them from the scores and bids already
// stored: undone and done again over a scored tender, the comparison's
// scores and the market's figures are as they were.
func TestMigrateDerivedTables(t *testing.T) {
	eachEngineEvaluations(t, func(t *testing.T, s *evaluationStores) {
		ctx := t.Context()
		sheet := func(b market.Bid, u market.User, approach, social int) {
			t.Helper()
			scores := []market.Score{
				{TenderID: s.tender.ID, BidID: b.ID, EvaluatorID: u.ID, Criterion: "approach", Score: approach, Justification: "Because."},
				{TenderID: s.tender.ID, BidID: b.ID, EvaluatorID: u.ID, Criterion: "social_value", Score: social, Justification: "Because."},
			}
			if err := s.es.PutScores(ctx, scores, s.event(u, "bid", "bid.scored")); err != nil {
				t.Fatal(err)
			}
		}
		sheet(s.b1, s.leadUser, 3, 2)
		sheet(s.b1, s.jointUser, 4, 1)
		sheet(s.b2, s.leadUser, 0, 4)
		figuresStore := sqlstore.NewMarketStore(s.db)
		read := func() ([]market.Score, market.ChoiceFigures) {
			t.Helper()
			values, err := s.es.ListScoreValues(ctx, s.tender.ID)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(values, func(a, b market.Score) int {
				return cmpStrings(a.BidID+"|"+a.EvaluatorID+"|"+a.Criterion, b.BidID+"|"+b.EvaluatorID+"|"+b.Criterion)
			})
			figures, err := figuresStore.ChoiceFigures(ctx, s.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			return values, figures
		}
		values, figures := read()
		if len(values) != 6 || figures.TendersWithBids != 1 {
			t.Fatalf("before: %d score values, %d tenders with bids", len(values), figures.TendersWithBids)
		}
		if err := sqlstore.MigrateDownTo(ctx, s.db, 8); err != nil {
			t.Fatalf("down to 8: %v", err)
		}
		if err := s.db.Migrate(ctx); err != nil {
			t.Fatalf("up again: %v", err)
		}
		gotValues, gotFigures := read()
		if !reflect.DeepEqual(gotValues, values) || !reflect.DeepEqual(gotFigures, figures) {
			t.Errorf("after migrating again:\n%+v\n%+v\nwant\n%+v\n%+v", gotValues, gotFigures, values, figures)
		}
	})
}

// TestPutScoresConcurrently: an evaluator's sheet for a bid written from
// several places at once (two tabs, a retry racing the first attempt)
// is stored each time, never refused as a conflict, and ends as one of the
// sheets whole, not a mix, with the comparison's derived sheet agreeing.
func TestPutScoresConcurrently(t *testing.T) {
	eachEngineEvaluations(t, func(t *testing.T, s *evaluationStores) {
		ctx := t.Context()
		const writers = 8
		errs := make(chan error, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				scores := []market.Score{
					{TenderID: s.tender.ID, BidID: s.b1.ID, EvaluatorID: s.leadUser.ID, Criterion: "approach", Score: w % 5, Justification: fmt.Sprintf("Sheet %d.", w)},
					{TenderID: s.tender.ID, BidID: s.b1.ID, EvaluatorID: s.leadUser.ID, Criterion: "social_value", Score: w % 5, Justification: fmt.Sprintf("Sheet %d.", w)},
				}
				errs <- s.es.PutScores(ctx, scores, s.event(s.leadUser, "bid", "bid.scored"))
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("PutScores beside others: %v", err)
			}
		}
		got, err := s.es.ListScores(ctx, s.tender.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Justification != got[1].Justification || got[0].Score != got[1].Score {
			t.Fatalf("stored %+v, want one whole sheet", got)
		}
		values, err := s.es.ListScoreValues(ctx, s.tender.ID)
		if err != nil || len(values) != 2 || values[0].Score != got[0].Score || values[1].Score != got[0].Score {
			t.Errorf("derived sheet %+v, %v; want the stored scores %d", values, err, got[0].Score)
		}
	})
}
