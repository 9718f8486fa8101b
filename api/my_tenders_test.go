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

// TestMyTenders lists a CCG's own tenders in every status: its drafts and
// cancelled ones too, the joint commissioner's view of a joint tender, an
// evaluator's assigned tenders, filtered by status and paged; never
// another CCG's draft; suppliers, the operator, the anonymous and a forged
// token are refused.
func TestMyTenders(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			now := e.clock.Now()
			step := func() { e.clock.Advance(time.Second) }

			open := e.publishedTender(t, w.lead, "Mine: open", 20*time.Minute, 40*time.Minute)
			step()
			cancelled := e.publishedTender(t, w.lead, "Mine: cancelled", 20*time.Minute, 40*time.Minute)
			res, b := e.do(t, req{method: http.MethodPost, target: tenderPath(cancelled.ID) + "/cancel", token: w.lead.access, body: cancelRequest{Reason: "Budget withdrawn."}})
			want(t, res, b, http.StatusOK)
			step()
			draft := e.createTender(t, w.lead, tenderBody("Mine: draft", now.Add(20*time.Minute), now.Add(40*time.Minute)))
			step()
			jointDraft := e.createTender(t, w.lead, tenderBody("Mine: joint draft", now.Add(20*time.Minute), now.Add(40*time.Minute), w.joint.orgID))
			step()
			otherDraft := e.createTender(t, w.other, tenderBody("Theirs: draft", now.Add(20*time.Minute), now.Add(40*time.Minute)))
			evaluator := e.addUser(t, w.lead, "mine.evaluator@nhs.net", "evaluator")
			res, b = e.do(t, req{method: http.MethodPost, target: evaluatorsPath(open.ID), token: w.lead.access, body: assignRequest{UserID: evaluator.userID}})
			want(t, res, b, http.StatusCreated)

			list := func(tb testing.TB, a actor, query string, status int) listResponse[tenderResponse] {
				tb.Helper()
				target := "/api/v1/me/tenders"
				if query != "" {
					target += "?" + query
				}
				res, b := e.do(tb, req{method: http.MethodGet, target: target, token: a.access})
				want(tb, res, b, status)
				if strings.Contains(string(b), "45678901") || strings.Contains(string(b), "in_house") {
					tb.Errorf("my tenders reveal the baseline: %s", b)
				}
				if status != http.StatusOK {
					if strings.Contains(string(b), draft.ID) || strings.Contains(string(b), otherDraft.ID) {
						tb.Errorf("a refused list names a draft: %s", b)
					}
					return listResponse[tenderResponse]{}
				}
				if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
					tb.Errorf("my tenders with Cache-Control %q", cc)
				}
				return mustDecode[listResponse[tenderResponse]](tb, b)
			}
			ids := func(l listResponse[tenderResponse]) []string {
				var out []string
				for _, x := range l.Items {
					out = append(out, x.ID)
				}
				return out
			}

			t.Run("Lead", func(t *testing.T) {
				got := list(t, w.lead, "", http.StatusOK)
				wantIDs := []string{jointDraft.ID, draft.ID, cancelled.ID, open.ID}
				if !slices.Equal(ids(got), wantIDs) || got.NextCursor != "" {
					t.Fatalf("lead's tenders %v (next %q), want %v, newest first", ids(got), got.NextCursor, wantIDs)
				}
				for i, st := range []string{"draft", "draft", "cancelled", "open"} {
					if got.Items[i].Status != st {
						t.Errorf("%s is %s, want %s", got.Items[i].Title, got.Items[i].Status, st)
					}
				}
			})
			t.Run("JointAndOther", func(t *testing.T) {
				if got := ids(list(t, w.joint, "", http.StatusOK)); !slices.Equal(got, []string{jointDraft.ID}) {
					t.Errorf("joint commissioner's tenders %v, want the joint draft", got)
				}
				if got := ids(list(t, w.other, "", http.StatusOK)); !slices.Equal(got, []string{otherDraft.ID}) {
					t.Errorf("another CCG's tenders %v, want its own draft only", got)
				}
				if got := ids(list(t, evaluator, "", http.StatusOK)); !slices.Equal(got, []string{open.ID}) {
					t.Errorf("evaluator's tenders %v, want the one it is assigned to", got)
				}
			})
			t.Run("Status", func(t *testing.T) {
				for st, wantIDs := range map[string][]string{
					"draft":     {jointDraft.ID, draft.ID},
					"cancelled": {cancelled.ID},
					"open":      {open.ID},
					"awarded":   nil,
				} {
					if got := ids(list(t, w.lead, "status="+st, http.StatusOK)); !slices.Equal(got, wantIDs) {
						t.Errorf("status=%s: %v, want %v", st, got, wantIDs)
					}
				}
				for _, q := range []string{"status=bogus", "status=open&status=draft"} {
					res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/me/tenders?" + q, token: w.lead.access})
					want(t, res, b, http.StatusBadRequest)
					if f := fieldsOf(t, b); !slices.Equal(f, []string{"status"}) {
						t.Errorf("%s names %v, want status", q, f)
					}
				}
			})
			t.Run("Paging", func(t *testing.T) {
				var all []string
				query := "page_size=3"
				for pages := 0; ; pages++ {
					if pages > 3 {
						t.Fatal("paging does not end")
					}
					page := list(t, w.lead, query, http.StatusOK)
					if len(page.Items) > 3 {
						t.Fatalf("page of %d", len(page.Items))
					}
					all = append(all, ids(page)...)
					if page.NextCursor == "" {
						break
					}
					query = "page_size=3&cursor=" + url.QueryEscape(page.NextCursor)
				}
				if wantIDs := []string{jointDraft.ID, draft.ID, cancelled.ID, open.ID}; !slices.Equal(all, wantIDs) {
					t.Errorf("paged %v, want %v", all, wantIDs)
				}
				// A cursor of the public list is not one of this list.
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/tenders?page_size=1"})
				want(t, res, b, http.StatusOK)
				if next := mustDecode[listResponse[tenderResponse]](t, b).NextCursor; next != "" {
					for _, q := range []string{"cursor=" + url.QueryEscape(next), "cursor=not-a-cursor", "page_size=0", "page_size=x"} {
						res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/me/tenders?" + q, token: w.lead.access})
						want(t, res, b, http.StatusBadRequest)
						name, _, _ := strings.Cut(q, "=")
						if f := fieldsOf(t, b); !slices.Equal(f, []string{name}) {
							t.Errorf("%s names %v, want %s", q, f, name)
						}
					}
				} else {
					t.Error("the public list of two published tenders gave no next cursor at page_size=1")
				}
			})
			t.Run("Refused", func(t *testing.T) {
				list(t, w.firm, "", http.StatusForbidden)
				list(t, w.nhs, "status=draft", http.StatusForbidden)
				list(t, w.operator, "", http.StatusForbidden)
				list(t, actor{}, "", http.StatusUnauthorized)
				list(t, actor{access: w.lead.access[:len(w.lead.access)-4] + "AAAA"}, "", http.StatusUnauthorized)
			})
		})
	}
}
