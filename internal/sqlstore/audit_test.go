package sqlstore_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// mustScan returns the whole trail as ScanAudit reads it.
func mustScan(tb testing.TB, as *sqlstore.AuditStore) []market.AuditEvent {
	tb.Helper()
	var evs []market.AuditEvent
	if err := as.ScanAudit(tb.Context(), func(e market.AuditEvent) error {
		evs = append(evs, e)
		return nil
	}); err != nil {
		tb.Fatalf("ScanAudit: %v", err)
	}
	return evs
}

// mustVerify runs the chain's verifier over the trail as ScanAudit
// streams it.
func mustVerify(tb testing.TB, as *sqlstore.AuditStore) *market.ChainVerifier {
	tb.Helper()
	v := &market.ChainVerifier{}
	if err := as.ScanAudit(tb.Context(), func(e market.AuditEvent) error {
		v.Add(e)
		return nil
	}); err != nil {
		tb.Fatalf("ScanAudit: %v", err)
	}
	return v
}

// wantIntactChain checks that the trail is numbered 1..n without a gap,
// that the verifier accepts it, and that the head names its last event.
func wantIntactChain(tb testing.TB, as *sqlstore.AuditStore, n int) {
	tb.Helper()
	evs := mustScan(tb, as)
	if len(evs) != n {
		tb.Fatalf("%d events in the trail, want %d", len(evs), n)
	}
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			tb.Fatalf("event %d has seq %d: want 1..%d without a gap", i, e.Seq, n)
		}
	}
	if v := mustVerify(tb, as); v.Break != nil || v.Checked != int64(n) {
		tb.Fatalf("verifier checked %d events, break %+v; want %d, none", v.Checked, v.Break, n)
	}
	seq, hash, err := as.Head(tb.Context())
	if err != nil {
		tb.Fatalf("Head: %v", err)
	}
	if n > 0 && (seq != evs[n-1].Seq || hash != evs[n-1].Hash) {
		tb.Errorf("head (%d, %s), want the last event (%d, %s)", seq, hash, evs[n-1].Seq, evs[n-1].Hash)
	}
}

func TestAuditChain(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		as := sqlstore.NewAuditStore(s.db)
		wantIntactChain(t, as, 0)

		tender := mustPublished(t, s, s.draft("Chained"))
		b := mustSubmit(t, s, tender, s.sup1User, 40_000_000)
		// Refused writes and a transaction rolled back after its event
		// leave no trace in the numbering.
		second := newBid(s, tender, s.sup1User, 1)
		wantCode(t, s.ts.CreateBid(ctx, &second, s.event(s.sup1User, "bid", "bid.submitted")), market.ECONFLICT)
		stale := tender
		wantCode(t, s.ts.SaveTender(ctx, &stale, 1, s.event(s.leadUser, "tender", "tender.updated")), market.EPRECONDITION)
		if err := sqlstore.AppendEvent(ctx, s.db, s.clock, s.event(s.leadUser, "tender", "rolled.back"), true); err != nil {
			t.Fatalf("AppendEvent rolled back: %v", err)
		}
		wd := b
		wd.Status = market.BidWithdrawn
		if err := s.ts.WithdrawBid(ctx, &wd, s.event(s.sup1User, "bid", "bid.withdrawn")); err != nil {
			t.Fatalf("WithdrawBid: %v", err)
		}
		wantIntactChain(t, as, 4)
		evs := mustScan(t, as)
		if got := []string{evs[0].Action, evs[1].Action, evs[2].Action, evs[3].Action}; !slices.Equal(got,
			[]string{"tender.created", "tender.published", "bid.submitted", "bid.withdrawn"}) {
			t.Errorf("actions %q", got)
		}
		if evs[0].PrevHash != "" || evs[1].PrevHash != evs[0].Hash || len(evs[0].Hash) != 64 {
			t.Errorf("first links: %+v, %+v", evs[0], evs[1])
		}
		if at := micro(s.clock.Now()); !evs[3].At.Equal(at) || evs[3].At.Nanosecond()%1000 != 0 {
			t.Errorf("event time %v, want the clock's at microseconds, %v", evs[3].At, at)
		}

		t.Run("Concurrent", func(t *testing.T) {
			const writers, rounds = 8, 4
			mustWarmPool(t, s.db, writers)
			evals := sqlstore.NewEvaluationStore(s.db, s.clock)
			before := len(mustScan(t, as))
			var wg sync.WaitGroup
			errs := make(chan error, writers*rounds*4)
			start := make(chan struct{})
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for r := range rounds {
						d := s.draft(fmt.Sprintf("Race %d.%d", i, r))
						errs <- s.ts.CreateTender(ctx, &d, s.event(s.leadUser, "tender", "tender.created"))
						q := market.Question{TenderID: tender.ID, AskerOrgID: s.sup2.ID, AskerUserID: s.sup2User.ID, Text: "Why?"}
						errs <- s.ts.CreateQuestion(ctx, &q, s.event(s.sup2User, "question", "question.asked"))
						errs <- sqlstore.AppendEvent(ctx, s.db, s.clock, s.event(s.leadUser, "tender", "rolled.back"), true)
						m := market.Moderation{TenderID: tender.ID, BidID: b.ID, Criterion: "approach", Score: r, Reason: "Race.", By: s.leadUser.ID}
						errs <- evals.PutModeration(ctx, &m, s.event(s.leadUser, "bid", "bid.moderated"))
					}
				}()
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("concurrent write: %v", err)
				}
			}
			wantIntactChain(t, as, before+writers*rounds*3)
			if n := mustCount(t, s.stores, "audit_events"); n != before+writers*rounds*3 {
				t.Errorf("%d rows in audit_events", n)
			}
		})

		t.Run("DetailRoundTrip", func(t *testing.T) {
			// Invalid UTF-8, a NUL, keys in any order: the hash is of what
			// reads back.
			ev := s.event(s.leadUser, "tender", "odd.detail")
			ev.ObjectID, ev.Detail = tender.ID, map[string]string{"z": "caf\xe9", "a": "nul\x00here", "m": "£ and \u2028"}
			if err := sqlstore.AppendEvent(ctx, s.db, s.clock, ev, false); err != nil {
				t.Fatalf("AppendEvent: %v", err)
			}
			n := len(mustScan(t, as))
			wantIntactChain(t, as, n)
			last := mustScan(t, as)[n-1]
			if last.Detail["a"] != "nul\x00here" || last.Detail["z"] != "caf\uFFFD" || last.TenderID != "" {
				t.Errorf("detail read back %q, tender %q", last.Detail, last.TenderID)
			}
		})
	})
}

// TestAuditTampering edits the trail directly in the database, as someone
// with access to it might, and checks that the verifier names the first
// event where the chain breaks.
func TestAuditTampering(t *testing.T) {
	type tamper struct {
		sql     func(db *sqlstore.DB, evs []market.AuditEvent) []string // statements, then their args
		args    func(db *sqlstore.DB, evs []market.AuditEvent) [][]any
		wantSeq int64
		reason  string
	}
	cases := map[string]tamper{
		"Untouched": {wantSeq: 0},
		"EditDetail": {
			sql: func(*sqlstore.DB, []market.AuditEvent) []string {
				return []string{"UPDATE audit_events SET detail = ? WHERE seq = 3"}
			},
			args:    func(*sqlstore.DB, []market.AuditEvent) [][]any { return [][]any{{`{"n":"forged"}`}} },
			wantSeq: 3, reason: "altered",
		},
		"EditAction": {
			sql: func(*sqlstore.DB, []market.AuditEvent) []string {
				return []string{"UPDATE audit_events SET action = ? WHERE seq = 3"}
			},
			args:    func(*sqlstore.DB, []market.AuditEvent) [][]any { return [][]any{{"bid.withdrawn"}} },
			wantSeq: 3, reason: "altered",
		},
		"EditActor": {
			sql: func(*sqlstore.DB, []market.AuditEvent) []string {
				return []string{"UPDATE audit_events SET actor_user = ? WHERE seq = 5"}
			},
			args:    func(*sqlstore.DB, []market.AuditEvent) [][]any { return [][]any{{"someone-else"}} },
			wantSeq: 5, reason: "altered",
		},
		"EditTime": {
			sql: func(*sqlstore.DB, []market.AuditEvent) []string {
				return []string{"UPDATE audit_events SET at = ? WHERE seq = 2"}
			},
			args: func(db *sqlstore.DB, evs []market.AuditEvent) [][]any {
				return [][]any{{dbTime(db, evs[1].At.Add(-time.Hour))}}
			},
			wantSeq: 2, reason: "altered",
		},
		"DeleteEvent": {
			sql: func(*sqlstore.DB, []market.AuditEvent) []string {
				return []string{"DELETE FROM audit_events WHERE seq = 3"}
			},
			wantSeq: 4, reason: "sequence jumps from 2 to 4",
		},
		"DeleteFirst": {
			sql: func(*sqlstore.DB, []market.AuditEvent) []string {
				return []string{"DELETE FROM audit_events WHERE seq = 1"}
			},
			wantSeq: 2, reason: "does not start the chain",
		},
		"Reorder": {
			sql: func(*sqlstore.DB, []market.AuditEvent) []string {
				return []string{"UPDATE audit_events SET seq = -1 WHERE seq = 3", "UPDATE audit_events SET seq = 3 WHERE seq = 4",
					"UPDATE audit_events SET seq = 4 WHERE seq = -1"}
			},
			wantSeq: 3, reason: "previous-hash",
		},
		"ForgedHash": {
			sql: func(*sqlstore.DB, []market.AuditEvent) []string {
				return []string{"UPDATE audit_events SET detail = ?, hash = ? WHERE seq = 3"}
			},
			args: func(_ *sqlstore.DB, evs []market.AuditEvent) [][]any {
				e := evs[2]
				e.Detail = map[string]string{"n": "forged"}
				return [][]any{{`{"n":"forged"}`, e.ComputeHash()}}
			},
			wantSeq: 4, reason: "previous-hash",
		},
	}
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			for name, c := range cases {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					ctx := t.Context()
					db := sqlstoretest.MustOpen(t, engine)
					clock := &testClock{t: time.Date(2026, 3, 2, 9, 30, 15, 123456789, time.UTC)}
					as := sqlstore.NewAuditStore(db)
					for i := range 6 {
						clock.Add(time.Second)
						ev := market.AuditEvent{ActorUser: "u1", ActorOrg: "o1", ObjectType: "tender", ObjectID: "t1",
							TenderID: "t1", Action: "tender.updated", Detail: map[string]string{"n": fmt.Sprint(i + 1)}}
						if err := sqlstore.AppendEvent(ctx, db, clock, ev, false); err != nil {
							t.Fatalf("AppendEvent: %v", err)
						}
					}
					evs := mustScan(t, as)
					if c.sql != nil {
						stmts := c.sql(db, evs)
						var args [][]any
						if c.args != nil {
							args = c.args(db, evs)
						}
						for i, q := range stmts {
							var a []any
							if i < len(args) {
								a = args[i]
							}
							if _, err := db.ExecContext(ctx, q, a...); err != nil {
								t.Fatalf("tamper %q: %v", q, err)
							}
						}
					}
					v := mustVerify(t, as)
					switch {
					case c.wantSeq == 0 && v.Break != nil:
						t.Fatalf("untouched chain broken: %+v", v.Break)
					case c.wantSeq == 0:
						if v.Checked != 6 {
							t.Errorf("checked %d events, want 6", v.Checked)
						}
					case v.Break == nil:
						t.Fatalf("tampering not detected (checked %d events)", v.Checked)
					case v.Break.Seq != c.wantSeq || !strings.Contains(v.Break.Reason, c.reason):
						t.Errorf("break at %d (%s), want at %d (%s)", v.Break.Seq, v.Break.Reason, c.wantSeq, c.reason)
					}
				})
			}
			t.Run("DeleteLast", func(t *testing.T) {
				t.Parallel()
				// The chain's own links cannot show a cut tail; the head does.
				ctx := t.Context()
				db := sqlstoretest.MustOpen(t, engine)
				clock := &testClock{t: time.Date(2026, 3, 2, 9, 30, 15, 0, time.UTC)}
				as := sqlstore.NewAuditStore(db)
				for range 3 {
					if err := sqlstore.AppendEvent(ctx, db, clock, market.AuditEvent{ObjectType: "tender", ObjectID: "t1", Action: "x"}, false); err != nil {
						t.Fatalf("AppendEvent: %v", err)
					}
				}
				if _, err := db.ExecContext(ctx, "DELETE FROM audit_events WHERE seq = 3"); err != nil {
					t.Fatal(err)
				}
				v := mustVerify(t, as)
				seq, _, err := as.Head(ctx)
				if err != nil || v.Break != nil || v.Checked != 2 || seq != 3 {
					t.Errorf("verifier %+v checked %d; head %d, %v: want an intact chain of 2 and a head at 3", v.Break, v.Checked, seq, err)
				}
			})
		})
	}
}

// dbTime is t as the engine's column value, for tampering by hand.
func dbTime(db *sqlstore.DB, t time.Time) any {
	if db.Engine() == sqlstore.EngineSQLite {
		return t.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	return t.UTC()
}

// TestAuditSealLegacy checks that events written before the chain existed
// (no hash, numbered with gaps by a sequence) are chained when the
// database is migrated, and that new events follow them.
func TestAuditSealLegacy(t *testing.T) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := sqlstoretest.MustOpen(t, engine)
			as := sqlstore.NewAuditStore(db)
			at := time.Date(2025, 11, 3, 10, 0, 0, 250_000, time.UTC)
			for i, seq := range []int{1, 2, 5, 9} {
				if _, err := db.ExecContext(ctx, `INSERT INTO audit_events (seq, at, actor_user, actor_org, object_type,
					object_id, tender_id, action, detail) VALUES (?, ?, 'u', 'o', 'tender', 't', NULL, ?, ?)`,
					seq, dbTime(db, at.Add(time.Duration(i)*time.Minute)), fmt.Sprintf("legacy.%d", i), `{"k":"v"}`); err != nil {
					t.Fatalf("insert a legacy event: %v", err)
				}
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			wantIntactChain(t, as, 4)
			evs := mustScan(t, as)
			if evs[2].Action != "legacy.2" || evs[3].Action != "legacy.3" || !evs[3].At.Equal(at.Add(3*time.Minute)) {
				t.Errorf("legacy events out of order or changed: %+v", evs)
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("Migrate again: %v", err)
			}
			clock := &testClock{t: at.Add(time.Hour)}
			if err := sqlstore.AppendEvent(ctx, db, clock, market.AuditEvent{ObjectType: "tender", ObjectID: "t", Action: "new"}, false); err != nil {
				t.Fatalf("AppendEvent: %v", err)
			}
			wantIntactChain(t, as, 5)
			if again := mustScan(t, as); !reflect.DeepEqual(again[:4], evs) {
				t.Errorf("a second migration changed the chained events")
			}

			// Once the chain has begun, an event slipped in beyond its head
			// by hand stays unchained through a restart's migration, for
			// the verifier to report.
			if _, err := db.ExecContext(ctx, `INSERT INTO audit_events (seq, at, actor_user, actor_org, object_type,
				object_id, tender_id, action, detail) VALUES (6, ?, 'u', 'o', 'tender', 't', NULL, 'forged', '{}')`,
				dbTime(db, at.Add(2*time.Hour))); err != nil {
				t.Fatalf("insert a forged event: %v", err)
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("Migrate after forgery: %v", err)
			}
			if v := mustVerify(t, as); v.Break == nil || v.Break.Seq != 6 {
				t.Fatalf("a forged event was sealed into the chain: %+v", v.Break)
			}
		})
	}
}

func TestListAudit(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		as := sqlstore.NewAuditStore(s.db)
		// A minute between changes, so that time ranges tell them apart.
		tick := func() { s.clock.Add(time.Minute) }
		t1 := mustPublished(t, s, s.draft("First"))
		tick()
		t2 := mustCreateTender(t, s, s.draft("Second"))
		tick()
		t3 := s.draft("Other's")
		t3.BuyerID, t3.CreatedBy, t3.JointCommissioners = s.other.ID, s.otherUser.ID, nil
		if err := s.ts.CreateTender(ctx, &t3, s.event(s.otherUser, "tender", "tender.created")); err != nil {
			t.Fatal(err)
		}
		tick()
		b1 := mustSubmit(t, s, t1, s.sup1User, 40_000_000)
		tick()
		q := market.Question{TenderID: t1.ID, AskerOrgID: s.sup2.ID, AskerUserID: s.sup2User.ID, Text: "Why?"}
		if err := s.ts.CreateQuestion(ctx, &q, s.event(s.sup2User, "question", "question.asked")); err != nil {
			t.Fatal(err)
		}
		all := mustScan(t, as)
		// The events of the last four changes: t2 created, t3 created, the
		// bid, the question; each a minute after the one before.
		if len(all) < 4 {
			t.Fatalf("%d events", len(all))
		}
		at := func(back int) time.Time { return all[len(all)-back].At }
		if !at(1).After(at(2)) || !at(2).After(at(3)) || !at(3).After(at(4)) {
			t.Fatalf("events not a minute apart: %v %v %v %v", at(4), at(3), at(2), at(1))
		}
		seqsOf := func(keep func(market.AuditEvent) bool) []int64 {
			var out []int64
			for _, e := range all {
				if keep(e) {
					out = append(out, e.Seq)
				}
			}
			return out
		}
		for name, c := range map[string]struct {
			f    market.AuditFilter
			want []int64
		}{
			"Everything":    {market.AuditFilter{}, seqsOf(func(market.AuditEvent) bool { return true })},
			"NoTenders":     {market.AuditFilter{TenderIDs: []string{}}, nil},
			"OneTender":     {market.AuditFilter{TenderIDs: []string{t1.ID}}, seqsOf(func(e market.AuditEvent) bool { return e.TenderID == t1.ID })},
			"TwoTenders":    {market.AuditFilter{TenderIDs: []string{t2.ID, t3.ID}}, seqsOf(func(e market.AuditEvent) bool { return e.TenderID != t1.ID })},
			"ObjectBid":     {market.AuditFilter{Object: b1.ID}, seqsOf(func(e market.AuditEvent) bool { return e.ObjectID == b1.ID })},
			"ObjectTender":  {market.AuditFilter{Object: t1.ID}, seqsOf(func(e market.AuditEvent) bool { return e.TenderID == t1.ID })},
			"ObjectOutside": {market.AuditFilter{TenderIDs: []string{t2.ID}, Object: t1.ID}, nil},
			"Unknown":       {market.AuditFilter{Object: "nothing"}, nil},

			"Action":        {market.AuditFilter{Action: "tender.created"}, seqsOf(func(e market.AuditEvent) bool { return e.Action == "tender.created" })},
			"ActionUnknown": {market.AuditFilter{Action: "tender.levitated"}, nil},
			"ActionObject": {market.AuditFilter{Object: t1.ID, Action: "bid.submitted"},
				seqsOf(func(e market.AuditEvent) bool { return e.TenderID == t1.ID && e.Action == "bid.submitted" })},
			"ActionScoped": {market.AuditFilter{TenderIDs: []string{t2.ID, t3.ID}, Action: "tender.created"},
				seqsOf(func(e market.AuditEvent) bool { return e.TenderID != t1.ID && e.Action == "tender.created" })},
			"Actor":          {market.AuditFilter{Actor: s.sup2User.ID}, seqsOf(func(e market.AuditEvent) bool { return e.ActorUser == s.sup2User.ID })},
			"ActorLead":      {market.AuditFilter{Actor: s.leadUser.ID}, seqsOf(func(e market.AuditEvent) bool { return e.ActorUser == s.leadUser.ID })},
			"ActorOutside":   {market.AuditFilter{TenderIDs: []string{t2.ID}, Actor: s.sup2User.ID}, nil},
			"ActorAndAction": {market.AuditFilter{Actor: s.leadUser.ID, Action: "tender.published"}, seqsOf(func(e market.AuditEvent) bool { return e.ActorUser == s.leadUser.ID && e.Action == "tender.published" })},
			"From":           {market.AuditFilter{From: at(3)}, seqsOf(func(e market.AuditEvent) bool { return !e.At.Before(at(3)) })},
			"FromJustAfter": {market.AuditFilter{From: at(3).Add(time.Nanosecond)},
				seqsOf(func(e market.AuditEvent) bool { return e.At.After(at(3)) })},
			"To":          {market.AuditFilter{To: at(3)}, seqsOf(func(e market.AuditEvent) bool { return e.At.Before(at(3)) })},
			"ToJustAfter": {market.AuditFilter{To: at(3).Add(time.Nanosecond)}, seqsOf(func(e market.AuditEvent) bool { return !e.At.After(at(3)) })},
			"Window": {market.AuditFilter{From: at(4), To: at(2)},
				seqsOf(func(e market.AuditEvent) bool { return !e.At.Before(at(4)) && e.At.Before(at(2)) })},
			"WindowInTender": {market.AuditFilter{Object: t1.ID, From: at(2), To: at(1).Add(time.Second)},
				seqsOf(func(e market.AuditEvent) bool { return e.TenderID == t1.ID && !e.At.Before(at(2)) })},
			"Everything at once": {market.AuditFilter{TenderIDs: []string{t1.ID}, Object: b1.ID, Action: "bid.submitted", Actor: s.sup1User.ID, From: at(2), To: at(1)},
				seqsOf(func(e market.AuditEvent) bool { return e.ObjectID == b1.ID })},
		} {
			t.Run(name, func(t *testing.T) {
				for _, size := range []int{0, 1, 2, 100} {
					f := c.f
					f.PageSize = size
					var got []int64
					for pages := 0; ; pages++ {
						if pages > 100 {
							t.Fatal("the cursor does not advance")
						}
						page, err := as.ListAudit(ctx, f)
						if err != nil || page.Items == nil {
							t.Fatalf("ListAudit(%+v) = %+v, %v", f, page, err)
						}
						if size > 0 && len(page.Items) > size {
							t.Fatalf("page of %d items, size %d", len(page.Items), size)
						}
						for _, e := range page.Items {
							got = append(got, e.Seq)
							if want := all[e.Seq-1]; !reflect.DeepEqual(e, want) {
								t.Errorf("listed event %+v, scanned %+v", e, want)
							}
						}
						if page.NextCursor == "" {
							break
						}
						f.Cursor = page.NextCursor
					}
					if !slices.Equal(got, c.want) {
						t.Errorf("page size %d: seqs %v, want %v", size, got, c.want)
					}
				}
			})
		}
		if len(seqsOf(func(e market.AuditEvent) bool { return e.TenderID == t1.ID })) != 4 {
			t.Errorf("t1 has events %v, want created, published, bid, question", all)
		}

		t.Run("ErrCursor", func(t *testing.T) {
			for _, cur := range []string{"garbage!", market.EncodeCursor("t", "2026-01-01T00:00:00.000000Z", "x"),
				market.EncodeCursor("a", "x"), market.EncodeCursor("a", "-1")} {
				_, err := as.ListAudit(ctx, market.AuditFilter{Cursor: cur})
				wantCode(t, err, market.EINVALID)
				if f := market.ErrorFields(err); len(f) != 1 || f[0].Field != "cursor" {
					t.Errorf("cursor %q: fields %+v, want cursor", cur, f)
				}
			}
		})

		t.Run("BuyerTenderIDs", func(t *testing.T) {
			for name, c := range map[string]struct {
				org  string
				want []string
			}{
				"Lead":     {s.lead.ID, sorted(t1.ID, t2.ID)},
				"Joint":    {s.joint.ID, sorted(t1.ID, t2.ID)},
				"Other":    {s.other.ID, []string{t3.ID}},
				"Supplier": {s.sup1.ID, []string{}},
			} {
				got, err := as.BuyerTenderIDs(ctx, c.org)
				if err != nil || got == nil || !slices.Equal(got, c.want) {
					t.Errorf("%s: BuyerTenderIDs = %q, %v; want %q", name, got, err, c.want)
				}
			}
		})
	})
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}
