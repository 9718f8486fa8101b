package market

import "time"

// Clock tells the time. Production uses SystemClock; tests set the time, so
// that deadlines can be crossed to the millisecond.
type Clock interface {
	Now() time.Time
}

// SystemClock is the server's own clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
