package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// TestPublishRules breaks each publication rule once: the answer is 400
// naming the field, whether the draft already refuses it or publication
// does, and the tender stays a draft. A CCG still pending approval cannot
// publish at all.
func TestPublishRules(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			now := e.clock.Now()
			clar, bid := now.Add(2*time.Minute), now.Add(5*time.Minute)
			rfc := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
			quality := func(key string, weight int) criterionJSON {
				return criterionJSON{Key: key, Name: "Criterion " + key, Kind: "quality", Weight: weight}
			}
			price := func(weight int) criterionJSON {
				return criterionJSON{Key: "price", Name: "Price", Kind: "price", Weight: weight}
			}
			tests := map[string]struct {
				edit  func(*tenderRequest)
				field string
			}{
				"BidDeadlineMissing":         {func(r *tenderRequest) { r.BidDeadline = "" }, "bid_deadline"},
				"BidDeadlinePast":            {func(r *tenderRequest) { r.BidDeadline = rfc(now.Add(-time.Millisecond)) }, "bid_deadline"},
				"BidDeadlineNow":             {func(r *tenderRequest) { r.BidDeadline = rfc(now) }, "bid_deadline"},
				"TenderPeriodTooShort":       {func(r *tenderRequest) { r.BidDeadline = rfc(now.Add(testMinTenderPeriod - time.Millisecond)) }, "bid_deadline"},
				"BidDeadlineNotATime":        {func(r *tenderRequest) { r.BidDeadline = "next Tuesday" }, "bid_deadline"},
				"ClarificationMissing":       {func(r *tenderRequest) { r.ClarificationDeadline = "" }, "clarification_deadline"},
				"ClarificationPast":          {func(r *tenderRequest) { r.ClarificationDeadline = rfc(now.Add(-time.Hour)) }, "clarification_deadline"},
				"ClarificationAtBidDeadline": {func(r *tenderRequest) { r.ClarificationDeadline = r.BidDeadline }, "clarification_deadline"},
				"ClarificationAfterBid":      {func(r *tenderRequest) { r.ClarificationDeadline = rfc(bid.Add(time.Minute)) }, "clarification_deadline"},
				"NoCriteria":                 {func(r *tenderRequest) { r.Criteria, r.InHouseBaseline = []criterionJSON{}, nil }, "criteria"},
				"NoPriceCriterion": {func(r *tenderRequest) {
					r.Criteria = []criterionJSON{quality("approach", 85), quality("social_value", 15)}
				}, "criteria"},
				"TwoPriceCriteria": {func(r *tenderRequest) {
					r.Criteria = []criterionJSON{price(30), {Key: "price2", Name: "Whole-life cost", Kind: "price", Weight: 25}, quality("approach", 45)}
					r.InHouseBaseline.Scores = map[string]int{"approach": 2}
				}, "criteria"},
				"NoQualityCriterion": {func(r *tenderRequest) { r.Criteria, r.InHouseBaseline = []criterionJSON{price(90)}, nil }, "criteria"},
				"WeightsNot100":      {func(r *tenderRequest) { r.Criteria[2].Weight = 20 }, "criteria"},
				"PriceWeightOver90": {func(r *tenderRequest) {
					r.Criteria = []criterionJSON{price(95), quality("approach", 5)}
					r.InHouseBaseline = nil
				}, "criteria[0].weight"},
				"PriceWeightUnder10": {func(r *tenderRequest) {
					r.Criteria = []criterionJSON{price(5), quality("approach", 95)}
					r.InHouseBaseline = nil
				}, "criteria[0].weight"},
				"ZeroWeight": {func(r *tenderRequest) { r.Criteria[1].Weight, r.Criteria[2].Weight = 60, 0 }, "criteria[2].weight"},
				"DuplicateKeys": {func(r *tenderRequest) {
					r.Criteria[2].Key = "approach"
					r.InHouseBaseline.Scores = map[string]int{"approach": 2}
				}, "criteria[2].key"},
				"NoCapabilities":        {func(r *tenderRequest) { r.Capabilities = []string{} }, "capabilities"},
				"UnknownCapability":     {func(r *tenderRequest) { r.Capabilities = []string{"astrology"} }, "capabilities[0]"},
				"NoRegions":             {func(r *tenderRequest) { r.Regions = []string{} }, "regions"},
				"NoBudget":              {func(r *tenderRequest) { r.BudgetPence = 0 }, "budget_pence"},
				"NegativeBudget":        {func(r *tenderRequest) { r.BudgetPence = -1 }, "budget_pence"},
				"NoContractLength":      {func(r *tenderRequest) { r.ContractMonths = 0 }, "contract_months"},
				"NoDescription":         {func(r *tenderRequest) { r.Description = " " }, "description"},
				"BaselineMissesScore":   {func(r *tenderRequest) { delete(r.InHouseBaseline.Scores, "social_value") }, "in_house_baseline.scores.social_value"},
				"BaselineScoreOver4":    {func(r *tenderRequest) { r.InHouseBaseline.Scores["approach"] = 5 }, "in_house_baseline.scores.approach"},
				"BaselineScoresPrice":   {func(r *tenderRequest) { r.InHouseBaseline.Scores["price"] = 2 }, "in_house_baseline.scores.price"},
				"BaselineWithoutPrice":  {func(r *tenderRequest) { r.InHouseBaseline.PricePence = 0 }, "in_house_baseline.price_pence"},
				"JointIsNotACCG":        {func(r *tenderRequest) { r.JointCommissioners = []string{w.firm.orgID} }, "joint_commissioners[0]"},
				"JointIsTheLead":        {func(r *tenderRequest) { r.JointCommissioners = []string{w.lead.orgID} }, "joint_commissioners[0]"},
				"JointIsUnknown":        {func(r *tenderRequest) { r.JointCommissioners = []string{"no-such-organisation"} }, "joint_commissioners[0]"},
				"WeightNotAWholeNumber": {nil, "criteria.weight"},
			}
			for _, name := range sortedKeys(tests) {
				tt := tests[name]
				t.Run(name, func(t *testing.T) {
					body := any(nil)
					if tt.edit != nil {
						r := tenderBody("Rule: "+name, clar, bid, w.joint.orgID)
						tt.edit(&r)
						body = r
					} else {
						body = `{"title": "Rule: weights", "criteria": [{"key": "price", "name": "Price", "kind": "price", "weight": 40.5}]}`
					}
					res, b := e.do(t, req{method: http.MethodPost, target: "/api/v1/tenders", token: w.lead.access, body: body})
					if res.StatusCode == http.StatusCreated {
						id := mustDecode[tenderResponse](t, b).ID
						res, b = e.do(t, req{method: http.MethodPost, target: tenderPath(id) + "/publish", token: w.lead.access})
						want(t, res, b, http.StatusBadRequest)
						res2, b2 := e.do(t, req{method: http.MethodGet, target: tenderPath(id), token: w.lead.access})
						want(t, res2, b2, http.StatusOK)
						if st := mustDecode[tenderResponse](t, b2).Status; st != "draft" {
							t.Errorf("a refused publication left the tender %s", st)
						}
					}
					want(t, res, b, http.StatusBadRequest)
					if fields := fieldsOf(t, b); !slices.Contains(fields, tt.field) {
						t.Errorf("errors name %v, want %s", fields, tt.field)
					}
				})
			}

			t.Run("EveryViolationNamedAtOnce", func(t *testing.T) {
				r := tenderBody("Many faults", clar, bid)
				r.BidDeadline, r.Capabilities, r.BudgetPence = "", []string{}, 0
				d := e.createTender(t, w.lead, r)
				res, b := e.do(t, req{method: http.MethodPost, target: tenderPath(d.ID) + "/publish", token: w.lead.access})
				want(t, res, b, http.StatusBadRequest)
				fields := fieldsOf(t, b)
				for _, f := range []string{"bid_deadline", "capabilities", "budget_pence"} {
					if !slices.Contains(fields, f) {
						t.Errorf("errors name %v, missing %s", fields, f)
					}
				}
			})
			t.Run("PendingCCGCannotPublish", func(t *testing.T) {
				d := e.createTender(t, w.pending, tenderBody("Pending CCG's tender", clar, bid))
				res, b := e.do(t, req{method: http.MethodPost, target: tenderPath(d.ID) + "/publish", token: w.pending.access})
				want(t, res, b, http.StatusForbidden)
			})
			t.Run("SupplierCannotCreate", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPost, target: "/api/v1/tenders", token: w.nhs.access, body: tenderBody("Supplier's tender", clar, bid)})
				want(t, res, b, http.StatusForbidden)
			})
			t.Run("JointBuyerCannotPublish", func(t *testing.T) {
				d := e.createTender(t, w.lead, tenderBody("Lead's tender", clar, bid, w.joint.orgID))
				res, b := e.do(t, req{method: http.MethodPost, target: tenderPath(d.ID) + "/publish", token: w.joint.access})
				want(t, res, b, http.StatusForbidden)
			})
			t.Run("PublishTwice", func(t *testing.T) {
				o := e.publishedTender(t, w.lead, "Published once", 2*time.Minute, 5*time.Minute)
				res, b := e.do(t, req{method: http.MethodPost, target: tenderPath(o.ID) + "/publish", token: w.lead.access})
				want(t, res, b, http.StatusConflict)
			})
		})
	}
}

// TestEditDraft: a PATCH merges into the draft under If-Match, only while
// it is a draft, and only by its lead.
func TestEditDraft(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			now := e.clock.Now()
			d := e.createTender(t, w.lead, tenderBody("Draft to edit", now.Add(2*time.Minute), now.Add(5*time.Minute), w.joint.orgID))
			etag := func(a actor, id string) string {
				res, b := e.do(t, req{method: http.MethodGet, target: tenderPath(id), token: a.access})
				want(t, res, b, http.StatusOK)
				return res.Header.Get("ETag")
			}
			patch := func(a actor, id, ifMatch string, body any) (*http.Response, []byte) {
				h := map[string]string{}
				if ifMatch != "" {
					h["If-Match"] = ifMatch
				}
				return e.do(t, req{method: http.MethodPatch, target: tenderPath(id), token: a.access, body: body, header: h})
			}

			t.Run("WithoutIfMatch", func(t *testing.T) {
				res, b := patch(w.lead, d.ID, "", map[string]any{"title": "New title"})
				want(t, res, b, http.StatusPreconditionRequired)
			})
			t.Run("StaleIfMatch", func(t *testing.T) {
				res, b := patch(w.lead, d.ID, `"stale"`, map[string]any{"title": "New title"})
				want(t, res, b, http.StatusPreconditionFailed)
			})
			t.Run("Merges", func(t *testing.T) {
				before := etag(w.lead, d.ID)
				res, b := patch(w.lead, d.ID, before, map[string]any{
					"title":             "Edited title",
					"in_house_baseline": map[string]any{"scores": map[string]any{"approach": 4}},
					"regions":           []string{"midlands", "london"},
				})
				want(t, res, b, http.StatusOK)
				got := mustDecode[tenderResponse](t, b)
				if got.Title != "Edited title" || got.InHouseBaseline == nil || got.InHouseBaseline.Scores["approach"] != 4 ||
					got.InHouseBaseline.Scores["social_value"] != 3 || got.InHouseBaseline.PricePence != 45_678_901 ||
					!slices.Equal(got.Regions, []string{"midlands", "london"}) || got.Description != d.Description {
					t.Errorf("merged draft: %+v", got)
				}
				if res.Header.Get("ETag") == before || res.Header.Get("ETag") != etag(w.lead, d.ID) {
					t.Errorf("ETag after the edit %q; before %q", res.Header.Get("ETag"), before)
				}
				res, b = patch(w.lead, d.ID, before, map[string]any{"title": "Lost update"})
				want(t, res, b, http.StatusPreconditionFailed)
			})
			t.Run("NullRemoves", func(t *testing.T) {
				res, b := patch(w.lead, d.ID, etag(w.lead, d.ID), map[string]any{"in_house_baseline": nil})
				want(t, res, b, http.StatusOK)
				if got := mustDecode[tenderResponse](t, b); got.InHouseBaseline != nil {
					t.Errorf("baseline still %+v", got.InHouseBaseline)
				}
			})
			t.Run("UnknownField", func(t *testing.T) {
				res, b := patch(w.lead, d.ID, etag(w.lead, d.ID), map[string]any{"status": "open"})
				want(t, res, b, http.StatusBadRequest)
				if f := fieldsOf(t, b); !slices.Equal(f, []string{"status"}) {
					t.Errorf("errors name %v, want status", f)
				}
			})
			t.Run("BadValue", func(t *testing.T) {
				res, b := patch(w.lead, d.ID, etag(w.lead, d.ID), map[string]any{"capabilities": []string{"astrology"}, "contract_months": "two years"})
				want(t, res, b, http.StatusBadRequest)
				if f := fieldsOf(t, b); !slices.Contains(f, "contract_months") {
					t.Errorf("errors name %v, want contract_months", f)
				}
			})
			t.Run("JointBuyerCannotEdit", func(t *testing.T) {
				res, b := patch(w.joint, d.ID, etag(w.joint, d.ID), map[string]any{"title": "Taken over"})
				want(t, res, b, http.StatusForbidden)
			})
			t.Run("SupplierCannotSeeDraft", func(t *testing.T) {
				res, b := patch(w.nhs, d.ID, "*", map[string]any{"title": "Taken over"})
				want(t, res, b, http.StatusNotFound)
			})
			t.Run("PublishedIsLocked", func(t *testing.T) {
				o := e.publishedTender(t, w.lead, "Locked", 2*time.Minute, 5*time.Minute)
				res, b := patch(w.lead, o.ID, etag(w.lead, o.ID), map[string]any{"in_house_baseline": map[string]any{"price_pence": 1}})
				want(t, res, b, http.StatusConflict)
			})
		})
	}
}

// TestJointTender: a joint commissioner sees the tender as a buyer (its
// draft, the baseline, every question to answer, the bids after close),
// cost shares follow the registered populations, and only the lead
// publishes, edits and cancels.
func TestJointTender(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			o := e.publishedTender(t, w.lead, "Joint BI", 2*time.Minute, 5*time.Minute, w.joint.orgID)

			t.Run("CostSharesFollowPopulations", func(t *testing.T) {
				want := []commissionerJSON{
					{ID: w.lead.orgID, Name: "NHS Walsall CCG", Lead: true, Population: 250_000, CostSharePPM: 250_000},
					{ID: w.joint.orgID, Name: "NHS Wolverhampton CCG", Population: 750_000, CostSharePPM: 750_000},
				}
				for _, a := range []actor{{}, w.lead, w.joint, w.nhs} {
					res, b := e.do(t, req{method: http.MethodGet, target: tenderPath(o.ID), token: a.access})
					if res.StatusCode != http.StatusOK {
						t.Fatalf("status %d: %s", res.StatusCode, b)
					}
					if got := mustDecode[tenderResponse](t, b).Commissioners; !slices.Equal(got, want) {
						t.Errorf("%s sees commissioners %+v, want %+v", a.email, got, want)
					}
				}
			})
			t.Run("JointBuyerSeesBaseline", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodGet, target: tenderPath(o.ID), token: w.joint.access})
				want(t, res, b, http.StatusOK)
				if got := mustDecode[tenderResponse](t, b); got.InHouseBaseline == nil || got.InHouseBaseline.PricePence != 45_678_901 {
					t.Errorf("joint buyer sees baseline %+v", got.InHouseBaseline)
				}
				if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("the commissioners' view has Cache-Control %q", cc)
				}
				res, b = e.do(t, req{method: http.MethodGet, target: tenderPath(o.ID), token: w.other.access})
				want(t, res, b, http.StatusOK)
				if strings.Contains(string(b), "in_house_baseline") {
					t.Errorf("another CCG sees the baseline: %s", b)
				}
			})
			var qid string
			t.Run("JointBuyerAnswers", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPost, target: questionsPath(o.ID), token: w.charity.access, body: questionRequest{Question: "Can volunteers deliver part of it?"}})
				want(t, res, b, http.StatusCreated)
				q := mustDecode[questionResponse](t, b)
				qid = q.ID
				if !q.Mine || q.Asker == nil || q.Asker.OrganisationID != w.charity.orgID {
					t.Errorf("the asker's own question: %+v", q)
				}
				res, b = e.do(t, req{method: http.MethodGet, target: questionsPath(o.ID), token: w.joint.access})
				want(t, res, b, http.StatusOK)
				qs := mustDecode[listResponse[questionResponse]](t, b).Items
				if len(qs) != 1 || qs[0].Asker != nil || qs[0].Mine || strings.Contains(string(b), w.charity.orgID) {
					t.Errorf("the joint buyer sees %s", b)
				}
				res, b = e.do(t, req{method: http.MethodPost, target: answerPath(o.ID, qid), token: w.other.access, body: answerRequest{Answer: "No."}})
				want(t, res, b, http.StatusForbidden)
				res, b = e.do(t, req{method: http.MethodPost, target: answerPath(o.ID, qid), token: w.joint.access, body: answerRequest{Answer: "Yes, under supervision."}})
				want(t, res, b, http.StatusOK)
				if strings.Contains(string(b), w.charity.orgID) {
					t.Errorf("the answer names the asker: %s", b)
				}
				res, b = e.do(t, req{method: http.MethodPost, target: answerPath(o.ID, qid), token: w.lead.access, body: answerRequest{Answer: "Again."}})
				want(t, res, b, http.StatusConflict)
			})
			t.Run("JointBuyerCannotLead", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPost, target: tenderPath(o.ID) + "/cancel", token: w.joint.access, body: cancelRequest{Reason: "Not ours alone."}})
				want(t, res, b, http.StatusForbidden)
			})
			t.Run("JointBuyerSeesBidsAfterClose", func(t *testing.T) {
				b1 := e.submitBid(t, w.council, o.ID, 41_000_000)
				res, b := e.do(t, req{method: http.MethodGet, target: bidPath(o.ID, b1.ID), token: w.joint.access})
				want(t, res, b, http.StatusNotFound)
				e.clock.Advance(5 * time.Minute)
				res, b = e.do(t, req{method: http.MethodGet, target: bidsPath(o.ID), token: w.joint.access})
				want(t, res, b, http.StatusForbidden)
				checkReveals(t, "undeclared", b, secrets{ids: []string{b1.ID}, prices: []int64{41_000_000}, count: 1})
				e.declareNone(t, w.joint, o.ID)
				res, b = e.do(t, req{method: http.MethodGet, target: bidsPath(o.ID), token: w.joint.access})
				want(t, res, b, http.StatusOK)
				items := mustDecode[listResponse[bidResponse]](t, b).Items
				if len(items) != 1 || items[0].ID != b1.ID || items[0].Supplier.Sector != "local_authority" {
					t.Errorf("the joint buyer sees %s", b)
				}
				res, b = e.do(t, req{method: http.MethodGet, target: bidPath(o.ID, b1.ID), token: w.joint.access})
				want(t, res, b, http.StatusOK)
				if got := mustDecode[bidResponse](t, b); got.Versions != nil {
					t.Errorf("a buyer sees the bid's versions: %s", b)
				}
			})
		})
	}
}

// TestDoneWhen is the end-to-end scenario: two CCGs publish a joint
// tender; four suppliers, one of each sector, ask questions and bid; every
// probe for another organisation's bid fails before and after the
// deadline; the buyers see all four bids the moment it passes; and every
// change is in the audit trail, by whom it was made.
func TestDoneWhen(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			start := e.clock.Now()
			deadline := start.Add(10 * time.Minute)

			d := e.createTender(t, w.lead, tenderBody("Joint commissioning support", start.Add(5*time.Minute), deadline, w.joint.orgID))
			res, b := e.do(t, req{method: http.MethodGet, target: tenderPath(d.ID), token: w.lead.access})
			want(t, res, b, http.StatusOK)
			res, b = e.do(t, req{method: http.MethodPatch, target: tenderPath(d.ID), token: w.lead.access,
				body: map[string]any{"description": "BI, contract management and engagement for both CCGs."}, header: map[string]string{"If-Match": res.Header.Get("ETag")}})
			want(t, res, b, http.StatusOK)
			e.publish(t, w.lead, d.ID)
			tender := d.ID

			suppliers := []actor{w.nhs, w.council, w.charity, w.firm}
			sectors := []string{"nhs", "local_authority", "third_sector", "independent"}
			bids := make([]bidResponse, len(suppliers))
			var questions []string
			for i, s := range suppliers {
				res, b := e.do(t, req{method: http.MethodPost, target: questionsPath(tender), token: s.access,
					body: questionRequest{Question: "Question from " + sectors[i]}, header: map[string]string{"Idempotency-Key": "q-" + sectors[i]}})
				want(t, res, b, http.StatusCreated)
				questions = append(questions, mustDecode[questionResponse](t, b).ID)
				bids[i] = e.submitBid(t, s, tender, int64(40_000_000+i*1_111_111))
			}
			res, b = e.do(t, req{method: http.MethodPost, target: answerPath(tender, questions[0]), token: w.lead.access, body: answerRequest{Answer: "Yes."}})
			want(t, res, b, http.StatusOK)
			res, b = e.do(t, req{method: http.MethodPut, target: bidPath(tender, bids[3].ID), token: w.firm.access, body: bidBody(39_999_999)})
			want(t, res, b, http.StatusOK)

			probe := func(t *testing.T, when string) {
				for i, s := range suppliers {
					for j, other := range bids {
						if i == j {
							continue
						}
						for _, r := range []req{
							{method: http.MethodGet, target: bidPath(tender, other.ID)},
							{method: http.MethodPut, target: bidPath(tender, other.ID), body: bidBody(1)},
							{method: http.MethodPost, target: withdrawPath(tender, other.ID)},
						} {
							r.token = s.access
							res, b := e.do(t, r)
							if res.StatusCode < 400 {
								t.Errorf("%s: %s %s by %s: %d", when, r.method, r.target, sectors[i], res.StatusCode)
							}
							if r.method == http.MethodGet && res.StatusCode != http.StatusNotFound {
								t.Errorf("%s: %s probing %s's bid: %d, want 404", when, sectors[i], sectors[j], res.StatusCode)
							}
							checkReveals(t, when+" probe", b, secrets{ids: []string{other.ID}, prices: []int64{other.PricePence, 39_999_999}})
						}
					}
					res, b := e.do(t, req{method: http.MethodGet, target: bidsPath(tender), token: s.access})
					want(t, res, b, http.StatusOK)
					if items := mustDecode[listResponse[bidResponse]](t, b).Items; len(items) != 1 || items[0].ID != bids[i].ID {
						t.Errorf("%s: %s lists %s", when, sectors[i], b)
					}
				}
				for _, a := range []actor{{}, w.other, w.operator, w.lead, w.joint} {
					res, b := e.do(t, req{method: http.MethodGet, target: tenderPath(tender), token: a.access})
					want(t, res, b, http.StatusOK)
					checkReveals(t, when+" tender", b, secrets{ids: []string{bids[0].ID, bids[1].ID, bids[2].ID, bids[3].ID}, count: 4})
				}
			}

			// The buyers declare no conflict of interest, as they must to
			// read the bids, before the deadline.
			e.declareNone(t, w.lead, tender)
			e.declareNone(t, w.joint, tender)

			t.Run("BeforeDeadline", func(t *testing.T) {
				e.clock.set(deadline.Add(-time.Millisecond))
				probe(t, "before")
				for _, a := range []actor{w.lead, w.joint} {
					res, b := e.do(t, req{method: http.MethodGet, target: bidsPath(tender), token: a.access})
					want(t, res, b, http.StatusConflict)
					checkReveals(t, "sealed", b, secrets{ids: []string{bids[0].ID}, count: 4})
				}
			})
			t.Run("AtDeadline", func(t *testing.T) {
				e.clock.set(deadline)
				for _, a := range []actor{w.lead, w.joint} {
					res, b := e.do(t, req{method: http.MethodGet, target: bidsPath(tender), token: a.access})
					want(t, res, b, http.StatusOK)
					items := mustDecode[listResponse[bidResponse]](t, b).Items
					var got []string
					for _, it := range items {
						got = append(got, it.Supplier.Sector)
					}
					slices.Sort(got)
					if wantSectors := slices.Sorted(slices.Values(sectors)); !slices.Equal(got, wantSectors) {
						t.Errorf("%s sees bids from %v, want %v", a.email, got, wantSectors)
					}
				}
				probe(t, "after")
			})
			t.Run("AuditTrail", func(t *testing.T) {
				cancelled := e.publishedTender(t, w.lead, "Cancelled tender", 2*time.Minute, 5*time.Minute)
				res, b := e.do(t, req{method: http.MethodPost, target: tenderPath(cancelled.ID) + "/cancel", token: w.lead.access, body: cancelRequest{Reason: "Merged into the joint tender."}})
				want(t, res, b, http.StatusOK)
				withdrawn := e.publishedTender(t, w.lead, "Withdrawn bid", 2*time.Minute, 5*time.Minute)
				wb := e.submitBid(t, w.nhs, withdrawn.ID, 40_000_000)
				res, b = e.do(t, req{method: http.MethodPost, target: withdrawPath(withdrawn.ID, wb.ID), token: w.nhs.access})
				want(t, res, b, http.StatusOK)

				got := e.mustAudit(t, tender)
				wantTrail := []string{
					"tender.created by " + w.lead.orgID,
					"tender.updated by " + w.lead.orgID,
					"tender.published by " + w.lead.orgID,
				}
				for i, s := range suppliers {
					_ = i
					wantTrail = append(wantTrail, "question.asked by "+s.orgID, "bid.submitted by "+s.orgID)
				}
				wantTrail = append(wantTrail, "question.answered by "+w.lead.orgID, "bid.revised by "+w.firm.orgID,
					"evaluator.declared_no_conflict by "+w.lead.orgID, "evaluator.declared_no_conflict by "+w.joint.orgID)
				if !slices.Equal(got, wantTrail) {
					t.Errorf("audit trail of the joint tender:\n got %q\nwant %q", got, wantTrail)
				}
				if got := e.mustAudit(t, cancelled.ID); !slices.Contains(got, "tender.cancelled by "+w.lead.orgID) {
					t.Errorf("cancellation trail %q", got)
				}
				if got := e.mustAudit(t, withdrawn.ID); !slices.Contains(got, "bid.withdrawn by "+w.nhs.orgID) {
					t.Errorf("withdrawal trail %q", got)
				}
			})
		})
	}
}
