package sqlstore

import (
	"context"
	"strings"

	"github.com/csmarket/csmarket/internal/market"
)

// ExplainListProviders returns the engine's plan of the page query that
// ListProviders runs for f (for a search, of its first window), one line
// per plan node: EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on
// PostgreSQL (which runs the query). It is for measuring the directory
// (csmbench), not for serving.
func (s *ProviderStore) ExplainListProviders(ctx context.Context, f market.ProviderFilter) ([]string, error) {
	if terms := searchTerms(f.Q); len(terms) > 0 {
		after, err := decodeSearchCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		query, args := s.windowQuery(f, terms, after.hi)
		return s.db.explain(ctx, query, args)
	}
	pageSize := f.PageSize
	if pageSize <= 0 {
		pageSize = market.DefaultPageSize
	}
	query, args, err := s.nameQuery(f, min(pageSize, market.MaxPageSize))
	if err != nil {
		return nil, err
	}
	return s.db.explain(ctx, query, args)
}

// ExplainListTenders is ExplainListProviders for ListTenders.
func (s *TenderStore) ExplainListTenders(ctx context.Context, f market.TenderFilter) ([]string, error) {
	query, args, _, err := s.listQuery(f)
	if err != nil {
		return nil, err
	}
	return s.db.explain(ctx, query, args)
}

// explain returns the plan of query on args, indented by depth.
func (db *DB) explain(ctx context.Context, query string, args []any) ([]string, error) {
	var lines []string
	if db.engine == EnginePostgres {
		err := eachRow(ctx, db, "EXPLAIN (ANALYZE, COSTS OFF) "+query, args, func(sc scanner) error {
			var line string
			if err := sc.Scan(&line); err != nil {
				return err
			}
			lines = append(lines, line)
			return nil
		})
		return lines, db.translate(err)
	}
	depth := map[int]int{0: -1}
	err := eachRow(ctx, db, "EXPLAIN QUERY PLAN "+query, args, func(sc scanner) error {
		var id, parent, unused int
		var detail string
		if err := sc.Scan(&id, &parent, &unused, &detail); err != nil {
			return err
		}
		depth[id] = depth[parent] + 1
		lines = append(lines, strings.Repeat("  ", depth[id])+detail)
		return nil
	})
	return lines, db.translate(err)
}
