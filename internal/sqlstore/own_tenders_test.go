package sqlstore_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

// TestEvaluatorTendersIndex: Tenders to evaluate finds a user's assigned
// tenders through evaluators_user (migration 00013) on both engines, not
// by reading every evaluator row; without the migration the plan has no
// such index, and migrating down and up again brings it back.
func TestEvaluatorTendersIndex(t *testing.T) {
	eachEngineEvaluations(t, func(t *testing.T, s *evaluationStores) {
		ctx := t.Context()
		assigned := market.Evaluator{TenderID: s.tender.ID, UserID: s.jointUser.ID, OrganisationID: s.joint.ID,
			Assigned: true, AssignedBy: s.leadUser.ID, AssignedAt: s.clock.Now()}
		if err := s.es.AssignEvaluator(ctx, &assigned, s.event(s.leadUser, "evaluator", "evaluator.assigned")); err != nil {
			t.Fatal(err)
		}
		// Forty more tenders, each with an evaluator of its own: the
		// primary key (tender, user) then has as many tenders to skip
		// through as a real one has, and reading it by user costs what it
		// would.
		for range 40 {
			other := mustCreateTender(t, s.tenderStores, s.draft("Someone else's"))
			e := market.Evaluator{TenderID: other.ID, UserID: s.leadUser.ID, OrganisationID: s.lead.ID,
				Assigned: true, AssignedBy: s.leadUser.ID, AssignedAt: s.clock.Now()}
			if err := s.es.AssignEvaluator(ctx, &e, s.event(s.leadUser, "evaluator", "evaluator.assigned")); err != nil {
				t.Fatal(err)
			}
		}
		f := market.OwnTenderFilter{EvaluatorID: s.jointUser.ID, Now: s.clock.Now()}
		page, err := s.ts.ListOwnTenders(ctx, f)
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != s.tender.ID {
			t.Fatalf("ListOwnTenders(evaluator) = %+v, %v; want the assigned tender", page.Items, err)
		}
		usesIndex := func(t *testing.T) bool {
			t.Helper()
			plan, err := sqlstore.ExplainOwnTenders(ctx, s.ts, f)
			if err != nil {
				t.Fatalf("explain: %v", err)
			}
			return slices.ContainsFunc(plan, func(line string) bool { return strings.Contains(line, "evaluators_user") })
		}
		if !usesIndex(t) {
			plan, _ := sqlstore.ExplainOwnTenders(ctx, s.ts, f)
			t.Fatalf("the evaluator's tenders are not read through evaluators_user:\n%s", strings.Join(plan, "\n"))
		}
		for _, name := range []string{"evaluators_user", "audit_events_action", "audit_events_actor", "audit_events_at"} {
			if ok, err := sqlstore.HasIndex(ctx, s.db, name); err != nil || !ok {
				t.Errorf("index %s: %v, %v", name, ok, err)
			}
		}

		if err := sqlstore.MigrateDownTo(ctx, s.db, 12); err != nil {
			t.Fatalf("MigrateDownTo(12): %v", err)
		}
		if usesIndex(t) {
			t.Error("at version 12 the plan still names evaluators_user")
		}
		if ok, _ := sqlstore.HasIndex(ctx, s.db, "audit_events_action"); ok {
			t.Error("at version 12 audit_events_action is still there")
		}
		if err := s.db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if !usesIndex(t) {
			plan, _ := sqlstore.ExplainOwnTenders(ctx, s.ts, f)
			t.Errorf("migrated up again, the plan does not name evaluators_user:\n%s", strings.Join(plan, "\n"))
		}
		if page, err := s.ts.ListOwnTenders(ctx, f); err != nil || len(page.Items) != 1 {
			t.Errorf("after migrating down and up: %+v, %v", page.Items, err)
		}
	})
}
