package market

import (
	"context"
	"time"
)

// OwnTenderFilter selects and pages the tenders of one CCG (GET
// /api/v1/me/tenders): every status, drafts and cancelled ones too.
type OwnTenderFilter struct {
	Status   TenderStatus
	Cursor   string
	PageSize int

	// Set by the rules, not by the client.
	Now         time.Time
	BuyerID     string // tenders this organisation leads or jointly commissions
	EvaluatorID string // else: tenders this user is assigned to evaluate
}

// Normalize checks the filter, naming each bad query parameter.
func (f *OwnTenderFilter) Normalize() error {
	var p Problems
	checkListParams("", "", "", &f.PageSize, f.Cursor, &p)
	if f.Status != "" && !f.Status.Valid() {
		p.Add("status", "must be one of draft, open, closed, standstill, awarded, cancelled, unsuccessful")
	}
	return p.Err()
}

// ListOwnTenders pages the tenders of p's CCG, newest first: for a buyer,
// every tender its organisation leads or jointly commissions, drafts and
// cancelled ones too; for an evaluator, the tenders it is assigned to.
// Suppliers' users and the operator are refused (EFORBIDDEN);
// EUNAUTHORIZED without a user.
func (s *Tenders) ListOwnTenders(ctx context.Context, p *Principal, f OwnTenderFilter) (TenderPage, error) {
	if err := RequireUser(p); err != nil {
		return TenderPage{}, err
	}
	if p.OrgKind != KindBuyer || (p.Role != RoleBuyer && p.Role != RoleEvaluator) {
		return TenderPage{}, Errorf(EFORBIDDEN, "Only a CCG's buyers and evaluators have tenders of their own.")
	}
	if err := f.Normalize(); err != nil {
		return TenderPage{}, err
	}
	f.Now, f.BuyerID, f.EvaluatorID = s.Clock.Now(), "", ""
	if p.Role == RoleEvaluator {
		f.EvaluatorID = p.UserID
	} else {
		f.BuyerID = p.OrganisationID
	}
	return s.Store.ListOwnTenders(ctx, f)
}
