package sqlstore_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// TestEraseUser: the row keeps only what is not personal, the sessions
// end, the event is chained, and of two admins erased at once, each
// asking that another admin remain, exactly one is.
func TestEraseUser(t *testing.T) {
	eachEngineAccounts(t, func(t *testing.T, s accountStores) {
		ctx := t.Context()
		o, a := mustRegister(t, s, buyer("NHS Erase CCG", "07E"), nil, "lead@erase.example.org")
		b := newUser("Second Admin", "second@erase.example.org", market.RoleBuyer)
		b.OrganisationID = o.ID
		if err := s.u.CreateUser(ctx, &b); err != nil {
			t.Fatal(err)
		}
		mustCreateToken(t, s, token(s, "erase-a", "", a.ID))
		s.clock.Add(time.Minute)
		mustCreateToken(t, s, token(s, "erase-a2", "erase-a", a.ID))
		mustCreateToken(t, s, token(s, "erase-b", "", b.ID))

		t.Run("ListSessions", func(t *testing.T) {
			got, err := s.ss.ListSessions(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !got[0].LastRefreshAt.Equal(got[0].StartedAt.Add(time.Minute)) || !got[0].RevokedAt.IsZero() {
				t.Fatalf("sessions %+v, want one family refreshed a minute in", got)
			}
		})

		t.Run("LastAdminRace", func(t *testing.T) {
			mustWarmPool(t, s.db, 2)
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				errs  = make([]error, 2)
			)
			for i, id := range []string{a.ID, b.ID} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = s.u.EraseUser(ctx, id, true, market.AuditEvent{ObjectType: "user", Action: "user.erased"})
				}()
			}
			close(start)
			wg.Wait()
			ok, last := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, market.ErrLastAdmin):
					last++
				default:
					t.Errorf("EraseUser: %v", err)
				}
			}
			if ok != 1 || last != 1 {
				t.Fatalf("%d erased, %d refused as the last admin; want one of each", ok, last)
			}
		})

		t.Run("Row", func(t *testing.T) {
			users, err := s.u.ListUsers(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			erased := 0
			for _, u := range users {
				if !u.Erased() {
					continue
				}
				erased++
				if u.Name != market.ErasedName || u.Email != market.ErasedEmail(u.ID) || u.PasswordHash != "" || u.Admin || u.Status != market.UserDisabled {
					t.Errorf("erased row %+v", u)
				}
				if got, err := s.ss.ListSessions(ctx, u.ID); err != nil || len(got) != 0 {
					t.Errorf("erased user's sessions %+v (%v)", got, err)
				}
				if _, err := s.u.GetUserByEmail(ctx, "lead@erase.example.org"); u.ID == a.ID && market.ErrorCode(err) != market.ENOTFOUND {
					t.Errorf("the old address still finds the user: %v", err)
				}
			}
			if erased != 1 {
				t.Fatalf("%d users erased", erased)
			}
			var n int
			if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM audit_events WHERE action = 'user.erased' AND hash <> ''").Scan(&n); err != nil || n != 1 {
				t.Errorf("%d chained user.erased events (%v), want 1", n, err)
			}
		})

		t.Run("NotFound", func(t *testing.T) {
			if _, err := s.u.EraseUser(ctx, "no-such-user", false, market.AuditEvent{ObjectType: "user", Action: "user.erased"}); market.ErrorCode(err) != market.ENOTFOUND {
				t.Fatalf("EraseUser of no one: %v", err)
			}
		})
	})
}
