package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/ratelimit"
)

// fuzzEnv is the whole HTTP layer (accounts, tenders, evaluation and
// award, billing, notifications, idempotency) on SQLite in the test's
// temporary directory, with a tender in each state a request body can
// meet. A fuzz target builds one, outside f.Fuzz, and sends every input
// through its router. It has no rate limits: a fuzzer sends thousands of
// requests a minute, which the limits would rightly refuse.
type fuzzEnv struct {
	*notifyEnv
	w *marketWorld
	// Users of the lead CCG: an assigned, cleared evaluator of closed; an
	// assigned evaluator of closed who has not declared; one the lead may
	// assign, one it may disable, and one whose refresh token a body may
	// spend.
	evaluator, declarer, assignable, disposable, refresher actor

	draft, cancellable  tenderResponse // drafts of the lead
	open                tenderResponse // published, questions and bids open
	closed, awardable   tenderResponse // past the bid deadline, with bids
	openBid             bidResponse    // the firm's, on open
	closedBid, otherBid bidResponse    // the NHS supplier's and the charity's, on closed
	awardBid            bidResponse    // on awardable
	question            questionResponse
}

func mustFuzzEnv(f *testing.F) *fuzzEnv {
	f.Helper()
	e := &fuzzEnv{notifyEnv: mustNotifyEnv(f, "sqlite")}
	e.cfg.LoginLimit, e.cfg.TokenLimit = ratelimit.Limit{}, ratelimit.Limit{}
	e.s = newServer(e.cfg)
	w := e.mustMarket(f)
	e.w = w
	e.evaluator = e.addUser(f, w.lead, "fuzz.evaluator@nhs.net", "evaluator")
	e.declarer = e.addUser(f, w.lead, "fuzz.declarer@nhs.net", "evaluator")
	e.assignable = e.addUser(f, w.lead, "fuzz.assignable@nhs.net", "evaluator")
	e.disposable = e.addUser(f, w.lead, "fuzz.disposable@nhs.net", "evaluator")
	e.refresher = e.addUser(f, w.lead, "fuzz.refresher@nhs.net", "evaluator")

	e.closed = e.publishedTender(f, w.lead, "Closing soon", 2*time.Minute, 5*time.Minute)
	e.closedBid = e.submitBid(f, w.nhs, e.closed.ID, 42_000_000)
	e.otherBid = e.submitBid(f, w.charity, e.closed.ID, 45_000_000)
	e.awardable = e.publishedTender(f, w.lead, "To be awarded", 2*time.Minute, 5*time.Minute)
	e.awardBid = e.submitBid(f, w.firm, e.awardable.ID, 41_000_000)
	e.open = e.publishedTender(f, w.lead, "Open for bids", 30*time.Minute, 60*time.Minute)
	e.openBid = e.submitBid(f, w.firm, e.open.ID, 40_000_000)
	res, b := e.do(f, req{method: http.MethodPost, target: questionsPath(e.open.ID), token: w.charity.access,
		body: questionRequest{Question: "Is TUPE expected to apply?"}})
	want(f, res, b, http.StatusCreated)
	e.question = mustDecode[questionResponse](f, b)
	now := e.clock.Now()
	e.draft = e.createTender(f, w.lead, tenderBody("A draft", now.Add(30*time.Minute), now.Add(60*time.Minute)))
	e.cancellable = e.createTender(f, w.lead, tenderBody("To be cancelled", now.Add(30*time.Minute), now.Add(60*time.Minute)))
	for _, a := range []actor{e.evaluator, e.declarer} {
		res, b := e.do(f, req{method: http.MethodPost, target: evaluatorsPath(e.closed.ID), token: w.lead.access, body: assignRequest{UserID: a.userID}})
		want(f, res, b, http.StatusCreated)
	}

	e.clock.Advance(5*time.Minute + time.Second) // closed and awardable are past their deadlines
	e.relogin(f, &w.lead, &w.joint, &w.other, &w.pending, &w.nhs, &w.council, &w.charity, &w.firm, &w.operator,
		&e.evaluator, &e.declarer, &e.assignable, &e.disposable, &e.refresher)
	e.declareNone(f, e.evaluator, e.closed.ID)
	e.declareNone(f, w.lead, e.closed.ID)
	e.declareNone(f, w.lead, e.awardable.ID)
	return e
}

// placeholders lets a seed name what exists only at run time: the IDs of
// the env's bids, users and organisations, and a refresh token.
func (e *fuzzEnv) placeholders() *strings.Replacer {
	return strings.NewReplacer(
		"$BID", e.closedBid.ID, "$OTHERBID", e.otherBid.ID, "$AWARDBID", e.awardBid.ID,
		"$USER", e.assignable.userID, "$FIRM", e.w.firm.orgID, "$NHS", e.w.nhs.orgID,
		"$JOINT", e.w.joint.orgID, "$REFRESH", e.refresher.refresh,
	)
}

// send serves one request, its body sent as it is, checked against the
// contract as every test's request is.
func (e *fuzzEnv) send(t *testing.T, method, target, token string, body []byte, header http.Header) (*http.Response, []byte) {
	t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for k, vs := range header {
		r.Header[k] = vs
	}
	r.RemoteAddr = peer
	return serve(t, e.s.engine, r)
}

// checkAnswer fails t for a 5xx, and for a refusal that is not a problem
// naming what was wrong: every 400 names at least one field, each with a
// message.
func (e *fuzzEnv) checkAnswer(t *testing.T, what string, res *http.Response, body []byte) {
	t.Helper()
	if res.StatusCode >= 500 {
		t.Fatalf("%s: %d %s\nserver errors:\n%s", what, res.StatusCode, body, e.logs.errors())
	}
	if res.StatusCode < 400 {
		return
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s: %d answered as %q: %s", what, res.StatusCode, ct, body)
	}
	p := mustDecode[problem](t, body)
	if p.Status != res.StatusCode || p.Code == "" {
		t.Fatalf("%s: %d problem %+v", what, res.StatusCode, p)
	}
	if res.StatusCode == http.StatusBadRequest {
		if len(p.Errors) == 0 {
			t.Fatalf("%s: 400 naming no field: %s", what, body)
		}
		for _, fe := range p.Errors {
			if fe.Field == "" || fe.Message == "" {
				t.Fatalf("%s: 400 with an unnamed or unexplained field: %s", what, body)
			}
		}
	}
}
