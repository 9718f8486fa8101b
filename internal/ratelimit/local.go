package ratelimit

import (
	"slices"
	"sync"
	"time"
)

const (
	// defaultMaxKeys bounds the keys held in process: about 10 MB.
	defaultMaxKeys = 100_000
	// sweepEvery is how often keys back at their full budget are dropped.
	sweepEvery = time.Minute
)

// local is GCRA in process. Each key holds only its theoretical arrival
// time (TAT): when its budget will be whole again. A key whose TAT has
// passed is at its full budget, exactly as if it had never been seen, so
// dropping it loses nothing; the periodic sweep does that, and keeps the
// map as small as the keys active within their period.
type local struct {
	mu        sync.Mutex
	tat       map[string]int64 // Unix nanoseconds
	max       int
	nextSweep int64
}

func newLocal(maxKeys int) *local {
	return &local{tat: map[string]int64{}, max: maxKeys}
}

// allow is redis_rate's script in Go: emission interval T = Per/Events,
// burst tolerance Events x T; an event at now is allowed unless the new
// TAT would lie more than the tolerance ahead of now.
func (s *local) allow(key string, l Limit, now time.Time) (bool, time.Duration) {
	interval := int64(l.Per / time.Duration(l.Events))
	if interval <= 0 {
		interval = 1
	}
	tolerance := interval * int64(l.Events)
	n := now.UnixNano()

	s.mu.Lock()
	defer s.mu.Unlock()
	if n >= s.nextSweep {
		s.sweep(n)
		s.nextSweep = n + int64(sweepEvery)
	}
	tat, seen := s.tat[key]
	tat = max(tat, n)
	next := tat + interval
	if allowAt := next - tolerance; n < allowAt {
		return false, time.Duration(allowAt - n)
	}
	if !seen && len(s.tat) >= s.max {
		s.makeRoom(n)
	}
	s.tat[key] = next
	return true, 0
}

// sweep drops the keys back at their full budget.
func (s *local) sweep(n int64) {
	for k, tat := range s.tat {
		if tat <= n {
			delete(s.tat, k)
		}
	}
}

// makeRoom brings a full map down to nine tenths of max: first by a sweep,
// then, when more keys than max are active at once (a flood of client
// addresses), by forgetting the keys closest to their full budget. Those
// are the ones that lose least; a key being refused has the latest TAT
// and is forgotten last, so a flood of new keys cannot reset it.
func (s *local) makeRoom(n int64) {
	s.sweep(n)
	target := s.max * 9 / 10
	if len(s.tat) <= target {
		return
	}
	tats := make([]int64, 0, len(s.tat))
	for _, t := range s.tat {
		tats = append(tats, t)
	}
	slices.Sort(tats)
	cut := tats[len(tats)-target-1] // forget every key with a TAT up to this
	for k, t := range s.tat {
		if t <= cut {
			delete(s.tat, k)
		}
	}
}

// len is the number of keys held, for tests.
func (s *local) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tat)
}
