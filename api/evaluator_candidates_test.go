package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/auth"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

func candidatesPath(id string) string { return "/api/v1/tenders/" + id + "/evaluator-candidates" }

// TestEvaluatorCandidates: the lead CCG's buyers list whom they may assign
// to evaluate a joint tender, the joint commissioner's users among them,
// by name and organisation; each one listed is assigned by its user_id and
// is then marked assigned; disabled and erased users are not listed, nor
// is anyone's e-mail; a joint commissioner's buyer, an evaluator,
// suppliers, another CCG, the operator, the anonymous, and expired and
// forged tokens are refused and learn no name.
func TestEvaluatorCandidates(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			leadEval := e.addUser(t, w.lead, "eval.lead@nhs.net", "evaluator")
			leadBuyer := e.addUser(t, w.lead, "second.lead@nhs.net", "buyer")
			jointEval := e.addUser(t, w.joint, "eval.joint@nhs.net", "evaluator")
			jointGone := e.addUser(t, w.joint, "gone.joint@nhs.net", "evaluator")
			leadErased := e.addUser(t, w.lead, "erased.lead@nhs.net", "evaluator")
			res, b := e.do(t, req{method: http.MethodPatch, target: "/api/v1/users/" + jointGone.userID, token: w.joint.access, body: map[string]any{"status": "disabled"}})
			want(t, res, b, http.StatusOK)
			res, b = e.do(t, req{method: http.MethodPost, target: "/api/v1/operator/users/" + leadErased.userID + "/erase", token: w.operator.access, body: map[string]any{"reason": "Erasure request ER-1."}})
			want(t, res, b, http.StatusOK)

			joint := e.publishedTender(t, w.lead, "Joint evaluation", 20*time.Minute, 40*time.Minute, w.joint.orgID)
			now := e.clock.Now()
			draft := e.createTender(t, w.lead, tenderBody("Joint draft", now.Add(20*time.Minute), now.Add(40*time.Minute), w.joint.orgID))
			othersDraft := e.createTender(t, w.other, tenderBody("Dudley's draft", now.Add(20*time.Minute), now.Add(40*time.Minute)))
			names := []string{"Admin of NHS Walsall CCG", "User eval.lead@nhs.net", "User second.lead@nhs.net", "Admin of NHS Wolverhampton CCG", "User eval.joint@nhs.net"}

			list := func(t *testing.T, a actor, id string) []evaluatorCandidateResponse {
				t.Helper()
				res, b := e.do(t, req{method: http.MethodGet, target: candidatesPath(id), token: a.access})
				want(t, res, b, http.StatusOK)
				if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("candidates with Cache-Control %q", cc)
				}
				if strings.Contains(string(b), `"email"`) {
					t.Errorf("candidates carry an e-mail address: %s", b)
				}
				return mustDecode[listResponse[evaluatorCandidateResponse]](t, b).Items
			}
			refused := func(t *testing.T, token, id string, status int) {
				t.Helper()
				res, b := e.do(t, req{method: http.MethodGet, target: candidatesPath(id), token: token})
				want(t, res, b, status)
				for _, n := range names {
					if strings.Contains(string(b), n) {
						t.Errorf("a refused answer names %q: %s", n, b)
					}
				}
			}
			summary := func(cs []evaluatorCandidateResponse) []string {
				var out []string
				for _, c := range cs {
					mark := ""
					if c.Assigned {
						mark = " (assigned)"
					}
					out = append(out, c.Name+", "+c.Role+", "+c.OrganisationName+mark)
				}
				return out
			}

			t.Run("LeadBuyer", func(t *testing.T) {
				got := list(t, w.lead, joint.ID)
				wantSummary := []string{
					"Admin of NHS Walsall CCG, buyer, NHS Walsall CCG (assigned)",
					"User eval.lead@nhs.net, evaluator, NHS Walsall CCG",
					"User second.lead@nhs.net, buyer, NHS Walsall CCG",
					"Admin of NHS Wolverhampton CCG, buyer, NHS Wolverhampton CCG",
					"User eval.joint@nhs.net, evaluator, NHS Wolverhampton CCG",
				}
				if s := summary(got); !slices.Equal(s, wantSummary) {
					t.Fatalf("candidates\n got %q\nwant %q", s, wantSummary)
				}
				for i, c := range got {
					wantOrg, lead := w.lead.orgID, true
					if i >= 3 {
						wantOrg, lead = w.joint.orgID, false
					}
					if c.OrganisationID != wantOrg || c.Lead != lead {
						t.Errorf("%s: organisation %s, lead %v", c.Name, c.OrganisationID, c.Lead)
					}
				}
				if got[1].UserID != leadEval.userID || got[4].UserID != jointEval.userID {
					t.Errorf("user IDs %s, %s; want %s, %s", got[1].UserID, got[4].UserID, leadEval.userID, jointEval.userID)
				}
				// Another buyer of the lead CCG sees the same; so does a draft.
				if s := summary(list(t, leadBuyer, joint.ID)); !slices.Equal(s, wantSummary) {
					t.Errorf("the second lead buyer sees %q", s)
				}
				if s := summary(list(t, w.lead, draft.ID)); !slices.Equal(s, wantSummary) {
					t.Errorf("on the draft: %q", s)
				}
			})
			t.Run("EveryCandidateCanBeAssigned", func(t *testing.T) {
				for _, c := range list(t, w.lead, joint.ID) {
					res, b := e.do(t, req{method: http.MethodPost, target: evaluatorsPath(joint.ID), token: w.lead.access, body: assignRequest{UserID: c.UserID}})
					if c.Assigned {
						want(t, res, b, http.StatusConflict)
						continue
					}
					want(t, res, b, http.StatusCreated)
				}
				for _, c := range list(t, w.lead, joint.ID) {
					if !c.Assigned {
						t.Errorf("%s is not marked assigned", c.Name)
					}
				}
				res, b := e.do(t, req{method: http.MethodGet, target: evaluatorsPath(joint.ID), token: w.lead.access})
				want(t, res, b, http.StatusOK)
				var ids []string
				for _, ev := range mustDecode[listResponse[evaluatorResponse]](t, b).Items {
					ids = append(ids, ev.UserID)
				}
				if !slices.Contains(ids, jointEval.userID) || !slices.Contains(ids, w.joint.userID) {
					t.Errorf("the joint commissioner's users are not evaluators: %v", ids)
				}
				// Who is not listed cannot be assigned either.
				for _, u := range []string{jointGone.userID, leadErased.userID, w.other.userID, w.firm.userID} {
					res, b := e.do(t, req{method: http.MethodPost, target: evaluatorsPath(joint.ID), token: w.lead.access, body: assignRequest{UserID: u}})
					want(t, res, b, http.StatusBadRequest)
					if f := fieldsOf(t, b); !slices.Equal(f, []string{"user_id"}) {
						t.Errorf("assigning %s names %v", u, f)
					}
				}
			})
			t.Run("Refused", func(t *testing.T) {
				for _, c := range []struct {
					name   string
					token  string
					id     string
					status int
				}{
					{"JointBuyer", w.joint.access, joint.ID, http.StatusForbidden},
					{"JointBuyerOnTheDraft", w.joint.access, draft.ID, http.StatusForbidden},
					{"LeadEvaluator", leadEval.access, joint.ID, http.StatusForbidden},
					{"JointEvaluator", jointEval.access, joint.ID, http.StatusForbidden},
					{"Supplier", w.firm.access, joint.ID, http.StatusForbidden},
					{"SupplierOnTheDraft", w.firm.access, draft.ID, http.StatusNotFound},
					{"OtherCCG", w.other.access, joint.ID, http.StatusForbidden},
					{"OtherCCGOnTheDraft", w.other.access, draft.ID, http.StatusNotFound},
					{"LeadOnAnotherCCGsDraft", w.lead.access, othersDraft.ID, http.StatusNotFound},
					{"Operator", w.operator.access, joint.ID, http.StatusForbidden},
					{"Anonymous", "", joint.ID, http.StatusUnauthorized},
					{"Forged", w.lead.access[:len(w.lead.access)-4] + "AAAA", joint.ID, http.StatusUnauthorized},
					{"NoSuchTender", w.lead.access, "0190f000-0000-7000-8000-00000000dead", http.StatusNotFound},
					{"NotAnID", w.lead.access, "not%20an%20id", http.StatusNotFound},
				} {
					t.Run(c.name, func(t *testing.T) { refused(t, c.token, c.id, c.status) })
				}
			})
			// Last, since it moves the clock: a token past its life is refused.
			t.Run("Expired", func(t *testing.T) {
				stale := e.login(t, w.lead.email)
				e.clock.Advance(15*time.Minute + auth.Leeway + time.Second)
				refused(t, stale.access, joint.ID, http.StatusUnauthorized)
				e.relogin(t, &w.lead)
				if got := list(t, w.lead, joint.ID); len(got) != 5 {
					t.Errorf("signed in again: %d candidates", len(got))
				}
			})
		})
	}
}
