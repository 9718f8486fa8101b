// Package logsink writes log lines to one output (stderr) in order, with
// access lines gathered in memory and written in batches: one write for
// many requests instead of one each, which on the cached path costs as
// much as a third of the answer's own writes. Every other line is written
// at once, after whatever was gathered before it, so an error is never held
// back and the lines keep their order.
package logsink

import (
	"io"
	"sync"
	"time"
)

// Defaults for the zero Options.
const (
	DefaultInterval = 100 * time.Millisecond
	DefaultSize     = 64 << 10
)

// Sink is one output shared by a buffered writer and a direct one.
type Sink struct {
	mu   sync.Mutex
	out  io.Writer
	buf  []byte
	size int
	err  error

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// New returns a sink on out that writes gathered lines at least every
// interval (<= 0: DefaultInterval) and whenever more than size bytes
// (<= 0: DefaultSize) are waiting. Close it to write the rest.
func New(out io.Writer, interval time.Duration, size int) *Sink {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if size <= 0 {
		size = DefaultSize
	}
	s := &Sink{out: out, size: size, buf: make([]byte, 0, size+4<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go s.run(interval)
	return s
}

func (s *Sink) run(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			s.flushLocked()
			s.mu.Unlock()
		}
	}
}

// flushLocked writes what is gathered; a failed write drops it, since a
// log that cannot be written must not hold requests or memory.
func (s *Sink) flushLocked() {
	if len(s.buf) == 0 {
		return
	}
	if _, err := s.out.Write(s.buf); err != nil {
		s.err = err
	}
	s.buf = s.buf[:0]
}

// Buffered returns the writer for access lines: each Write (one slog
// record) is kept whole and written with the next batch.
func (s *Sink) Buffered() io.Writer { return buffered{s} }

// Direct returns the writer for every other line: written at once, after
// the lines gathered before it.
func (s *Sink) Direct() io.Writer { return direct{s} }

type buffered struct{ s *Sink }

func (b buffered) Write(p []byte) (int, error) {
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	if len(s.buf) > s.size {
		s.flushLocked()
	}
	return len(p), nil
}

type direct struct{ s *Sink }

func (d direct) Write(p []byte) (int, error) {
	s := d.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
	return s.out.Write(p)
}

// Close writes what is gathered and stops the timer; writes after Close go
// straight out. It returns the last write error, if any.
func (s *Sink) Close() error {
	s.once.Do(func() {
		close(s.stop)
		<-s.done
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
	s.size = 0 // from now on every buffered line is written at once
	return s.err
}
