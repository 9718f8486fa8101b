package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestDrainAnswersRequestsBeingRead: a request whose headers are still
// arriving when the stop begins is answered (net/http's Shutdown alone
// closes such a connection unanswered), an idle keep-alive connection is
// closed, and new connections are refused.
func TestDrainAnswersRequestsBeingRead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "answered")
	}), ReadHeaderTimeout: 10 * time.Second}
	d := newDrainer(srv, ln)
	go srv.Serve(d.Listener())

	// Half a request on a new connection.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the server is reading it

	stopped := make(chan error, 1)
	go func() {
		// srv.Shutdown alone here drops the request (EOF).
		stopped <- d.Stop(context.Background(), srv)
	}()
	time.Sleep(50 * time.Millisecond)
	if nc, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		nc.Close()
		t.Errorf("a new connection was accepted after the stop began")
	}
	if _, err := io.WriteString(c, "\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("the request being read when the stop began got no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "answered" || !resp.Close {
		t.Errorf("got %d %q (close %v), want 200 \"answered\" with the connection closed", resp.StatusCode, body, resp.Close)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("stop: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stop did not end within 5 s")
	}
}
