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

// unsealedBidsSQL selects the submitted bids b, with their tender t and
// supplier o, that are no longer sealed at ? (as market.Tender.Sealed
// decides: published, and the bid deadline passed), so that the figures
// never reveal a bid still sealed, not even as a count.
const unsealedBidsSQL = ` FROM bids b
	JOIN tenders t ON t.id = b.tender_id
	JOIN organisations o ON o.id = b.supplier_id
	WHERE b.status = 'submitted' AND t.published_at IS NOT NULL AND t.bid_deadline <= ?`

// ChoiceFigures counts at now, for each sector (every sector present, zero
// or not): the active suppliers with a listing; the submitted bids on
// tenders whose bid deadline has passed; the final awards (award confirmed
// by now, on a tender neither cancelled nor ended unsuccessful) and their
// value, the awarded bid's price. Over the tenders with unsealed bids: how
// many there are, how many drew bids from two or more sectors, and how
// many a single bid.
func (s *MarketStore) ChoiceFigures(ctx context.Context, at time.Time) (market.ChoiceFigures, error) {
	f := market.ChoiceFigures{Sectors: map[market.Sector]market.SectorFigures{}}
	for _, sec := range market.Sectors {
		f.Sectors[sec] = market.SectorFigures{}
	}
	when := s.db.timeArg(utcMicro(at))
	bySector := func(query string, args []any, set func(*market.SectorFigures, int, int64)) error {
		return eachRow(ctx, s.db, query, args, func(sc scanner) error {
			var (
				sec   market.Sector
				n     int
				value int64
			)
			if err := sc.Scan(&sec, &n, &value); err != nil {
				return err
			}
			fig := f.Sectors[sec]
			set(&fig, n, value)
			f.Sectors[sec] = fig
			return nil
		})
	}
	// A listing counts once its supplier has written it: the empty listing
	// of a new supplier (market.EmptyListing) has no size, every written
	// one has.
	err := bySector(`SELECT o.sector, count(*), 0 FROM organisations o JOIN listings l ON l.org_id = o.id
		WHERE o.kind = 'supplier' AND o.status = 'active' AND l.size <> '' GROUP BY o.sector`, nil,
		func(fig *market.SectorFigures, n int, _ int64) { fig.Listings = n })
	if err == nil {
		err = bySector(`SELECT o.sector, count(*), 0`+unsealedBidsSQL+` GROUP BY o.sector`, []any{when},
			func(fig *market.SectorFigures, n int, _ int64) { fig.Bids = n })
	}
	if err == nil {
		err = bySector(`SELECT o.sector, count(*), COALESCE(sum(b.price_pence), 0) FROM tenders t
			JOIN bids b ON b.id = t.award_bid_id
			JOIN organisations o ON o.id = b.supplier_id
			WHERE t.award_confirmed_at IS NOT NULL AND t.award_confirmed_at <= ?
				AND t.cancelled_at IS NULL AND t.unsuccessful_at IS NULL
			GROUP BY o.sector`, []any{when},
			func(fig *market.SectorFigures, n int, value int64) { fig.Awards, fig.AwardValuePence = n, value })
	}
	if err == nil {
		err = s.db.QueryRowContext(ctx, `SELECT count(*),
			COALESCE(sum(CASE WHEN sectors >= 2 THEN 1 ELSE 0 END), 0),
			COALESCE(sum(CASE WHEN bids = 1 THEN 1 ELSE 0 END), 0)
			FROM (SELECT b.tender_id, count(*) AS bids, count(DISTINCT o.sector) AS sectors`+unsealedBidsSQL+`
				GROUP BY b.tender_id) x`, when).
			Scan(&f.TendersWithBids, &f.MultiSectorTenders, &f.SingleBidTenders)
	}
	if err != nil {
		return market.ChoiceFigures{}, s.db.translate(err)
	}
	return f, nil
}
