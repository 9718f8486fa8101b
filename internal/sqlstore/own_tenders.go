package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// cursorOwnTenders marks a cursor of ListOwnTenders, so that a cursor of
// the public list is refused here and the other way round.
const cursorOwnTenders = "o"

// ListOwnTenders returns one page of one CCG's tenders (led or jointly
// commissioned by f.BuyerID), or of the tenders f.EvaluatorID is assigned
// to, in every status, with status derived at f.Now; newest first by
// publication, else creation, then by ID (one query on either engine).
// EINVALID naming "cursor" for a cursor this list did not give out.
func (s *TenderStore) ListOwnTenders(ctx context.Context, f market.OwnTenderFilter) (market.TenderPage, error) {
	query, args, pageSize, err := s.ownTendersQuery(f)
	if err != nil {
		return market.TenderPage{}, err
	}
	return s.tenderPage(ctx, query, args, pageSize, cursorOwnTenders)
}

// ownTendersQuery returns the page query of ListOwnTenders for f, its
// arguments and the page size it reads one row beyond.
func (s *TenderStore) ownTendersQuery(f market.OwnTenderFilter) (string, []any, int, error) {
	pageSize := f.PageSize
	if pageSize <= 0 {
		pageSize = market.DefaultPageSize
	}
	pageSize = min(pageSize, market.MaxPageSize)

	var (
		b    strings.Builder
		args []any
	)
	b.WriteString("SELECT " + tenderColumns + ", t.listed_at FROM tenders t WHERE ")
	if f.EvaluatorID != "" {
		// One lookup in evaluators_user (migration 00013).
		b.WriteString("t.id IN (SELECT e.tender_id FROM evaluators e WHERE e.user_id = ? AND e.assigned = ?)")
		args = append(args, f.EvaluatorID, true)
	} else {
		// Two index lookups (tenders_buyer, tender_commissioners_org): a
		// CCG's tenders are read, not every tender scanned for them.
		b.WriteString("t.id IN (SELECT x.id FROM tenders x WHERE x.buyer_id = ? UNION ALL SELECT tc.tender_id FROM tender_commissioners tc WHERE tc.org_id = ?)")
		args = append(args, f.BuyerID, f.BuyerID)
	}
	if f.Status != "" {
		b.WriteString(" AND " + tenderStatusSQL + " = ?")
		args = append(args, s.db.timeArg(utcMicro(f.Now)), string(f.Status))
	}
	if f.Cursor != "" {
		keys, err := market.DecodeCursor(f.Cursor)
		if err != nil {
			return "", nil, 0, err
		}
		if len(keys) != 3 || keys[0] != cursorOwnTenders {
			return "", nil, 0, market.Invalid("cursor", "does not belong to this list")
		}
		after, err := time.Parse(timeLayout, keys[1])
		if err != nil {
			return "", nil, 0, market.Invalid("cursor", "is not a cursor this API gave out")
		}
		b.WriteString(" AND (t.listed_at, t.id) < (?, ?)")
		args = append(args, s.db.timeArg(after), keys[2])
	}
	b.WriteString(" ORDER BY t.listed_at DESC, t.id DESC LIMIT ?")
	args = append(args, pageSize+1)
	return b.String(), args, pageSize, nil
}
