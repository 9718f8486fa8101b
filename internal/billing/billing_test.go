package billing

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
)

// TestBackoff: the delay doubles per attempt from BackoffBase, is capped
// at BackoffMax, and its jitter keeps it within [half, whole] of that.
func TestBackoff(t *testing.T) {
	w := NewWorker(nil, nil, WorkerOptions{BackoffBase: time.Second, BackoffMax: 30 * time.Second})
	for attempts, ceiling := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 16 * time.Second, 6: 30 * time.Second, 60: 30 * time.Second} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := w.backoff(attempts)
			if d < ceiling/2 || d > ceiling {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempts, d, ceiling/2, ceiling)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("attempt %d: only %d distinct delays in 200: no jitter", attempts, len(seen))
		}
	}
}

// TestFinal: only a refusal Stripe means for good fails a levy.
func TestFinal(t *testing.T) {
	for name, tc := range map[string]struct {
		err   error
		final bool
	}{
		"BadRequest":      {&stripe.Error{HTTPStatusCode: http.StatusBadRequest, Msg: "No such customer"}, true},
		"Unauthorized":    {&stripe.Error{HTTPStatusCode: http.StatusUnauthorized}, true},
		"NotFound":        {&stripe.Error{HTTPStatusCode: http.StatusNotFound}, true},
		"IdempotencyBusy": {&stripe.Error{HTTPStatusCode: http.StatusConflict}, false},
		"RateLimited":     {&stripe.Error{HTTPStatusCode: http.StatusTooManyRequests}, false},
		"ServerError":     {&stripe.Error{HTTPStatusCode: http.StatusInternalServerError}, false},
		"Unavailable":     {&stripe.Error{HTTPStatusCode: http.StatusServiceUnavailable}, false},
		"Network":         {errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), false},
		"Timeout":         {context.DeadlineExceeded, false},
	} {
		t.Run(name, func(t *testing.T) {
			if got := final(tc.err); got != tc.final {
				t.Errorf("final(%v) = %v", tc.err, got)
			}
		})
	}
	if got := message(&stripe.Error{HTTPStatusCode: 400, Msg: "No such customer", Param: "customer"}); got != "No such customer (customer)" {
		t.Errorf("message %q", got)
	}
}
