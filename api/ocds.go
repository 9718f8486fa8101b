package api

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/ocds"
)

// getOCDS serves a published tender's OCDS release package to anyone,
// cached with the public tender views until the tender's next deadline; a
// write to the tender (an award, say) renews it. It is given only what is
// public at the moment: the bidders' names once the bid deadline has
// passed, and the winner with its price once the award is final, as the
// public tender view shows it; never a losing price.
func (s *server) getOCDS(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	s.servePublic(c, "ocds/"+id, true, func(ctx context.Context) ([]byte, time.Time, error) {
		t, err := s.tenders.GetTender(ctx, nil, id)
		if err != nil {
			return nil, time.Time{}, err
		}
		now := s.now()
		in, err := s.ocdsInput(ctx, t, now)
		if err != nil {
			return nil, time.Time{}, err
		}
		body, err := ocds.Build(*s.ocds, in)
		return body, nextTurn(&t, now), err
	})
}

func (s *server) ocdsInput(ctx context.Context, t market.Tender, now time.Time) (ocds.Input, error) {
	names := s.newOrgNames()
	in := ocds.Input{Tender: t, PublishedAt: now}
	var err error
	if in.Buyer, err = names.get(ctx, t.BuyerID); err != nil {
		return ocds.Input{}, err
	}
	for _, id := range t.JointCommissioners {
		o, err := names.get(ctx, id)
		if err != nil {
			return ocds.Input{}, err
		}
		in.JointCommissioners = append(in.JointCommissioners, o)
	}
	if !t.Sealed(now) {
		bids, err := s.tenders.Store.ListBids(ctx, t.ID, "", false)
		if err != nil {
			return ocds.Input{}, err
		}
		for _, b := range bids {
			if b.Status != market.BidSubmitted {
				continue
			}
			o, err := names.get(ctx, b.SupplierID)
			if err != nil {
				return ocds.Input{}, err
			}
			in.Tenderers = append(in.Tenderers, o)
		}
	}
	if t.AwardBidID != "" && !t.AwardConfirmedAt.IsZero() {
		b, err := s.tenders.Store.GetBid(ctx, t.AwardBidID)
		if err != nil {
			return ocds.Input{}, err
		}
		o, err := names.get(ctx, b.SupplierID)
		if err != nil {
			return ocds.Input{}, err
		}
		in.Award = &ocds.Award{Supplier: o, ValuePence: b.PricePence, Date: t.AwardedAt, Final: true}
	}
	return in, nil
}
