package sqlstore_test

import (
	"cmp"
	"database/sql"
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

// accountStores are the account stores beside the directory's.
type accountStores struct {
	stores
	u  *sqlstore.UserStore
	ss *sqlstore.SessionStore
}

func eachEngineAccounts(t *testing.T, fn func(t *testing.T, s accountStores)) {
	eachEngine(t, func(t *testing.T, s stores) {
		fn(t, accountStores{stores: s, u: sqlstore.NewUserStore(s.db, s.clock), ss: sqlstore.NewSessionStore(s.db, s.clock)})
	})
}

func newUser(name, email string, role market.Role) market.User {
	return market.User{Name: name, Email: email, Role: role, Admin: true, Status: market.UserActive, PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"}
}

// mustCount returns the number of rows in table.
func mustCount(tb testing.TB, s stores, table string) int {
	tb.Helper()
	var n int
	if err := s.db.QueryRowContext(tb.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		tb.Fatalf("count %s: %v", table, err)
	}
	return n
}

// accountTables are every table a registration writes to.
var accountTables = []string{"organisations", "organisation_identifiers", "organisation_regions",
	"listings", "listing_capabilities", "listing_regions", "users"}

func mustCounts(tb testing.TB, s stores) map[string]int {
	tb.Helper()
	m := map[string]int{}
	for _, table := range accountTables {
		m[table] = mustCount(tb, s, table)
	}
	return m
}

// mustRegister registers o with its first user, or fails the test.
func mustRegister(tb testing.TB, s accountStores, o market.Organisation, l *market.Listing, email string) (market.Organisation, market.User) {
	tb.Helper()
	role := map[market.OrgKind]market.Role{market.KindBuyer: market.RoleBuyer, market.KindSupplier: market.RoleSupplier, market.KindOperator: market.RoleOperator}[o.Kind]
	u := newUser("First User", email, role)
	if err := s.u.Register(tb.Context(), &o, l, &u); err != nil {
		tb.Fatalf("Register(%s): %v", o.Name, err)
	}
	return o, u
}

func TestRegister(t *testing.T) {
	eachEngineAccounts(t, func(t *testing.T, s accountStores) {
		ctx := t.Context()
		supplierOrg, supplierListing := supplier("Arden Partners", "01234567")
		pendingBuyer := buyer("NHS Kernow CCG", "11N")
		pendingBuyer.Status = market.StatusPending
		cases := []struct {
			name     string
			org      market.Organisation
			listing  *market.Listing
			role     market.Role
			email    string
			listed   bool // in the public directory
			wantStat market.OrgStatus
		}{
			{"SupplierWithListing", supplierOrg, &supplierListing, market.RoleSupplier, "bids@arden.example.org", true, market.StatusActive},
			// Listed at once, with an empty listing in its organisation's
			// regions.
			{"SupplierWithoutListing", func() market.Organisation { o, _ := supplier("Bevan Partners", "02345678"); return o }(), nil, market.RoleSupplier, "hello@bevan.example.org", true, market.StatusActive},
			{"PendingBuyer", pendingBuyer, nil, market.RoleBuyer, "commissioning@kernow.example.org", false, market.StatusPending},
			{"Operator", market.Organisation{Kind: market.KindOperator, Name: "csmarket operator", Status: market.StatusActive}, nil, market.RoleOperator, "ops@csmarket.example.org", false, market.StatusActive},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s.clock.Add(time.Minute)
				o, u := c.org, newUser("Robin Hale", c.email, c.role)
				wantOrg := o
				wantListing := market.Listing{
					Summary: "", Capabilities: []string{}, Regions: c.org.Regions, Size: "",
					Accreditations: []string{}, CaseStudies: []market.CaseStudy{},
				}
				if c.listing != nil {
					wantListing = *c.listing
				}
				if err := s.u.Register(ctx, &o, c.listing, &u); err != nil {
					t.Fatalf("Register: %v", err)
				}
				at := s.clock.Now().Truncate(time.Microsecond)
				if o.ID == "" || u.ID == "" || u.OrganisationID != o.ID || o.Status != c.wantStat ||
					!o.CreatedAt.Equal(at) || !u.CreatedAt.Equal(at) || !u.UpdatedAt.Equal(at) {
					t.Fatalf("registered %+v with user %+v: want IDs, the user in the organisation, status %s, times %v", o, u, c.wantStat, at)
				}
				wantOrg.ID, wantOrg.Status, wantOrg.CreatedAt, wantOrg.UpdatedAt = o.ID, c.wantStat, o.CreatedAt, o.UpdatedAt
				if wantOrg.Identifiers == nil {
					wantOrg.Identifiers = []market.Identifier{}
				}
				if wantOrg.Regions == nil {
					wantOrg.Regions = []string{}
				}
				if got, err := s.u.GetOrganisation(ctx, o.ID); err != nil || !reflect.DeepEqual(got, wantOrg) {
					t.Errorf("GetOrganisation =\n%+v, %v\nwant\n%+v", got, err, wantOrg)
				}
				if got, err := s.u.GetUser(ctx, u.ID); err != nil || !reflect.DeepEqual(got, u) {
					t.Errorf("GetUser =\n%+v, %v\nwant\n%+v", got, err, u)
				}
				if got, err := s.u.GetUserByEmail(ctx, c.email); err != nil || got.ID != u.ID || !got.Admin || got.Role != c.role {
					t.Errorf("GetUserByEmail = %+v, %v; want the admin just registered", got, err)
				}
				p, err := s.p.GetProvider(ctx, o.ID)
				if c.listed {
					wantListing.Version, wantListing.UpdatedAt = 1, at
					if err != nil || !reflect.DeepEqual(p, market.Provider{Organisation: wantOrg, Listing: wantListing}) {
						t.Errorf("GetProvider =\n%+v, %v\nwant\n%+v", p, err, market.Provider{Organisation: wantOrg, Listing: wantListing})
					}
					if c.listing != nil && c.listing.Version != 1 {
						t.Errorf("listing version %d after Register, want 1", c.listing.Version)
					}
				} else {
					wantCode(t, err, market.ENOTFOUND)
				}
			})
		}

		t.Run("ListingOfABuyer", func(t *testing.T) {
			b, l := buyer("NHS Listing CCG", "99X"), supplierListing
			u := newUser("Buyer", "buyer@listing.example.org", market.RoleBuyer)
			wantCode(t, s.u.Register(ctx, &b, &l, &u), market.EINVALID)
		})
		t.Run("RoleNotFittingKind", func(t *testing.T) {
			b := buyer("NHS Role CCG", "98X")
			u := newUser("Supplier", "supplier@role.example.org", market.RoleSupplier)
			wantCode(t, s.u.Register(ctx, &b, nil, &u), market.EINVALID)
		})
	})
}

func TestRegisterConflict(t *testing.T) {
	eachEngineAccounts(t, func(t *testing.T, s accountStores) {
		ctx := t.Context()
		first, fl := supplier("First Partners", "01234567")
		mustRegister(t, s, first, &fl, "alex@first.example.org")
		before := mustCounts(t, s.stores)

		cases := []struct {
			name      string
			email     string
			coh       string // the second supplier's own Companies House number
			chc       string // its charity number: "" keeps one derived from coh
			wantField string
			wantInMsg string
		}{
			{"Email", "alex@first.example.org", "07654321", "", "user.email", "e-mail"},
			{"EmailOtherCase", "  Alex@FIRST.example.org ", "07654321", "", "user.email", "e-mail"},
			{"Identifier", "sam@second.example.org", "01234567", "7654321", "", "GB-COH-01234567"},
			{"SecondIdentifier", "sam@second.example.org", "07654321", "1234567", "", "GB-CHC-1234567"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				o, l := supplier("Second Partners", c.coh)
				if c.chc != "" {
					o.Identifiers[1].ID = c.chc
				}
				u := newUser("Sam", c.email, market.RoleSupplier)
				oIn, lIn, uIn := o, l, u
				err := s.u.Register(ctx, &o, &l, &u)
				wantCode(t, err, market.ECONFLICT)
				if !strings.Contains(market.ErrorMessage(err), c.wantInMsg) {
					t.Errorf("conflict message %q does not mention %q", market.ErrorMessage(err), c.wantInMsg)
				}
				if c.wantField != "" {
					if f := market.ErrorFields(err); len(f) != 1 || f[0].Field != c.wantField {
						t.Errorf("conflict fields %+v, want one naming %s", f, c.wantField)
					}
				}
				if !reflect.DeepEqual(o, oIn) || !reflect.DeepEqual(l, lIn) || !reflect.DeepEqual(u, uIn) {
					t.Errorf("a failed Register changed its arguments")
				}
				if after := mustCounts(t, s.stores); !reflect.DeepEqual(after, before) {
					t.Errorf("rows after a failed Register %v, want %v", after, before)
				}
			})
		}
		t.Run("FreeAfterwards", func(t *testing.T) {
			// Nothing of the failed registrations holds the e-mail or the
			// identifiers that were free.
			o, l := supplier("Second Partners", "07654321")
			mustRegister(t, s, o, &l, "sam@second.example.org")
		})
	})
}

func TestUsers(t *testing.T) {
	eachEngineAccounts(t, func(t *testing.T, s accountStores) {
		ctx := t.Context()
		b, admin := mustRegister(t, s, buyer("NHS Walsall CCG", "05Y"), nil, "lead@walsall.example.org")
		sup, _ := supplier("Usk Partners", "01234567")
		sup, _ = mustRegister(t, s, sup, nil, "lead@usk.example.org")

		s.clock.Add(time.Second)
		eval := newUser("Evaluator", " Eve@Walsall.EXAMPLE.org ", market.RoleEvaluator)
		eval.Admin = false
		eval.OrganisationID = b.ID
		if err := s.u.CreateUser(ctx, &eval); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		if eval.Email != "eve@walsall.example.org" || eval.ID == "" || !eval.CreatedAt.Equal(s.clock.Now().Truncate(time.Microsecond)) {
			t.Errorf("created %+v: want the normalized e-mail, an ID and the clock's time", eval)
		}

		t.Run("ByEmailAnyCase", func(t *testing.T) {
			for _, email := range []string{"eve@walsall.example.org", "EVE@Walsall.example.org", " eve@walsall.example.org\t"} {
				if got, err := s.u.GetUserByEmail(ctx, email); err != nil || !reflect.DeepEqual(got, eval) {
					t.Errorf("GetUserByEmail(%q) = %+v, %v; want %+v", email, got, err, eval)
				}
			}
			_, err := s.u.GetUserByEmail(ctx, "nobody@walsall.example.org")
			wantCode(t, err, market.ENOTFOUND)
			_, err = s.u.GetUser(ctx, "0190f000-0000-7000-8000-000000000000")
			wantCode(t, err, market.ENOTFOUND)
		})
		t.Run("EmailConflict", func(t *testing.T) {
			for _, email := range []string{"eve@walsall.example.org", "EVE@walsall.example.org", "Lead@Usk.example.org"} {
				u := newUser("Again", email, market.RoleBuyer)
				u.OrganisationID = b.ID
				err := s.u.CreateUser(ctx, &u)
				wantCode(t, err, market.ECONFLICT)
				if f := market.ErrorFields(err); len(f) != 1 || f[0].Field != "email" {
					t.Errorf("CreateUser(%q) fields %+v, want one naming email", email, f)
				}
				if u.ID != "" {
					t.Errorf("a failed CreateUser set the ID")
				}
			}
		})
		t.Run("UniqueIndexOnNormalizedForm", func(t *testing.T) {
			// Past the store's normalization, the database itself refuses
			// a second row for the same normalized address.
			_, err := s.db.ExecContext(ctx, `INSERT INTO users (id, organisation_id, name, email, role, admin,
				status, password_hash, created_at, updated_at) SELECT ?, organisation_id, name, email, role, admin,
				status, password_hash, created_at, updated_at FROM users WHERE id = ?`, "0190f000-0000-7000-8000-0000000000ee", eval.ID)
			if err == nil {
				t.Fatal("a second row with the same e-mail was stored")
			}
		})
		t.Run("UnknownOrganisation", func(t *testing.T) {
			u := newUser("Nobody", "nobody@example.org", market.RoleBuyer)
			u.OrganisationID = "0190f000-0000-7000-8000-000000000000"
			wantCode(t, s.u.CreateUser(ctx, &u), market.ENOTFOUND)
		})
		t.Run("RoleNotFittingKind", func(t *testing.T) {
			u := newUser("Buyer at a supplier", "buyer@usk.example.org", market.RoleBuyer)
			u.OrganisationID = sup.ID
			err := s.u.CreateUser(ctx, &u)
			wantCode(t, err, market.EINVALID)
			if f := market.ErrorFields(err); len(f) != 1 || f[0].Field != "role" {
				t.Errorf("fields %+v, want one naming role", f)
			}
		})
		t.Run("ListUsers", func(t *testing.T) {
			got, err := s.u.ListUsers(ctx, b.ID)
			if err != nil || len(got) != 2 || got[0].ID != admin.ID || got[1].ID != eval.ID {
				t.Errorf("ListUsers = %+v, %v; want the admin then the evaluator", got, err)
			}
			empty, _ := supplier("Empty Partners", "09999999")
			if err := s.o.CreateOrganisation(ctx, &empty, nil); err != nil {
				t.Fatal(err)
			}
			if got, err := s.u.ListUsers(ctx, empty.ID); err != nil || got == nil || len(got) != 0 {
				t.Errorf("ListUsers(no users) = %#v, %v; want an empty list", got, err)
			}
			_, err = s.u.ListUsers(ctx, "0190f000-0000-7000-8000-000000000000")
			wantCode(t, err, market.ENOTFOUND)
		})
		t.Run("SetUserStatus", func(t *testing.T) {
			s.clock.Add(time.Hour)
			got, err := s.u.SetUserStatus(ctx, eval.ID, market.UserDisabled)
			if err != nil || got.Status != market.UserDisabled || !got.UpdatedAt.Equal(s.clock.Now().Truncate(time.Microsecond)) || !got.CreatedAt.Equal(eval.CreatedAt) {
				t.Fatalf("SetUserStatus = %+v, %v; want disabled, updated now", got, err)
			}
			if stored, _ := s.u.GetUser(ctx, eval.ID); !reflect.DeepEqual(stored, got) {
				t.Errorf("stored %+v, want %+v", stored, got)
			}
			if got, err := s.u.SetUserStatus(ctx, eval.ID, market.UserActive); err != nil || got.Status != market.UserActive {
				t.Errorf("re-enable = %+v, %v", got, err)
			}
			_, err = s.u.SetUserStatus(ctx, "0190f000-0000-7000-8000-000000000000", market.UserDisabled)
			wantCode(t, err, market.ENOTFOUND)
			_, err = s.u.SetUserStatus(ctx, eval.ID, "asleep")
			wantCode(t, err, market.EINVALID)
		})
		t.Run("SetOrganisationStatus", func(t *testing.T) {
			s.clock.Add(time.Hour)
			got, err := s.u.SetOrganisationStatus(ctx, b.ID, market.StatusDisabled)
			if err != nil || got.Status != market.StatusDisabled || !got.UpdatedAt.Equal(s.clock.Now().Truncate(time.Microsecond)) ||
				!got.CreatedAt.Equal(b.CreatedAt) || !reflect.DeepEqual(got.Identifiers, b.Identifiers) {
				t.Fatalf("SetOrganisationStatus = %+v, %v; want disabled, updated now, the rest unchanged", got, err)
			}
			if stored, _ := s.u.GetOrganisation(ctx, b.ID); !reflect.DeepEqual(stored, got) {
				t.Errorf("stored %+v, want %+v", stored, got)
			}
			_, err = s.u.SetOrganisationStatus(ctx, "0190f000-0000-7000-8000-000000000000", market.StatusActive)
			wantCode(t, err, market.ENOTFOUND)
			_, err = s.u.SetOrganisationStatus(ctx, b.ID, "gone")
			wantCode(t, err, market.EINVALID)
		})
	})
}

func TestDisabledSupplierLeavesDirectory(t *testing.T) {
	eachEngineAccounts(t, func(t *testing.T, s accountStores) {
		ctx := t.Context()
		o, l := supplier("Tamar Partners", "01234567")
		o, _ = mustRegister(t, s, o, &l, "lead@tamar.example.org")
		mustImport(t, s.stores, genProviders(5, 3, 100))
		listed := func() bool {
			for _, f := range []market.ProviderFilter{{PageSize: 100}, {Q: "Tamar", PageSize: 100}} {
				page, err := s.p.ListProviders(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if slices.ContainsFunc(page.Items, func(p market.Provider) bool { return p.Organisation.ID == o.ID }) {
					return true
				}
			}
			return false
		}
		if !listed() {
			t.Fatal("registered supplier not in the directory")
		}
		if _, err := s.u.SetOrganisationStatus(ctx, o.ID, market.StatusDisabled); err != nil {
			t.Fatal(err)
		}
		if listed() {
			t.Error("disabled supplier still in ListProviders")
		}
		_, err := s.p.GetProvider(ctx, o.ID)
		wantCode(t, err, market.ENOTFOUND)
		if got, err := s.u.GetOrganisation(ctx, o.ID); err != nil || got.Status != market.StatusDisabled {
			t.Errorf("GetOrganisation of the disabled supplier = %+v, %v; the operator still sees it", got, err)
		}
		if _, err := s.u.SetOrganisationStatus(ctx, o.ID, market.StatusActive); err != nil {
			t.Fatal(err)
		}
		if _, err := s.p.GetProvider(ctx, o.ID); err != nil || !listed() {
			t.Errorf("re-enabled supplier not back in the directory: %v", err)
		}
	})
}

func TestListOrganisations(t *testing.T) {
	eachEngineAccounts(t, func(t *testing.T, s accountStores) {
		ctx := t.Context()
		var all []market.Organisation
		// Many organisations share one creation time (an import), so that
		// paging must break ties by ID.
		ps := genProviders(23, 5, 100)
		mustImport(t, s.stores, ps)
		for _, p := range ps {
			all = append(all, p.Organisation)
		}
		for i := range 9 {
			s.clock.Add(time.Second)
			b := buyer(fmt.Sprintf("NHS Buyer %d CCG", i), fmt.Sprintf("B%02d", i))
			if i%3 == 0 {
				b.Status = market.StatusPending
			}
			b, _ = mustRegister(t, s, b, nil, fmt.Sprintf("lead@b%d.example.org", i))
			all = append(all, b)
		}
		op, _ := mustRegister(t, s, market.Organisation{Kind: market.KindOperator, Name: "csmarket operator", Status: market.StatusActive}, nil, "ops@example.org")
		all = append(all, op)
		s.clock.Add(time.Second)
		disabled, _ := s.u.SetOrganisationStatus(ctx, all[4].ID, market.StatusDisabled)
		all[4] = disabled
		slices.SortFunc(all, func(a, b market.Organisation) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
		})

		filters := map[string]market.OrganisationFilter{
			"All":            {},
			"Suppliers":      {Kind: market.KindSupplier},
			"PendingBuyers":  {Kind: market.KindBuyer, Status: market.StatusPending},
			"Active":         {Status: market.StatusActive},
			"Disabled":       {Status: market.StatusDisabled},
			"Operator":       {Kind: market.KindOperator},
			"NoneOfTheseYet": {Kind: market.KindOperator, Status: market.StatusPending},
		}
		for name, f := range filters {
			var want []string
			for _, o := range all {
				if (f.Kind == "" || o.Kind == f.Kind) && (f.Status == "" || o.Status == f.Status) {
					want = append(want, o.ID)
				}
			}
			for _, size := range []int{1, 4, 100} {
				t.Run(fmt.Sprintf("%s/PageSize%d", name, size), func(t *testing.T) {
					f := f
					f.PageSize = size
					var got []string
					for pages := 0; ; pages++ {
						if pages > 100 {
							t.Fatal("the cursor does not advance")
						}
						page, err := s.u.ListOrganisations(ctx, f)
						if err != nil {
							t.Fatalf("ListOrganisations(%+v): %v", f, err)
						}
						for _, o := range page.Items {
							got = append(got, o.ID)
							if len(o.Identifiers) == 0 && o.Kind != market.KindOperator {
								t.Errorf("organisation %s listed without its identifiers", o.Name)
							}
						}
						if page.NextCursor == "" {
							break
						}
						if len(page.Items) != size {
							t.Fatalf("page of %d with a next cursor, want %d", len(page.Items), size)
						}
						f.Cursor = page.NextCursor
					}
					if !slices.Equal(got, want) {
						t.Errorf("listed %d organisations\n%v\nwant %d\n%v", len(got), got, len(want), want)
					}
				})
			}
		}
		t.Run("FullRecord", func(t *testing.T) {
			page, err := s.u.ListOrganisations(ctx, market.OrganisationFilter{Kind: market.KindBuyer, PageSize: 1})
			var first market.Organisation
			for _, o := range all {
				if o.Kind == market.KindBuyer {
					first = o
					break
				}
			}
			if err != nil || len(page.Items) != 1 || !reflect.DeepEqual(page.Items[0], first) {
				t.Errorf("first buyer listed =\n%+v, %v\nwant\n%+v", page.Items, err, first)
			}
		})
		t.Run("BadCursor", func(t *testing.T) {
			for name, c := range map[string]string{
				"Garbage":        "!!!",
				"ProviderCursor": market.EncodeCursor("n", "arden", all[0].ID),
				"BadTime":        market.EncodeCursor("c", "yesterday", all[0].ID),
			} {
				t.Run(name, func(t *testing.T) {
					_, err := s.u.ListOrganisations(ctx, market.OrganisationFilter{Cursor: c})
					wantCode(t, err, market.EINVALID)
				})
			}
		})
	})
}

// token returns a fresh refresh token of user, valid for an hour from the
// clock's time, in family (its own when family is "").
func token(s accountStores, hash, family, userID string) market.RefreshToken {
	if family == "" {
		family = hash
	}
	t := s.clock.Now().UTC().Truncate(time.Microsecond)
	return market.RefreshToken{Hash: hash, FamilyID: family, UserID: userID, CreatedAt: t, ExpiresAt: t.Add(time.Hour)}
}

func mustCreateToken(tb testing.TB, s accountStores, t market.RefreshToken) {
	tb.Helper()
	if err := s.ss.CreateRefreshToken(tb.Context(), t); err != nil {
		tb.Fatalf("CreateRefreshToken: %v", err)
	}
}

func TestRefreshTokens(t *testing.T) {
	eachEngineAccounts(t, func(t *testing.T, s accountStores) {
		ctx := t.Context()
		o, u := mustRegister(t, s, buyer("NHS Token CCG", "07T"), nil, "lead@token.example.org")
		other := newUser("Other", "other@token.example.org", market.RoleEvaluator)
		other.OrganisationID = o.ID
		if err := s.u.CreateUser(ctx, &other); err != nil {
			t.Fatal(err)
		}

		a := token(s, "hash-a", "", u.ID)
		mustCreateToken(t, s, a)
		if got, err := s.ss.GetRefreshToken(ctx, "hash-a"); err != nil || !reflect.DeepEqual(got, a) {
			t.Fatalf("GetRefreshToken = %+v, %v; want %+v", got, err, a)
		}
		wantCode(t, s.ss.CreateRefreshToken(ctx, a), market.ECONFLICT)

		t.Run("Rotate", func(t *testing.T) {
			s.clock.Add(time.Minute)
			at := s.clock.Now()
			presented, err := s.ss.RotateRefreshToken(ctx, "hash-a", token(s, "hash-b", "ignored", "ignored"), at)
			if err != nil || presented.Hash != "hash-a" || presented.FamilyID != "hash-a" || presented.UserID != u.ID {
				t.Fatalf("RotateRefreshToken = %+v, %v; want token a", presented, err)
			}
			spent, _ := s.ss.GetRefreshToken(ctx, "hash-a")
			if !spent.UsedAt.Equal(at.Truncate(time.Microsecond)) || !spent.RevokedAt.IsZero() {
				t.Errorf("rotated token %+v: want used at %v, not revoked", spent, at)
			}
			b, err := s.ss.GetRefreshToken(ctx, "hash-b")
			if err != nil || b.FamilyID != "hash-a" || b.UserID != u.ID || !b.UsedAt.IsZero() {
				t.Errorf("next token %+v, %v; want it in family a, of a's user, unused", b, err)
			}
		})
		t.Run("Reuse", func(t *testing.T) {
			presented, err := s.ss.RotateRefreshToken(ctx, "hash-a", token(s, "hash-c", "", ""), s.clock.Now())
			wantCode(t, err, market.ECONFLICT)
			if presented.FamilyID != "hash-a" || presented.UserID != u.ID {
				t.Errorf("reused token returned %+v; want its family and user", presented)
			}
			if _, err := s.ss.GetRefreshToken(ctx, "hash-c"); market.ErrorCode(err) != market.ENOTFOUND {
				t.Errorf("a refused rotation stored its next token: %v", err)
			}
		})
		t.Run("Expired", func(t *testing.T) {
			e := token(s, "hash-e", "", u.ID)
			mustCreateToken(t, s, e)
			presented, err := s.ss.RotateRefreshToken(ctx, "hash-e", token(s, "hash-e2", "", ""), e.ExpiresAt)
			wantCode(t, err, market.EUNAUTHORIZED)
			if presented.Hash != "hash-e" {
				t.Errorf("expired rotation returned %+v", presented)
			}
			if got, _ := s.ss.GetRefreshToken(ctx, "hash-e"); !got.UsedAt.IsZero() {
				t.Errorf("an expired token was marked used")
			}
			if _, err := s.ss.RotateRefreshToken(ctx, "hash-e", token(s, "hash-e3", "", ""), e.ExpiresAt.Add(-time.Microsecond)); err != nil {
				t.Errorf("rotation a microsecond before expiry: %v", err)
			}
		})
		t.Run("Unknown", func(t *testing.T) {
			_, err := s.ss.RotateRefreshToken(ctx, "hash-none", token(s, "hash-n2", "", ""), s.clock.Now())
			wantCode(t, err, market.ENOTFOUND)
			_, err = s.ss.GetRefreshToken(ctx, "hash-none")
			wantCode(t, err, market.ENOTFOUND)
		})
		t.Run("RevokedFamily", func(t *testing.T) {
			// Family f: f1 -> f2 -> f3, f3 unused.
			mustCreateToken(t, s, token(s, "f1", "", u.ID))
			for _, step := range [][2]string{{"f1", "f2"}, {"f2", "f3"}} {
				if _, err := s.ss.RotateRefreshToken(ctx, step[0], token(s, step[1], "", ""), s.clock.Now()); err != nil {
					t.Fatal(err)
				}
			}
			mustCreateToken(t, s, token(s, "g1", "", u.ID)) // another login
			s.clock.Add(time.Minute)
			revokedAt := s.clock.Now().Truncate(time.Microsecond)
			if err := s.ss.RevokeFamily(ctx, "f1", s.clock.Now()); err != nil {
				t.Fatal(err)
			}
			s.clock.Add(time.Minute)
			if err := s.ss.RevokeFamily(ctx, "f1", s.clock.Now()); err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"f1", "f2", "f3"} {
				got, _ := s.ss.GetRefreshToken(ctx, h)
				if !got.RevokedAt.Equal(revokedAt) {
					t.Errorf("%s revoked at %v, want the first revocation's %v", h, got.RevokedAt, revokedAt)
				}
				_, err := s.ss.RotateRefreshToken(ctx, h, token(s, h+"-next", "", ""), s.clock.Now())
				wantCode(t, err, market.ECONFLICT)
			}
			if got, _ := s.ss.GetRefreshToken(ctx, "g1"); !got.RevokedAt.IsZero() {
				t.Error("revoking one family revoked another")
			}
		})
		t.Run("RevokeUser", func(t *testing.T) {
			mustCreateToken(t, s, token(s, "u1", "", u.ID))
			mustCreateToken(t, s, token(s, "u2", "", u.ID))
			mustCreateToken(t, s, token(s, "o1", "", other.ID))
			if err := s.ss.RevokeUser(ctx, u.ID, s.clock.Now()); err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"u1", "u2", "g1"} {
				_, err := s.ss.RotateRefreshToken(ctx, h, token(s, h+"-next", "", ""), s.clock.Now())
				wantCode(t, err, market.ECONFLICT)
			}
			if _, err := s.ss.RotateRefreshToken(ctx, "o1", token(s, "o2", "", ""), s.clock.Now()); err != nil {
				t.Errorf("another user's token refused after RevokeUser: %v", err)
			}
		})
	})
}

// mustWarmPool opens n connections at once on PostgreSQL, so that the
// goroutines of a race start together instead of queueing for new
// connections one after the other, which would let each finish before the
// next begins. (SQLite runs writers one at a time whatever the pool.)
func mustWarmPool(tb testing.TB, db *sqlstore.DB, n int) {
	tb.Helper()
	if db.Engine() != sqlstore.EnginePostgres {
		return
	}
	held := make([]*sql.Rows, n)
	for i := range held {
		rows, err := db.QueryContext(tb.Context(), "SELECT 1")
		if err != nil {
			tb.Fatalf("warm the pool: %v", err)
		}
		held[i] = rows
	}
	for _, rows := range held {
		rows.Close()
	}
}

func TestRotateConcurrently(t *testing.T) {
	eachEngineAccounts(t, func(t *testing.T, s accountStores) {
		ctx := t.Context()
		_, u := mustRegister(t, s, buyer("NHS Race CCG", "08R"), nil, "lead@race.example.org")
		mustCreateToken(t, s, token(s, "race", "", u.ID))
		const rotators = 10
		mustWarmPool(t, s.db, rotators)
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, rotators)
			fams  = make([]string, rotators)
		)
		for i := range rotators {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				p, err := s.ss.RotateRefreshToken(ctx, "race", token(s, fmt.Sprintf("race-%d", i), "", ""), s.clock.Now())
				errs[i], fams[i] = err, p.FamilyID
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for i, err := range errs {
			switch market.ErrorCode(err) {
			case "":
				wins++
			case market.ECONFLICT:
				if fams[i] != "race" {
					t.Errorf("a losing rotation returned family %q, want race", fams[i])
				}
			default:
				t.Errorf("concurrent rotation: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d of %d concurrent rotations succeeded, want exactly 1", wins, rotators)
		}
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM refresh_tokens WHERE family_id = ?", "race").Scan(&n); err != nil || n != 2 {
			t.Errorf("family holds %d tokens (%v), want the presented one and one successor", n, err)
		}
	})
}

// TestEmptyListing: a supplier registered without a listing is in the
// directory at once with an empty one in its organisation's regions, and
// its first edit is the update of version 1, like every later one.
func TestEmptyListing(t *testing.T) {
	eachEngineAccounts(t, func(t *testing.T, s accountStores) {
		ctx := t.Context()
		o, l := supplier("Wye Valley Partners", "01234567")
		o, _ = mustRegister(t, s, o, nil, "lead@wye.example.org")
		registered := s.clock.Now().Truncate(time.Microsecond)
		with, wl := supplier("Yare Partners", "02345678")
		with, _ = mustRegister(t, s, with, &wl, "lead@yare.example.org")
		b, _ := mustRegister(t, s, buyer("NHS Listing CCG", "09L"), nil, "lead@listing.example.org")
		listed := func(t *testing.T, f market.ProviderFilter) bool {
			t.Helper()
			f.PageSize = 100
			page, err := s.p.ListProviders(ctx, f)
			if err != nil {
				t.Fatalf("ListProviders(%+v): %v", f, err)
			}
			return slices.ContainsFunc(page.Items, func(p market.Provider) bool { return p.Organisation.ID == o.ID })
		}

		empty, err := s.p.GetProvider(ctx, o.ID)
		if err != nil {
			t.Fatalf("GetProvider(registered without a listing): %v", err)
		}
		wantEmpty := market.Listing{Capabilities: []string{}, Regions: o.Regions, Accreditations: []string{},
			CaseStudies: []market.CaseStudy{}, Version: 1, UpdatedAt: registered}
		if !reflect.DeepEqual(empty.Listing, wantEmpty) || empty.Organisation.Name != o.Name || empty.Organisation.Sector != o.Sector {
			t.Errorf("empty provider =\n%+v\nwant the organisation with listing\n%+v", empty, wantEmpty)
		}
		t.Run("FoundAtOnce", func(t *testing.T) {
			for _, f := range []market.ProviderFilter{{}, {Q: "wye"}, {Q: "Valley partners"}, {Sector: o.Sector}, {Region: "south_east"}, {Region: "london"}} {
				if !listed(t, f) {
					t.Errorf("empty listing not found by %+v", f)
				}
			}
			for _, f := range []market.ProviderFilter{{Size: market.SizeSmall}, {Capability: l.Capabilities[0]}, {Q: "zymurgy"}, {Sector: market.SectorNHS}, {Region: "midlands"}} {
				if listed(t, f) {
					t.Errorf("empty listing found by %+v", f)
				}
			}
		})
		t.Run("NoListingForOtherKinds", func(t *testing.T) {
			var n int
			if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM listings WHERE org_id = ?", b.ID).Scan(&n); err != nil || n != 0 {
				t.Errorf("the buyer has %d listing rows (%v), want none", n, err)
			}
		})

		for name, c := range map[string]struct {
			id      string
			version int64
			code    string
		}{
			"VersionZero":     {o.ID, 0, market.EPRECONDITION},
			"VersionAhead":    {o.ID, 2, market.EPRECONDITION},
			"ExistingListing": {with.ID, 0, market.EPRECONDITION},
			"Buyer":           {b.ID, 1, market.ENOTFOUND},
			"Unknown":         {"0190f000-0000-7000-8000-000000000000", 1, market.ENOTFOUND},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := s.p.UpdateListing(ctx, c.id, l, c.version)
				wantCode(t, err, c.code)
			})
		}
		if p, _ := s.p.GetProvider(ctx, o.ID); !reflect.DeepEqual(p, empty) {
			t.Errorf("a refused update changed the empty listing: %+v", p.Listing)
		}
		if p, _ := s.p.GetProvider(ctx, with.ID); p.Listing.Version != 1 || p.Listing.Summary != wl.Summary {
			t.Errorf("a refused update changed the existing listing: %+v", p.Listing)
		}

		s.clock.Add(time.Hour)
		l.Summary = "Zymurgy of commissioning data."
		got, err := s.p.UpdateListing(ctx, o.ID, l, 1)
		if err != nil {
			t.Fatalf("UpdateListing(version 1 of the empty listing): %v", err)
		}
		if got.Listing.Version != 2 || !got.Listing.UpdatedAt.Equal(s.clock.Now().Truncate(time.Microsecond)) ||
			got.Listing.Summary != l.Summary || got.Listing.Size != l.Size || !slices.Equal(got.Listing.Capabilities, l.Capabilities) ||
			!slices.Equal(got.Listing.Regions, l.Regions) || got.Organisation.ID != o.ID {
			t.Errorf("first listing %+v: want version 2 at the clock's time with what was sent", got.Listing)
		}
		if stored, err := s.p.GetProvider(ctx, o.ID); err != nil || !reflect.DeepEqual(stored, got) {
			t.Errorf("GetProvider =\n%+v, %v\nwant\n%+v", stored, err, got)
		}
		t.Run("FoundByItsListing", func(t *testing.T) {
			for _, f := range []market.ProviderFilter{{Q: "zymurgy"}, {Q: "Wye"}, {Capability: l.Capabilities[0]}, {Region: l.Regions[0]}, {Size: l.Size}} {
				if !listed(t, f) {
					t.Errorf("first listing not found by %+v", f)
				}
			}
			// Its regions are now the listing's own.
			if listed(t, market.ProviderFilter{Region: "south_east"}) {
				t.Errorf("first listing still found by the organisation's other region")
			}
		})
		if p, err := s.p.UpdateListing(ctx, o.ID, l, 2); err != nil || p.Listing.Version != 3 {
			t.Errorf("second update = version %d, %v; want 3", p.Listing.Version, err)
		}

		t.Run("ConcurrentFirstEdits", func(t *testing.T) {
			c, _ := supplier("Calder Partners", "03456789")
			c, _ = mustRegister(t, s, c, nil, "lead@calder.example.org")
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
					w := l
					w.Summary = strings.Repeat("y", i+1)
					_, errs[i] = s.p.UpdateListing(ctx, c.ID, w, 1)
				}()
			}
			close(start)
			wg.Wait()
			if wins := countWins(t, errs, market.EPRECONDITION, "first edit"); wins != 1 {
				t.Errorf("%d concurrent first edits succeeded, want exactly 1", wins)
			}
			if p, _ := s.p.GetProvider(ctx, c.ID); p.Listing.Version != 2 {
				t.Errorf("version %d after the race, want 2", p.Listing.Version)
			}
		})
	})
}

// TestGetOrganisations: many organisations read at once are what reading
// each by ID gives (identifiers and regions included), over more IDs than
// one statement takes; an unknown ID is left out.
func TestGetOrganisations(t *testing.T) {
	eachEngineAccounts(t, func(t *testing.T, s accountStores) {
		ctx := t.Context()
		var ids []string
		want := map[string]market.Organisation{}
		for i := range 3 {
			o, l := supplier(fmt.Sprintf("Batch %d Ltd", i), fmt.Sprintf("160000%02d", i))
			o, _ = mustRegister(t, s, o, &l, fmt.Sprintf("batch%d@example.org", i))
			got, err := s.u.GetOrganisation(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			want[o.ID] = got
			ids = append(ids, o.ID)
		}
		// Unknown IDs around the real ones, so that they fall in different
		// statements.
		var asked []string
		for i := range 1200 {
			asked = append(asked, fmt.Sprintf("unknown-%04d", i))
			if i%499 == 0 && len(ids) > 0 {
				asked = append(asked, ids[0])
				ids = ids[1:]
			}
		}
		got, err := s.u.GetOrganisations(ctx, asked)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("GetOrganisations =\n%+v, %v\nwant\n%+v", got, err, want)
		}
	})
}
