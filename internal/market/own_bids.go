package market

import "context"

// OwnBid is one of a supplier's bids with the tender it was made for.
type OwnBid struct {
	Bid    Bid
	Tender Tender
}

// ListOwnBids returns the bids of p's supplier organisation on every
// tender, withdrawn ones too, the latest first: what the supplier sees of
// each of them already, and nothing of anyone else's. Only a supplier's
// users may ask (EFORBIDDEN); EUNAUTHORIZED without a user.
func (s *Tenders) ListOwnBids(ctx context.Context, p *Principal) ([]OwnBid, error) {
	if err := RequireUser(p); err != nil {
		return nil, err
	}
	if p.OrgKind != KindSupplier {
		return nil, Errorf(EFORBIDDEN, "Only a supplier's users have bids.")
	}
	bids, err := s.Store.ListSupplierBids(ctx, p.OrganisationID)
	if err != nil {
		return nil, err
	}
	out := make([]OwnBid, 0, len(bids))
	tenders := map[string]Tender{}
	for _, b := range bids {
		t, ok := tenders[b.TenderID]
		if !ok {
			if t, err = s.Store.GetTender(ctx, b.TenderID); err != nil {
				return nil, err
			}
			tenders[b.TenderID] = t
		}
		out = append(out, OwnBid{Bid: b, Tender: t})
	}
	return out, nil
}
