package sqlstore_test

import (
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// TestIdempotencyLease: a reservation that is neither completed nor
// renewed within market.IdempotencyLease was left by a request that died
// with its process, and a retry takes it over; one that is renewed stands,
// and a completed one is kept for the whole TTL.
func TestIdempotencyLease(t *testing.T) {
	eachEngineTenders(t, func(t *testing.T, s *tenderStores) {
		ctx := t.Context()
		t0 := s.clock.Now()
		const scope = "org-1 POST /api/v1/tenders/x/bids"
		reserve := func(t *testing.T, key, hash string, at int64) *market.IdempotencyRecord {
			t.Helper()
			rec, err := s.is.ReserveIdempotency(ctx, scope, key, hash, t0.Add(market.IdempotencyLease*time.Duration(at)/4))
			if err != nil {
				t.Fatalf("ReserveIdempotency(%s): %v", key, err)
			}
			return rec
		}
		t.Run("Abandoned", func(t *testing.T) {
			reserve(t, "dead", "h1", 0)
			if rec := reserve(t, "dead", "h1", 3); rec == nil || rec.Done {
				t.Fatalf("within the lease: %+v, want the running reservation", rec)
			}
			if rec := reserve(t, "dead", "h1", 4); rec != nil {
				t.Fatalf("at the lease: %+v, want the key taken over", rec)
			}
			if rec := reserve(t, "dead", "h1", 5); rec == nil || rec.Done {
				t.Errorf("after the takeover: %+v, want the new running reservation", rec)
			}
		})
		t.Run("Renewed", func(t *testing.T) {
			reserve(t, "alive", "h1", 0)
			if err := s.is.RenewIdempotency(ctx, scope, "alive", t0.Add(market.IdempotencyLease*3/4)); err != nil {
				t.Fatalf("RenewIdempotency: %v", err)
			}
			if rec := reserve(t, "alive", "h1", 6); rec == nil || rec.Done {
				t.Fatalf("renewed, past the first lease: %+v, want the running reservation", rec)
			}
			if rec := reserve(t, "alive", "h1", 7); rec != nil {
				t.Errorf("a lease after the renewal: %+v, want the key taken over", rec)
			}
		})
		t.Run("Completed", func(t *testing.T) {
			reserve(t, "done", "h1", 0)
			if err := s.is.CompleteIdempotency(ctx, scope, "done", 201, []byte(`{"id":"b1"}`)); err != nil {
				t.Fatal(err)
			}
			if err := s.is.RenewIdempotency(ctx, scope, "done", t0.Add(market.IdempotencyTTL)); err != nil {
				t.Fatalf("RenewIdempotency(completed): %v", err)
			}
			if rec := reserve(t, "done", "h1", 40); rec == nil || !rec.Done || rec.Status != 201 {
				t.Errorf("a completed key past the lease: %+v, want its answer", rec)
			}
		})
	})
}
