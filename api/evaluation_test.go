package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

func evaluatorsPath(id string) string    { return tenderPath(id) + "/evaluators" }
func scoresPath(id, bid string) string   { return bidPath(id, bid) + "/scores" }
func moderatePath(id, bid string) string { return bidPath(id, bid) + "/moderation" }
func comparisonPath(id string) string    { return tenderPath(id) + "/comparison" }

// scoreBody scores every quality criterion of tenderBody, justified.
func scoreBody(approach, social int) scoresRequest {
	return scoresRequest{Scores: map[string]scoreInput{
		"approach":     {Score: new(approach), Justification: "Approach scored " + strconv.Itoa(approach) + "."},
		"social_value": {Score: new(social), Justification: "Social value scored " + strconv.Itoa(social) + "."},
	}}
}

// score has a score bid as given, or fails.
func (e *tenderEnv) score(tb testing.TB, a actor, tenderID, bidID string, approach, social int) {
	tb.Helper()
	res, b := e.do(tb, req{method: http.MethodPut, target: scoresPath(tenderID, bidID), token: a.access, body: scoreBody(approach, social)})
	want(tb, res, b, http.StatusOK)
}

func (e *tenderEnv) comparison(tb testing.TB, a actor, tenderID string) comparisonResponse {
	tb.Helper()
	res, b := e.do(tb, req{method: http.MethodGet, target: comparisonPath(tenderID), token: a.access})
	want(tb, res, b, http.StatusOK)
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		tb.Errorf("comparison with Cache-Control %q", cc)
	}
	return mustDecode[comparisonResponse](tb, b)
}

// round2 is DESIGN.md's two decimals, worked out here independently.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// TestProcurement runs a whole procurement through the API, from
// publication to final award, and checks each step against DESIGN.md:
// conflicts declared, scores justified, a comparison recomputed here by
// hand, moderation, standstill, feedback, the public award, the audit
// chain and the choice figures.
func TestProcurement(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			start := e.clock.Now()
			evalLead := e.addUser(t, w.lead, "evaluator@nhs.net", "evaluator")
			evalJoint := e.addUser(t, w.joint, "evaluator.joint@nhs.net", "evaluator")
			conflicted := e.addUser(t, w.lead, "conflicted.evaluator@nhs.net", "evaluator")
			idle := e.addUser(t, w.lead, "idle.evaluator@nhs.net", "evaluator")

			tender := e.publishedTender(t, w.lead, "Joint BI and analytics", 2*time.Minute, 5*time.Minute, w.joint.orgID)
			id := tender.ID
			// Bids in submission order; the council's is over the 50m budget.
			nhs := e.submitBid(t, w.nhs, id, 42_000_000)
			e.clock.Advance(time.Second)
			firm := e.submitBid(t, w.firm, id, 48_000_000)
			e.clock.Advance(time.Second)
			charity := e.submitBid(t, w.charity, id, 42_000_000)
			e.clock.Advance(time.Second)
			council := e.submitBid(t, w.council, id, 60_000_000)
			// A second tender, which will end without award, with one bid,
			// and a third, still open, whose bid stays sealed everywhere.
			ended := e.publishedTender(t, w.lead, "Ended without award", 2*time.Minute, 5*time.Minute)
			endedBid := e.submitBid(t, w.nhs, ended.ID, 30_000_000)
			sealed := e.publishedTender(t, w.lead, "Still open", 10*time.Minute, 20*time.Minute)
			sealedBid := e.submitBid(t, w.firm, sealed.ID, 31_234_567)

			t.Run("AssignEvaluators", func(t *testing.T) {
				for _, a := range []actor{evalLead, evalJoint, conflicted} {
					res, b := e.do(t, req{method: http.MethodPost, target: evaluatorsPath(id), token: w.lead.access, body: assignRequest{UserID: a.userID}})
					want(t, res, b, http.StatusCreated)
				}
				res, b := e.do(t, req{method: http.MethodPost, target: evaluatorsPath(id), token: w.lead.access, body: assignRequest{UserID: w.other.userID}})
				want(t, res, b, http.StatusBadRequest)
				if f := fieldsOf(t, b); !slices.Equal(f, []string{"user_id"}) {
					t.Errorf("fields %v", f)
				}
				res, b = e.do(t, req{method: http.MethodPost, target: evaluatorsPath(id), token: w.joint.access, body: assignRequest{UserID: idle.userID}})
				want(t, res, b, http.StatusForbidden)
				res, b = e.do(t, req{method: http.MethodGet, target: evaluatorsPath(id), token: w.joint.access})
				want(t, res, b, http.StatusOK)
				var got []string
				for _, ev := range mustDecode[listResponse[evaluatorResponse]](t, b).Items {
					got = append(got, ev.UserID)
				}
				if wantIDs := []string{w.lead.userID, evalLead.userID, evalJoint.userID, conflicted.userID}; !slices.Equal(got, wantIDs) {
					t.Errorf("evaluators %v, want the creator first, then %v", got, wantIDs)
				}
				res, b = e.do(t, req{method: http.MethodGet, target: evaluatorsPath(id), token: w.nhs.access})
				want(t, res, b, http.StatusForbidden)
			})
			t.Run("Declarations", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPost, target: declarePath(id), token: evalLead.access, body: map[string]any{}})
				want(t, res, b, http.StatusBadRequest)
				if f := fieldsOf(t, b); !slices.Equal(f, []string{"conflict"}) {
					t.Errorf("fields %v", f)
				}
				res, b = e.do(t, req{method: http.MethodPost, target: declarePath(id), token: conflicted.access, body: declarationRequest{Conflict: new(true), Suppliers: []string{w.firm.orgID}}})
				want(t, res, b, http.StatusBadRequest)
				if f := fieldsOf(t, b); !slices.Equal(f, []string{"details"}) {
					t.Errorf("fields %v", f)
				}
				for _, a := range []actor{w.lead, w.joint, evalLead, evalJoint} {
					e.declareNone(t, a, id)
				}
				e.declareConflict(t, conflicted, id, w.firm.orgID)
				res, b = e.do(t, req{method: http.MethodPost, target: declarePath(id), token: evalLead.access, body: map[string]any{"conflict": false}})
				want(t, res, b, http.StatusConflict)
			})
			t.Run("NoScoringBeforeTheDeadline", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPut, target: scoresPath(id, nhs.ID), token: evalLead.access, body: scoreBody(3, 2)})
				want(t, res, b, http.StatusConflict)
				res, b = e.do(t, req{method: http.MethodGet, target: comparisonPath(id), token: w.lead.access})
				want(t, res, b, http.StatusConflict)
				checkReveals(t, "sealed comparison", b, secrets{ids: []string{nhs.ID, firm.ID}, prices: []int64{48_000_000, 60_000_000}, count: 4})
			})

			e.clock.set(start.Add(5*time.Minute + time.Second)) // closed
			all := secrets{ids: []string{nhs.ID, firm.ID, charity.ID, council.ID}, prices: []int64{48_000_000, 60_000_000, 42_000_000}}

			t.Run("ConflictedEvaluatorIsBarred", func(t *testing.T) {
				for _, r := range []req{
					{method: http.MethodGet, target: bidsPath(id)},
					{method: http.MethodGet, target: bidPath(id, nhs.ID)},
					{method: http.MethodPut, target: scoresPath(id, nhs.ID), body: scoreBody(4, 4)},
					{method: http.MethodGet, target: comparisonPath(id)},
					{method: http.MethodGet, target: comparisonPath(id) + "?format=csv"},
				} {
					r.token = conflicted.access
					res, b := e.do(t, r)
					if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
						t.Errorf("%s %s by a conflicted evaluator: %d", r.method, r.target, res.StatusCode)
					}
					checkReveals(t, "conflicted", b, all)
				}
				res, b := e.do(t, req{method: http.MethodPut, target: scoresPath(id, nhs.ID), token: idle.access, body: scoreBody(4, 4)})
				want(t, res, b, http.StatusForbidden)
			})
			t.Run("ScoresNeedJustifications", func(t *testing.T) {
				body := scoreBody(3, 2)
				body.Scores["approach"] = scoreInput{Score: new(3), Justification: "  "}
				body.Scores["bogus"] = scoreInput{Score: new(1), Justification: "x"}
				res, b := e.do(t, req{method: http.MethodPut, target: scoresPath(id, nhs.ID), token: evalLead.access, body: body})
				want(t, res, b, http.StatusBadRequest)
				if f := fieldsOf(t, b); !slices.Contains(f, "scores.approach.justification") || !slices.Contains(f, "scores.bogus") {
					t.Errorf("fields %v", f)
				}
				body = scoreBody(5, 2)
				res, b = e.do(t, req{method: http.MethodPut, target: scoresPath(id, nhs.ID), token: evalLead.access, body: body})
				want(t, res, b, http.StatusBadRequest)
				if f := fieldsOf(t, b); !slices.Equal(f, []string{"scores.approach.score"}) {
					t.Errorf("fields %v", f)
				}
				delete(body.Scores, "approach")
				body.Scores["social_value"] = scoreInput{Justification: "no score"}
				res, b = e.do(t, req{method: http.MethodPut, target: scoresPath(id, nhs.ID), token: evalLead.access, body: body})
				want(t, res, b, http.StatusBadRequest)
				if f := fieldsOf(t, b); !slices.Equal(f, []string{"scores.social_value.score"}) {
					t.Errorf("fields %v", f)
				}
			})

			// Three cleared evaluators: the creator, the lead's and the
			// joint commissioner's. The joint buyer declared to read the
			// bids but scores nothing, and leaves no row incomplete.
			scorers := []actor{w.lead, evalLead, evalJoint}
			for i, a := range scorers {
				e.score(t, a, id, nhs.ID, 3, 2)
				e.score(t, a, id, firm.ID, []int{4, 4, 3}[i], []int{1, 1, 2}[i])
				e.score(t, a, id, charity.ID, 3, 2)
				if i < 2 {
					e.score(t, a, id, council.ID, 2, 4)
				}
			}
			rowsByBid := func(c comparisonResponse) map[string]comparisonRowJSON {
				m := map[string]comparisonRowJSON{}
				for _, r := range c.Rows {
					m[r.BidID] = r
				}
				return m
			}
			inHousePrice := round2(42_000_000.0 / 45_678_901 * 40)

			t.Run("ComparisonByHand", func(t *testing.T) {
				c := e.comparison(t, w.joint, id)
				rows := rowsByBid(c)
				if c.LowestPricePence != 42_000_000 || len(c.Rows) != 5 {
					t.Fatalf("lowest %d, %d rows", c.LowestPricePence, len(c.Rows))
				}
				// nhs: 42m/42m x 40 = 40; 3/4 x 45 = 33.75; 2/4 x 15 = 7.5.
				if r := rows[nhs.ID]; r.Scores["price"] != 40 || r.Scores["approach"] != 33.75 || r.Scores["social_value"] != 7.5 || r.Total != 81.25 || r.QualityTotal != 41.25 {
					t.Errorf("nhs row %+v", r)
				}
				// firm: 42/48 x 40 = 35; mean(4,4,3)/4 x 45 = 41.25; mean(1,1,2)/4 x 15 = 5.
				if r := rows[firm.ID]; r.Scores["price"] != 35 || r.Scores["approach"] != 41.25 || r.Scores["social_value"] != 5 || r.Total != 81.25 || r.QualityTotal != 46.25 {
					t.Errorf("firm row %+v", r)
				}
				// council: 42/60 x 40 = 28; 2/4 x 45 = 22.5; 4/4 x 15 = 15; one
				// evaluator has not scored it yet.
				if r := rows[council.ID]; r.Scores["price"] != 28 || r.Total != 65.5 || !r.Incomplete || !r.OverBudget {
					t.Errorf("council row %+v", r)
				}
				// The in-house row: scored against the lowest bid.
				inHouse := c.Rows[slices.IndexFunc(c.Rows, func(r comparisonRowJSON) bool { return r.InHouse })]
				if inHouse.BidID != "" || inHouse.Scores["price"] != inHousePrice || inHouse.Total != round2(inHousePrice+22.5+11.25) || inHouse.OverBudget {
					t.Errorf("in-house row %+v, price points want %v", inHouse, inHousePrice)
				}
				// Ties on 81.25: the firm by quality, then the NHS CSU by its
				// earlier submission; the in-house option ranks fourth.
				var order []string
				for _, r := range c.Rows {
					order = append(order, r.Supplier.Name)
					if r.BidID != council.ID && r.Incomplete {
						t.Errorf("row %s incomplete", r.Supplier.Name)
					}
					if r.BidID != council.ID && r.OverBudget {
						t.Errorf("row %s over budget", r.Supplier.Name)
					}
				}
				if wantOrder := []string{"Meridian Analytics Ltd", "Black Country CSU", "Healthwatch Partners", "In-house option", "Sandwell Council Commissioning"}; !slices.Equal(order, wantOrder) {
					t.Errorf("ranking %v, want %v", order, wantOrder)
				}
				for i, r := range c.Rows {
					if r.Rank != i+1 {
						t.Errorf("row %d has rank %d", i, r.Rank)
					}
				}
				// Shares by population, 1:3; allowance = population x 2,250p.
				sh := rows[nhs.ID].Shares
				if len(sh) != 2 || sh[0].OrganisationID != w.lead.orgID || sh[0].PricePence != 10_500_000 || sh[1].PricePence != 31_500_000 ||
					sh[0].AllowanceLeftPence != 250_000*2250-10_500_000 || sh[1].AllowanceLeftPence != 750_000*2250-31_500_000 {
					t.Errorf("shares %+v", sh)
				}
				// The firm leads for price weights 10 to 40: from 41 the NHS
				// CSU's lower price puts it ahead ((200 - 5w) / 24 < 0).
				if s := c.Sensitivity; s.LeaderBidID != firm.ID || s.PriceWeight != 40 || s.PriceWeightLow != 10 || s.PriceWeightHigh != 40 {
					t.Errorf("sensitivity %+v", s)
				}
				if m := c.SectorMix; m["nhs"] != 1 || m["local_authority"] != 1 || m["third_sector"] != 1 || m["independent"] != 1 {
					t.Errorf("sector mix %v", m)
				}
			})
			t.Run("CSVEqualsJSON", func(t *testing.T) {
				c := e.comparison(t, w.lead, id)
				res, b := e.do(t, req{method: http.MethodGet, target: comparisonPath(id) + "?format=csv", token: w.lead.access})
				want(t, res, b, http.StatusOK)
				if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || res.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("Content-Type %q, Cache-Control %q", ct, res.Header.Get("Cache-Control"))
				}
				recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) != len(c.Rows)+1 {
					t.Fatalf("%d CSV records for %d rows", len(recs), len(c.Rows))
				}
				col := map[string]int{}
				for i, h := range recs[0] {
					col[h] = i
				}
				for i, r := range c.Rows {
					rec := recs[i+1]
					got := func(h string) string { return rec[col[h]] }
					if got("rank") != strconv.Itoa(r.Rank) || got("bid_id") != r.BidID || got("supplier_name") != r.Supplier.Name ||
						got("price_pence") != strconv.FormatInt(r.PricePence, 10) || got("total") != formatPoints(r.Total) ||
						got("quality_total") != formatPoints(r.QualityTotal) || got("over_budget") != strconv.FormatBool(r.OverBudget) ||
						got("incomplete") != strconv.FormatBool(r.Incomplete) || got("sector") != r.Supplier.Sector {
						t.Errorf("CSV row %d %q differs from JSON %+v", i, rec, r)
					}
					for _, k := range []string{"price", "approach", "social_value"} {
						if got("score:"+k) != formatPoints(r.Scores[k]) {
							t.Errorf("CSV row %d score %s %q, JSON %v", i, k, got("score:"+k), r.Scores[k])
						}
					}
					for _, sh := range r.Shares {
						if got("share_pence:"+sh.Name) != strconv.FormatInt(sh.PricePence, 10) || got("allowance_left_pence:"+sh.Name) != strconv.FormatInt(sh.AllowanceLeftPence, 10) {
							t.Errorf("CSV row %d shares differ", i)
						}
					}
				}
				res, b = e.do(t, req{method: http.MethodGet, target: comparisonPath(id) + "?format=xml", token: w.lead.access})
				want(t, res, b, http.StatusBadRequest)
			})
			t.Run("ScoresAndModerationChangeTheComparison", func(t *testing.T) {
				e.score(t, evalJoint, id, council.ID, 2, 4)
				if r := rowsByBid(e.comparison(t, w.lead, id))[council.ID]; r.Incomplete {
					t.Errorf("council still incomplete after the last score")
				}
				res, b := e.do(t, req{method: http.MethodPut, target: moderatePath(id, council.ID), token: w.lead.access,
					body: moderationRequest{Criterion: "approach", Score: new(4)}})
				want(t, res, b, http.StatusBadRequest)
				if f := fieldsOf(t, b); !slices.Equal(f, []string{"reason"}) {
					t.Errorf("fields %v", f)
				}
				res, b = e.do(t, req{method: http.MethodPut, target: moderatePath(id, council.ID), token: evalLead.access,
					body: moderationRequest{Criterion: "approach", Score: new(4), Reason: "Panel agreed."}})
				want(t, res, b, http.StatusForbidden)
				res, b = e.do(t, req{method: http.MethodPut, target: moderatePath(id, council.ID), token: w.lead.access,
					body: moderationRequest{Criterion: "approach", Score: new(4), Reason: "The panel agreed the approach is excellent."}})
				want(t, res, b, http.StatusOK)
				// Moderated 4/4 x 45 = 45 replaces the mean: 28 + 45 + 15 = 88.
				c := e.comparison(t, evalJoint, id)
				if r := c.Rows[0]; r.BidID != council.ID || r.Scores["approach"] != 45 || r.Total != 88 || r.QualityTotal != 60 {
					t.Errorf("after moderation the leader is %+v", r)
				}
			})

			t.Run("AwardAndStandstill", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPost, target: tenderPath(id) + "/award", token: w.joint.access, body: awardRequest{BidID: council.ID, Reason: "Best value."}})
				want(t, res, b, http.StatusForbidden)
				res, b = e.do(t, req{method: http.MethodPost, target: tenderPath(id) + "/award", token: w.lead.access, body: awardRequest{BidID: council.ID}})
				want(t, res, b, http.StatusBadRequest)
				res, b = e.do(t, req{method: http.MethodPost, target: tenderPath(id) + "/award", token: w.lead.access, body: awardRequest{BidID: endedBid.ID, Reason: "Wrong tender."}})
				want(t, res, b, http.StatusBadRequest)
				if f := fieldsOf(t, b); !slices.Equal(f, []string{"bid_id"}) {
					t.Errorf("fields %v", f)
				}
				award := func() tenderResponse {
					res, b := e.do(t, req{method: http.MethodPost, target: tenderPath(id) + "/award", token: w.lead.access, body: awardRequest{BidID: council.ID, Reason: "Highest total after moderation."}})
					want(t, res, b, http.StatusOK)
					return mustDecode[tenderResponse](t, b)
				}
				tr := award()
				if tr.Status != "standstill" || tr.StandstillEndsAt != rfc3339Milli(e.clock.Now().Add(testStandstill)) || tr.Award == nil || tr.Award.BidID != council.ID {
					t.Fatalf("after the decision %+v", tr)
				}
				// During the standstill nothing is public yet, and scores are final.
				res, b = e.do(t, req{method: http.MethodGet, target: tenderPath(id)})
				want(t, res, b, http.StatusOK)
				if p := mustDecode[tenderResponse](t, b); p.Status != "standstill" || p.Award != nil {
					t.Errorf("public view during standstill %s", b)
				}
				res, b = e.do(t, req{method: http.MethodPut, target: scoresPath(id, nhs.ID), token: evalLead.access, body: scoreBody(4, 4)})
				want(t, res, b, http.StatusConflict)
				res, b = e.do(t, req{method: http.MethodPost, target: tenderPath(id) + "/award/confirm", token: w.lead.access})
				want(t, res, b, http.StatusConflict)
				if !strings.Contains(mustDecode[problem](t, b).Detail, "standstill ends") {
					t.Errorf("early confirmation: %s", b)
				}
				res, b = e.do(t, req{method: http.MethodPost, target: tenderPath(id) + "/award/revoke", token: w.lead.access, body: reasonRequest{Reason: "A challenge was received."}})
				want(t, res, b, http.StatusOK)
				if tr := mustDecode[tenderResponse](t, b); tr.Status != "closed" || tr.Award != nil {
					t.Errorf("after revoking %s", b)
				}
				award()
				e.clock.Advance(testStandstill - time.Millisecond)
				res, b = e.do(t, req{method: http.MethodPost, target: tenderPath(id) + "/award/confirm", token: w.lead.access})
				want(t, res, b, http.StatusConflict)
				e.clock.Advance(time.Millisecond)
				res, b = e.do(t, req{method: http.MethodPost, target: tenderPath(id) + "/award/confirm", token: w.lead.access})
				want(t, res, b, http.StatusOK)
				if tr := mustDecode[tenderResponse](t, b); tr.Status != "awarded" || tr.AwardedAt == "" {
					t.Errorf("after confirming %s", b)
				}
			})
			e.relogin(t, &w.lead, &w.joint, &w.nhs, &w.firm, &w.charity, &w.council, &w.operator, &evalLead)

			t.Run("PublicTenderShowsTheWinner", func(t *testing.T) {
				for _, a := range []actor{{}, w.firm, w.other} {
					res, b := e.do(t, req{method: http.MethodGet, target: tenderPath(id), token: a.access})
					want(t, res, b, http.StatusOK)
					p := mustDecode[tenderResponse](t, b)
					if p.Status != "awarded" || p.Award == nil || p.Award.Supplier.Name != "Sandwell Council Commissioning" || p.Award.ValuePence != 60_000_000 {
						t.Errorf("public view %s", b)
					}
					checkReveals(t, "public award", b, secrets{ids: all.ids, prices: []int64{42_000_000, 48_000_000, 45_678_901}})
				}
			})
			t.Run("Feedback", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodGet, target: tenderPath(id) + "/feedback", token: w.nhs.access})
				want(t, res, b, http.StatusOK)
				fb := mustDecode[feedbackResponse](t, b)
				// Ranked among the bidders: council 88, firm 81.25 (quality),
				// then the NHS CSU before the charity by submission.
				if fb.BidID != nhs.ID || fb.Rank != 3 || fb.Bidders != 4 || fb.Total != 81.25 || fb.Winner.Total != 88 || fb.Winner.Name != "Sandwell Council Commissioning" {
					t.Errorf("feedback %s", b)
				}
				checkRevealsOthers(t, b, []string{firm.ID, charity.ID, council.ID}, []int64{48_000_000, 60_000_000, 45_678_901})
				res, b = e.do(t, req{method: http.MethodGet, target: tenderPath(id) + "/feedback", token: w.lead.access})
				want(t, res, b, http.StatusForbidden)
				res, b = e.do(t, req{method: http.MethodGet, target: tenderPath(sealed.ID) + "/feedback", token: w.firm.access})
				want(t, res, b, http.StatusConflict)
			})
			t.Run("UnsuccessfulEndsAClosedTender", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPost, target: tenderPath(ended.ID) + "/unsuccessful", token: w.lead.access, body: reasonRequest{}})
				want(t, res, b, http.StatusBadRequest)
				if f := fieldsOf(t, b); !slices.Equal(f, []string{"reason"}) {
					t.Errorf("fields %v", f)
				}
				res, b = e.do(t, req{method: http.MethodPost, target: tenderPath(sealed.ID) + "/unsuccessful", token: w.lead.access, body: reasonRequest{Reason: "Too early."}})
				want(t, res, b, http.StatusConflict)
				res, b = e.do(t, req{method: http.MethodPost, target: tenderPath(ended.ID) + "/unsuccessful", token: w.lead.access, body: reasonRequest{Reason: "No bid met the need."}})
				want(t, res, b, http.StatusOK)
				if tr := mustDecode[tenderResponse](t, b); tr.Status != "unsuccessful" || tr.UnsuccessfulReason != "No bid met the need." {
					t.Errorf("after ending %s", b)
				}
			})
			t.Run("OCDS", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodGet, target: tenderPath(id) + "/ocds"})
				want(t, res, b, http.StatusOK)
				for _, s := range []string{"ocds-csmtest", `"award"`, "Sandwell Council Commissioning", "GB-NHS"} {
					if !strings.Contains(string(b), s) {
						t.Errorf("the release package lacks %s", s)
					}
				}
				for _, p := range []string{"48000000", "480000.00", "45678901"} {
					if strings.Contains(string(b), p) {
						t.Errorf("the release package shows the price %s", p)
					}
				}
				res, b = e.do(t, req{method: http.MethodGet, target: tenderPath(sealed.ID) + "/ocds"})
				want(t, res, b, http.StatusOK)
				if strings.Contains(string(b), "Meridian") || strings.Contains(string(b), "31234567") {
					t.Errorf("the open tender's package names its bidder: %s", b)
				}
				draft := e.createTender(t, w.lead, tenderBody("A draft", e.clock.Now().Add(2*time.Minute), e.clock.Now().Add(5*time.Minute)))
				res, b = e.do(t, req{method: http.MethodGet, target: tenderPath(draft.ID) + "/ocds"})
				want(t, res, b, http.StatusNotFound)
			})
			t.Run("Choice", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/market/choice"})
				want(t, res, b, http.StatusOK)
				if cc := res.Header.Get("Cache-Control"); cc != "public, no-cache" {
					t.Errorf("Cache-Control %q", cc)
				}
				c := mustDecode[choiceResponse](t, b)
				// Two tenders past their deadline drew bids: the awarded one
				// (four sectors) and the ended one (one NHS bid). The open
				// tender's bid is sealed and not counted.
				wantSectors := map[string]sectorFiguresJSON{
					"nhs":             {Bids: 2},
					"local_authority": {Bids: 1, Awards: 1, AwardValuePence: 60_000_000},
					"third_sector":    {Bids: 1},
					"independent":     {Bids: 1},
				}
				for sec, wf := range wantSectors {
					got := c.Sectors[sec]
					got.Listings = 0
					if got != wf {
						t.Errorf("%s: %+v, want %+v", sec, c.Sectors[sec], wf)
					}
				}
				if c.TendersWithBids != 2 || c.MultiSectorTenders != 1 || c.SingleBidTenders != 1 || c.MultiSectorShare != 0.5 {
					t.Errorf("choice %s", b)
				}
				res2, b2 := e.do(t, req{method: http.MethodGet, target: "/api/v1/market/choice", header: map[string]string{"If-None-Match": res.Header.Get("ETag")}})
				want(t, res2, b2, http.StatusNotModified)
				// The open tender closes: its bid counts from that instant.
				e.clock.set(sealed.bidDeadline(t))
				res, b = e.do(t, req{method: http.MethodGet, target: "/api/v1/market/choice"})
				want(t, res, b, http.StatusOK)
				if c := mustDecode[choiceResponse](t, b); c.Sectors["independent"].Bids != 2 || c.TendersWithBids != 3 {
					t.Errorf("after the deadline: %s", b)
				}
				_ = sealedBid
			})
		})
	}
}

// bidDeadline parses the tender's bid deadline.
func (r tenderResponse) bidDeadline(tb testing.TB) time.Time {
	tb.Helper()
	d, err := time.Parse(time.RFC3339Nano, r.BidDeadline)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// checkRevealsOthers fails tb when body holds any of ids or prices.
func checkRevealsOthers(tb testing.TB, body []byte, ids []string, prices []int64) {
	tb.Helper()
	for _, id := range ids {
		if bytes.Contains(body, []byte(id)) {
			tb.Errorf("reveals %s: %s", id, body)
		}
	}
	for _, p := range prices {
		if bytes.Contains(body, []byte(strconv.FormatInt(p, 10))) {
			tb.Errorf("reveals the price %d: %s", p, body)
		}
	}
}

// TestAuditTrail: the operator reads every event, a buyer its own and
// joint tenders', anyone else is refused; sealed bids stay out of it;
// verify holds until an event is edited in the database, and then names
// that event.
func TestAuditTrail(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			evaluator := e.addUser(t, w.lead, "audit.evaluator@nhs.net", "evaluator")
			joint := e.publishedTender(t, w.lead, "Joint", 2*time.Minute, 5*time.Minute, w.joint.orgID)
			others := e.publishedTender(t, w.other, "Dudley's own", 2*time.Minute, 5*time.Minute)
			sealedBid := e.submitBid(t, w.nhs, joint.ID, 40_000_000)
			res, b := e.do(t, req{method: http.MethodPost, target: questionsPath(joint.ID), token: w.charity.access, body: questionRequest{Question: "Is there an incumbent?"}})
			want(t, res, b, http.StatusCreated)

			list := func(t *testing.T, a actor, query string) (int, listResponse[auditEventJSON]) {
				t.Helper()
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/audit" + query, token: a.access})
				if res.StatusCode != http.StatusOK {
					return res.StatusCode, listResponse[auditEventJSON]{}
				}
				if res.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("audit with Cache-Control %q", res.Header.Get("Cache-Control"))
				}
				checkRevealsOthers(t, b, []string{sealedBid.ID}, []int64{40_000_000})
				return res.StatusCode, mustDecode[listResponse[auditEventJSON]](t, b)
			}
			tendersOf := func(l listResponse[auditEventJSON]) map[string]bool {
				m := map[string]bool{}
				for _, ev := range l.Items {
					m[ev.TenderID] = true
				}
				return m
			}
			t.Run("Operator", func(t *testing.T) {
				_, l := list(t, w.operator, "?page_size=100")
				if m := tendersOf(l); !m[joint.ID] || !m[others.ID] {
					t.Errorf("the operator sees tenders %v", m)
				}
				for _, ev := range l.Items {
					if ev.Action == "bid.submitted" {
						t.Errorf("a sealed bid's event is listed: %+v", ev)
					}
					if ev.Action == "question.asked" && ev.ActorOrganisationID != w.charity.orgID {
						t.Errorf("the operator does not see who asked: %+v", ev)
					}
				}
			})
			t.Run("BuyersSeeTheirTenders", func(t *testing.T) {
				for _, a := range []actor{w.lead, w.joint} {
					_, l := list(t, a, "?page_size=100")
					if m := tendersOf(l); !m[joint.ID] || m[others.ID] {
						t.Errorf("%s sees tenders %v", a.email, m)
					}
					for _, ev := range l.Items {
						if ev.Action == "question.asked" && (ev.ActorOrganisationID != "" || ev.ActorUserID != "") {
							t.Errorf("a buyer sees who asked: %+v", ev)
						}
					}
				}
				_, l := list(t, w.other, "?object="+joint.ID)
				if len(l.Items) != 0 {
					t.Errorf("another CCG reads the joint tender's events: %+v", l.Items)
				}
			})
			t.Run("Paging", func(t *testing.T) {
				_, first := list(t, w.operator, "?page_size=2")
				if len(first.Items) == 0 || first.NextCursor == "" {
					t.Fatalf("first page %+v", first)
				}
				_, second := list(t, w.operator, "?page_size=2&cursor="+first.NextCursor)
				if len(second.Items) == 0 || second.Items[0].Seq <= first.Items[len(first.Items)-1].Seq {
					t.Errorf("second page %+v after %+v", second.Items, first.Items)
				}
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/audit?page_size=0", token: w.operator.access})
				want(t, res, b, http.StatusBadRequest)
				res, b = e.do(t, req{method: http.MethodGet, target: "/api/v1/audit?cursor=nonsense", token: w.operator.access})
				want(t, res, b, http.StatusBadRequest)
			})
			t.Run("OthersRefused", func(t *testing.T) {
				for _, a := range []actor{w.nhs, evaluator} {
					if st, _ := list(t, a, ""); st != http.StatusForbidden {
						t.Errorf("%s: %d", a.email, st)
					}
				}
				if st, _ := list(t, actor{}, ""); st != http.StatusUnauthorized {
					t.Errorf("anonymous: %d", st)
				}
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/audit/verify", token: w.lead.access})
				want(t, res, b, http.StatusForbidden)
			})
			t.Run("VerifyThenTamper", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/audit/verify", token: w.operator.access})
				want(t, res, b, http.StatusOK)
				v := mustDecode[verifyResponse](t, b)
				if !v.OK || v.Checked < 5 || v.FirstBreak != nil {
					t.Fatalf("verify before tampering %s", b)
				}
				var seq int64
				if err := e.db.QueryRowContext(context.Background(), `SELECT seq FROM audit_events WHERE tender_id = ? AND action = 'tender.published'`, others.ID).Scan(&seq); err != nil {
					t.Fatal(err)
				}
				if _, err := e.db.ExecContext(context.Background(), `UPDATE audit_events SET action = 'tender.cancelled' WHERE seq = ?`, seq); err != nil {
					t.Fatal(err)
				}
				res, b = e.do(t, req{method: http.MethodGet, target: "/api/v1/audit/verify", token: w.operator.access})
				want(t, res, b, http.StatusOK)
				v = mustDecode[verifyResponse](t, b)
				if v.OK || v.FirstBreak == nil || v.FirstBreak.Seq != seq || v.Checked != seq {
					t.Errorf("verify after editing event %d: %s", seq, b)
				}
			})
		})
	}
}

// TestComparisonCSVDefusesFormulas: a cell a spreadsheet would run is
// quoted; numbers, negative ones too, are left alone.
func TestComparisonCSVDefusesFormulas(t *testing.T) {
	r := comparisonResponse{
		Criteria: []criterionJSON{{Key: "price"}},
		Rows: []comparisonRowJSON{{
			BidID: "b1", Supplier: rowSupplierJSON{ID: "s1", Name: `=HYPERLINK("http://x","y")`, Sector: "independent"},
			PricePence: 1, Scores: map[string]float64{"price": 40}, Total: 40, Rank: 1,
			Shares: []shareJSON{{Name: "+Evil CCG", PricePence: 1, AllowanceLeftPence: -5}},
		}},
	}
	recs, err := csv.NewReader(bytes.NewReader(comparisonCSV(&r))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head, row := recs[0], recs[1]
	if row[4] != `'=HYPERLINK("http://x","y")` {
		t.Errorf("name cell %q", row[4])
	}
	if !slices.Contains(head, "'share_pence:+Evil CCG") && !slices.Contains(head, "share_pence:+Evil CCG") {
		t.Errorf("header %q", head)
	}
	if row[len(row)-1] != "-5" {
		t.Errorf("a negative number was altered: %q", row[len(row)-1])
	}
	for _, tc := range []struct{ in, want string }{
		{"@SUM(1)", "'@SUM(1)"}, {"-2+3", "'-2+3"}, {"+1", "+1"}, {"\tx", "'\tx"}, {"plain", "plain"}, {"-12.5", "-12.5"},
	} {
		if got := safeCells([]string{tc.in})[0]; got != tc.want {
			t.Errorf("safeCells(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
