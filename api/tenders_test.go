package api

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// TestSealedBidVisibility is the visibility matrix: every kind of caller,
// on a tender in each state, asks for the bids, one bid, the tender and
// the list of tenders. Every answer has the status the sealed-bid rule
// gives it, and no refused or public answer reveals a bid's ID or price,
// the baseline's price, or how many bids there are. The bidder and the
// other supplier each have a bid, so that each one's own answers are
// checked for the other's bid too.
func TestSealedBidVisibility(t *testing.T) {
	const (
		draft = iota
		open
		closed
	)
	states := [...]string{"draft", "open", "closed"}
	ops := [...]string{"ListBids", "GetBid", "TenderDetail", "TendersList"}
	// want[caller][op] is the status in each state: draft, open, closed.
	want := map[string]map[string][3]int{
		"Anonymous": {
			"ListBids": {401, 401, 401}, "GetBid": {401, 401, 401},
			"TenderDetail": {404, 200, 200}, "TendersList": {401, 200, 200},
		},
		"AnotherSupplier": {
			"ListBids": {404, 200, 200}, "GetBid": {404, 404, 404},
			"TenderDetail": {404, 200, 200}, "TendersList": {403, 200, 200},
		},
		"Bidder": {
			"ListBids": {404, 200, 200}, "GetBid": {404, 200, 200},
			"TenderDetail": {404, 200, 200}, "TendersList": {403, 200, 200},
		},
		"LeadBuyer": {
			"ListBids": {409, 409, 200}, "GetBid": {404, 404, 200},
			"TenderDetail": {200, 200, 200}, "TendersList": {200, 200, 200},
		},
		"JointBuyer": {
			"ListBids": {409, 409, 200}, "GetBid": {404, 404, 200},
			"TenderDetail": {200, 200, 200}, "TendersList": {200, 200, 200},
		},
		// A buyer of the lead CCG that has not declared its interests, and
		// one that declared a conflict: neither reads any bid, ever.
		"UndeclaredBuyer": {
			"ListBids": {409, 409, 403}, "GetBid": {404, 404, 404},
			"TenderDetail": {200, 200, 200}, "TendersList": {200, 200, 200},
		},
		"ConflictedBuyer": {
			"ListBids": {409, 409, 403}, "GetBid": {404, 404, 404},
			"TenderDetail": {200, 200, 200}, "TendersList": {200, 200, 200},
		},
		"OtherCCGBuyer": {
			"ListBids": {404, 403, 403}, "GetBid": {404, 404, 404},
			"TenderDetail": {404, 200, 200}, "TendersList": {200, 200, 200},
		},
		"Operator": {
			"ListBids": {404, 403, 403}, "GetBid": {404, 404, 404},
			"TenderDetail": {404, 200, 200}, "TendersList": {403, 200, 200},
		},
	}
	// sees says which callers may read what a successful answer holds.
	commissioner := map[string]bool{"LeadBuyer": true, "JointBuyer": true}
	// commissionerOrg are the callers of a commissioning CCG, who see the
	// baseline and the drafts whether or not they may read bids.
	commissionerOrg := map[string]bool{"LeadBuyer": true, "JointBuyer": true, "UndeclaredBuyer": true, "ConflictedBuyer": true}

	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			bidder, rival := w.nhs, w.firm

			// Three tenders of X with J: a draft, one that will close, one
			// that stays open; the bidder and the rival bid on the last two.
			now := e.clock.Now()
			d := e.createTender(t, w.lead, tenderBody("Draft tender", now.Add(2*time.Minute), now.Add(5*time.Minute), w.joint.orgID))
			c := e.publishedTender(t, w.lead, "Closing tender", 2*time.Minute, 5*time.Minute, w.joint.orgID)
			o := e.publishedTender(t, w.lead, "Open tender", 10*time.Minute, 10*time.Hour, w.joint.orgID)
			prices := map[string]int64{"bidder/open": 41_234_567, "bidder/closed": 42_345_678, "rival/open": 43_456_789, "rival/closed": 44_567_890}
			bids := map[string]bidResponse{
				"bidder/open":   e.submitBid(t, bidder, o.ID, prices["bidder/open"]),
				"bidder/closed": e.submitBid(t, bidder, c.ID, prices["bidder/closed"]),
				"rival/open":    e.submitBid(t, rival, o.ID, prices["rival/open"]),
				"rival/closed":  e.submitBid(t, rival, c.ID, prices["rival/closed"]),
			}
			undeclared := e.addUser(t, w.lead, "undeclared@nhs.net", "buyer")
			conflicted := e.addUser(t, w.lead, "conflicted@nhs.net", "buyer")
			// Declarations are allowed before the deadline, and unseal
			// nothing: the lead and joint buyers declare no conflict on every
			// tender, the conflicted buyer a conflict with the bidder.
			for _, tender := range []tenderResponse{d, c, o} {
				e.declareNone(t, w.lead, tender.ID)
				e.declareNone(t, w.joint, tender.ID)
				e.declareConflict(t, conflicted, tender.ID, bidder.orgID)
			}
			e.clock.set(now.Add(6 * time.Minute)) // C closed, O open; tokens still good
			tenderOf := [...]tenderResponse{draft: d, open: o, closed: c}
			// The bidder's bid asked for on each tender; on the draft, the
			// one it has on the open tender, which the draft does not hold.
			bidOf := [...]string{draft: bids["bidder/open"].ID, open: bids["bidder/open"].ID, closed: bids["bidder/closed"].ID}
			statusQuery := [...]string{draft: "?status=draft", open: "?status=open", closed: "?status=closed"}
			callers := map[string]actor{
				"Anonymous": {}, "AnotherSupplier": rival, "Bidder": bidder, "LeadBuyer": w.lead,
				"JointBuyer": w.joint, "OtherCCGBuyer": w.other, "Operator": w.operator,
				"UndeclaredBuyer": undeclared, "ConflictedBuyer": conflicted,
			}
			all := secrets{prices: []int64{45_678_901}, count: 2}
			for k, b := range bids {
				all.ids = append(all.ids, b.ID)
				all.prices = append(all.prices, prices[k])
			}
			// others returns what a supplier's own answers must not hold:
			// everything of the other supplier's bids.
			others := func(who string) secrets {
				s := secrets{prices: []int64{45_678_901}, count: 2}
				for k, b := range bids {
					if !strings.HasPrefix(k, who+"/") {
						s.ids = append(s.ids, b.ID)
						s.prices = append(s.prices, prices[k])
					}
				}
				return s
			}

			for _, caller := range sortedKeys(want) {
				for st := range states {
					for _, op := range ops {
						name := fmt.Sprintf("%s/%s/%s", caller, states[st], op)
						tt := want[caller][op][st]
						t.Run(name, func(t *testing.T) {
							tender := tenderOf[st]
							r := req{method: http.MethodGet, token: callers[caller].access}
							switch op {
							case "ListBids":
								r.target = bidsPath(tender.ID)
							case "GetBid":
								r.target = bidPath(tender.ID, bidOf[st])
							case "TenderDetail":
								r.target = tenderPath(tender.ID)
							case "TendersList":
								r.target = "/api/v1/tenders" + statusQuery[st]
							}
							res, body := e.do(t, r)
							if res.StatusCode != tt {
								t.Fatalf("status %d, want %d: %.400s", res.StatusCode, tt, body)
							}
							switch {
							case res.StatusCode != http.StatusOK:
								checkReveals(t, name, body, all)
							case op == "TenderDetail" || op == "TendersList":
								// A tender never speaks of bids; the baseline
								// only to its commissioners.
								s := all
								if commissionerOrg[caller] {
									s.prices = s.prices[1:]
								}
								checkReveals(t, name, body, s)
								hasBaseline := bytes.Contains(body, []byte(`"in_house_baseline"`))
								if wantBaseline := commissionerOrg[caller] && op == "TenderDetail"; hasBaseline != wantBaseline {
									t.Errorf("baseline shown: %v, want %v", hasBaseline, wantBaseline)
								}
								if op == "TendersList" {
									shows := st != draft || commissionerOrg[caller]
									if got := bytes.Contains(body, []byte(tender.ID)); got != shows {
										t.Errorf("the list shows the %s tender: %v, want %v: %.300s", states[st], got, shows, body)
									}
								}
								if op == "TenderDetail" {
									if got := mustDecode[tenderResponse](t, body).Status; got != states[st] {
										t.Errorf("status %q, want %q", got, states[st])
									}
								}
							case caller == "Bidder" || caller == "AnotherSupplier":
								who := map[string]string{"Bidder": "bidder", "AnotherSupplier": "rival"}[caller]
								checkReveals(t, name, body, secretsWithoutCount(others(who)))
								if op == "ListBids" {
									items := mustDecode[listResponse[bidResponse]](t, body).Items
									if len(items) != 1 || items[0].ID != bids[who+"/"+states[st]].ID {
										t.Errorf("own bids: %+v, want only %s", items, bids[who+"/"+states[st]].ID)
									}
								}
							case commissioner[caller]:
								// After the deadline the buyers see every bid,
								// with prices, but never the open tender's.
								if op == "ListBids" {
									items := mustDecode[listResponse[bidResponse]](t, body).Items
									var got []string
									for _, b := range items {
										got = append(got, b.ID)
									}
									wantIDs := []string{bids["bidder/closed"].ID, bids["rival/closed"].ID}
									slices.Sort(got)
									slices.Sort(wantIDs)
									if !slices.Equal(got, wantIDs) {
										t.Errorf("buyers see bids %v, want %v", got, wantIDs)
									}
								}
								checkReveals(t, name, body, secretsWithoutCount(secrets{
									ids:    []string{bids["bidder/open"].ID, bids["rival/open"].ID},
									prices: []int64{prices["bidder/open"], prices["rival/open"]},
								}))
							default:
								t.Fatalf("%s may read this, which the matrix does not expect", caller)
							}
							if op == "ListBids" || op == "GetBid" {
								if cc := res.Header.Get("Cache-Control"); res.StatusCode == 200 && cc != "no-store" {
									t.Errorf("a bid answer with Cache-Control %q", cc)
								}
							}
						})
					}
				}
			}
		})
	}
}

// secretsWithoutCount drops the count: an answer allowed to list bids
// shows how many it lists.
func secretsWithoutCount(s secrets) secrets {
	s.count = 0
	return s
}

// TestDeadlineEdges: the server's clock decides, to the millisecond. A bid,
// a revision or a withdrawal 1 ms before the bid deadline is taken; at the
// deadline and 1 ms after it each is refused with 409 and nothing changes.
// A question after the clarification deadline is refused, saying so.
func TestDeadlineEdges(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			start := e.clock.Now()
			tender := e.publishedTender(t, w.lead, "Deadline tender", 2*time.Minute, 5*time.Minute)
			clarDeadline, bidDeadline := start.Add(2*time.Minute), start.Add(5*time.Minute)

			t.Run("QuestionBeforeClarificationDeadline", func(t *testing.T) {
				e.clock.set(clarDeadline.Add(-time.Millisecond))
				res, body := e.do(t, req{method: http.MethodPost, target: questionsPath(tender.ID), token: w.nhs.access, body: questionRequest{Question: "Is TUPE expected?"}})
				want(t, res, body, http.StatusCreated)
			})
			for name, at := range map[string]time.Duration{"QuestionAtClarificationDeadline": 0, "QuestionAfterClarificationDeadline": time.Millisecond} {
				t.Run(name, func(t *testing.T) {
					e.clock.set(clarDeadline.Add(at))
					res, body := e.do(t, req{method: http.MethodPost, target: questionsPath(tender.ID), token: w.nhs.access, body: questionRequest{Question: "Too late?"}})
					want(t, res, body, http.StatusConflict)
					if p := mustDecode[problem](t, body); !strings.Contains(p.Detail, "clarification deadline passed") {
						t.Errorf("detail %q does not say the clarification deadline passed", p.Detail)
					}
				})
			}

			// 1 ms before the deadline: all taken.
			e.clock.set(bidDeadline.Add(-time.Millisecond))
			revised := e.submitBid(t, w.nhs, tender.ID, 40_000_000)
			withdrawnLate := e.submitBid(t, w.council, tender.ID, 41_000_000)
			toWithdraw := e.submitBid(t, w.charity, tender.ID, 42_000_000)
			t.Run("ReviseJustBefore", func(t *testing.T) {
				res, body := e.do(t, req{method: http.MethodPut, target: bidPath(tender.ID, revised.ID), token: w.nhs.access, body: bidBody(39_000_000)})
				want(t, res, body, http.StatusOK)
				if b := mustDecode[bidResponse](t, body); b.Version != 2 || b.PricePence != 39_000_000 {
					t.Errorf("revised bid is version %d at %d", b.Version, b.PricePence)
				}
			})
			t.Run("WithdrawJustBefore", func(t *testing.T) {
				res, body := e.do(t, req{method: http.MethodPost, target: withdrawPath(tender.ID, toWithdraw.ID), token: w.charity.access})
				want(t, res, body, http.StatusOK)
				if b := mustDecode[bidResponse](t, body); b.Status != "withdrawn" {
					t.Errorf("status %q, want withdrawn", b.Status)
				}
			})

			for _, at := range []time.Duration{0, time.Millisecond} {
				e.clock.set(bidDeadline.Add(at))
				for name, r := range map[string]req{
					"Submit":   {method: http.MethodPost, target: bidsPath(tender.ID), token: w.firm.access, body: bidBody(30_000_000)},
					"Revise":   {method: http.MethodPut, target: bidPath(tender.ID, revised.ID), token: w.nhs.access, body: bidBody(1_000_000)},
					"Withdraw": {method: http.MethodPost, target: withdrawPath(tender.ID, withdrawnLate.ID), token: w.council.access},
				} {
					t.Run(fmt.Sprintf("%sAtDeadlinePlus%s", name, at), func(t *testing.T) {
						res, body := e.do(t, r)
						want(t, res, body, http.StatusConflict)
						if p := mustDecode[problem](t, body); !strings.Contains(p.Detail, "bid deadline passed") {
							t.Errorf("detail %q does not say the bid deadline passed", p.Detail)
						}
					})
				}
			}

			t.Run("NothingChanged", func(t *testing.T) {
				res, body := e.do(t, req{method: http.MethodGet, target: bidPath(tender.ID, revised.ID), token: w.nhs.access})
				want(t, res, body, http.StatusOK)
				b := mustDecode[bidResponse](t, body)
				if b.Version != 2 || b.PricePence != 39_000_000 || len(b.Versions) != 2 {
					t.Errorf("bid is version %d at %d with %d versions, want 2 at 39000000 with 2", b.Version, b.PricePence, len(b.Versions))
				}
				res, body = e.do(t, req{method: http.MethodGet, target: bidPath(tender.ID, withdrawnLate.ID), token: w.council.access})
				want(t, res, body, http.StatusOK)
				if b := mustDecode[bidResponse](t, body); b.Status != "submitted" {
					t.Errorf("late withdrawal changed the bid to %q", b.Status)
				}
				res, body = e.do(t, req{method: http.MethodGet, target: bidsPath(tender.ID), token: w.firm.access})
				want(t, res, body, http.StatusOK)
				if n := len(mustDecode[listResponse[bidResponse]](t, body).Items); n != 0 {
					t.Errorf("the late bidder has %d bids", n)
				}
				e.declareNone(t, w.lead, tender.ID)
				res, body = e.do(t, req{method: http.MethodGet, target: bidsPath(tender.ID), token: w.lead.access})
				want(t, res, body, http.StatusOK)
				if n := len(mustDecode[listResponse[bidResponse]](t, body).Items); n != 2 {
					t.Errorf("the buyer sees %d bids, want the 2 submitted", n)
				}
			})
		})
	}
}

// TestConcurrentDuplicateBids: ten submissions at once by one supplier
// make one bid. Without a key one is created and the others are refused
// by the store's constraint; with one Idempotency-Key every answer is the
// same 201.
func TestConcurrentDuplicateBids(t *testing.T) {
	const n = 10
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := mustTenderEnv(t, engine, nil)
			w := e.mustMarket(t)
			race := func(tenderID string, header map[string]string) ([]int, [][]byte, []http.Header) {
				statuses, bodies, headers := make([]int, n), make([][]byte, n), make([]http.Header, n)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						res, body := e.do(t, req{method: http.MethodPost, target: bidsPath(tenderID), token: w.nhs.access, body: bidBody(40_000_000), header: header})
						statuses[i], bodies[i], headers[i] = res.StatusCode, body, res.Header
					}()
				}
				close(start)
				wg.Wait()
				return statuses, bodies, headers
			}
			liveBids := func(tenderID string) int {
				res, body := e.do(t, req{method: http.MethodGet, target: bidsPath(tenderID), token: w.nhs.access})
				want(t, res, body, http.StatusOK)
				return len(mustDecode[listResponse[bidResponse]](t, body).Items)
			}

			t.Run("WithoutKey", func(t *testing.T) {
				tender := e.publishedTender(t, w.lead, "Race without a key", 2*time.Minute, 5*time.Minute)
				statuses, bodies, _ := race(tender.ID, nil)
				created := 0
				for i, st := range statuses {
					switch st {
					case http.StatusCreated:
						created++
					case http.StatusConflict:
					default:
						t.Errorf("answer %d: status %d: %s", i, st, bodies[i])
					}
				}
				if created != 1 {
					t.Errorf("%d bids created, want 1 (statuses %v)", created, statuses)
				}
				if got := liveBids(tender.ID); got != 1 {
					t.Errorf("%d bids stored, want 1", got)
				}
			})
			t.Run("OneIdempotencyKey", func(t *testing.T) {
				tender := e.publishedTender(t, w.lead, "Race with a key", 2*time.Minute, 5*time.Minute)
				statuses, bodies, headers := race(tender.ID, map[string]string{"Idempotency-Key": "bid-0001"})
				replays := 0
				for i := range n {
					if statuses[i] != http.StatusCreated {
						t.Errorf("answer %d: status %d, want 201: %s", i, statuses[i], bodies[i])
						continue
					}
					if !bytes.Equal(bodies[i], bodies[0]) {
						t.Errorf("answer %d differs from answer 0:\n%s\n%s", i, bodies[i], bodies[0])
					}
					if headers[i].Get("Location") != headers[0].Get("Location") || headers[i].Get("Location") == "" {
						t.Errorf("answer %d: Location %q, answer 0: %q", i, headers[i].Get("Location"), headers[0].Get("Location"))
					}
					if headers[i].Get("Idempotent-Replayed") == "true" {
						replays++
					}
				}
				if replays != n-1 {
					t.Errorf("%d replays, want %d", replays, n-1)
				}
				if got := liveBids(tender.ID); got != 1 {
					t.Errorf("%d bids stored, want 1", got)
				}
			})
		})
	}
}
