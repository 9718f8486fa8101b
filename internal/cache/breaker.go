package cache

import "sync/atomic"

// breaker keeps requests off a failing Redis: after a failure it stays
// open until a deadline, then lets one request probe; the probe's success
// closes it, its failure opens it again.
type breaker struct {
	openUntil atomic.Int64 // Unix nanoseconds; 0 when closed
	probing   atomic.Bool
}

// allow reports whether a request may call Redis at now, and whether it
// is the one probe let through after the breaker opened.
func (b *breaker) allow(now int64) (ok, probe bool) {
	u := b.openUntil.Load()
	if u == 0 {
		return true, false
	}
	if now < u {
		return false, false
	}
	ok = b.probing.CompareAndSwap(false, true)
	return ok, ok
}

// trip opens the breaker until the deadline and reports whether it was
// closed before.
func (b *breaker) trip(until int64) bool {
	was := b.openUntil.Swap(until)
	b.probing.Store(false)
	return was == 0
}

// reset closes the breaker and reports whether it was open.
func (b *breaker) reset() bool {
	if b.openUntil.Load() == 0 {
		return false
	}
	was := b.openUntil.Swap(0)
	b.probing.Store(false)
	return was != 0
}

// release gives up a probe that ended without telling anything about
// Redis (the caller went away).
func (b *breaker) release() { b.probing.Store(false) }
