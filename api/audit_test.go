package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// TestAuditFilters: the audit trail filtered by event type, by actor and
// by time, alone, together and with object, paged by cursor under the
// filters; a filter that is not well formed is a 400 naming it; and with
// any filter a sealed bid leaves no trace (not its event, not a short page
// or a page more), nor does a buyer learn through an actor filter who
// asked a question.
func TestAuditFilters(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			start := e.clock.Now()
			deadline := start.Add(5 * time.Minute)
			evaluator := e.addUser(t, w.lead, "audit.filters@nhs.net", "evaluator")
			tender := e.publishedTender(t, w.lead, "Audited", 2*time.Minute, 5*time.Minute, w.joint.orgID)
			e.clock.Advance(10 * time.Second)
			mid := e.clock.Now()
			res, b := e.do(t, req{method: http.MethodPost, target: questionsPath(tender.ID), token: w.charity.access, body: questionRequest{Question: "Is there an incumbent?"}})
			want(t, res, b, http.StatusCreated)
			e.clock.Advance(10 * time.Second)
			// Three sealed bids, and a revision: four events about bids.
			b1 := e.submitBid(t, w.nhs, tender.ID, 40_000_000)
			b2 := e.submitBid(t, w.firm, tender.ID, 41_000_000)
			b3 := e.submitBid(t, w.council, tender.ID, 42_000_000)
			res, b = e.do(t, req{method: http.MethodPut, target: bidPath(tender.ID, b1.ID), token: w.nhs.access, body: bidBody(39_000_000)})
			want(t, res, b, http.StatusOK)
			sealedIDs, sealedPrices := []string{b1.ID, b2.ID, b3.ID}, []int64{40_000_000, 41_000_000, 42_000_000, 39_000_000}
			e.clock.Advance(10 * time.Second)
			late := e.clock.Now()
			res, b = e.do(t, req{method: http.MethodPost, target: evaluatorsPath(tender.ID), token: w.lead.access, body: assignRequest{UserID: w.joint.userID}})
			want(t, res, b, http.StatusCreated)

			// list pages through the audit trail as a with query, following
			// next_cursor with the same filters, and returns every event's
			// action (and the pages it took).
			type seen struct {
				actions, actors []string
				pages           int
			}
			list := func(t *testing.T, a actor, query string) seen {
				t.Helper()
				var s seen
				cursor := ""
				for {
					if s.pages > 50 {
						t.Fatal("the cursor does not end")
					}
					target := "/api/v1/audit?" + query
					if cursor != "" {
						target += "&cursor=" + url.QueryEscape(cursor)
					}
					res, b := e.do(t, req{method: http.MethodGet, target: target, token: a.access})
					want(t, res, b, http.StatusOK)
					if e.clock.Now().Before(deadline) {
						checkRevealsOthers(t, b, sealedIDs, sealedPrices)
					}
					l := mustDecode[listResponse[auditEventJSON]](t, b)
					s.pages++
					for _, ev := range l.Items {
						s.actions = append(s.actions, ev.Action)
						s.actors = append(s.actors, ev.ActorUserID)
					}
					if l.NextCursor == "" {
						return s
					}
					if len(l.Items) == 0 {
						t.Errorf("%s: an empty page leads on", target)
					}
					cursor = l.NextCursor
				}
			}
			refused := func(t *testing.T, query string, fields ...string) {
				t.Helper()
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/audit?" + query, token: w.operator.access})
				want(t, res, b, http.StatusBadRequest)
				if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
					t.Errorf("%s: Content-Type %q", query, ct)
				}
				if got := fieldsOf(t, b); !slices.Equal(got, fields) {
					t.Errorf("%s names %v, want %v", query, got, fields)
				}
			}
			rfc := func(t time.Time) string { return url.QueryEscape(t.UTC().Format(time.RFC3339Nano)) }
			obj := "object=" + tender.ID

			t.Run("Action", func(t *testing.T) {
				got := list(t, w.operator, "action=tender.published&page_size=1")
				if !slices.Equal(got.actions, []string{"tender.published"}) {
					t.Errorf("action=tender.published: %v", got.actions)
				}
				if got := list(t, w.operator, obj+"&action=evaluator.assigned"); !slices.Equal(got.actions, []string{"evaluator.assigned"}) {
					t.Errorf("object and action: %v", got.actions)
				}
				if got := list(t, w.operator, "action=tender.levitated"); len(got.actions) != 0 || got.pages != 1 {
					t.Errorf("an unknown event type: %+v", got)
				}
			})
			t.Run("Actor", func(t *testing.T) {
				got := list(t, w.operator, obj+"&actor="+w.lead.userID+"&page_size=1")
				if !slices.Equal(got.actions, []string{"tender.created", "tender.published", "evaluator.assigned"}) || got.pages != 3 {
					t.Errorf("the lead buyer's events, a page each: %+v", got)
				}
				for _, u := range got.actors {
					if u != w.lead.userID {
						t.Errorf("an event by %s under actor=%s", u, w.lead.userID)
					}
				}
				// The operator sees who asked; a buyer never does, so to
				// it the asker's events are not the asker's.
				if got := list(t, w.operator, "actor="+w.charity.userID); !slices.Equal(got.actions, []string{"question.asked"}) {
					t.Errorf("the operator's view of the asker: %v", got.actions)
				}
				for _, a := range []actor{w.lead, w.joint} {
					if got := list(t, a, "actor="+w.charity.userID); len(got.actions) != 0 {
						t.Errorf("%s learns who asked through the actor filter: %v", a.email, got.actions)
					}
				}
			})
			t.Run("Time", func(t *testing.T) {
				if got := list(t, w.operator, obj+"&to="+rfc(mid)); !slices.Equal(got.actions, []string{"tender.created", "tender.published"}) {
					t.Errorf("before the question: %v", got.actions)
				}
				if got := list(t, w.operator, obj+"&from="+rfc(mid)+"&to="+rfc(late)); !slices.Equal(got.actions, []string{"question.asked"}) {
					t.Errorf("from the question until the assignment (the bids withheld): %v", got.actions)
				}
				if got := list(t, w.operator, obj+"&from="+rfc(late)); !slices.Equal(got.actions, []string{"evaluator.assigned"}) {
					t.Errorf("from the assignment: %v", got.actions)
				}
				// An offset is the same instant as its UTC.
				plus1 := url.QueryEscape(mid.In(time.FixedZone("", 3600)).Format(time.RFC3339Nano))
				if got := list(t, w.operator, obj+"&to="+plus1); !slices.Equal(got.actions, []string{"tender.created", "tender.published"}) {
					t.Errorf("to with an offset: %v", got.actions)
				}
				if got := list(t, w.operator, "from="+rfc(start.Add(-time.Hour))+"&to="+rfc(start.Add(-time.Minute))); len(got.actions) != 0 {
					t.Errorf("before anything happened: %v", got.actions)
				}
			})
			t.Run("Combined", func(t *testing.T) {
				q := obj + "&action=question.asked&actor=" + w.charity.userID + "&from=" + rfc(start) + "&to=" + rfc(late)
				if got := list(t, w.operator, q); !slices.Equal(got.actions, []string{"question.asked"}) {
					t.Errorf("every filter at once: %v", got.actions)
				}
				// A buyer's scope still holds under the filters.
				if got := list(t, w.other, "action=tender.published"); len(got.actions) != 0 {
					t.Errorf("another CCG reads a published event of the joint tender: %v", got.actions)
				}
				if got := list(t, w.joint, "action=tender.published"); !slices.Equal(got.actions, []string{"tender.published"}) {
					t.Errorf("the joint commissioner: %v", got.actions)
				}
			})
			t.Run("SealedBidsLeaveNoTrace", func(t *testing.T) {
				for _, q := range []string{"action=bid.submitted", "action=bid.submitted&page_size=1", "action=bid.revised", "actor=" + w.nhs.userID + "&page_size=1",
					obj + "&from=" + rfc(mid.Add(time.Second)) + "&to=" + rfc(late) + "&page_size=1"} {
					for _, a := range []actor{w.operator, w.lead} {
						got := list(t, a, q)
						if slices.ContainsFunc(got.actions, func(s string) bool { return strings.HasPrefix(s, "bid.") }) {
							t.Errorf("%s, %s: a sealed bid's event: %v", q, a.email, got.actions)
						}
						// Nothing but the question is left between mid and late:
						// a page for each visible event and none for a bid.
						if want := max(1, len(got.actions)); got.pages != want {
							t.Errorf("%s, %s: %d pages for %d events", q, a.email, got.pages, len(got.actions))
						}
					}
				}
				// Every page of the whole tender is full, but the last.
				all := list(t, w.operator, obj+"&page_size=1")
				if !slices.Equal(all.actions, []string{"tender.created", "tender.published", "question.asked", "evaluator.assigned"}) || all.pages != 4 {
					t.Errorf("the tender a page at a time: %+v", all)
				}
				// After the deadline the commissioners and the operator read them.
				e.clock.Advance(5 * time.Minute)
				e.relogin(t, &w.operator, &w.lead)
				if got := list(t, w.operator, "action=bid.submitted&page_size=2"); len(got.actions) != 3 || got.pages != 2 {
					t.Errorf("after the deadline, bid.submitted: %+v", got)
				}
				if got := list(t, w.lead, obj+"&actor="+w.nhs.userID); !slices.Equal(got.actions, []string{"bid.submitted", "bid.revised"}) {
					t.Errorf("after the deadline, the lead reads one bidder's events: %v", got.actions)
				}
			})
			t.Run("Invalid", func(t *testing.T) {
				e.relogin(t, &w.operator)
				for q, fields := range map[string][]string{
					"action=published":                                  {"action"},
					"action=Tender.Published":                           {"action"},
					"action=tender..published":                          {"action"},
					"action=tender.published%20":                        {"action"},
					"action=" + strings.Repeat("a.", 40) + "b":          {"action"},
					"action=tender.published&action=bid.scored":         {"action"},
					"actor=not%20an%20id":                               {"actor"},
					"actor=" + strings.Repeat("x", 65):                  {"actor"},
					"from=yesterday":                                    {"from"},
					"from=2026-12-01":                                   {"from"},
					"from=2026-12-01T12:00:00":                          {"from"},
					"to=2026-13-01T00:00:00Z":                           {"to"},
					"to=2026-12-01T12:00:00%2B25:00":                    {"to"},
					"from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z": {"to"},
					"from=2026-12-01T00:00:00Z&to=2026-12-01T00:00:00Z": {"to"},
					"action=x&actor=%3F&from=no&to=no":                  {"action", "actor", "from", "to"},
					"action=bid.submitted&cursor=nonsense":              {"cursor"},
				} {
					refused(t, q, fields...)
				}
			})
			t.Run("Refused", func(t *testing.T) {
				for _, a := range []actor{w.firm, evaluator} {
					res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/audit?action=tender.published", token: a.access})
					want(t, res, b, http.StatusForbidden)
				}
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/audit?action=tender.published"})
				want(t, res, b, http.StatusUnauthorized)
			})
		})
	}
}
