package api

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
)

// choiceResponse says whether the market gives commissioners a real
// choice: who lists, bids and wins, by sector. Bids count only on tenders
// whose bid deadline has passed, so that no sealed bid shows, not even as
// a count.
type choiceResponse struct {
	Sectors            map[string]sectorFiguresJSON `json:"sectors"`
	TendersWithBids    int                          `json:"tenders_with_bids"`
	MultiSectorTenders int                          `json:"multi_sector_tenders"`
	MultiSectorShare   float64                      `json:"multi_sector_share"`
	SingleBidTenders   int                          `json:"single_bid_tenders"`
}

type sectorFiguresJSON struct {
	Listings        int   `json:"listings"`
	Bids            int   `json:"bids"`
	Awards          int   `json:"awards"`
	AwardValuePence int64 `json:"award_value_pence"`
}

func toChoice(f market.ChoiceFigures) choiceResponse {
	r := choiceResponse{
		Sectors:         map[string]sectorFiguresJSON{},
		TendersWithBids: f.TendersWithBids, MultiSectorTenders: f.MultiSectorTenders, SingleBidTenders: f.SingleBidTenders,
	}
	for _, sec := range market.Sectors {
		v := f.Sectors[sec]
		r.Sectors[string(sec)] = sectorFiguresJSON{Listings: v.Listings, Bids: v.Bids, Awards: v.Awards, AwardValuePence: v.AwardValuePence}
	}
	if f.TendersWithBids > 0 {
		r.MultiSectorShare = math.Round(float64(f.MultiSectorTenders)/float64(f.TendersWithBids)*10000) / 10000
	}
	return r
}

// marketChoice serves the choice figures, public and cached with the
// tender views: a tender's write (an award, say) renews them, a listing's
// write renews them through the directory's stamp in the key, and a bid
// deadline turns them (the bids of a tender count from its deadline on).
func (s *server) marketChoice(c *gin.Context) {
	ctx := c.Request.Context()
	dir, err := s.stamp(ctx, cache.NSProviders)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.servePublic(c, "choice?d="+dir, true, func(ctx context.Context) ([]byte, time.Time, error) {
		now := s.now()
		f, err := s.market.ChoiceFigures(ctx, now)
		if err != nil {
			return nil, time.Time{}, err
		}
		turn, err := s.nextDeadline(ctx, now)
		if err != nil {
			return nil, time.Time{}, err
		}
		body, err := json.Marshal(toChoice(f))
		return body, turn, err
	})
}

// nextDeadline is the first bid deadline after now of an open tender:
// the instant a tender's bids start to count.
func (s *server) nextDeadline(ctx context.Context, now time.Time) (time.Time, error) {
	if s.tenders == nil {
		return time.Time{}, nil
	}
	var turn time.Time
	f := market.TenderFilter{Status: market.TenderOpen, PageSize: market.MaxPageSize, Now: now}
	for {
		page, err := s.tenders.Store.ListTenders(ctx, f)
		if err != nil {
			return time.Time{}, err
		}
		for i := range page.Items {
			if d := page.Items[i].BidDeadline; d.After(now) {
				turn = earlier(turn, d)
			}
		}
		if page.NextCursor == "" {
			return turn, nil
		}
		f.Cursor = page.NextCursor
	}
}

// stamp returns the current stamp of namespace ns: a value that changes
// whenever ns is invalidated, in any process sharing the cache.
func (s *server) stamp(ctx context.Context, ns string) (string, error) {
	e, err := s.cache.Fetch(ctx, ns, "stamp", stampTTL, newStamp)
	return string(e.Body), err
}
