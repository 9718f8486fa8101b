// Package stripetest gives tests Stripe's own mock server, stripe-mock:
// the one at TEST_STRIPE_MOCK_URL (which .ci/run starts), else a
// stripe-mock binary found on PATH or in the Go bin directory, started on
// a free port for the test package. Without either the test is skipped,
// naming stripe-mock, and CI fails on that skip.
//
// It also gives a recording proxy to put between csmarket and stripe-mock,
// which counts the calls by idempotency key, and can be cut, black-holed
// or made to answer a Stripe error, as an outage or a refusal would.
package stripetest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvURL names the variable holding a running stripe-mock's HTTP address.
const EnvURL = "TEST_STRIPE_MOCK_URL"

var (
	startOnce sync.Once
	started   string
	startErr  error
)

// MustURL returns the address of a running stripe-mock, or skips tb.
func MustURL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return strings.TrimSuffix(u, "/")
	}
	startOnce.Do(func() { started, startErr = start() })
	if startErr != nil {
		tb.Skipf("stripe-mock is not available (%v): set %s or `go install github.com/stripe/stripe-mock@v0.203.0`", startErr, EnvURL)
	}
	return started
}

// start runs a stripe-mock binary for the rest of the test process.
func start() (string, error) {
	bin, err := exec.LookPath("stripe-mock")
	if err != nil {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, _ := os.UserHomeDir()
			gopath = filepath.Join(home, "go")
		}
		bin = filepath.Join(gopath, "bin", "stripe-mock")
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("no stripe-mock on PATH or in %s", filepath.Dir(bin))
		}
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	tlsPort, err := freePort()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "-http-port", fmt.Sprint(port), "-https-port", fmt.Sprint(tlsPort))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for range 100 {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return "http://" + addr, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill() // it may have exited already
	return "", fmt.Errorf("stripe-mock did not start on %s", addr)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ClosedURL returns an address nothing listens on: Stripe unreachable.
func ClosedURL(tb testing.TB) string {
	tb.Helper()
	port, err := freePort()
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// Call is one request the proxy passed on (or refused).
type Call struct {
	Method, Path, IdempotencyKey string
	Status                       int // what the client was answered; 0 when cut
}

// Mode is how the proxy treats the next requests.
type Mode int

// Proxy modes.
const (
	Forward   Mode = iota // pass to stripe-mock
	Cut                   // close the connection without an answer
	BlackHole             // hold the connection open and never answer
	Refuse                // answer a Stripe 400 error
)

// Proxy sits between csmarket and stripe-mock.
type Proxy struct {
	URL string

	mu    sync.Mutex
	mode  Mode
	after int // requests to forward before mode applies (-1: apply at once)
	calls []Call
	ln    net.Listener
}

// NewProxy starts a proxy to stripe-mock at upstream, closed at cleanup.
func NewProxy(tb testing.TB, upstream string) *Proxy {
	tb.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), ln: ln, after: -1}
	rp := httputil.NewSingleHostReverseProxy(target)
	hold := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := Call{Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key")}
		mode := p.next()
		switch mode {
		case Cut, BlackHole:
			p.record(call)
			if mode == BlackHole {
				select {
				case <-hold:
				case <-r.Context().Done():
				}
			}
			hj, ok := w.(http.Hijacker)
			if !ok {
				panic("stripetest: cannot hijack")
			}
			conn, _, err := hj.Hijack()
			if err == nil {
				conn.Close()
			}
		case Refuse:
			call.Status = http.StatusBadRequest
			p.record(call)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error": {"type": "invalid_request_error", "message": "The customer has no email address to send the invoice to.", "param": "customer"}}`)
		default:
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			rp.ServeHTTP(rec, r)
			call.Status = rec.status
			p.record(call)
		}
	})}
	go srv.Serve(ln)
	tb.Cleanup(func() {
		close(hold)
		srv.Close()
	})
	return p
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return r.ResponseWriter.(http.Hijacker).Hijack()
}

// Set makes the proxy forward n more requests, then treat the rest as m
// (n < 0: at once).
func (p *Proxy) Set(m Mode, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode, p.after = m, n
}

func (p *Proxy) next() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.after > 0 {
		p.after--
		return Forward
	}
	return p.mode
}

func (p *Proxy) record(c Call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, c)
}

// Calls returns every request seen so far.
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Answered returns the requests to method and path (a prefix) that got a
// 2xx answer.
func (p *Proxy) Answered(method, pathPrefix string) []Call {
	var out []Call
	for _, c := range p.Calls() {
		if c.Method == method && strings.HasPrefix(c.Path, pathPrefix) && c.Status >= 200 && c.Status < 300 {
			out = append(out, c)
		}
	}
	return out
}
