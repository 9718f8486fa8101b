package sqlstore_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

// tenderStores are the tender and idempotency stores beside the account
// stores, with the organisations a tender involves.
type tenderStores struct {
	accountStores
	ts *sqlstore.TenderStore
	is *sqlstore.IdempotencyStore

	// lead and joint commission together; other is a CCG outside; sup1
	// and sup2 bid. Each has one user.
	lead, joint, other, sup1, sup2                     market.Organisation
	leadUser, jointUser, otherUser, sup1User, sup2User market.User
}

func eachEngineTenders(t *testing.T, fn func(t *testing.T, s *tenderStores)) {
	eachEngineAccounts(t, func(t *testing.T, a accountStores) {
		s := &tenderStores{accountStores: a, ts: sqlstore.NewTenderStore(a.db, a.clock), is: sqlstore.NewIdempotencyStore(a.db)}
		s.lead, s.leadUser = mustRegister(t, a, buyer("NHS Lead CCG", "01A"), nil, "lead@lead.example.org")
		s.joint, s.jointUser = mustRegister(t, a, buyer("NHS Joint CCG", "02B"), nil, "lead@joint.example.org")
		s.other, s.otherUser = mustRegister(t, a, buyer("NHS Other CCG", "03C"), nil, "lead@other.example.org")
		o1, _ := supplier("Arden Partners", "01234567")
		s.sup1, s.sup1User = mustRegister(t, a, o1, nil, "bids@arden.example.org")
		o2, _ := supplier("Bevan Partners", "02345678")
		s.sup2, s.sup2User = mustRegister(t, a, o2, nil, "bids@bevan.example.org")
		fn(t, s)
	})
}

// draft returns a complete draft led by s.lead, jointly with s.joint,
// with deadlines after the clock's time.
func (s *tenderStores) draft(title string) market.Tender {
	at := s.clock.Now()
	return market.Tender{
		BuyerID:               s.lead.ID,
		CreatedBy:             s.leadUser.ID,
		Title:                 title,
		Description:           "Support for the commissioning of community services across the patch.",
		Capabilities:          []string{"business_intelligence", "contract_management"},
		Regions:               []string{"midlands"},
		ContractMonths:        24,
		BudgetPence:           50_000_000,
		ClarificationDeadline: at.Add(5 * 24 * time.Hour),
		BidDeadline:           at.Add(10 * 24 * time.Hour),
		Criteria: []market.Criterion{
			{Key: "price", Name: "Price", Kind: market.CriterionPrice, Weight: 40},
			{Key: "approach", Name: "Approach", Kind: market.CriterionQuality, Weight: 60, Description: "How you will do it."},
		},
		Baseline:           &market.Baseline{PricePence: 45_000_000, Scores: map[string]int{"approach": 2}},
		JointCommissioners: []string{s.joint.ID},
	}
}

func (s *tenderStores) event(u market.User, objType, action string) market.AuditEvent {
	return market.AuditEvent{ActorUser: u.ID, ActorOrg: u.OrganisationID, ObjectType: objType, Action: action}
}

// mustCreateTender stores t as a draft, or fails the test.
func mustCreateTender(tb testing.TB, s *tenderStores, t market.Tender) market.Tender {
	tb.Helper()
	if err := s.ts.CreateTender(tb.Context(), &t, s.event(s.leadUser, "tender", "tender.created")); err != nil {
		tb.Fatalf("CreateTender(%s): %v", t.Title, err)
	}
	return t
}

// mustSave saves t after change, or fails the test.
func mustSave(tb testing.TB, s *tenderStores, t market.Tender, action string, change func(*market.Tender)) market.Tender {
	tb.Helper()
	v := t.Version
	change(&t)
	if err := s.ts.SaveTender(tb.Context(), &t, v, s.event(s.leadUser, "tender", action)); err != nil {
		tb.Fatalf("SaveTender(%s, %s): %v", t.Title, action, err)
	}
	return t
}

// mustPublished creates t and publishes it at the clock's time.
func mustPublished(tb testing.TB, s *tenderStores, t market.Tender) market.Tender {
	tb.Helper()
	t = mustCreateTender(tb, s, t)
	return mustSave(tb, s, t, "tender.published", func(t *market.Tender) { t.PublishedAt = s.clock.Now() })
}

// auditEvent is one row of the audit trail.
type auditEvent struct {
	Seq                                                         int64
	ActorUser, ActorOrg, ObjectType, ObjectID, TenderID, Action string
	Detail                                                      map[string]string
	At                                                          time.Time
}

// anyTime scans a timestamp of either engine.
type anyTime struct{ t *time.Time }

func (a anyTime) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*a.t = v.UTC()
		return nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		*a.t = t.UTC()
		return err
	}
	return fmt.Errorf("cannot scan %T into a time", src)
}

// mustEvents returns the whole audit trail, in order.
func mustEvents(tb testing.TB, s *tenderStores) []auditEvent {
	tb.Helper()
	rows, err := s.db.QueryContext(tb.Context(), `SELECT seq, actor_user, actor_org, object_type, object_id,
		COALESCE(tender_id, ''), action, detail, at FROM audit_events ORDER BY seq`)
	if err != nil {
		tb.Fatalf("read the audit trail: %v", err)
	}
	defer rows.Close()
	var evs []auditEvent
	for rows.Next() {
		var e auditEvent
		var detail string
		if err := rows.Scan(&e.Seq, &e.ActorUser, &e.ActorOrg, &e.ObjectType, &e.ObjectID, &e.TenderID,
			&e.Action, &detail, anyTime{&e.At}); err != nil {
			tb.Fatalf("read the audit trail: %v", err)
		}
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			tb.Fatalf("audit detail %q: %v", detail, err)
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("read the audit trail: %v", err)
	}
	return evs
}

// expectEvents runs fn and checks that it appended exactly the events
// with the given actions (none when fn fails), returning them.
func expectEvents(tb testing.TB, s *tenderStores, fn func(), actions ...string) []auditEvent {
	tb.Helper()
	before := len(mustEvents(tb, s))
	fn()
	evs := mustEvents(tb, s)[before:]
	got := make([]string, len(evs))
	for i, e := range evs {
		got[i] = e.Action
	}
	if !slices.Equal(got, actions) {
		tb.Fatalf("audit events %q, want %q", got, actions)
	}
	return evs
}

func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func TestTenderCreateGetSave(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		s.clock.Add(time.Minute)
		in := s.draft("Community services analytics")
		var tender market.Tender
		evs := expectEvents(t, s, func() { tender = mustCreateTender(t, s, in) }, "tender.created")
		at := micro(s.clock.Now())
		if tender.ID == "" || tender.Version != 1 || !tender.CreatedAt.Equal(at) || !tender.UpdatedAt.Equal(at) ||
			!tender.BidDeadline.Equal(micro(in.BidDeadline)) || tender.Title != in.Title {
			t.Fatalf("created %+v: want an ID, version 1, times %v, the fields sent", tender, at)
		}
		if e := evs[0]; e.ObjectType != "tender" || e.ObjectID != tender.ID || e.TenderID != tender.ID ||
			e.ActorUser != s.leadUser.ID || e.ActorOrg != s.lead.ID || !e.At.Equal(at) || len(e.Detail) != 0 {
			t.Errorf("creation event %+v: want the tender, its lead's user and org, at %v", e, at)
		}
		if got, err := s.ts.GetTender(ctx, tender.ID); err != nil || !reflect.DeepEqual(got, tender) {
			t.Fatalf("GetTender =\n%+v, %v\nwant\n%+v", got, err, tender)
		}
		if tender.Status(s.clock.Now()) != market.TenderDraft {
			t.Errorf("a new tender is %s, want draft", tender.Status(s.clock.Now()))
		}

		t.Run("WithoutOptionalParts", func(t *testing.T) {
			bare := market.Tender{BuyerID: s.lead.ID, CreatedBy: s.leadUser.ID, Title: "Bare"}
			bare = mustCreateTender(t, s, bare)
			got, err := s.ts.GetTender(ctx, bare.ID)
			if err != nil || !reflect.DeepEqual(got, bare) || got.Baseline != nil || !got.BidDeadline.IsZero() {
				t.Errorf("GetTender of a bare draft =\n%+v, %v\nwant\n%+v", got, err, bare)
			}
		})

		s.clock.Add(time.Minute)
		var saved market.Tender
		expectEvents(t, s, func() {
			saved = mustSave(t, s, tender, "tender.updated", func(t *market.Tender) {
				t.Title = "Community services analytics and contracts"
				t.Capabilities = []string{"finance"}
				t.Regions = []string{"london", "south_east"}
				t.JointCommissioners = []string{s.other.ID, s.joint.ID}
				t.Baseline = nil
				t.Criteria[1].Weight = 55
				t.Criteria[0].Weight = 45
			})
		}, "tender.updated")
		if saved.Version != 2 || !saved.UpdatedAt.Equal(micro(s.clock.Now())) || !saved.CreatedAt.Equal(tender.CreatedAt) {
			t.Errorf("saved version %d at %v (created %v), want 2 at the clock's time", saved.Version, saved.UpdatedAt, saved.CreatedAt)
		}
		if got, err := s.ts.GetTender(ctx, saved.ID); err != nil || !reflect.DeepEqual(got, saved) {
			t.Fatalf("GetTender after save =\n%+v, %v\nwant\n%+v", got, err, saved)
		}

		for name, c := range map[string]struct {
			id      string
			version int64
			change  func(*market.Tender)
			code    string
		}{
			"ErrStaleVersion":  {saved.ID, 1, func(t *market.Tender) { t.Title = "Stale" }, market.EPRECONDITION},
			"ErrFutureVersion": {saved.ID, 3, func(t *market.Tender) { t.Title = "Future" }, market.EPRECONDITION},
			"ErrUnknown":       {"0190f000-0000-7000-8000-000000000000", 2, func(t *market.Tender) {}, market.ENOTFOUND},
			// A joint commissioner that does not exist breaks a foreign
			// key after the tender row was updated: all is rolled back.
			"ErrUnknownCommissioner": {saved.ID, 2, func(t *market.Tender) {
				t.Title = "Half written"
				t.JointCommissioners = []string{"0190f000-0000-7000-8000-000000000000"}
			}, market.EINTERNAL},
		} {
			t.Run(name, func(t *testing.T) {
				next := saved
				next.ID = c.id
				c.change(&next)
				expectEvents(t, s, func() {
					err := s.ts.SaveTender(ctx, &next, c.version, s.event(s.leadUser, "tender", "tender.updated"))
					wantCode(t, err, c.code)
				})
				if got, _ := s.ts.GetTender(ctx, saved.ID); !reflect.DeepEqual(got, saved) {
					t.Errorf("a refused save changed the tender:\n%+v\nwant\n%+v", got, saved)
				}
			})
		}
		if _, err := s.ts.GetTender(ctx, "0190f000-0000-7000-8000-000000000000"); market.ErrorCode(err) != market.ENOTFOUND {
			t.Errorf("GetTender(unknown) = %v, want not found", err)
		}

		t.Run("ConcurrentSameVersion", func(t *testing.T) {
			const writers = 8
			mustWarmPool(t, s.db, writers)
			var wg sync.WaitGroup
			errs := make([]error, writers)
			start := make(chan struct{})
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					w := saved
					w.Title = fmt.Sprintf("Writer %d", i)
					errs[i] = s.ts.SaveTender(ctx, &w, saved.Version, s.event(s.leadUser, "tender", "tender.updated"))
				}()
			}
			close(start)
			wg.Wait()
			wins := countWins(t, errs, market.EPRECONDITION, "save")
			if wins != 1 {
				t.Errorf("%d concurrent saves of one version succeeded, want exactly 1", wins)
			}
		})
	})
}

func TestListTenders(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		day := 24 * time.Hour
		t0 := s.clock.Now()
		step := func() { s.clock.Add(time.Second) }

		draft := mustCreateTender(t, s, s.draft("Draft of the lead"))
		step()
		// A draft of another CCG that names the lead as a joint commissioner.
		jd := s.draft("Draft led by another CCG")
		jd.BuyerID, jd.CreatedBy, jd.JointCommissioners = s.other.ID, s.otherUser.ID, []string{s.lead.ID}
		jointDraft := mustCreateTender(t, s, jd)
		step()
		open := s.draft("Finance ledger support")
		open.Capabilities, open.Regions = []string{"finance"}, []string{"london"}
		open.Description = "Ledger reconciliation and month-end reporting for two CCGs."
		openT := mustPublished(t, s, open)
		step()
		short := s.draft("Procurement advice, short deadline")
		short.Capabilities = []string{"procurement"}
		short.ClarificationDeadline, short.BidDeadline = s.clock.Now().Add(30*time.Minute), s.clock.Now().Add(time.Hour)
		shortT := mustPublished(t, s, short)
		step()
		ended := map[string]func(*market.Tender){
			"cancelled":    func(t *market.Tender) { t.CancelledAt, t.CancelReason = s.clock.Now(), "Budget withdrawn" },
			"unsuccessful": func(t *market.Tender) { t.UnsuccessfulAt, t.UnsuccessfulNote = s.clock.Now(), "No compliant bids" },
			"standstill": func(t *market.Tender) {
				t.AwardedAt, t.StandstillEndsAt = s.clock.Now(), s.clock.Now().Add(10*day)
			},
			"awarded": func(t *market.Tender) {
				t.AwardedAt, t.StandstillEndsAt, t.AwardConfirmedAt = s.clock.Now(), s.clock.Now(), s.clock.Now()
			},
		}
		all := []market.Tender{draft, jointDraft, openT, shortT}
		for _, name := range []string{"cancelled", "unsuccessful", "standstill", "awarded"} {
			p := mustPublished(t, s, s.draft("Tender that ends "+name))
			all = append(all, mustSave(t, s, p, "tender."+name, ended[name]))
			step()
		}
		// Cancelled before it was ever published: its lead still lists it.
		all = append(all, mustSave(t, s, mustCreateTender(t, s, s.draft("Cancelled draft")), "tender.cancelled", ended["cancelled"]))

		visible := func(tn market.Tender, buyers []string) bool {
			return !tn.PublishedAt.IsZero() || slices.ContainsFunc(tn.Commissioners(), func(id string) bool { return slices.Contains(buyers, id) })
		}
		listed := func(tn market.Tender) time.Time {
			if tn.PublishedAt.IsZero() {
				return tn.CreatedAt
			}
			return tn.PublishedAt
		}
		newestFirst := func(a, b market.Tender) int {
			return cmp.Or(listed(b).Compare(listed(a)), cmp.Compare(b.ID, a.ID))
		}
		titles := func(ts []market.Tender) []string {
			out := make([]string, len(ts))
			for i, tn := range ts {
				out[i] = tn.Title
			}
			return out
		}
		list := func(t *testing.T, f market.TenderFilter) []market.Tender {
			t.Helper()
			f.PageSize = market.MaxPageSize
			page, err := s.ts.ListTenders(ctx, f)
			if err != nil {
				t.Fatalf("ListTenders(%+v): %v", f, err)
			}
			if page.NextCursor != "" {
				t.Fatalf("ListTenders(%+v): a next cursor for %d items", f, len(page.Items))
			}
			return page.Items
		}

		// The status the store derives is the one Go derives, for every
		// status, at every moment that matters, for every caller.
		nows := map[string]time.Time{
			"Start":              t0,
			"ShortDeadline-1ms":  shortT.BidDeadline.Add(-time.Millisecond),
			"ShortDeadline-1ns":  shortT.BidDeadline.Add(-time.Nanosecond),
			"ShortDeadline":      shortT.BidDeadline,
			"ShortDeadline+1us":  shortT.BidDeadline.Add(time.Microsecond),
			"OpenDeadline":       openT.BidDeadline,
			"AfterEveryDeadline": t0.Add(30 * day),
		}
		buyerSets := map[string][]string{"Public": nil, "Lead": {s.lead.ID}, "Joint": {s.joint.ID}, "Other": {s.other.ID}, "Supplier": {s.sup1.ID}}
		for nowName, now := range nows {
			for buyersName, buyers := range buyerSets {
				for _, st := range append([]market.TenderStatus{""}, market.TenderStatuses...) {
					t.Run(fmt.Sprintf("%s/%s/%s", nowName, buyersName, cmp.Or(string(st), "any")), func(t *testing.T) {
						var want []market.Tender
						for _, tn := range all {
							if visible(tn, buyers) && (st == "" || tn.Status(now) == st) {
								want = append(want, tn)
							}
						}
						slices.SortFunc(want, newestFirst)
						got := list(t, market.TenderFilter{Status: st, Now: now, BuyerIDs: buyers})
						if !slices.Equal(titles(got), titles(want)) {
							t.Errorf("listed %q, want %q", titles(got), titles(want))
						}
					})
				}
			}
		}

		t.Run("DeadlineEdge", func(t *testing.T) {
			for _, c := range []struct {
				now  time.Time
				want market.TenderStatus
			}{
				{shortT.BidDeadline.Add(-time.Millisecond), market.TenderOpen},
				{shortT.BidDeadline, market.TenderClosed},
			} {
				got := list(t, market.TenderFilter{Status: c.want, Now: c.now, Capability: "procurement"})
				if len(got) != 1 || got[0].ID != shortT.ID {
					t.Errorf("at %v the short tender is not listed as %s: %q", c.now, c.want, titles(got))
				}
			}
		})
		t.Run("DraftsHiddenFromThePublic", func(t *testing.T) {
			for _, tn := range list(t, market.TenderFilter{Now: t0}) {
				if tn.PublishedAt.IsZero() {
					t.Errorf("the public list shows unpublished %q", tn.Title)
				}
			}
			if got := list(t, market.TenderFilter{Status: market.TenderDraft, Now: t0}); len(got) != 0 {
				t.Errorf("a public draft listing shows %q", titles(got))
			}
			got := list(t, market.TenderFilter{Status: market.TenderDraft, Now: t0, BuyerIDs: []string{s.lead.ID}})
			if !slices.Equal(titles(got), []string{jointDraft.Title, draft.Title}) {
				t.Errorf("the lead's drafts are %q, want its own and the one it commissions jointly", titles(got))
			}
		})
		t.Run("ItemsComplete", func(t *testing.T) {
			for _, tn := range list(t, market.TenderFilter{Now: t0, BuyerIDs: []string{s.lead.ID}}) {
				if stored, _ := s.ts.GetTender(ctx, tn.ID); !reflect.DeepEqual(tn, stored) {
					t.Errorf("listed\n%+v\nstored\n%+v", tn, stored)
				}
			}
		})

		filters := map[string]struct {
			f    market.TenderFilter
			want []string
		}{
			"Capability":          {market.TenderFilter{Capability: "finance"}, []string{openT.Title}},
			"CapabilityNone":      {market.TenderFilter{Capability: "hr_od"}, nil},
			"Region":              {market.TenderFilter{Region: "london"}, []string{openT.Title}},
			"RegionAndCapability": {market.TenderFilter{Region: "london", Capability: "procurement"}, nil},
			"QTitle":              {market.TenderFilter{Q: "ledger"}, []string{openT.Title}},
			"QDescription":        {market.TenderFilter{Q: "reconciliation"}, []string{openT.Title}},
			"QStemmed":            {market.TenderFilter{Q: "reconciliations reporting"}, []string{openT.Title}},
			"QPrefix":             {market.TenderFilter{Q: "Ledg"}, []string{openT.Title}},
			"QQuoted":             {market.TenderFilter{Q: `"ledger"`}, []string{openT.Title}},
			"QOperators":          {market.TenderFilter{Q: `-ledger OR NEAR(ledger*)`}, []string{openT.Title}},
			"QAllWords":           {market.TenderFilter{Q: "ledger procurement"}, nil},
			"QWithStatus":         {market.TenderFilter{Q: "ledger", Status: market.TenderClosed}, nil},
			"QAndCapability":      {market.TenderFilter{Q: "deadline", Capability: "procurement"}, []string{shortT.Title}},
		}
		for name, c := range filters {
			t.Run(name, func(t *testing.T) {
				c.f.Now = t0
				if got := titles(list(t, c.f)); !slices.Equal(got, c.want) {
					t.Errorf("listed %q, want %q", got, c.want)
				}
			})
		}
		t.Run("QOddInput", func(t *testing.T) {
			for _, q := range []string{`"`, `'`, `*`, `(`, `)`, `-`, `^`, `:`, `NEAR`, `AND OR NOT`, `title:ledger`,
				`'; DROP TABLE tenders; --`, `%_\`, "\x00", `ledger")`, `日本語`, `é`, `a`, `the`, `!!!`, `$1`, `?`,
				strings.Repeat("ledger ", 40), strings.Repeat("(", 200)} {
				if _, err := s.ts.ListTenders(ctx, market.TenderFilter{Q: q, Now: t0, PageSize: 5}); err != nil {
					t.Errorf("ListTenders(q=%q): %v", q, err)
				}
			}
			// Only punctuation or stop words: no filter at all.
			if got, want := len(list(t, market.TenderFilter{Q: `"(*)"`, Now: t0})), len(list(t, market.TenderFilter{Now: t0})); got != want {
				t.Errorf("q of punctuation lists %d, want all %d", got, want)
			}
		})
		t.Run("SearchFollowsSave", func(t *testing.T) {
			renamed := mustSave(t, s, openT, "tender.updated", func(t *market.Tender) {
				t.Title, t.Description = "Payroll bureau", "Monthly payroll."
			})
			if got := list(t, market.TenderFilter{Q: "ledger", Now: t0}); len(got) != 0 {
				t.Errorf("the old title still finds %q", titles(got))
			}
			if got := list(t, market.TenderFilter{Q: "payroll", Now: t0}); len(got) != 1 || got[0].ID != renamed.ID {
				t.Errorf("the new title finds %q", titles(got))
			}
		})
	})
}

func TestListTendersPaging(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		var all []market.Tender
		for i := range 23 {
			tn := s.draft(fmt.Sprintf("Tender %02d", i))
			if i%3 == 0 {
				tn.Capabilities = []string{"finance"}
			}
			tn = mustCreateTender(t, s, tn)
			if i%4 != 3 {
				tn = mustSave(t, s, tn, "tender.published", func(t *market.Tender) { t.PublishedAt = s.clock.Now() })
			}
			all = append(all, tn)
			// Several tenders share each publication time, so that the
			// order and the cursor rest on the ID too.
			if i%3 == 2 {
				s.clock.Add(time.Millisecond)
			}
		}
		now := s.clock.Now()
		for _, f := range []market.TenderFilter{
			{Now: now},
			{Now: now, BuyerIDs: []string{s.lead.ID}},
			{Now: now, Capability: "finance", BuyerIDs: []string{s.joint.ID}},
			{Now: now, Status: market.TenderOpen},
		} {
			f.PageSize = market.MaxPageSize
			whole, err := s.ts.ListTenders(ctx, f)
			if err != nil || whole.NextCursor != "" || len(whole.Items) < 5 {
				t.Fatalf("ListTenders(%+v) = %d items, cursor %q, %v; want at least 5 in one page", f, len(whole.Items), whole.NextCursor, err)
			}
			for _, size := range []int{1, 2, 5, 7} {
				t.Run(fmt.Sprintf("%d/%s/%d", size, f.Capability, len(f.BuyerIDs)), func(t *testing.T) {
					f := f
					f.PageSize = size
					var got []string
					for pages := 0; ; pages++ {
						if pages > 100 {
							t.Fatal("the cursor does not advance")
						}
						page, err := s.ts.ListTenders(ctx, f)
						if err != nil {
							t.Fatalf("ListTenders: %v", err)
						}
						for _, tn := range page.Items {
							got = append(got, tn.ID)
						}
						if page.NextCursor == "" {
							break
						}
						if len(page.Items) != size {
							t.Fatalf("a page of %d with a next cursor, want %d", len(page.Items), size)
						}
						f.Cursor = page.NextCursor
					}
					var want []string
					for _, tn := range whole.Items {
						want = append(want, tn.ID)
					}
					if !slices.Equal(got, want) {
						t.Errorf("paged %d ids, want %d in the order of one page:\n%q\n%q", len(got), len(want), got, want)
					}
				})
			}
		}

		t.Run("ForeignCursor", func(t *testing.T) {
			for name, cursor := range map[string]string{
				"Provider":     market.EncodeCursor("n", "arden partners", all[0].ID),
				"Relevance":    market.EncodeCursor("r", "0.5", all[0].ID),
				"Organisation": market.EncodeCursor("c", all[0].CreatedAt.Format("2006-01-02T15:04:05.000000Z"), all[0].ID),
				"BadTime":      market.EncodeCursor("t", "yesterday", all[0].ID),
				"Short":        market.EncodeCursor("t", all[0].ID),
				"Garbage":      "not a cursor!",
			} {
				t.Run(name, func(t *testing.T) {
					_, err := s.ts.ListTenders(ctx, market.TenderFilter{Now: now, Cursor: cursor, PageSize: 5})
					wantCode(t, err, market.EINVALID)
					if fs := market.ErrorFields(err); len(fs) != 1 || fs[0].Field != "cursor" {
						t.Errorf("fields %+v, want cursor", fs)
					}
				})
			}
		})
	})
}

func TestQuestions(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		tender := mustPublished(t, s, s.draft("Questions welcome"))
		ask := func(t *testing.T, u market.User, text string) market.Question {
			t.Helper()
			s.clock.Add(time.Second)
			q := market.Question{TenderID: tender.ID, AskerOrgID: u.OrganisationID, AskerUserID: u.ID, Text: text}
			evs := expectEvents(t, s, func() {
				if err := s.ts.CreateQuestion(ctx, &q, s.event(u, "question", "question.asked")); err != nil {
					t.Fatalf("CreateQuestion: %v", err)
				}
			}, "question.asked")
			if q.ID == "" || !q.AskedAt.Equal(micro(s.clock.Now())) || !q.AnsweredAt.IsZero() {
				t.Errorf("asked %+v: want an ID, asked at the clock's time, no answer", q)
			}
			if e := evs[0]; e.ObjectID != q.ID || e.TenderID != tender.ID || e.ActorOrg != u.OrganisationID {
				t.Errorf("question event %+v: want the question, the tender, the asker's org", e)
			}
			return q
		}
		q1 := ask(t, s.sup1User, "Is TUPE expected to apply?")
		q2 := ask(t, s.sup2User, "May we subcontract the analytics?")
		if got, err := s.ts.GetQuestion(ctx, q1.ID); err != nil || !reflect.DeepEqual(got, q1) {
			t.Errorf("GetQuestion =\n%+v, %v\nwant\n%+v", got, err, q1)
		}
		if got, err := s.ts.ListQuestions(ctx, tender.ID); err != nil || !reflect.DeepEqual(got, []market.Question{q1, q2}) {
			t.Errorf("ListQuestions =\n%+v, %v\nwant oldest first", got, err)
		}

		s.clock.Add(time.Minute)
		answered := q1
		answered.Answer, answered.AnsweredBy = "Yes, for two staff.", s.jointUser.ID
		evs := expectEvents(t, s, func() {
			if err := s.ts.AnswerQuestion(ctx, &answered, s.event(s.jointUser, "question", "question.answered")); err != nil {
				t.Fatalf("AnswerQuestion: %v", err)
			}
		}, "question.answered")
		if !answered.AnsweredAt.Equal(micro(s.clock.Now())) {
			t.Errorf("answered at %v, want the clock's time", answered.AnsweredAt)
		}
		if e := evs[0]; e.ObjectID != q1.ID || e.TenderID != tender.ID || e.ActorUser != s.jointUser.ID {
			t.Errorf("answer event %+v", e)
		}
		if got, err := s.ts.GetQuestion(ctx, q1.ID); err != nil || !reflect.DeepEqual(got, answered) {
			t.Errorf("GetQuestion after the answer =\n%+v, %v\nwant\n%+v", got, err, answered)
		}

		t.Run("ErrAnsweredTwice", func(t *testing.T) {
			again := answered
			again.Answer, again.AnsweredBy = "No.", s.leadUser.ID
			expectEvents(t, s, func() {
				wantCode(t, s.ts.AnswerQuestion(ctx, &again, s.event(s.leadUser, "question", "question.answered")), market.ECONFLICT)
			})
			if got, _ := s.ts.GetQuestion(ctx, q1.ID); !reflect.DeepEqual(got, answered) {
				t.Errorf("a second answer changed the question: %+v", got)
			}
		})
		t.Run("ErrUnknown", func(t *testing.T) {
			q := market.Question{ID: "0190f000-0000-7000-8000-000000000000", Answer: "x", AnsweredBy: s.leadUser.ID}
			expectEvents(t, s, func() {
				wantCode(t, s.ts.AnswerQuestion(ctx, &q, s.event(s.leadUser, "question", "question.answered")), market.ENOTFOUND)
			})
			_, err := s.ts.GetQuestion(ctx, q.ID)
			wantCode(t, err, market.ENOTFOUND)
		})
		t.Run("ConcurrentAnswers", func(t *testing.T) {
			const writers = 6
			mustWarmPool(t, s.db, writers)
			var wg sync.WaitGroup
			errs := make([]error, writers)
			start := make(chan struct{})
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					q := q2
					q.Answer, q.AnsweredBy = fmt.Sprintf("Answer %d", i), s.leadUser.ID
					errs[i] = s.ts.AnswerQuestion(ctx, &q, s.event(s.leadUser, "question", "question.answered"))
				}()
			}
			close(start)
			wg.Wait()
			wins := countWins(t, errs, market.ECONFLICT, "answer")
			if wins != 1 {
				t.Errorf("%d concurrent answers kept, want exactly 1", wins)
			}
		})
		if got, err := s.ts.ListQuestions(ctx, "0190f000-0000-7000-8000-000000000000"); err != nil || got == nil || len(got) != 0 {
			t.Errorf("ListQuestions(unknown) = %v, %v; want an empty list", got, err)
		}
	})
}

// mustSubmit stores a bid of u's supplier, or fails the test.
func mustSubmit(tb testing.TB, s *tenderStores, tender market.Tender, u market.User, price int64) market.Bid {
	tb.Helper()
	b := newBid(s, tender, u, price)
	if err := s.ts.CreateBid(tb.Context(), &b, s.event(u, "bid", "bid.submitted")); err != nil {
		tb.Fatalf("CreateBid: %v", err)
	}
	return b
}

func newBid(s *tenderStores, tender market.Tender, u market.User, price int64) market.Bid {
	at := s.clock.Now()
	return market.Bid{TenderID: tender.ID, SupplierID: u.OrganisationID, SubmittedBy: u.ID, Status: market.BidSubmitted,
		Version: 1, PricePence: price, Responses: map[string]string{"approach": "We will listen first."},
		SubmittedAt: at, UpdatedAt: at}
}

func TestBids(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		tender := mustPublished(t, s, s.draft("Bids welcome"))
		s.clock.Add(time.Second)

		var b1 market.Bid
		evs := expectEvents(t, s, func() { b1 = mustSubmit(t, s, tender, s.sup1User, 40_000_000) }, "bid.submitted")
		at := micro(s.clock.Now())
		if b1.ID == "" || b1.Version != 1 || b1.Status != market.BidSubmitted || !b1.SubmittedAt.Equal(at) || !b1.UpdatedAt.Equal(at) {
			t.Fatalf("submitted %+v: want an ID, version 1, submitted at %v", b1, at)
		}
		if e := evs[0]; e.ObjectType != "bid" || e.ObjectID != b1.ID || e.TenderID != tender.ID || e.ActorOrg != s.sup1.ID || len(e.Detail) != 0 {
			t.Errorf("bid event %+v: want the bid, the tender, the supplier, no detail", e)
		}
		if got, err := s.ts.GetBid(ctx, b1.ID); err != nil || !reflect.DeepEqual(got, b1) {
			t.Fatalf("GetBid =\n%+v, %v\nwant\n%+v", got, err, b1)
		}

		t.Run("ErrSecondLiveBid", func(t *testing.T) {
			b := newBid(s, tender, s.sup1User, 39_000_000)
			before := b
			expectEvents(t, s, func() {
				err := s.ts.CreateBid(ctx, &b, s.event(s.sup1User, "bid", "bid.submitted"))
				wantCode(t, err, market.ECONFLICT)
				if msg := market.ErrorMessage(err); msg != "Your organisation already has a live bid for this tender; revise it instead." {
					t.Errorf("message %q", msg)
				}
			})
			if !reflect.DeepEqual(b, before) {
				t.Errorf("a refused bid was changed: %+v", b)
			}
			if n := mustCount(t, s.stores, "bids"); n != 1 {
				t.Errorf("%d bids stored, want 1", n)
			}
		})

		b2 := mustSubmit(t, s, tender, s.sup2User, 42_000_000)

		s.clock.Add(time.Minute)
		rev := b1
		rev.Version, rev.PricePence, rev.Responses, rev.UpdatedAt = 2, 38_000_000, map[string]string{"approach": "Revised."}, s.clock.Now()
		evs = expectEvents(t, s, func() {
			if err := s.ts.ReviseBid(ctx, &rev, s.event(s.sup1User, "bid", "bid.revised")); err != nil {
				t.Fatalf("ReviseBid: %v", err)
			}
		}, "bid.revised")
		if evs[0].ObjectID != b1.ID || evs[0].TenderID != tender.ID {
			t.Errorf("revision event %+v", evs[0])
		}
		if got, err := s.ts.GetBid(ctx, b1.ID); err != nil || !reflect.DeepEqual(got, rev) || !got.SubmittedAt.Equal(b1.SubmittedAt) {
			t.Errorf("GetBid after revision =\n%+v, %v\nwant\n%+v", got, err, rev)
		}
		versions, err := s.ts.BidVersions(ctx, b1.ID)
		if err != nil || len(versions) != 2 {
			t.Fatalf("BidVersions = %d, %v; want 2", len(versions), err)
		}
		if v := versions[0]; v.Version != 1 || v.PricePence != b1.PricePence || v.Responses["approach"] != b1.Responses["approach"] || !v.UpdatedAt.Equal(b1.UpdatedAt) {
			t.Errorf("version 1 = %+v, want the first submission", v)
		}
		if v := versions[1]; v.Version != 2 || v.PricePence != rev.PricePence || v.Responses["approach"] != "Revised." || !v.UpdatedAt.Equal(rev.UpdatedAt) {
			t.Errorf("version 2 = %+v, want the revision", v)
		}

		t.Run("ErrStaleRevision", func(t *testing.T) {
			stale := b1
			stale.Version, stale.PricePence = 2, 1
			expectEvents(t, s, func() {
				wantCode(t, s.ts.ReviseBid(ctx, &stale, s.event(s.sup1User, "bid", "bid.revised")), market.ECONFLICT)
			})
			if got, _ := s.ts.GetBid(ctx, b1.ID); !reflect.DeepEqual(got, rev) {
				t.Errorf("a stale revision changed the bid: %+v", got)
			}
			if vs, _ := s.ts.BidVersions(ctx, b1.ID); len(vs) != 2 {
				t.Errorf("%d versions after a stale revision, want 2", len(vs))
			}
		})
		t.Run("ErrUnknown", func(t *testing.T) {
			unknown := rev
			unknown.ID, unknown.Version = "0190f000-0000-7000-8000-000000000000", 3
			expectEvents(t, s, func() {
				wantCode(t, s.ts.ReviseBid(ctx, &unknown, s.event(s.sup1User, "bid", "bid.revised")), market.ENOTFOUND)
				wantCode(t, s.ts.WithdrawBid(ctx, &unknown, s.event(s.sup1User, "bid", "bid.withdrawn")), market.ENOTFOUND)
			})
			_, err := s.ts.GetBid(ctx, unknown.ID)
			wantCode(t, err, market.ENOTFOUND)
			_, err = s.ts.BidVersions(ctx, unknown.ID)
			wantCode(t, err, market.ENOTFOUND)
		})

		s.clock.Add(time.Minute)
		wd := rev
		wd.Status, wd.WithdrawnAt, wd.UpdatedAt = market.BidWithdrawn, s.clock.Now(), s.clock.Now()
		expectEvents(t, s, func() {
			if err := s.ts.WithdrawBid(ctx, &wd, s.event(s.sup1User, "bid", "bid.withdrawn")); err != nil {
				t.Fatalf("WithdrawBid: %v", err)
			}
		}, "bid.withdrawn")
		if got, err := s.ts.GetBid(ctx, b1.ID); err != nil || !reflect.DeepEqual(got, wd) || got.Status != market.BidWithdrawn ||
			!got.WithdrawnAt.Equal(micro(s.clock.Now())) {
			t.Errorf("GetBid after withdrawal =\n%+v, %v\nwant\n%+v", got, err, wd)
		}
		t.Run("ErrWithdrawnTwice", func(t *testing.T) {
			again := wd
			expectEvents(t, s, func() {
				wantCode(t, s.ts.WithdrawBid(ctx, &again, s.event(s.sup1User, "bid", "bid.withdrawn")), market.ECONFLICT)
			})
		})
		t.Run("ErrReviseWithdrawn", func(t *testing.T) {
			r := wd
			r.Version = 3
			expectEvents(t, s, func() {
				wantCode(t, s.ts.ReviseBid(ctx, &r, s.event(s.sup1User, "bid", "bid.revised")), market.ECONFLICT)
			})
		})

		// Withdrawn, the supplier may submit afresh.
		b3 := mustSubmit(t, s, tender, s.sup1User, 37_000_000)
		if b3.ID == b1.ID {
			t.Fatal("a new submission reused the withdrawn bid's ID")
		}

		for name, c := range map[string]struct {
			supplier      string
			withWithdrawn bool
			want          []string
		}{
			"Submitted":            {"", false, []string{b2.ID, b3.ID}},
			"All":                  {"", true, []string{b1.ID, b2.ID, b3.ID}},
			"OneSupplier":          {s.sup1.ID, false, []string{b3.ID}},
			"OneSupplierWithdrawn": {s.sup1.ID, true, []string{b1.ID, b3.ID}},
			"SupplierWithoutBids":  {s.lead.ID, true, nil},
		} {
			t.Run("List"+name, func(t *testing.T) {
				bids, err := s.ts.ListBids(ctx, tender.ID, c.supplier, c.withWithdrawn)
				if err != nil || bids == nil {
					t.Fatalf("ListBids = %v, %v", bids, err)
				}
				var got []string
				for _, b := range bids {
					got = append(got, b.ID)
				}
				if !slices.Equal(got, c.want) {
					t.Errorf("listed %q, want %q (oldest first)", got, c.want)
				}
			})
		}

		t.Run("ListBidPrices", func(t *testing.T) {
			// The comparison's read: the submitted bids as ListBids gives
			// them, without their responses.
			got, err := s.ts.ListBidPrices(ctx, tender.ID)
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.ts.ListBids(ctx, tender.ID, "", false)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				want[i].Responses = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ListBidPrices =\n%+v\nwant\n%+v", got, want)
			}
		})

		t.Run("ConcurrentRevisions", func(t *testing.T) {
			const writers = 6
			mustWarmPool(t, s.db, writers)
			var wg sync.WaitGroup
			errs := make([]error, writers)
			start := make(chan struct{})
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r := b2
					r.Version, r.PricePence = 2, int64(1000+i)
					errs[i] = s.ts.ReviseBid(ctx, &r, s.event(s.sup2User, "bid", "bid.revised"))
				}()
			}
			close(start)
			wg.Wait()
			wins := countWins(t, errs, market.ECONFLICT, "revision")
			if vs, _ := s.ts.BidVersions(ctx, b2.ID); wins != 1 || len(vs) != 2 {
				t.Errorf("%d concurrent revisions of version 1 succeeded and %d versions are kept, want 1 and 2", wins, len(vs))
			}
		})
	})
}

// TestBidsConcurrent submits one supplier's bid from many goroutines at
// once: only the database's unique index stands between them.
func TestBidsConcurrent(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		tender := mustPublished(t, s, s.draft("Race"))
		const submitters = 10
		mustWarmPool(t, s.db, submitters)
		before := len(mustEvents(t, s))
		var wg sync.WaitGroup
		errs := make([]error, submitters)
		start := make(chan struct{})
		for i := range submitters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := newBid(s, tender, s.sup1User, int64(1_000_000+i))
				<-start
				errs[i] = s.ts.CreateBid(ctx, &b, s.event(s.sup1User, "bid", "bid.submitted"))
			}()
		}
		close(start)
		wg.Wait()
		wins := countWins(t, errs, market.ECONFLICT, "submission")
		if wins != 1 {
			t.Fatalf("%d of %d concurrent submissions succeeded, want exactly 1", wins, submitters)
		}
		if n := mustCount(t, s.stores, "bids"); n != 1 {
			t.Errorf("%d bids stored, want 1", n)
		}
		if n := mustCount(t, s.stores, "bid_versions"); n != 1 {
			t.Errorf("%d bid versions stored, want 1", n)
		}
		if evs := mustEvents(t, s)[before:]; len(evs) != 1 || evs[0].Action != "bid.submitted" {
			t.Errorf("audit events %+v, want one bid.submitted", evs)
		}
	})
}

func TestIdempotency(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		t0 := s.clock.Now()
		const scope = "org-1 POST /api/v1/tenders/x/bids"
		mustReserve := func(t *testing.T, scope, key, hash string, at time.Time) *market.IdempotencyRecord {
			t.Helper()
			rec, err := s.is.ReserveIdempotency(ctx, scope, key, hash, at)
			if err != nil {
				t.Fatalf("ReserveIdempotency(%s): %v", key, err)
			}
			return rec
		}

		if rec := mustReserve(t, scope, "k1", "h1", t0); rec != nil {
			t.Fatalf("a new key returned %+v, want nil", rec)
		}
		rec := mustReserve(t, scope, "k1", "h2", t0.Add(time.Second))
		if rec == nil || rec.Done || rec.RequestHash != "h1" || rec.Scope != scope || rec.Key != "k1" || !rec.CreatedAt.Equal(micro(t0)) {
			t.Fatalf("a running key returned %+v, want the first request's, not done", rec)
		}
		if rec := mustReserve(t, "org-2 POST /api/v1/tenders/x/bids", "k1", "h1", t0); rec != nil {
			t.Errorf("the same key in another scope returned %+v, want nil", rec)
		}

		body := []byte(`{"id":"b1","price_pence":100}`)
		if err := s.is.CompleteIdempotency(ctx, scope, "k1", 201, body); err != nil {
			t.Fatalf("CompleteIdempotency: %v", err)
		}
		rec = mustReserve(t, scope, "k1", "h1", t0.Add(time.Hour))
		if rec == nil || !rec.Done || rec.Status != 201 || string(rec.Body) != string(body) || rec.RequestHash != "h1" {
			t.Fatalf("a completed key returned %+v, want the stored answer", rec)
		}
		wantCode(t, s.is.CompleteIdempotency(ctx, scope, "k1", 500, nil), market.ENOTFOUND)
		wantCode(t, s.is.CompleteIdempotency(ctx, scope, "never", 201, body), market.ENOTFOUND)
		if err := s.is.ReleaseIdempotency(ctx, scope, "k1"); err != nil {
			t.Fatalf("ReleaseIdempotency(done): %v", err)
		}
		if rec := mustReserve(t, scope, "k1", "h1", t0.Add(time.Hour)); rec == nil || !rec.Done || rec.Status != 201 {
			t.Errorf("releasing a completed key lost its answer: %+v", rec)
		}

		t.Run("Release", func(t *testing.T) {
			mustReserve(t, scope, "k2", "h1", t0)
			if err := s.is.ReleaseIdempotency(ctx, scope, "k2"); err != nil {
				t.Fatalf("ReleaseIdempotency: %v", err)
			}
			if rec := mustReserve(t, scope, "k2", "h3", t0); rec != nil {
				t.Errorf("a released key returned %+v, want nil", rec)
			}
			if err := s.is.ReleaseIdempotency(ctx, scope, "never"); err != nil {
				t.Errorf("ReleaseIdempotency(unknown) = %v, want nil", err)
			}
		})
		t.Run("Expiry", func(t *testing.T) {
			// k1 was created at t0 and completed.
			if rec := mustReserve(t, scope, "k1", "h9", micro(t0).Add(market.IdempotencyTTL-time.Microsecond)); rec == nil || !rec.Done {
				t.Errorf("just inside the TTL the answer is gone: %+v", rec)
			}
			later := micro(t0).Add(market.IdempotencyTTL)
			if rec := mustReserve(t, scope, "k1", "h9", later); rec != nil {
				t.Fatalf("at the TTL the key returned %+v, want nil (replaced)", rec)
			}
			rec := mustReserve(t, scope, "k1", "h10", later.Add(time.Second))
			if rec == nil || rec.Done || rec.RequestHash != "h9" || !rec.CreatedAt.Equal(later) || rec.Body != nil {
				t.Errorf("the replacement is %+v, want a fresh running reservation of h9", rec)
			}
		})
		for name, key := range map[string]string{"ConcurrentNewKey": "race", "ConcurrentExpiredKey": "k1"} {
			t.Run(name, func(t *testing.T) {
				const racers = 10
				at := t0.Add(10 * market.IdempotencyTTL)
				mustWarmPool(t, s.db, racers)
				var wg sync.WaitGroup
				recs := make([]*market.IdempotencyRecord, racers)
				errs := make([]error, racers)
				start := make(chan struct{})
				for i := range racers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						recs[i], errs[i] = s.is.ReserveIdempotency(ctx, scope, key, fmt.Sprintf("h%d", i), at)
					}()
				}
				close(start)
				wg.Wait()
				wins, winner := 0, -1
				for i := range racers {
					if errs[i] != nil {
						t.Errorf("concurrent reservation: %v", errs[i])
					} else if recs[i] == nil {
						wins++
						winner = i
					}
				}
				if wins != 1 {
					t.Fatalf("%d of %d concurrent reservations won, want exactly 1", wins, racers)
				}
				for i, rec := range recs {
					if rec != nil && rec.RequestHash != fmt.Sprintf("h%d", winner) {
						t.Errorf("racer %d was shown %q, want the winner's h%d", i, rec.RequestHash, winner)
					}
				}
			})
		}
	})
}

// TestTendersService runs the domain's rules on the store: what the
// service asks of each method is what the store does.
func TestTendersService(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		es := sqlstore.NewEvaluationStore(s.db, s.clock)
		svc := &market.Tenders{Store: s.ts, Orgs: s.u, Clock: s.clock, MinTenderPeriod: time.Hour, Declarations: es}
		evals := &market.Evaluations{Tenders: s.ts, Store: es, Users: s.u, Clock: s.clock, Standstill: market.DefaultStandstill}
		principal := func(o market.Organisation, u market.User) *market.Principal {
			return &market.Principal{UserID: u.ID, OrganisationID: o.ID, OrgKind: o.Kind, OrgStatus: o.Status, Role: u.Role}
		}
		lead, joint, sup1, sup2 := principal(s.lead, s.leadUser), principal(s.joint, s.jointUser), principal(s.sup1, s.sup1User), principal(s.sup2, s.sup2User)

		var tender market.Tender
		expectEvents(t, s, func() {
			var err error
			if tender, err = svc.CreateTender(ctx, lead, s.draft("Joint analytics service")); err != nil {
				t.Fatalf("CreateTender: %v", err)
			}
			if tender, err = svc.UpdateDraft(ctx, lead, tender.ID, tender.Version, func(t *market.Tender) { t.ContractMonths = 36 }); err != nil {
				t.Fatalf("UpdateDraft: %v", err)
			}
			if tender, err = svc.Publish(ctx, lead, tender.ID); err != nil {
				t.Fatalf("Publish: %v", err)
			}
		}, "tender.created", "tender.updated", "tender.published")
		if tender.Version != 3 || tender.ContractMonths != 36 || tender.Status(s.clock.Now()) != market.TenderOpen {
			t.Fatalf("published %+v: want version 3, open", tender)
		}
		if page, err := svc.ListTenders(ctx, nil, market.TenderFilter{Status: market.TenderOpen}); err != nil || len(page.Items) != 1 {
			t.Errorf("public open tenders = %d, %v; want the one published", len(page.Items), err)
		}

		q, err := svc.AskQuestion(ctx, sup1, tender.ID, "Is there an incumbent?")
		if err != nil {
			t.Fatalf("AskQuestion: %v", err)
		}
		if _, err := svc.AnswerQuestion(ctx, joint, tender.ID, q.ID, "No."); err != nil {
			t.Fatalf("AnswerQuestion by the joint commissioner: %v", err)
		}
		_, err = svc.AnswerQuestion(ctx, lead, tender.ID, q.ID, "Still no.")
		wantCode(t, err, market.ECONFLICT)

		responses := map[string]string{"approach": "Co-designed with both CCGs."}
		b1, err := svc.SubmitBid(ctx, sup1, tender.ID, 40_000_000, responses)
		if err != nil {
			t.Fatalf("SubmitBid: %v", err)
		}
		_, err = svc.SubmitBid(ctx, sup1, tender.ID, 41_000_000, responses)
		wantCode(t, err, market.ECONFLICT)
		if b1, err = svc.ReviseBid(ctx, sup1, tender.ID, b1.ID, 39_000_000, responses); err != nil || b1.Version != 2 {
			t.Fatalf("ReviseBid = version %d, %v", b1.Version, err)
		}
		if _, err := svc.SubmitBid(ctx, sup2, tender.ID, 45_000_000, responses); err != nil {
			t.Fatalf("SubmitBid of another supplier: %v", err)
		}
		got, versions, err := svc.GetBid(ctx, sup1, tender.ID, b1.ID)
		if err != nil || got.PricePence != 39_000_000 || len(versions) != 2 {
			t.Errorf("the bidder's GetBid = %+v with %d versions, %v", got, len(versions), err)
		}
		_, err = svc.ListBids(ctx, lead, tender.ID)
		wantCode(t, err, market.ECONFLICT) // sealed

		s.clock.Add(tender.BidDeadline.Sub(s.clock.Now()))
		_, err = svc.SubmitBid(ctx, sup2, tender.ID, 1, responses)
		wantCode(t, err, market.ECONFLICT)
		_, err = svc.ListBids(ctx, joint, tender.ID)
		wantCode(t, err, market.EFORBIDDEN) // no declaration yet
		if _, err := evals.Declare(ctx, joint, tender.ID, false, nil, ""); err != nil {
			t.Fatalf("Declare: %v", err)
		}
		if bids, err := svc.ListBids(ctx, joint, tender.ID); err != nil || len(bids) != 2 {
			t.Errorf("after the deadline and its declaration the joint buyer sees %d bids, %v; want 2", len(bids), err)
		}
	})
}
