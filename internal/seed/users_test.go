package seed

import (
	"testing"

	"github.com/csmarket/csmarket/internal/market"
)

// TestDemoUsers: every demo account belongs to a demo organisation of a
// kind its role fits, has a valid e-mail, and every role can be tried.
func TestDemoUsers(t *testing.T) {
	providers, buyers := Demo()
	kinds := map[string]market.OrgKind{"csmarket operator": market.KindOperator}
	for _, b := range buyers {
		kinds[b.Name] = market.KindBuyer
	}
	for _, p := range providers {
		kinds[p.Organisation.Name] = market.KindSupplier
	}
	roles := map[market.Role]int{}
	emails := map[string]bool{}
	sectors := map[string]bool{}
	for _, u := range DemoUsers() {
		kind, ok := kinds[u.Organisation]
		if !ok {
			t.Errorf("%s: no demo organisation %q", u.Email, u.Organisation)
			continue
		}
		if !u.Role.FitsKind(kind) {
			t.Errorf("%s: role %s does not fit a %s", u.Email, u.Role, kind)
		}
		var p market.Problems
		nu := market.NewUser{Name: u.Name, Email: u.Email, Password: DemoPassword}
		nu.Check("", &p)
		if len(p) > 0 {
			t.Errorf("%s: %v", u.Email, p)
		}
		if emails[u.Email] {
			t.Errorf("%s given twice", u.Email)
		}
		emails[u.Email] = true
		roles[u.Role]++
		for _, pr := range providers {
			if pr.Organisation.Name == u.Organisation {
				sectors[string(pr.Organisation.Sector)] = true
			}
		}
	}
	for _, r := range []market.Role{market.RoleOperator, market.RoleBuyer, market.RoleEvaluator, market.RoleSupplier} {
		if roles[r] == 0 {
			t.Errorf("no demo user with role %s", r)
		}
	}
	if roles[market.RoleBuyer] < 2 || len(sectors) != 4 {
		t.Errorf("want two CCG buyers and a supplier of each sector, got %v buyers and sectors %v", roles[market.RoleBuyer], sectors)
	}
}
