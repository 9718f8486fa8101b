package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

const (
	exportPath  = "/api/v1/me/export"
	unknownUser = "0190f0e6-0000-7000-8000-000000000000"
)

func erasePath(id string) string { return "/api/v1/operator/users/" + id + "/erase" }

// personalWorld is a marketplace where people have left traces: a tender
// led by lead, with a question and a bid from firm and from nhs, firm's
// bid revised by second (a non-admin user of firm), scored by lead after
// the deadline, and the notifications of all that dispatched.
type personalWorld struct {
	*marketWorld
	second             actor // a second user of firm
	tenderID           string
	firmQ, nhsQ        string
	firmBid, nhsBid    bidResponse
	names, emails      []string // of every user, as registered
	secondName         string
	secondEmailAddress string
}

func (e *notifyEnv) mustPersonalWorld(tb testing.TB) *personalWorld {
	tb.Helper()
	w := &personalWorld{marketWorld: e.mustMarket(tb)}
	w.second = e.addUser(tb, w.firm, "second.person@firm.example", "supplier")
	t := e.publishedTender(tb, w.lead, "Analytics for the Black Country", 2*time.Minute, 5*time.Minute)
	w.tenderID = t.ID
	ask := func(a actor, text string) string {
		res, b := e.do(tb, req{method: http.MethodPost, target: questionsPath(t.ID), token: a.access, body: questionRequest{Question: text}})
		want(tb, res, b, http.StatusCreated)
		return mustDecode[questionResponse](tb, b).ID
	}
	w.firmQ, w.nhsQ = ask(w.firm, "Is the data in a warehouse already?"), ask(w.nhs, "Who holds the contract today?")
	w.firmBid = e.submitBid(tb, w.firm, t.ID, 42_000_001)
	w.nhsBid = e.submitBid(tb, w.nhs, t.ID, 43_000_002)
	res, b := e.do(tb, req{method: http.MethodPut, target: bidPath(t.ID, w.firmBid.ID), token: w.second.access, body: bidBody(41_000_003)})
	want(tb, res, b, http.StatusOK)
	off, on := false, true
	res, b = e.do(tb, req{method: http.MethodPut, target: "/api/v1/me/notification-preferences", token: w.second.access,
		body: preferencesJSON{Preferences: map[string]preferenceJSON{"tender_published": {InApp: &on, Email: &off}}}})
	want(tb, res, b, http.StatusOK)
	e.drain(tb)

	e.clock.Advance(5*time.Minute + time.Second)
	e.declareNone(tb, w.lead, t.ID)
	e.score(tb, w.lead, t.ID, w.firmBid.ID, 3, 2)

	for _, a := range []actor{w.lead, w.joint, w.other, w.pending, w.nhs, w.council, w.charity, w.firm, w.operator} {
		users, err := e.accounts.Users.ListUsers(context.Background(), a.orgID)
		if err != nil {
			tb.Fatal(err)
		}
		for _, u := range users {
			w.names, w.emails = append(w.names, u.Name), append(w.emails, u.Email)
			if u.ID == w.second.userID {
				w.secondName, w.secondEmailAddress = u.Name, u.Email
			}
		}
	}
	return w
}

func (e *notifyEnv) export(tb testing.TB, a actor) (personalDataResponse, string) {
	tb.Helper()
	res, b := e.do(tb, req{method: http.MethodGet, target: exportPath, token: a.access})
	want(tb, res, b, http.StatusOK)
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		tb.Errorf("export with Cache-Control %q", cc)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		tb.Errorf("export with Content-Disposition %q", cd)
	}
	return mustDecode[personalDataResponse](tb, b), string(b)
}

// TestPersonalDataExport: each user's export holds its own data and no
// other user's.
func TestPersonalDataExport(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustNotifyEnv(t, engine)
			w := e.mustPersonalWorld(t)
			e.relogin(t, &w.firm, &w.second, &w.lead, &w.nhs)

			t.Run("200Supplier", func(t *testing.T) {
				d, body := e.export(t, w.firm)
				if d.User.ID != w.firm.userID || d.User.Email != w.firm.email || d.Organisation.ID != w.firm.orgID {
					t.Fatalf("export of %s is of %s (%s) of %s", w.firm.email, d.User.ID, d.User.Email, d.Organisation.ID)
				}
				if len(d.Questions) != 1 || d.Questions[0].ID != w.firmQ || d.Questions[0].Asker == nil || d.Questions[0].Asker.UserID != w.firm.userID {
					t.Errorf("questions %+v, want only %s", d.Questions, w.firmQ)
				}
				if len(d.Bids) != 1 || d.Bids[0].ID != w.firmBid.ID || len(d.Bids[0].Versions) != 1 || d.Bids[0].Versions[0].Version != 1 {
					t.Errorf("bids %+v, want %s with its version 1 only (version 2 is second's)", d.Bids, w.firmBid.ID)
				}
				actions := map[string]bool{}
				for _, ev := range d.AuditEvents {
					if ev.ActorUserID != w.firm.userID {
						t.Errorf("audit event %d %s is by %s", ev.Seq, ev.Action, ev.ActorUserID)
					}
					actions[ev.Action] = true
				}
				if !actions["question.asked"] || !actions["bid.submitted"] || actions["bid.revised"] {
					t.Errorf("audit actions %v", actions)
				}
				inbox := e.inbox(t, w.firm, "?page_size=100").Items
				if len(inbox) == 0 || len(d.Notifications) != len(inbox) {
					t.Errorf("%d notifications exported, %d in the inbox", len(d.Notifications), len(inbox))
				}
				for i := range min(len(inbox), len(d.Notifications)) {
					if d.Notifications[i].ID != inbox[i].ID {
						t.Errorf("notification %d is %s, the inbox's %s", i, d.Notifications[i].ID, inbox[i].ID)
					}
				}
				if len(d.NotificationPreferences) != len(market.NotificationKinds) {
					t.Errorf("%d preferences, want every kind", len(d.NotificationPreferences))
				}
				if len(d.Sessions) == 0 || d.Sessions[0].StartedAt == "" {
					t.Errorf("sessions %+v", d.Sessions)
				}
				if len(d.Declarations) != 0 || len(d.Scores) != 0 {
					t.Errorf("a supplier with declarations %v or scores %v", d.Declarations, d.Scores)
				}
				for _, secret := range []string{w.firm.access, w.firm.refresh, "password"} {
					if strings.Contains(body, secret) {
						t.Errorf("the export holds %q", secret)
					}
				}
				checkNoOneElse(t, body, w.firm, w.second, w.nhs, w.lead, w.operator)
				for _, s := range []string{w.nhsQ, w.nhsBid.ID, "43000002", "Who holds the contract"} {
					if strings.Contains(body, s) {
						t.Errorf("the export holds %q, another supplier's", s)
					}
				}
			})

			t.Run("200SecondUser", func(t *testing.T) {
				d, body := e.export(t, w.second)
				if len(d.Questions) != 0 {
					t.Errorf("questions %+v", d.Questions)
				}
				if len(d.Bids) != 1 || len(d.Bids[0].Versions) != 1 || d.Bids[0].Versions[0].Version != 2 || d.Bids[0].Versions[0].PricePence != 41_000_003 {
					t.Errorf("bids %+v, want firm's with the version 2 second submitted", d.Bids)
				}
				if p := d.NotificationPreferences["tender_published"]; p.Email == nil || *p.Email {
					t.Errorf("tender_published preference %+v, want e-mail off", p)
				}
				checkNoOneElse(t, body, w.second, w.firm, w.nhs, w.lead)
			})

			t.Run("200Buyer", func(t *testing.T) {
				d, body := e.export(t, w.lead)
				if d.User.ID != w.lead.userID || d.Organisation.ID != w.lead.orgID || d.Organisation.Kind != "buyer" {
					t.Fatalf("export of %s: %+v", w.lead.email, d.User)
				}
				if len(d.Questions) != 0 || len(d.Bids) != 0 {
					t.Errorf("a buyer with questions %v or bids %v", d.Questions, d.Bids)
				}
				if len(d.Declarations) != 1 || d.Declarations[0].TenderID != w.tenderID || !d.Declarations[0].Cleared {
					t.Errorf("declarations %+v", d.Declarations)
				}
				if len(d.Scores) != 1 || d.Scores[0].BidID != w.firmBid.ID || d.Scores[0].Scores["approach"].Score != 3 {
					t.Errorf("scores %+v", d.Scores)
				}
				var actions []string
				for _, ev := range d.AuditEvents {
					actions = append(actions, ev.Action)
				}
				for _, a := range []string{"tender.created", "tender.published", "bid.scored"} {
					if !slices.Contains(actions, a) {
						t.Errorf("audit actions %v lack %s", actions, a)
					}
				}
				checkNoOneElse(t, body, w.lead, w.firm, w.second, w.nhs, w.joint)
			})

			t.Run("401", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodGet, target: exportPath})
				want(t, res, b, http.StatusUnauthorized)
			})
		})
	}
}

// checkNoOneElse fails t when body names any of others by ID or e-mail.
func checkNoOneElse(t *testing.T, body string, self actor, others ...actor) {
	t.Helper()
	for _, o := range others {
		if o.userID == self.userID {
			continue
		}
		if strings.Contains(body, o.userID) || strings.Contains(body, o.email) {
			t.Errorf("%s's export names %s", self.email, o.email)
		}
	}
}

// TestErasure: the operator erases a user; the user cannot sign in or go
// on with its session, nothing shows its name or e-mail, and the audit
// trail still verifies, with the erasure in it.
func TestErasure(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustNotifyEnv(t, engine)
			w := e.mustPersonalWorld(t)
			e.relogin(t, &w.firm, &w.second, &w.nhs, &w.lead, &w.operator)
			ctx := context.Background()
			count := func(query string, args ...any) int {
				t.Helper()
				var n int
				if err := e.db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if count("SELECT COUNT(*) FROM email_outbox WHERE to_addr = ?", w.second.email) == 0 ||
				count("SELECT COUNT(*) FROM notifications WHERE user_id = ?", w.second.userID) == 0 {
				t.Fatal("set-up: no notification or e-mail to the user to erase")
			}
			reason := map[string]string{"reason": "Erasure request ER-2025-014"}

			t.Run("401", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPost, target: erasePath(w.second.userID), body: reason})
				want(t, res, b, http.StatusUnauthorized)
			})
			t.Run("403", func(t *testing.T) {
				for _, a := range []actor{w.firm, w.lead} {
					res, b := e.do(t, req{method: http.MethodPost, target: erasePath(w.second.userID), token: a.access, body: reason})
					want(t, res, b, http.StatusForbidden)
				}
			})
			t.Run("404", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPost, target: erasePath(unknownUser), token: w.operator.access, body: reason})
				want(t, res, b, http.StatusNotFound)
			})
			t.Run("400", func(t *testing.T) {
				for name, body := range map[string]any{
					"NoReason":    map[string]string{},
					"BlankReason": map[string]string{"reason": "  "},
					"NamesUser":   map[string]string{"reason": "Request from " + strings.ToUpper(w.secondName)},
					"EmailsUser":  map[string]string{"reason": "Request from " + w.second.email},
				} {
					res, b := e.do(t, req{method: http.MethodPost, target: erasePath(w.second.userID), token: w.operator.access, body: body})
					want(t, res, b, http.StatusBadRequest)
					if f := fieldsOf(t, b); !slices.Equal(f, []string{"reason"}) {
						t.Errorf("%s: fields %v, want reason", name, f)
					}
				}
			})
			t.Run("409", func(t *testing.T) {
				for name, id := range map[string]string{"Itself": w.operator.userID, "LastAdmin": w.nhs.userID} {
					res, b := e.do(t, req{method: http.MethodPost, target: erasePath(id), token: w.operator.access, body: reason})
					want(t, res, b, http.StatusConflict)
					if msg := mustDecode[problem](t, b).Detail; !strings.Contains(msg, map[string]string{"Itself": "yourself", "LastAdmin": "last active admin"}[name]) {
						t.Errorf("%s: %q", name, msg)
					}
				}
			})
			if count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.erased'") != 0 {
				t.Fatal("a refused erasure was recorded")
			}

			t.Run("200", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPost, target: erasePath(w.second.userID), token: w.operator.access, body: reason})
				want(t, res, b, http.StatusOK)
				u := mustDecode[userResponse](t, b)
				if u.ID != w.second.userID || u.Name != market.ErasedName || u.Email != market.ErasedEmail(u.ID) || u.Status != "disabled" || u.Admin {
					t.Fatalf("erased user %+v", u)
				}
			})

			t.Run("SignedOut", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/me", token: w.second.access})
				want(t, res, b, http.StatusUnauthorized)
				res, b = e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/refresh", body: refreshRequest{RefreshToken: w.second.refresh}})
				want(t, res, b, http.StatusUnauthorized)
				for _, email := range []string{w.second.email, market.ErasedEmail(w.second.userID)} {
					res, b := e.do(t, req{method: http.MethodPost, target: "/api/v1/auth/login", body: loginRequest{Email: email, Password: testPassword}})
					want(t, res, b, http.StatusUnauthorized)
				}
				res, b = e.do(t, req{method: http.MethodPatch, target: "/api/v1/users/" + w.second.userID, token: w.firm.access, body: userStatusRequest{Status: "active"}})
				want(t, res, b, http.StatusConflict)
			})

			t.Run("NamedNowhere", func(t *testing.T) {
				seen := func(what, body string) {
					t.Helper()
					if strings.Contains(strings.ToLower(body), strings.ToLower(w.secondName)) || strings.Contains(body, w.second.email) {
						t.Errorf("%s still names the erased user: %.600s", what, body)
					}
				}
				_, body := e.export(t, w.firm)
				seen("the admin's export", body)
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/organisations/" + w.firm.orgID + "/users", token: w.firm.access})
				want(t, res, b, http.StatusOK)
				seen("the organisation's users", string(b))
				if !strings.Contains(string(b), w.second.userID) || !strings.Contains(string(b), market.ErasedName) {
					t.Errorf("the erased user is not listed as %q: %s", market.ErasedName, b)
				}
				res, b = e.do(t, req{method: http.MethodGet, target: "/api/v1/operator/emails?page_size=100", token: w.operator.access})
				want(t, res, b, http.StatusOK)
				seen("the e-mail outbox", string(b))
				for query, wantN := range map[string]int{
					"SELECT COUNT(*) FROM notifications WHERE user_id = ?":                         0,
					"SELECT COUNT(*) FROM notification_preferences WHERE user_id = ?":              0,
					"SELECT COUNT(*) FROM refresh_tokens WHERE user_id = ?":                        0,
					"SELECT COUNT(*) FROM unsubscribe_tokens WHERE user_id = ?":                    0,
					"SELECT COUNT(*) FROM email_outbox WHERE user_id = ? AND status = 'pending'":   0,
					"SELECT COUNT(*) FROM users WHERE id = ? AND password_hash = '' AND admin = ?": 1,
					"SELECT COUNT(*) FROM bid_versions WHERE submitted_by = ? AND version = 2":     1,
				} {
					args := []any{w.second.userID}
					if strings.Contains(query, "admin = ?") {
						args = append(args, false)
					}
					if n := count(query, args...); n != wantN {
						t.Errorf("%s: %d, want %d", query, n, wantN)
					}
				}
			})

			t.Run("AuditTrail", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/audit/verify", token: w.operator.access})
				want(t, res, b, http.StatusOK)
				if v := mustDecode[verifyResponse](t, b); !v.OK {
					t.Fatalf("the audit chain broke: %+v", v)
				}
				res, b = e.do(t, req{method: http.MethodGet, target: "/api/v1/audit?object=" + w.second.userID, token: w.operator.access})
				want(t, res, b, http.StatusOK)
				items := mustDecode[listResponse[auditEventJSON]](t, b).Items
				if len(items) != 1 || items[0].Action != "user.erased" || items[0].ActorUserID != w.operator.userID ||
					items[0].Detail["reason"] != reason["reason"] || items[0].Detail["organisation_id"] != w.firm.orgID {
					t.Fatalf("the trail of the erased user: %+v", items)
				}
			})

			t.Run("409Again", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodPost, target: erasePath(w.second.userID), token: w.operator.access, body: reason})
				want(t, res, b, http.StatusConflict)
			})

			t.Run("AdminWithAnotherAdmin", func(t *testing.T) {
				// An operator is an admin of the operator organisation, as is
				// the operator erasing it: that one remains.
				other, err := e.accounts.CreateOperator(ctx, market.NewUser{Name: "Second Operator", Email: "second.operator@csmarket.example", Password: testPassword})
				if err != nil {
					t.Fatal(err)
				}
				res, b := e.do(t, req{method: http.MethodPost, target: erasePath(other.ID), token: w.operator.access, body: reason})
				want(t, res, b, http.StatusOK)
			})
		})
	}
}

// TestAuditDetailsNameNoOne: the audit trail refers to people by ID only.
// No event of a procurement run to its award and levy, nor an erasure,
// carries a user's name or e-mail address in its detail or anywhere else
// the chain hashes, so that erasing a user never needs an event rewritten
// and the chain holds.
func TestAuditDetailsNameNoOne(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustNotifyEnv(t, engine)
			w := e.mustPersonalWorld(t)
			e.relogin(t, &w.lead, &w.firm, &w.nhs, &w.operator)
			res, b := e.do(t, req{method: http.MethodPost, target: tenderPath(w.tenderID) + "/award", token: w.lead.access,
				body: awardRequest{BidID: w.firmBid.ID, Reason: "Best value for money."}})
			want(t, res, b, http.StatusOK)
			e.award(t, w.marketWorld, "Finance for Walsall", w.firm, 30_000_000, w.nhs)
			res, b = e.do(t, req{method: http.MethodPost, target: erasePath(w.second.userID), token: w.operator.access,
				body: map[string]string{"reason": "Erasure request ER-2025-015"}})
			want(t, res, b, http.StatusOK)

			actions := map[string]bool{}
			err := e.audit.ScanAudit(context.Background(), func(ev market.AuditEvent) error {
				actions[ev.Action] = true
				canonical := strings.ToLower(string(ev.Canonical()))
				for _, s := range slices.Concat(w.names, w.emails) {
					if strings.Contains(canonical, strings.ToLower(s)) {
						t.Errorf("event %d %s carries %q: %s", ev.Seq, ev.Action, s, canonical)
					}
				}
				for k, v := range ev.Detail {
					if strings.Contains(v, "@") || strings.Contains(k, "@") {
						t.Errorf("event %d %s has an address in its detail: %s=%s", ev.Seq, ev.Action, k, v)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range []string{"tender.published", "question.asked", "bid.revised", "bid.scored", "tender.award_decided", "tender.awarded", "levy.recorded", "user.erased"} {
				if !actions[a] {
					t.Errorf("the trail has no %s to check: %v", a, actions)
				}
			}
		})
	}
}
