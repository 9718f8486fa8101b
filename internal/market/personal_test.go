package market_test

import (
	"context"
	"strings"
	"testing"

	"github.com/csmarket/csmarket/internal/market"
)

// TestErasedAddress: an erased user's address is unique, never routes,
// and cannot be registered by anyone.
func TestErasedAddress(t *testing.T) {
	a, b := market.ErasedEmail("0190F0E6-AAAA"), market.ErasedEmail("0190f0e6-bbbb")
	if a == b || !strings.HasSuffix(a, "@erased.invalid") || a != strings.ToLower(a) {
		t.Fatalf("erased addresses %q, %q", a, b)
	}
	if u := (market.User{Email: a}); !u.Erased() {
		t.Errorf("%s is not erased", a)
	}
	if u := (market.User{Email: "someone@nhs.net"}); u.Erased() {
		t.Error("a live user reads as erased")
	}
	var p market.Problems
	nu := market.NewUser{Name: "Squatter", Email: "someone@erased.invalid", Password: "plum orchard ledger quietly"}
	nu.Check("", &p)
	if len(p) != 1 || p[0].Field != "email" {
		t.Fatalf("registering an erased address: %v", p)
	}
}

// TestEraseRefusals: the rules decided before the store is asked.
func TestEraseRefusals(t *testing.T) {
	a := &market.Accounts{}
	operator := &market.Principal{UserID: "op", OrganisationID: "ops", OrgKind: market.KindOperator, Role: market.RoleOperator, Admin: true}
	admin := &market.Principal{UserID: "u", OrganisationID: "o", OrgKind: market.KindSupplier, Role: market.RoleSupplier, Admin: true}
	ctx := context.Background()
	if _, err := a.Erase(ctx, nil, "u", "ER-1"); market.ErrorCode(err) != market.EUNAUTHORIZED {
		t.Errorf("anonymous: %v", err)
	}
	if _, err := a.Erase(ctx, admin, "u2", "ER-1"); market.ErrorCode(err) != market.EFORBIDDEN {
		t.Errorf("an organisation's admin: %v", err)
	}
	for _, reason := range []string{"", " \t ", strings.Repeat("x", market.MaxErasureReasonLen+1)} {
		_, err := a.Erase(ctx, operator, "u", reason)
		if f := market.ErrorFields(err); len(f) != 1 || f[0].Field != "reason" {
			t.Errorf("reason %.20q: %v", reason, err)
		}
	}
	if _, err := a.Export(ctx, nil); market.ErrorCode(err) != market.EUNAUTHORIZED {
		t.Errorf("anonymous export: %v", err)
	}
}
