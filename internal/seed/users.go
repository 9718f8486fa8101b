package seed

import (
	"context"
	"fmt"

	"github.com/csmarket/csmarket/internal/market"
)

// DemoPassword signs in every demo user. The demo is for trying csmarket on
// one's own machine; never load it into a marketplace that others use.
const DemoPassword = "demo commissioning passphrase"

// DemoUser is one demo account, printed by `make run` so that a visitor can
// sign in as each kind of user.
type DemoUser struct {
	Email        string
	Name         string
	Role         market.Role
	Admin        bool
	Organisation string
}

// demoUserSpecs names who signs in as what: an operator, two CCGs (one with
// an evaluator, so that joint tenders and evaluation can be tried) and one
// supplier of each sector. Supplier e-mails use the domain of the
// organisation's listed contact.
func demoUserSpecs(providers []market.Provider) []DemoUser {
	users := []DemoUser{
		{Email: "operator@csmarket.example.org", Name: "Olu Operator", Role: market.RoleOperator, Admin: true, Organisation: "csmarket operator"},
		{Email: "buyer@birmingham-crosscity-ccg.example.nhs.uk", Name: "Bina Buyer", Role: market.RoleBuyer, Admin: true, Organisation: "NHS Birmingham CrossCity CCG"},
		{Email: "evaluator@birmingham-crosscity-ccg.example.nhs.uk", Name: "Evan Evaluator", Role: market.RoleEvaluator, Organisation: "NHS Birmingham CrossCity CCG"},
		{Email: "buyer@coventry-rugby-ccg.example.nhs.uk", Name: "Cara Commissioner", Role: market.RoleBuyer, Admin: true, Organisation: "NHS Coventry and Rugby CCG"},
	}
	names := map[market.Sector]string{
		market.SectorNHS: "Nia", market.SectorLocalAuthority: "Lal", market.SectorThirdSector: "Tess", market.SectorIndependent: "Ira",
	}
	for _, sector := range market.Sectors {
		for _, p := range providers {
			if p.Organisation.Sector == sector {
				users = append(users, DemoUser{
					Email: "bids@" + market.EmailDomain(p.Listing.Contact.Email),
					Name:  names[sector] + " Supplier", Role: market.RoleSupplier, Admin: true,
					Organisation: p.Organisation.Name,
				})
				break
			}
		}
	}
	return users
}

// DemoUsers lists the demo accounts without loading anything.
func DemoUsers() []DemoUser {
	providers, _ := Demo()
	return demoUserSpecs(providers)
}

// LoadDemoUsers gives the demo organisations their demo users, all with
// DemoPassword, skipping users that exist already, so that it can run on
// every `make run`. The organisations must have been loaded (LoadDemo).
func LoadDemoUsers(ctx context.Context, a *market.Accounts) ([]DemoUser, error) {
	orgIDs := map[string]string{}
	for _, kind := range []market.OrgKind{market.KindBuyer, market.KindSupplier} {
		f := market.OrganisationFilter{Kind: kind, PageSize: market.MaxPageSize}
		for {
			page, err := a.Users.ListOrganisations(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("seed: listing organisations: %w", err)
			}
			for _, o := range page.Items {
				orgIDs[o.Name] = o.ID
			}
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
	}
	users := DemoUsers()
	for _, du := range users {
		if _, err := a.Users.GetUserByEmail(ctx, du.Email); err == nil {
			continue
		} else if market.ErrorCode(err) != market.ENOTFOUND {
			return nil, err
		}
		nu := market.NewUser{Name: du.Name, Email: du.Email, Password: DemoPassword, Role: du.Role}
		if du.Role == market.RoleOperator {
			if _, err := a.CreateOperator(ctx, nu); err != nil {
				return nil, fmt.Errorf("seed: creating the demo operator: %w", err)
			}
			continue
		}
		id, ok := orgIDs[du.Organisation]
		if !ok {
			return nil, fmt.Errorf("seed: demo organisation %q is not loaded", du.Organisation)
		}
		hash, err := a.Passwords.Hash(DemoPassword)
		if err != nil {
			return nil, err
		}
		u := market.User{
			OrganisationID: id, Name: du.Name, Email: du.Email, Role: du.Role,
			Admin: du.Admin, Status: market.UserActive, PasswordHash: hash,
		}
		if err := a.Users.CreateUser(ctx, &u); err != nil {
			return nil, fmt.Errorf("seed: creating demo user %s: %w", du.Email, err)
		}
	}
	return users, nil
}
