package api

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/notify"
	"github.com/csmarket/csmarket/internal/sqlstore"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// testReminderBefore stands in for CSM_REMINDER_BEFORE: the tenders of
// these tests close 5 minutes after publication, so reminders fall due 2
// minutes in.
const testReminderBefore = 3 * time.Minute

// notifyEnv is the billing env with notifications wired as serve wires
// them, the dispatcher run by hand.
type notifyEnv struct {
	*billingEnv
	notes      *sqlstore.NotificationStore
	hub        *notify.Hub
	dispatcher *notify.Dispatcher
}

func mustNotifyEnv(tb testing.TB, engine string) *notifyEnv {
	tb.Helper()
	e := &notifyEnv{billingEnv: mustBillingEnv(tb, engine, market.LevyPolicy{BasisPoints: 100})}
	e.notes = sqlstore.NewNotificationStore(e.db, e.clock)
	e.hub = notify.NewHub(nil, nil)
	e.dispatcher = e.newDispatcher()
	e.cfg.Inbox = &market.Inbox{Store: e.notes, Clock: e.clock}
	e.cfg.Stream = e.hub
	e.cfg.Heartbeat = 50 * time.Millisecond
	e.s = newServer(e.cfg)
	return e
}

func (e *notifyEnv) newDispatcher() *notify.Dispatcher {
	return notify.NewDispatcher(e.notes, &market.Notifier{
		Tenders: e.tenders.Store, Users: e.accounts.Users, Evaluators: e.evaluations.Store, Audiences: e.notes,
		Levies: e.levies, Prefs: e.notes, Clock: e.clock,
	}, notify.DispatcherOptions{PublicURL: "https://csmarket.example", ReminderBefore: testReminderBefore, Clock: e.clock, Publisher: e.hub})
}

// drain runs the dispatcher once, as its loop would.
func (e *notifyEnv) drain(tb testing.TB) []market.Notification {
	tb.Helper()
	ns, err := e.dispatcher.Drain(context.Background())
	if err != nil {
		tb.Fatalf("dispatch: %v", err)
	}
	return ns
}

// inbox returns a's notifications, newest first.
func (e *notifyEnv) inbox(tb testing.TB, a actor, query string) notificationList {
	tb.Helper()
	res, b := e.do(tb, req{method: http.MethodGet, target: "/api/v1/notifications" + query, token: a.access})
	want(tb, res, b, http.StatusOK)
	return mustDecode[notificationList](tb, b)
}

// kindsOf returns the kinds of a's notifications about tender id, oldest
// first.
func (e *notifyEnv) kindsOf(tb testing.TB, a actor, id string) []string {
	tb.Helper()
	var out []string
	items := e.inbox(tb, a, "?page_size=100").Items
	for i := len(items) - 1; i >= 0; i-- {
		if items[i].TenderID == id {
			out = append(out, items[i].Kind)
		}
	}
	return out
}

// TestNotificationsOfAProcurement runs a procurement and checks that each
// party hears exactly what it should, when it should, once: in the app,
// in the outbox (recorded, with no SMTP server), and that nothing told
// anyone but the bidder that a bid exists before the deadline.
func TestNotificationsOfAProcurement(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustNotifyEnv(t, engine)
			w := e.mustMarket(t)
			listing := validListing("Business intelligence for the Midlands.")
			matching := e.register(t, supplierRegistration("Midlands Analytics Ltd", "bids@midlands.example", identifierRequest{Scheme: "GB-COH", ID: "07654321"}, &listing))
			elsewhere := validListing("Finance for London.")
			elsewhere.Capabilities, elsewhere.Regions = []string{"finance"}, []string{"london"}
			unmatched := e.register(t, supplierRegistration("London Ledgers Ltd", "bids@london.example", identifierRequest{Scheme: "GB-COH", ID: "07654322"}, &elsewhere))
			evaluator := e.addUser(t, w.lead, "evaluator@lead.nhs.net", "evaluator")
			everyone := map[string]*actor{"lead": &w.lead, "joint": &w.joint, "other": &w.other, "nhs": &w.nhs, "council": &w.council,
				"charity": &w.charity, "firm": &w.firm, "operator": &w.operator, "matching": &matching, "unmatched": &unmatched, "evaluator": &evaluator}
			relogin := func() {
				for _, a := range everyone {
					e.relogin(t, a)
				}
			}

			e.drain(t) // the pending CCG's registration
			t.Run("PendingCCGToOperators", func(t *testing.T) {
				items := e.inbox(t, w.operator, "").Items
				if len(items) != 1 || items[0].Kind != "buyer_pending" || !strings.Contains(items[0].Title, "NHS Pending CCG") {
					t.Fatalf("operator's inbox %+v", items)
				}
				if n := len(e.drain(t)); n != 0 {
					t.Errorf("a second dispatch stored %d notifications", n)
				}
			})

			start := e.clock.Now()
			tender := e.publishedTender(t, w.lead, "Joint BI and analytics", 2*time.Minute, 5*time.Minute, w.joint.orgID)
			id := tender.ID
			e.drain(t)
			t.Run("PublishedToMatchingSuppliers", func(t *testing.T) {
				if got := e.kindsOf(t, matching, id); !slices.Equal(got, []string{"tender_published"}) {
					t.Errorf("the matching supplier got %v", got)
				}
				for _, name := range []string{"unmatched", "nhs", "lead", "joint", "other"} {
					if got := e.kindsOf(t, *everyone[name], id); len(got) != 0 {
						t.Errorf("%s got %v", name, got)
					}
				}
			})
			res, b := e.do(t, req{method: http.MethodPost, target: evaluatorsPath(id), token: w.lead.access, body: assignRequest{UserID: evaluator.userID}})
			want(t, res, b, http.StatusCreated)

			// The matching supplier asks and does not bid; the firm bids and
			// revises; the council bids and withdraws, then bids again.
			res, b = e.do(t, req{method: http.MethodPost, target: questionsPath(id), token: matching.access, body: questionRequest{Question: "Is the data in a warehouse already?"}})
			want(t, res, b, http.StatusCreated)
			q := mustDecode[questionResponse](t, b)
			firmBid := e.submitBid(t, w.firm, id, 42_000_000)
			res, b = e.do(t, req{method: http.MethodPut, target: bidPath(id, firmBid.ID), token: w.firm.access, body: bidBody(41_000_000)})
			want(t, res, b, http.StatusOK)
			councilBid := e.submitBid(t, w.council, id, 45_000_000)
			e.drain(t)
			beforeAnswer := map[string]int{}
			for name, a := range everyone {
				beforeAnswer[name] = len(e.inbox(t, *a, "?page_size=100").Items)
			}
			t.Run("ReceiptsToTheBidderOnly", func(t *testing.T) {
				if got := e.kindsOf(t, w.firm, id); !slices.Equal(got, []string{"bid_receipt", "bid_receipt"}) {
					t.Errorf("the firm got %v", got)
				}
				if got := e.kindsOf(t, w.council, id); !slices.Equal(got, []string{"bid_receipt"}) {
					t.Errorf("the council got %v", got)
				}
				sealed := secrets{ids: []string{firmBid.ID, councilBid.ID}, prices: []int64{42_000_000, 41_000_000, 45_000_000}}
				for _, name := range []string{"lead", "joint", "other", "nhs", "charity", "matching", "unmatched", "operator", "evaluator"} {
					a := *everyone[name]
					if got := e.kindsOf(t, a, id); slices.Contains(got, "bid_receipt") {
						t.Errorf("%s was told of a bid: %v", name, got)
					}
					res, body := e.do(t, req{method: http.MethodGet, target: "/api/v1/notifications?page_size=100", token: a.access})
					want(t, res, body, http.StatusOK)
					checkReveals(t, name+"'s inbox", body, sealed)
					res, body = e.do(t, req{method: http.MethodGet, target: "/api/v1/me", token: a.access})
					want(t, res, body, http.StatusOK)
				}
			})
			res, b = e.do(t, req{method: http.MethodPost, target: answerPath(id, q.ID), token: w.lead.access, body: answerRequest{Answer: "Yes, since April."}})
			want(t, res, b, http.StatusOK)
			e.drain(t)
			t.Run("AnswerToAskerAndBidders", func(t *testing.T) {
				for name, want := range map[string]int{"matching": 1, "firm": 1, "council": 1, "lead": 0, "joint": 0, "nhs": 0, "unmatched": 0, "charity": 0} {
					if got := len(e.inbox(t, *everyone[name], "?page_size=100").Items) - beforeAnswer[name]; got != want {
						t.Errorf("%s got %d notifications of the answer, want %d", name, got, want)
					}
				}
			})

			e.clock.set(start.Add(2*time.Minute + time.Second)) // the reminder falls due
			race := func() {
				var wg sync.WaitGroup
				for range 3 {
					d := e.newDispatcher()
					wg.Go(func() {
						if _, err := d.Drain(context.Background()); err != nil {
							t.Errorf("racing dispatcher: %v", err)
						}
					})
				}
				wg.Wait()
			}
			race()
			e.drain(t)
			t.Run("ReminderToAskersWithoutABid", func(t *testing.T) {
				if got := e.kindsOf(t, matching, id); !slices.Equal(got, []string{"tender_published", "question_answered", "deadline_reminder"}) {
					t.Errorf("the asker got %v", got)
				}
				if got := e.kindsOf(t, w.firm, id); slices.Contains(got, "deadline_reminder") {
					t.Errorf("a bidder was reminded: %v", got)
				}
			})

			// The service is down across the deadline; on its return, two
			// replicas race to catch up.
			e.clock.set(start.Add(9 * time.Minute))
			relogin()
			race()
			t.Run("BidsReadyOnceToCommissioners", func(t *testing.T) {
				for name, want := range map[string]int{"lead": 1, "joint": 1, "evaluator": 1, "firm": 0, "matching": 0, "other": 0} {
					got := 0
					for _, k := range e.kindsOf(t, *everyone[name], id) {
						if k == "bids_ready" {
							got++
						}
					}
					if got != want {
						t.Errorf("%s got bids_ready %d times, want %d", name, got, want)
					}
				}
			})

			e.declareNone(t, w.lead, id)
			res, b = e.do(t, req{method: http.MethodPost, target: tenderPath(id) + "/award", token: w.lead.access, body: awardRequest{BidID: firmBid.ID, Reason: "Best value."}})
			want(t, res, b, http.StatusOK)
			e.drain(t)
			t.Run("AwardDecidedToEveryBidder", func(t *testing.T) {
				won, lost := e.inbox(t, w.firm, "").Items[0], e.inbox(t, w.council, "").Items[0]
				if won.Kind != "award_decided" || !strings.Contains(won.Title, "preferred bidder") {
					t.Errorf("the winner was told %+v", won)
				}
				if lost.Kind != "award_decided" || !strings.Contains(lost.Title, "not successful") || !strings.Contains(lost.Link, "feedback") {
					t.Errorf("the loser was told %+v", lost)
				}
				if got := e.kindsOf(t, matching, id); slices.Contains(got, "award_decided") {
					t.Errorf("a non-bidder was told of the award decision")
				}
			})
			e.clock.Advance(testStandstill + time.Second)
			relogin()
			e.drain(t)
			res, b = e.do(t, req{method: http.MethodPost, target: tenderPath(id) + "/award/confirm", token: w.lead.access})
			want(t, res, b, http.StatusOK)
			e.drain(t)
			t.Run("StandstillEndedThenConfirmed", func(t *testing.T) {
				if got := e.kindsOf(t, w.lead, id); !slices.Equal(got, []string{"bids_ready", "standstill_ended", "award_confirmed"}) {
					t.Errorf("the lead buyer got %v", got)
				}
				if got := e.kindsOf(t, w.joint, id); !slices.Equal(got, []string{"bids_ready", "award_confirmed"}) {
					t.Errorf("the joint buyer got %v", got)
				}
				if got := e.kindsOf(t, w.council, id); !slices.Equal(got, []string{"bid_receipt", "question_answered", "award_decided", "award_confirmed"}) {
					t.Errorf("the losing bidder got %v", got)
				}
			})
			t.Run("NothingTwice", func(t *testing.T) {
				if ns := e.drain(t); len(ns) != 0 {
					t.Errorf("a further dispatch stored %d", len(ns))
				}
			})
			t.Run("EmailsRecorded", func(t *testing.T) {
				res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/operator/emails?status=recorded&page_size=100", token: w.operator.access})
				want(t, res, b, http.StatusOK)
				emails := mustDecode[listResponse[emailJSON]](t, b).Items
				found := false
				for _, m := range emails {
					if m.To == matching.email && m.Kind == "deadline_reminder" {
						found = true
						if !strings.Contains(m.Text, "https://csmarket.example/?page=tender&id="+id) || !strings.Contains(m.Text, "unsubscribe") {
							t.Errorf("reminder e-mail text %q", m.Text)
						}
					}
				}
				if !found {
					t.Errorf("no reminder e-mail recorded for the asker among %d", len(emails))
				}
				// With every preference at its default, each user has one
				// e-mail for each notification in the app, and no more.
				all, _, err := e.notes.ListEmails(context.Background(), "", "", 100)
				if err != nil {
					t.Fatal(err)
				}
				if len(all) == 100 {
					t.Fatalf("more e-mails than one page; page through them")
				}
				for name, a := range everyone {
					mails := 0
					for _, m := range all {
						if m.To == a.email {
							mails++
						}
					}
					if inApp := len(e.inbox(t, *a, "?page_size=100").Items); mails != inApp {
						t.Errorf("%s: %d e-mails for %d notifications", name, mails, inApp)
					}
				}
				res, b = e.do(t, req{method: http.MethodGet, target: "/api/v1/operator/emails", token: w.firm.access})
				want(t, res, b, http.StatusForbidden)
			})
			t.Run("ReadAndUnread", func(t *testing.T) {
				list := e.inbox(t, w.council, "?unread=true")
				if list.UnreadCount != 4 || len(list.Items) != 4 {
					t.Fatalf("unread %d, items %d", list.UnreadCount, len(list.Items))
				}
				res, b := e.do(t, req{method: http.MethodPost, target: "/api/v1/notifications/" + list.Items[0].ID + "/read", token: w.firm.access})
				want(t, res, b, http.StatusNotFound) // another user's
				res, b = e.do(t, req{method: http.MethodPost, target: "/api/v1/notifications/" + list.Items[0].ID + "/read", token: w.council.access})
				want(t, res, b, http.StatusOK)
				if n := mustDecode[notificationJSON](t, b); !n.Read {
					t.Errorf("not read: %+v", n)
				}
				res, b = e.do(t, req{method: http.MethodGet, target: "/api/v1/me", token: w.council.access})
				want(t, res, b, http.StatusOK)
				if me := mustDecode[meResponse](t, b); me.UnreadNotifications == nil || *me.UnreadNotifications != 3 {
					t.Errorf("/me unread %v", me.UnreadNotifications)
				}
				res, b = e.do(t, req{method: http.MethodPost, target: "/api/v1/notifications/read-all", token: w.council.access})
				want(t, res, b, http.StatusOK)
				if m := mustDecode[markedJSON](t, b); m.Marked != 3 {
					t.Errorf("marked %d", m.Marked)
				}
				if list := e.inbox(t, w.council, "?unread=true"); list.UnreadCount != 0 || len(list.Items) != 0 {
					t.Errorf("after read-all: %+v", list)
				}
			})
		})
	}
}

// TestNotificationPreferences: a kind turned off in the app stores no
// notification; e-mail off keeps it out of the outbox; unsubscribing by
// an e-mail's token turns that kind's e-mail off; bad input names the
// field.
func TestNotificationPreferences(t *testing.T) {
	e := mustNotifyEnv(t, sqlstore.EngineSQLite)
	w := e.mustMarket(t)
	res, b := e.do(t, req{method: http.MethodGet, target: "/api/v1/me/notification-preferences", token: w.firm.access})
	want(t, res, b, http.StatusOK)
	prefs := mustDecode[preferencesJSON](t, b)
	if len(prefs.Preferences) != len(market.NotificationKinds) || !*prefs.Preferences["bid_receipt"].InApp || !*prefs.Preferences["bid_receipt"].Email {
		t.Fatalf("defaults %+v", prefs)
	}
	off, on := false, true
	res, b = e.do(t, req{method: http.MethodPut, target: "/api/v1/me/notification-preferences", token: w.firm.access,
		body: preferencesJSON{Preferences: map[string]preferenceJSON{"bid_receipt": {InApp: &off, Email: &on}}}})
	want(t, res, b, http.StatusOK)
	if p := mustDecode[preferencesJSON](t, b).Preferences["bid_receipt"]; *p.InApp || !*p.Email {
		t.Errorf("after PUT: %+v", p)
	}
	for body, field := range map[string]string{
		`{"preferences": {"astrology": {"in_app": true, "email": true}}}`: "preferences.astrology",
		`{"preferences": {"bid_receipt": {"in_app": true}}}`:              "preferences.bid_receipt.email",
		`{}`: "preferences",
		`{"preferences": {"bid_receipt": {"in_app": "yes", "email": true}}}`: "preferences.bid_receipt.in_app",
	} {
		res, b := e.do(t, req{method: http.MethodPut, target: "/api/v1/me/notification-preferences", token: w.firm.access, body: body})
		want(t, res, b, http.StatusBadRequest)
		if f := fieldsOf(t, b); len(f) == 0 || !strings.HasPrefix(f[0], strings.Split(field, ".")[0]) {
			t.Errorf("%s: fields %v, want %s", body, f, field)
		}
	}
	e.drain(t)
	tender := e.publishedTender(t, w.lead, "Preferences", 2*time.Minute, 5*time.Minute)
	e.submitBid(t, w.firm, tender.ID, 10_000_000)
	e.drain(t)
	if got := e.kindsOf(t, w.firm, tender.ID); len(got) != 0 {
		t.Errorf("in-app off, yet %v", got)
	}
	ctx := context.Background()
	emails, _, err := e.notes.ListEmails(ctx, market.EmailRecorded, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var receipt *market.Email
	for i := range emails {
		if emails[i].To == w.firm.email && emails[i].Kind == market.NotifyBidReceipt {
			receipt = &emails[i]
		}
	}
	if receipt == nil || receipt.UnsubscribeURL == "" {
		t.Fatalf("no receipt e-mail with an unsubscribe link among %d", len(emails))
	}
	token := receipt.UnsubscribeURL[strings.Index(receipt.UnsubscribeURL, "token=")+len("token="):]
	res, b = e.do(t, req{method: http.MethodPost, target: "/api/v1/notifications/unsubscribe?token=" + token, body: "List-Unsubscribe=One-Click",
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	want(t, res, b, http.StatusOK)
	if u := mustDecode[unsubscribedJSON](t, b); u.Kind != "bid_receipt" {
		t.Errorf("unsubscribed from %q", u.Kind)
	}
	res, b = e.do(t, req{method: http.MethodGet, target: "/api/v1/me/notification-preferences", token: w.firm.access})
	want(t, res, b, http.StatusOK)
	if p := mustDecode[preferencesJSON](t, b).Preferences["bid_receipt"]; *p.InApp || *p.Email {
		t.Errorf("after unsubscribing: %+v", p)
	}
	for target, status := range map[string]int{
		"/api/v1/notifications/unsubscribe?token=not-a-token-we-sent": http.StatusNotFound,
		"/api/v1/notifications/unsubscribe":                           http.StatusBadRequest,
	} {
		res, b := e.do(t, req{method: http.MethodPost, target: target})
		want(t, res, b, status)
	}
	res, b = e.do(t, req{method: http.MethodGet, target: "/api/v1/notifications?unread=maybe", token: w.firm.access})
	want(t, res, b, http.StatusBadRequest)
	res, b = e.do(t, req{method: http.MethodGet, target: "/api/v1/notifications"})
	want(t, res, b, http.StatusUnauthorized)
}

// sseEvent is one event read off a stream.
type sseEvent struct {
	id   int64
	data string
}

// readEvents reads events from a stream until n have come or the timeout.
func readEvents(tb testing.TB, sc *bufio.Scanner, n int, timeout time.Duration) []sseEvent {
	tb.Helper()
	got := make(chan []sseEvent, 1)
	go func() {
		var out []sseEvent
		var cur sseEvent
		for len(out) < n && sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				cur.id, _ = strconv.ParseInt(strings.TrimPrefix(line, "id: "), 10, 64)
			case strings.HasPrefix(line, "data: "):
				cur.data = strings.TrimPrefix(line, "data: ")
			case line == "" && cur.data != "":
				out = append(out, cur)
				cur = sseEvent{}
			}
		}
		got <- out
	}()
	select {
	case out := <-got:
		return out
	case <-time.After(timeout):
		tb.Fatalf("fewer than %d events within %v", n, timeout)
		return nil
	}
}

// TestNotificationStream reads the live stream over real HTTP: a
// notification arrives as it is stored; a client resuming with
// Last-Event-ID gets what it missed; a stream needs a valid token.
func TestNotificationStream(t *testing.T) {
	e := mustNotifyEnv(t, sqlstore.EngineSQLite)
	w := e.mustMarket(t)
	listing := validListing("BI.")
	matching := e.register(t, supplierRegistration("Stream Analytics Ltd", "bids@stream.example", identifierRequest{Scheme: "GB-COH", ID: "07654323"}, &listing))
	e.drain(t)
	srv := httptest.NewServer(e.s.engine)
	t.Cleanup(srv.Close) // after the streams' bodies, closed by later cleanups
	open := func(lastID string, token string) (*http.Response, *bufio.Scanner) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/notifications/stream?access_token="+token, nil)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res, bufio.NewScanner(res.Body)
	}
	res, sc := open("", matching.access)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	first := e.publishedTender(t, w.lead, "Live one", 2*time.Minute, 5*time.Minute)
	e.drain(t)
	evs := readEvents(t, sc, 1, 5*time.Second)
	if !strings.Contains(evs[0].data, first.ID) || !strings.Contains(evs[0].data, `"tender_published"`) {
		t.Fatalf("event %+v", evs[0])
	}
	// Two more while the client is away; it resumes after the first.
	e.publishedTender(t, w.lead, "Missed two", 2*time.Minute, 5*time.Minute)
	e.publishedTender(t, w.lead, "Missed three", 2*time.Minute, 5*time.Minute)
	e.drain(t)
	_, sc2 := open(strconv.FormatInt(evs[0].id, 10), matching.access)
	resumed := readEvents(t, sc2, 2, 5*time.Second)
	if !strings.Contains(resumed[0].data, "Missed two") || !strings.Contains(resumed[1].data, "Missed three") || resumed[0].id <= evs[0].id {
		t.Errorf("resumed %+v", resumed)
	}
	for name, tc := range map[string]struct {
		token, last string
		status      int
	}{
		"NoToken":    {"", "", http.StatusUnauthorized},
		"Forged":     {matching.access[:len(matching.access)-3] + "AAA", "", http.StatusUnauthorized},
		"BadEventID": {matching.access, "yesterday", http.StatusBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			res, _ := open(tc.last, tc.token)
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d", res.StatusCode, tc.status)
			}
		})
	}
}
