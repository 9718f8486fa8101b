package sqlstore

import (
	"context"

	"github.com/csmarket/csmarket/internal/market"
)

// ListSupplierBids returns every bid of supplierID across tenders, the
// latest submitted first (one query, rebound for each engine).
func (s *TenderStore) ListSupplierBids(ctx context.Context, supplierID string) ([]market.Bid, error) {
	return s.queryBids(ctx, "SELECT "+bidColumns+" FROM bids b WHERE b.supplier_id = ? ORDER BY b.submitted_at DESC, b.id", []any{supplierID})
}
