package cache

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// registerAccounts is a user store whose registrations only count, so
// that a test sees which invalidations the wrapper makes.
type registerAccounts struct {
	market.UserStore // nil: only Register is called
	n                atomic.Int32
}

func (s *registerAccounts) Register(ctx context.Context, o *market.Organisation, l *market.Listing, u *market.User) error {
	if o.Name == "taken" {
		return market.Errorf(market.ECONFLICT, "Already registered.")
	}
	o.ID = "o" + string(rune('0'+s.n.Add(1)))
	return nil
}

// TestRegisterInvalidatesDirectory: a supplier registered through one
// process's wrapper, with or without a listing, retires the directory
// views of every process sharing the cache, since it is a provider from
// that moment; a CCG or a failed registration leaves them cached.
func TestRegisterInvalidatesDirectory(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range []struct {
				name    string
				org     market.Organisation
				listing *market.Listing
				retires bool
			}{
				{"SupplierWithoutListing", market.Organisation{Kind: market.KindSupplier, Name: "Age UK Sheffield"}, nil, true},
				{"SupplierWithListing", market.Organisation{Kind: market.KindSupplier, Name: "Capita"}, &market.Listing{Summary: "s"}, true},
				{"Buyer", market.Organisation{Kind: market.KindBuyer, Name: "NHS Arden CCG"}, nil, false},
				{"Conflict", market.Organisation{Kind: market.KindSupplier, Name: "taken"}, nil, false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					writer := b.new(t, Options{})
					reader := writer
					if b.redis {
						reader = b.new(t, Options{})
					}
					us := NewUserStore(&registerAccounts{}, writer)
					var loads atomic.Int32
					load := func(context.Context) ([]byte, error) {
						return []byte{byte('0' + loads.Add(1))}, nil
					}
					if _, err := reader.Fetch(ctx, NSProviders, "list?s=third_sector", time.Minute, load); err != nil {
						t.Fatal(err)
					}
					o, u := tc.org, market.User{Name: "First User"}
					err := us.Register(ctx, &o, tc.listing, &u)
					if (err == nil) != (tc.name != "Conflict") {
						t.Fatalf("Register = %v", err)
					}
					e, err := reader.Fetch(ctx, NSProviders, "list?s=third_sector", time.Minute, load)
					if err != nil {
						t.Fatal(err)
					}
					if reloaded := string(e.Body) == "2"; reloaded != tc.retires {
						t.Errorf("directory view reloaded = %v after the registration, want %v", reloaded, tc.retires)
					}
				})
			}
		})
	}
}
