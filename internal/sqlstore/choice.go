package sqlstore

import (
	"context"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// MarketStore computes market-wide figures in SQL, so that they cost a few
// aggregate queries whatever the size of the market.
type MarketStore struct {
	db *DB
}

var _ market.MarketStore = (*MarketStore)(nil)

// NewMarketStore returns the figures of the market kept in db.
func NewMarketStore(db *DB) *MarketStore { return &MarketStore{db: db} }

// ChoiceFigures counts at now, for each sector (every sector present, zero
// or not): the active suppliers with a listing; the submitted bids on
// tenders whose bid deadline has passed; the final awards (award confirmed
// by now, on a tender neither cancelled nor ended unsuccessful) and their
// value, the awarded bid's price. Over the tenders with unsealed bids: how
// many there are, how many drew bids from two or more sectors, and how
// many a single bid. Bids are counted from tender_bid_tallies and awards
// from tender_awards, one narrow row per tender, and listings from
// directory_tallies, one row per sector, all kept by triggers, so that the
// figures cost no scan of the directory or of the tenders.
func (s *MarketStore) ChoiceFigures(ctx context.Context, at time.Time) (market.ChoiceFigures, error) {
	f := market.ChoiceFigures{Sectors: map[market.Sector]market.SectorFigures{}}
	for _, sec := range market.Sectors {
		f.Sectors[sec] = market.SectorFigures{}
	}
	when := s.db.timeArg(utcMicro(at))
	err := s.countListings(ctx, &f)
	if err == nil {
		err = s.countBids(ctx, when, &f)
	}
	if err == nil {
		err = eachRow(ctx, s.db, `SELECT sector, count(*), COALESCE(sum(price_pence), 0) FROM tender_awards
			WHERE confirmed_at <= ? GROUP BY sector`, []any{when}, func(sc scanner) error {
			var (
				sec   market.Sector
				n     int
				value int64
			)
			if err := sc.Scan(&sec, &n, &value); err != nil {
				return err
			}
			fig := f.Sectors[sec]
			fig.Awards, fig.AwardValuePence = n, value
			f.Sectors[sec] = fig
			return nil
		})
	}
	if err != nil {
		return market.ChoiceFigures{}, s.db.translate(err)
	}
	return f, nil
}

// countListings reads each sector's suppliers in the directory whose
// listing has been written (market.EmptyListing, a new supplier's, has no
// size; every written one has) from directory_tallies, which triggers on
// organisations and listings keep.
func (s *MarketStore) countListings(ctx context.Context, f *market.ChoiceFigures) error {
	return eachRow(ctx, s.db, "SELECT sector, listings FROM directory_tallies", nil, func(sc scanner) error {
		var (
			sec market.Sector
			n   int
		)
		if err := sc.Scan(&sec, &n); err != nil {
			return err
		}
		if fig, ok := f.Sectors[sec]; ok {
			fig.Listings = n
			f.Sectors[sec] = fig
		}
		return nil
	})
}

// countBids counts the submitted bids by sector on the tenders no longer
// sealed at when (as market.Tender.Sealed decides: published, and the bid
// deadline passed), so that the figures never reveal a bid still sealed,
// not even as a count; and those tenders, those with bids from two or
// more sectors, and those with a single bid.
func (s *MarketStore) countBids(ctx context.Context, when any, f *market.ChoiceFigures) error {
	const total = "c.nhs + c.local_authority + c.third_sector + c.independent"
	const sectors = `CASE WHEN c.nhs > 0 THEN 1 ELSE 0 END + CASE WHEN c.local_authority > 0 THEN 1 ELSE 0 END +
		CASE WHEN c.third_sector > 0 THEN 1 ELSE 0 END + CASE WHEN c.independent > 0 THEN 1 ELSE 0 END`
	var bids [4]int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(sum(c.nhs), 0), COALESCE(sum(c.local_authority), 0),
		COALESCE(sum(c.third_sector), 0), COALESCE(sum(c.independent), 0), count(*),
		COALESCE(sum(CASE WHEN `+sectors+` >= 2 THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN `+total+` = 1 THEN 1 ELSE 0 END), 0)
		FROM tender_bid_tallies c WHERE c.unsealed_at <= ? AND `+total+` > 0`, when).
		Scan(&bids[0], &bids[1], &bids[2], &bids[3], &f.TendersWithBids, &f.MultiSectorTenders, &f.SingleBidTenders)
	if err != nil {
		return err
	}
	for i, sec := range []market.Sector{market.SectorNHS, market.SectorLocalAuthority, market.SectorThirdSector, market.SectorIndependent} {
		fig := f.Sectors[sec]
		fig.Bids = bids[i]
		f.Sectors[sec] = fig
	}
	return nil
}
