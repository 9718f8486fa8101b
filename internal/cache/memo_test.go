package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// fakeAccounts is a user store of one user in one organisation, whose
// GetUser the test can hold while a write happens.
type fakeAccounts struct {
	market.UserStore // nil: the methods a test calls are below

	mu       sync.Mutex
	u        market.User
	o        market.Organisation
	reads    atomic.Int32
	hold     chan struct{} // when set, GetUser waits on it after reading
	readDone chan struct{} // closed by a held GetUser once it has read
}

func newFakeAccounts() *fakeAccounts {
	return &fakeAccounts{
		u: market.User{ID: "u1", OrganisationID: "o1", Role: market.RoleBuyer, Status: market.UserActive},
		o: market.Organisation{ID: "o1", Kind: market.KindBuyer, Name: "NHS Arden CCG", Status: market.StatusActive,
			Regions: []string{"midlands"}},
	}
}

func (s *fakeAccounts) GetUser(ctx context.Context, id string) (market.User, error) {
	s.reads.Add(1)
	s.mu.Lock()
	u, hold, done := s.u, s.hold, s.readDone
	s.hold = nil
	s.mu.Unlock()
	if id != u.ID {
		return market.User{}, market.Errorf(market.ENOTFOUND, "No such user.")
	}
	if hold != nil {
		close(done)
		<-hold
	}
	return u, nil
}

func (s *fakeAccounts) GetOrganisation(ctx context.Context, id string) (market.Organisation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != s.o.ID {
		return market.Organisation{}, market.Errorf(market.ENOTFOUND, "No such organisation.")
	}
	o := s.o
	o.Regions = append([]string(nil), s.o.Regions...)
	return o, nil
}

func (s *fakeAccounts) SetUserStatus(ctx context.Context, id string, st market.UserStatus) (market.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.u.Status = st
	return s.u, nil
}

func (s *fakeAccounts) SetOrganisationStatus(ctx context.Context, id string, st market.OrgStatus) (market.Organisation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.o.Status = st
	return s.o, nil
}

// setUserDirect changes the user without a wrapper, as a write the memo
// cannot know of.
func (s *fakeAccounts) setUserDirect(st market.UserStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.u.Status = st
}

func mustUser(tb testing.TB, us market.UserStore) market.User {
	tb.Helper()
	u, err := us.GetUser(context.Background(), "u1")
	if err != nil {
		tb.Fatalf("GetUser: %v", err)
	}
	return u
}

func mustOrg(tb testing.TB, us market.UserStore) market.Organisation {
	tb.Helper()
	o, err := us.GetOrganisation(context.Background(), "o1")
	if err != nil {
		tb.Fatalf("GetOrganisation: %v", err)
	}
	return o
}

// TestAccountMemoAcrossReplicas: a status change made through one
// process's wrapper is seen at once through another's, each process with
// its own cache on the shared backend (the same cache in process).
func TestAccountMemoAcrossReplicas(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			ca := b.new(t, Options{})
			cb := ca
			if b.redis {
				cb = b.new(t, Options{})
			}
			inner := newFakeAccounts()
			a, bb := NewUserStore(inner, ca), NewUserStore(inner, cb)

			mustUser(t, bb)
			mustOrg(t, bb)
			before := inner.reads.Load()
			if u := mustUser(t, bb); u.Status != market.UserActive {
				t.Fatalf("user = %s, want active", u.Status)
			}
			if n := inner.reads.Load() - before; n != 0 {
				t.Errorf("a second GetUser read the store %d times, want 0 (memoised)", n)
			}

			if _, err := a.SetUserStatus(ctx, "u1", market.UserDisabled); err != nil {
				t.Fatal(err)
			}
			if u := mustUser(t, bb); u.Status != market.UserDisabled {
				t.Errorf("user on B after A disabled it = %s, want disabled", u.Status)
			}
			if _, err := a.SetOrganisationStatus(ctx, "o1", market.StatusDisabled); err != nil {
				t.Fatal(err)
			}
			if o := mustOrg(t, bb); o.Status != market.StatusDisabled {
				t.Errorf("organisation on B after A disabled it = %s, want disabled", o.Status)
			}
		})
	}
}

// TestMemoReadRacingWrite: a read that began before a write and ends
// after its invalidation must not be kept as current.
func TestMemoReadRacingWrite(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			c := b.new(t, Options{})
			inner := newFakeAccounts()
			us := NewUserStore(inner, c)

			hold, readDone := make(chan struct{}), make(chan struct{})
			inner.mu.Lock()
			inner.hold, inner.readDone = hold, readDone
			inner.mu.Unlock()
			var slow market.User
			done := make(chan struct{})
			go func() {
				defer close(done)
				slow = mustUser(t, us)
			}()
			<-readDone // the slow read holds the active user
			if _, err := us.SetUserStatus(ctx, "u1", market.UserDisabled); err != nil {
				t.Fatal(err)
			}
			close(hold)
			<-done
			if slow.Status != market.UserActive {
				t.Fatalf("the racing read returned %s, want the active user it read", slow.Status)
			}
			if u := mustUser(t, us); u.Status != market.UserDisabled {
				t.Errorf("GetUser after the write = %s, want disabled (a racing read was kept as current)", u.Status)
			}
		})
	}
}

// TestMemoRedisDown: without a usable Redis the memo cannot know the
// generation, so every read goes to the store.
func TestMemoRedisDown(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr func(*testing.T) string
	}{
		{"refused", deadRedis},
		{"silent", silentRedis},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := MustCache(t, Options{Redis: mustClient(t, "redis://"+tc.addr(t)), Timeout: 20 * time.Millisecond})
			inner := newFakeAccounts()
			us := NewUserStore(inner, c)
			mustUser(t, us)
			inner.setUserDirect(market.UserDisabled)
			if u := mustUser(t, us); u.Status != market.UserDisabled {
				t.Errorf("GetUser with Redis down = %s, want disabled, read from the store", u.Status)
			}
			if n := inner.reads.Load(); n != 2 {
				t.Errorf("store reads = %d, want 2 (nothing memoised)", n)
			}
		})
	}
}

// TestMemoCopies: a caller changing what it got must not change what the
// memo hands the next caller.
func TestMemoCopies(t *testing.T) {
	c := MustCache(t, Options{})
	us := NewUserStore(newFakeAccounts(), c)
	o := mustOrg(t, us)
	o.Regions[0] = "london"
	if got := mustOrg(t, us); got.Regions[0] != "midlands" {
		t.Errorf("memo's regions = %v after a caller changed its copy, want [midlands]", got.Regions)
	}
}

// TestMemoMaxAge: a write the memo cannot know of is seen after
// MemoMaxAge.
func TestMemoMaxAge(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	c := MustCache(t, Options{Now: func() time.Time { return time.Unix(0, now.Load()) }})
	inner := newFakeAccounts()
	us := NewUserStore(inner, c)
	mustUser(t, us)
	inner.setUserDirect(market.UserDisabled)
	if u := mustUser(t, us); u.Status != market.UserActive {
		t.Fatalf("GetUser within MemoMaxAge = %s, want the memoised active user", u.Status)
	}
	now.Add(int64(MemoMaxAge))
	if u := mustUser(t, us); u.Status != market.UserDisabled {
		t.Errorf("GetUser after MemoMaxAge = %s, want disabled", u.Status)
	}
}

// fakeTenders holds one tender and its evaluators.
type fakeTenders struct {
	market.TenderStore     // nil
	market.EvaluationStore // nil

	mu    sync.Mutex
	t     market.Tender
	es    []market.Evaluator
	reads atomic.Int32
}

func (s *fakeTenders) GetTender(ctx context.Context, id string) (market.Tender, error) {
	s.reads.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.t
	t.Criteria = append([]market.Criterion(nil), s.t.Criteria...)
	return t, nil
}

func (s *fakeTenders) SaveTender(ctx context.Context, t *market.Tender, ifVersion int64, ev market.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Version = ifVersion + 1
	s.t = *t
	return nil
}

func (s *fakeTenders) ListEvaluators(ctx context.Context, tenderID string) ([]market.Evaluator, error) {
	s.reads.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]market.Evaluator(nil), s.es...), nil
}

func (s *fakeTenders) GetEvaluator(ctx context.Context, tenderID, userID string) (market.Evaluator, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.es {
		if e.UserID == userID {
			return e, nil
		}
	}
	return market.Evaluator{}, market.Errorf(market.ENOTFOUND, "No such evaluator.")
}

func (s *fakeTenders) DeclareConflicts(ctx context.Context, e *market.Evaluator, ev market.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.es {
		if s.es[i].UserID == e.UserID {
			s.es[i] = *e
			return nil
		}
	}
	s.es = append(s.es, *e)
	return nil
}

// TestTenderAndEvaluatorMemosAcrossReplicas: a tender saved and a conflict
// declared through one process's wrappers are seen at once through
// another's.
func TestTenderAndEvaluatorMemosAcrossReplicas(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			ca := b.new(t, Options{})
			cb := ca
			if b.redis {
				cb = b.new(t, Options{})
			}
			inner := &fakeTenders{t: market.Tender{ID: "t1", Title: "Analytics", Version: 1},
				es: []market.Evaluator{{TenderID: "t1", UserID: "u1", Assigned: true}}}
			ta, tb := NewTenderStore(inner, ca), NewTenderStore(inner, cb)
			ea, eb := NewEvaluationStore(inner, ca), NewEvaluationStore(inner, cb)

			for range 2 {
				if _, err := tb.GetTender(ctx, "t1"); err != nil {
					t.Fatal(err)
				}
				if _, err := eb.ListEvaluators(ctx, "t1"); err != nil {
					t.Fatal(err)
				}
				if _, err := eb.GetEvaluator(ctx, "t1", "u1"); err != nil {
					t.Fatal(err)
				}
			}
			if n := inner.reads.Load(); n != 2 {
				t.Errorf("store reads of tender and evaluators = %d after two rounds, want 2 (memoised)", n)
			}

			tn, _ := ta.GetTender(ctx, "t1")
			tn.Title = "Analytics and BI"
			if err := ta.SaveTender(ctx, &tn, tn.Version, market.AuditEvent{}); err != nil {
				t.Fatal(err)
			}
			if got, _ := tb.GetTender(ctx, "t1"); got.Title != "Analytics and BI" || got.Version != 2 {
				t.Errorf("tender on B after A saved it = %q v%d, want %q v2", got.Title, got.Version, "Analytics and BI")
			}

			decl := market.Evaluator{TenderID: "t1", UserID: "u1", Assigned: true,
				DeclaredAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Conflict: true, ConflictSuppliers: []string{"s1"}}
			if err := ea.DeclareConflicts(ctx, &decl, market.AuditEvent{}); err != nil {
				t.Fatal(err)
			}
			es, _ := eb.ListEvaluators(ctx, "t1")
			if len(es) != 1 || !es[0].Conflict {
				t.Errorf("evaluators on B after A's declaration = %+v, want u1 with a conflict", es)
			}
			if e, _ := eb.GetEvaluator(ctx, "t1", "u1"); !e.Conflict || e.DeclaredAt.IsZero() {
				t.Errorf("evaluator on B after A's declaration = %+v, want declared with a conflict", e)
			}
		})
	}
}

// TestOrganisationsMemo: many organisations read at once come from the
// memo where it holds them and from one read of the store for the rest
// (an inner store that reads one at a time is asked one by one); an
// unknown ID is absent, not an error; an account write made through
// another process's wrapper is seen at once; and a caller changing what
// it got changes nothing kept.
func TestOrganisationsMemo(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			ca := b.new(t, Options{})
			cb := ca
			if b.redis {
				cb = b.new(t, Options{})
			}
			inner := newFakeAccounts()
			counting := &countingOrgs{fakeAccounts: inner}
			a, bb := NewUserStore(inner, ca), NewUserStore(counting, cb).(*UserStore)

			got, err := bb.GetOrganisations(ctx, []string{"o1", "nobody", "o1"})
			if err != nil || len(got) != 1 || got["o1"].Name != "NHS Arden CCG" {
				t.Fatalf("GetOrganisations = %+v, %v; want o1 alone", got, err)
			}
			if n := counting.batches.Load(); n != 1 {
				t.Errorf("%d batch reads, want 1", n)
			}
			got["o1"].Regions[0] = "london"
			again, err := bb.GetOrganisations(ctx, []string{"o1"})
			if err != nil || again["o1"].Regions[0] != "midlands" {
				t.Errorf("second read = %+v, %v; want the kept copy, unchanged", again, err)
			}
			if n := counting.batches.Load(); n != 1 {
				t.Errorf("a second read of a kept organisation read the store (%d batches)", n)
			}
			if _, err := a.SetOrganisationStatus(ctx, "o1", market.StatusDisabled); err != nil {
				t.Fatal(err)
			}
			if o, _ := bb.GetOrganisations(ctx, []string{"o1"}); o["o1"].Status != market.StatusDisabled {
				t.Errorf("after a write on the other process: %s, want disabled", o["o1"].Status)
			}
			// An inner store without batch reads is read one by one.
			one := NewUserStore(newFakeAccounts(), MustCache(t, Options{})).(*UserStore)
			if o, err := one.GetOrganisations(ctx, []string{"o1", "nobody"}); err != nil || len(o) != 1 {
				t.Errorf("one by one: %+v, %v", o, err)
			}
		})
	}
}

// countingOrgs adds batch reads, counted, to fakeAccounts.
type countingOrgs struct {
	*fakeAccounts
	batches atomic.Int32
}

func (s *countingOrgs) GetOrganisations(ctx context.Context, ids []string) (map[string]market.Organisation, error) {
	s.batches.Add(1)
	out := map[string]market.Organisation{}
	for _, id := range ids {
		if o, err := s.GetOrganisation(ctx, id); err == nil {
			out[id] = o
		}
	}
	return out, nil
}
