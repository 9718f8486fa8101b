package sqlstore

import (
	"context"
	"errors"
	"strings"

	"github.com/csmarket/csmarket/internal/market"
)

// AppendEvent appends ev to the chain in a transaction of its own, as a
// store's write does beside its change. With rollBack the transaction then
// fails, as a change failing after its event would, and AppendEvent
// returns nil when it was rolled back.
func AppendEvent(ctx context.Context, db *DB, clock market.Clock, ev market.AuditEvent, rollBack bool) error {
	errRollBack := errors.New("roll back")
	err := db.InTx(ctx, func(tx *Tx) error {
		if err := tx.appendEvent(ctx, clock, ev, "", ""); err != nil {
			return err
		}
		if rollBack {
			return errRollBack
		}
		return nil
	})
	if rollBack && errors.Is(err, errRollBack) {
		return nil
	}
	return err
}

// MigrateTo brings the schema of db up to version, and no further, so that
// a test can store rows as an older release did before migrating on.
func MigrateTo(ctx context.Context, db *DB, version int64) error {
	p, err := db.migrations(ctx)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// SearchWindow is searchWindow, for tests that search more matches than
// one window holds.
const SearchWindow = searchWindow

// RankedMatch is a match of RankAll.
type RankedMatch struct {
	LID    int64
	Score  float64
	ID     string
	Active bool
}

// RankAll ranks every match of f's search in one query, as the directory
// did before it ranked windows: the relevance of each listing that
// matches q and passes the filters, newest listing first, and whether its
// supplier is active (in the directory). A test cuts it into windows to
// know what ListProviders must return.
func RankAll(ctx context.Context, db *DB, f market.ProviderFilter) ([]RankedMatch, error) {
	terms := searchTerms(f.Q)
	var (
		b    strings.Builder
		args []any
	)
	if db.engine == EnginePostgres {
		b.WriteString(`SELECT l.lid, ts_rank(l.search, tq)::float8, o.id, o.status = 'active' FROM to_tsquery('english', ?) tq
			JOIN listings l ON l.search @@ tq JOIN organisations o ON o.id = l.org_id`)
		args = append(args, tsQueryPostgres(terms))
	} else {
		b.WriteString(`SELECT s.lid, s.score, o.id, o.status = 'active' FROM (SELECT rowid AS lid, -bm25(listing_fts, 10.0, 5.0, 2.0, 1.0) AS score
			FROM listing_fts WHERE listing_fts MATCH ?) s
			JOIN listings l ON l.lid = s.lid JOIN organisations o ON o.id = l.org_id`)
		args = append(args, ftsQuerySQLite(terms))
	}
	b.WriteString(" WHERE o.kind = 'supplier'")
	args = append(args, filterSQL(&b, f)...)
	b.WriteString(" ORDER BY 1 DESC")
	var out []RankedMatch
	err := eachRow(ctx, db, b.String(), args, func(sc scanner) error {
		var m RankedMatch
		if err := sc.Scan(&m.LID, &m.Score, &m.ID, &m.Active); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

// MigrateDownTo undoes db's migrations down to version, so that a test
// can migrate up again over rows an older release stored.
func MigrateDownTo(ctx context.Context, db *DB, version int64) error {
	p, err := db.migrations(ctx)
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}
