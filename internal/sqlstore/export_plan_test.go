package sqlstore

import (
	"context"

	"github.com/csmarket/csmarket/internal/market"
)

// ExplainOwnTenders returns the plan of the page query ListOwnTenders runs
// for f, one line per plan node: EXPLAIN QUERY PLAN on SQLite; on
// PostgreSQL EXPLAIN on fresh statistics with sequential scans priced
// out, so that a test's few hundred rows show the index the planner takes
// on many, or that it has none to take.
func ExplainOwnTenders(ctx context.Context, s *TenderStore, f market.OwnTenderFilter) ([]string, error) {
	query, args, _, err := s.ownTendersQuery(f)
	if err != nil {
		return nil, err
	}
	var lines []string
	err = s.db.InTx(ctx, func(tx *Tx) error {
		if s.db.engine == EnginePostgres {
			for _, stmt := range []string{"ANALYZE evaluators", "ANALYZE tenders", "SET LOCAL enable_seqscan = off"} {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
			return eachRow(ctx, tx, "EXPLAIN (COSTS OFF) "+query, args, func(sc scanner) error {
				var line string
				err := sc.Scan(&line)
				lines = append(lines, line)
				return err
			})
		}
		return eachRow(ctx, tx, "EXPLAIN QUERY PLAN "+query, args, func(sc scanner) error {
			var id, parent, unused int
			var detail string
			err := sc.Scan(&id, &parent, &unused, &detail)
			lines = append(lines, detail)
			return err
		})
	})
	return lines, err
}

// HasIndex reports whether db's schema has the index named name.
func HasIndex(ctx context.Context, db *DB, name string) (bool, error) {
	query := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?"
	if db.engine == EnginePostgres {
		query = "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ?"
	}
	var n int
	err := db.QueryRowContext(ctx, query, name).Scan(&n)
	return n > 0, err
}
