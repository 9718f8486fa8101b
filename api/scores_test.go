package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// TestScoresReadBack reads scores back after saving them: each evaluator
// its own, the lead CCG's buyer everyone's with the moderations, and no
// one else anything: not another evaluator, a joint or other CCG's buyer,
// a supplier, the anonymous, a forged token, nor anyone before the
// deadline.
func TestScoresReadBack(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			start := e.clock.Now()
			evalA := e.addUser(t, w.lead, "scorer.a@nhs.net", "evaluator")
			evalB := e.addUser(t, w.lead, "scorer.b@nhs.net", "evaluator")
			conflicted := e.addUser(t, w.lead, "scorer.c@nhs.net", "evaluator")
			tender := e.publishedTender(t, w.lead, "Scores read back", 2*time.Minute, 5*time.Minute, w.joint.orgID)
			id := tender.ID
			nhs := e.submitBid(t, w.nhs, id, 42_000_000)
			firm := e.submitBid(t, w.firm, id, 48_000_000)
			for _, a := range []actor{evalA, evalB, conflicted} {
				res, b := e.do(t, req{method: http.MethodPost, target: evaluatorsPath(id), token: w.lead.access, body: assignRequest{UserID: a.userID}})
				want(t, res, b, http.StatusCreated)
			}
			for _, a := range []actor{w.lead, w.joint, evalA, evalB} {
				e.declareNone(t, a, id)
			}
			e.declareConflict(t, conflicted, id, w.firm.orgID)
			read := func(tb testing.TB, a actor, bid string, status int) bidScoresResponse {
				tb.Helper()
				res, b := e.do(tb, req{method: http.MethodGet, target: scoresPath(id, bid), token: a.access})
				want(tb, res, b, status)
				if status != http.StatusOK {
					checkReveals(tb, "refused scores", b, secrets{ids: []string{firm.ID}, prices: []int64{42_000_000, 48_000_000}})
					return bidScoresResponse{}
				}
				if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
					tb.Errorf("scores with Cache-Control %q", cc)
				}
				return mustDecode[bidScoresResponse](tb, b)
			}

			t.Run("SealedBeforeTheDeadline", func(t *testing.T) {
				read(t, evalA, nhs.ID, http.StatusConflict)
				read(t, w.lead, nhs.ID, http.StatusConflict)
			})
			e.clock.set(start.Add(5*time.Minute + time.Second))
			e.relogin(t, &w.lead, &w.joint, &w.other, &w.nhs, &w.firm, &evalA, &evalB, &conflicted)

			t.Run("EmptyBeforeScoring", func(t *testing.T) {
				got := read(t, evalA, nhs.ID, http.StatusOK)
				if len(got.Scores) != 0 || got.UpdatedAt != "" || got.Evaluators != nil {
					t.Errorf("before scoring: %+v", got)
				}
			})
			e.score(t, evalA, id, nhs.ID, 3, 2)
			e.score(t, evalB, id, nhs.ID, 1, 4)
			e.score(t, evalB, id, firm.ID, 2, 2)
			res, b := e.do(t, req{method: http.MethodPut, target: moderatePath(id, nhs.ID), token: w.lead.access,
				body: moderationRequest{Criterion: "approach", Score: new(2), Reason: "Moderated at the panel."}})
			want(t, res, b, http.StatusOK)

			t.Run("OwnScores", func(t *testing.T) {
				got := read(t, evalA, nhs.ID, http.StatusOK)
				if got.EvaluatorID != evalA.userID || got.Scores["approach"].Score != 3 || got.Scores["social_value"].Score != 2 ||
					got.Scores["approach"].Justification != "Approach scored 3." || got.UpdatedAt == "" {
					t.Errorf("own scores: %+v", got)
				}
				if got.Evaluators != nil || got.Moderations != nil {
					t.Errorf("an evaluator sees others' scores or the moderations: %+v", got)
				}
				// evalA has not scored the firm's bid: nothing, and nothing of evalB's.
				if got := read(t, evalA, firm.ID, http.StatusOK); len(got.Scores) != 0 || got.Evaluators != nil {
					t.Errorf("another evaluator's scores leak: %+v", got)
				}
			})
			t.Run("LeadSeesEveryEvaluator", func(t *testing.T) {
				got := read(t, w.lead, nhs.ID, http.StatusOK)
				if len(got.Scores) != 0 {
					t.Errorf("the lead buyer has not scored: %+v", got.Scores)
				}
				by := map[string]scoresResponse{}
				for _, s := range got.Evaluators {
					by[s.EvaluatorID] = s
				}
				if len(by) != 2 || by[evalA.userID].Scores["approach"].Score != 3 || by[evalB.userID].Scores["social_value"].Score != 4 {
					t.Errorf("evaluators: %+v", got.Evaluators)
				}
				if len(got.Moderations) != 1 || got.Moderations[0].Score != 2 || got.Moderations[0].Criterion != "approach" {
					t.Errorf("moderations: %+v", got.Moderations)
				}
			})
			t.Run("Refused", func(t *testing.T) {
				// The joint CCG's buyer reads the bids but does not moderate: its own (none) only.
				if got := read(t, w.joint, nhs.ID, http.StatusOK); len(got.Scores) != 0 || got.Evaluators != nil || got.Moderations != nil {
					t.Errorf("a joint commissioner sees everyone's scores: %+v", got)
				}
				read(t, conflicted, nhs.ID, http.StatusForbidden)
				read(t, w.other, nhs.ID, http.StatusForbidden)
				read(t, w.nhs, nhs.ID, http.StatusForbidden)
				read(t, w.firm, nhs.ID, http.StatusForbidden)
				read(t, w.operator, nhs.ID, http.StatusForbidden)
				read(t, actor{}, nhs.ID, http.StatusUnauthorized)
				read(t, actor{access: w.lead.access[:len(w.lead.access)-4] + "AAAA"}, nhs.ID, http.StatusUnauthorized)
			})
			t.Run("NotFound", func(t *testing.T) {
				read(t, evalA, "no-such-bid", http.StatusNotFound)
				other := e.publishedTender(t, w.lead, "Another", 2*time.Minute, 5*time.Minute)
				res, b := e.do(t, req{method: http.MethodGet, target: scoresPath(other.ID, nhs.ID), token: w.lead.access})
				if res.StatusCode == http.StatusOK {
					t.Errorf("a bid read through another tender: %s", b)
				}
			})
		})
	}
}
