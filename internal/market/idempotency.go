package market

import (
	"context"
	"time"
)

// IdempotencyTTL is how long a creating request's outcome is kept for
// replay under its Idempotency-Key.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyLease is how long a reservation stands without its request
// renewing it. A request renews its reservation while it runs; one that
// is not renewed for this long died with its process (a crash, a
// SIGKILL), and a retry with the same key takes it over and runs, instead
// of being told for a day that the first is still running. Should the
// first request have committed its write before it died, the retry runs
// into that write (a bid: 409, the organisation already has a live bid)
// rather than repeating it.
const IdempotencyLease = 10 * time.Second

// IdempotencyRecord is the stored outcome of a creating request, so that a
// client retrying after a lost answer gets the same answer, not a second
// bid. Scope names who sent it and where (organisation and route), so one
// organisation's key never replays another's answer.
type IdempotencyRecord struct {
	Scope       string
	Key         string
	RequestHash string // of method, path and body: the same key with another body is refused
	Done        bool   // false while the first request is still running
	Status      int
	Body        []byte
	CreatedAt   time.Time
}

// IdempotencyStore keeps idempotency records.
type IdempotencyStore interface {
	// ReserveIdempotency claims key in scope for a request with hash at now.
	// It returns nil when the claim is new (the caller runs the request and
	// then completes or releases it), and the stored record when the key
	// was used within IdempotencyTTL (the caller replays it, or refuses a
	// different body, or reports one still running). An older record is
	// replaced, and so is a reservation still running that was neither
	// completed nor renewed within IdempotencyLease.
	ReserveIdempotency(ctx context.Context, scope, key, requestHash string, now time.Time) (*IdempotencyRecord, error)
	// RenewIdempotency extends a reserved key that is still running to now,
	// so that it outlives IdempotencyLease while its request runs. A key
	// that is not running is no error.
	RenewIdempotency(ctx context.Context, scope, key string, now time.Time) error
	// CompleteIdempotency stores the answer of a reserved key.
	CompleteIdempotency(ctx context.Context, scope, key string, status int, body []byte) error
	// ReleaseIdempotency forgets a reserved key whose request failed
	// without an answer worth replaying, so that a retry runs again.
	ReleaseIdempotency(ctx context.Context, scope, key string) error
}
