package main

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// newConnGrace bounds how long a stop waits for connections accepted but
// not yet read from: a client that has sent nothing a second after its
// connection was accepted is not sending a request.
const newConnGrace = time.Second

// drainer stops an http.Server without dropping a request it has
// accepted. net/http's Shutdown closes a connection whose first request
// it is reading at that moment without answering it (the client sees
// EOF, and does not retry a fresh connection), so a stop goes in three
// steps: the listener is closed (new connections refused) and keep-alives
// are turned off (idle connections closed, busy ones closed after their
// answer); then it waits until no accepted connection is still waiting
// for its first request; only then does Shutdown wait for the rest.
type drainer struct {
	ln    *onceCloseListener
	fresh sync.Map // net.Conn -> time.Time accepted; no request read yet
}

func newDrainer(srv *http.Server, ln net.Listener) *drainer {
	d := &drainer{ln: &onceCloseListener{Listener: ln}}
	next := srv.ConnState
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			d.fresh.Store(c, time.Now())
		case http.StateIdle:
			// Only after Active, never straight after New: nothing to do
			// on the path of every kept-alive request.
		default: // Active, Hijacked, Closed: a sync.Map miss takes no lock
			d.fresh.Delete(c)
		}
		if next != nil {
			next(c, st)
		}
	}
	return d
}

// Listener is what the server must Serve.
func (d *drainer) Listener() net.Listener { return d.ln }

// Stop closes the listener, lets every accepted request be answered and
// returns Shutdown's error.
func (d *drainer) Stop(ctx context.Context, srv *http.Server) error {
	_ = d.ln.Close()
	srv.SetKeepAlivesEnabled(false)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for d.waiting() {
		select {
		case <-ctx.Done():
			return srv.Shutdown(ctx)
		case <-tick.C:
		}
	}
	return srv.Shutdown(ctx)
}

// waiting reports whether a connection accepted within newConnGrace has
// not yet had its first request read.
func (d *drainer) waiting() bool {
	waiting := false
	d.fresh.Range(func(_, at any) bool {
		waiting = time.Since(at.(time.Time)) < newConnGrace
		return !waiting
	})
	return waiting
}

// onceCloseListener lets the drainer close the listener before Shutdown
// closes it again.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}
