package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// ownBidResponse is one of a supplier's bids with the tender it is for.
type ownBidResponse struct {
	Bid    bidResponse         `json:"bid"`
	Tender ownBidTenderSummary `json:"tender"`
}

// ownBidTenderSummary is what a bidder needs of the tender in its list:
// never the baseline or anything of other bids.
type ownBidTenderSummary struct {
	ID               string `json:"id"`
	Title            string `json:"title"`
	Status           string `json:"status"`
	BidDeadline      string `json:"bid_deadline,omitempty"`
	StandstillEndsAt string `json:"standstill_ends_at,omitempty"`
}

// listOwnBids is GET /api/v1/me/bids: the caller's supplier's bids on
// every tender, the latest first.
func (s *server) listOwnBids(c *gin.Context) {
	ctx := c.Request.Context()
	own, err := s.tenders.ListOwnBids(ctx, principal(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	now := s.now()
	names := s.newOrgNames()
	items := make([]ownBidResponse, len(own))
	for i, o := range own {
		b, err := s.toBid(ctx, names, o.Bid, nil)
		if err != nil {
			s.fail(c, err)
			return
		}
		t := ownBidTenderSummary{ID: o.Tender.ID, Title: o.Tender.Title, Status: string(o.Tender.Status(now))}
		if !o.Tender.BidDeadline.IsZero() {
			t.BidDeadline = rfc3339Milli(o.Tender.BidDeadline)
		}
		if !o.Tender.StandstillEndsAt.IsZero() && t.Status == "standstill" {
			t.StandstillEndsAt = rfc3339Milli(o.Tender.StandstillEndsAt)
		}
		items[i] = ownBidResponse{Bid: b, Tender: t}
	}
	writePrivate(c, http.StatusOK, listResponse[ownBidResponse]{Items: items})
}
