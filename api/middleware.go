package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

// Security headers. Every response has nosniff and a Content-Security-Policy:
// the API's allows nothing to load from a JSON or YAML body and no page to
// frame it; the frontend's (frontend.go) allows its own origin only. The
// frontend's documents also carry the headers that protect a page a person
// browses (documentHeaders): X-Frame-Options for browsers older than CSP's
// frame-ancestors, Referrer-Policy, and HSTS, which a browser learns from
// the first page it loads over HTTPS. An API body needs none of those:
// frame-ancestors 'none' already forbids framing it, default-src 'none'
// lets it load nothing that could carry a referrer, and HSTS is the
// host's, not the response's. Left off, an API answer has at most eight
// headers, which is what a Go header map holds before it grows.
var (
	nosniff    = []string{"nosniff"}
	frameDeny  = []string{"DENY"}
	noReferrer = []string{"no-referrer"}
	apiCSP     = []string{"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"}
	// hsts keeps browsers on HTTPS for two years once they have seen it
	// over HTTPS (they ignore it over plain HTTP).
	hsts = []string{"max-age=63072000; includeSubDomains"}
)

// documentHeaders gives a frontend answer its policy and the headers of a
// page a person browses.
func documentHeaders(h http.Header) {
	h["Content-Security-Policy"] = appCSP
	h["X-Frame-Options"] = frameDeny
	h["Referrer-Policy"] = noReferrer
	h["Strict-Transport-Security"] = hsts
}

// keyFrontend marks a request the frontend answered, so that its metrics
// carry the route "frontend" rather than "unmatched".
const keyFrontend = "csm.frontend"

// observe runs around every request, matched or not: it gives the request
// its ID (in its context, for the log lines, and in X-Request-ID) and
// security headers, bounds its body, recovers a panic as a 500
// problem, and records the request in the metrics and the access log.
func (s *server) observe(c *gin.Context) {
	start := time.Now()
	r := c.Request
	var id string
	if v := r.Header["X-Request-Id"]; len(v) == 1 && safeRequestID(v[0]) {
		id = v[0]
	} else {
		id = s.ids.next()
	}
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
	c.Request = r
	h := c.Writer.Header()
	h["X-Request-Id"] = []string{id}
	h["X-Content-Type-Options"] = nosniff
	h["Content-Security-Policy"] = apiCSP
	defer s.finish(c, start)

	if r.ContentLength > s.maxBody {
		s.fail(c, s.errTooLarge())
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(c.Writer, r.Body, s.maxBody)
	}
	c.Next()
}

// finish is observe's deferred half; it must be deferred directly so that
// recover sees the handler's panic.
func (s *server) finish(c *gin.Context, start time.Time) {
	if v := recover(); v != nil {
		if v == http.ErrAbortHandler {
			panic(v)
		}
		s.log.LogAttrs(c.Request.Context(), slog.LevelError, "panic recovered",
			routeAttr(c), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
		if !c.Writer.Written() {
			s.writeProblem(c, errPanic)
		}
	}
	elapsed := time.Since(start)
	status := c.Writer.Status()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
		if _, ok := c.Get(keyFrontend); ok {
			route = "frontend"
		}
	}
	method := safeMethod(c.Request.Method)
	s.metrics.observe(method, route, status, elapsed)

	size := c.Writer.Size()
	if size < 0 {
		size = 0
	}
	if s.access.w != nil {
		s.access.write(start.Add(elapsed), method, route, status, elapsed, size, requestID(c))
		return
	}
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request",
		slog.String("method", method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Int64("duration_us", elapsed.Microseconds()),
		slog.Int("bytes", size),
	)
}

// errPanic is what a client sees of a panic: nothing but that it happened.
var errPanic = &market.Error{Code: market.EINTERNAL, Message: internalMessage}

func (s *server) errTooLarge() error {
	return market.Errorf(market.ETOOLARGE, "The request body must be at most %d bytes.", s.maxBody)
}

// requestID returns the ID observe gave the request.
func requestID(c *gin.Context) string {
	if v := c.Writer.Header()["X-Request-Id"]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func routeAttr(c *gin.Context) slog.Attr { return slog.String("route", c.FullPath()) }

func errAttr(err error) slog.Attr { return slog.String("error", err.Error()) }

func levelFor(status int) slog.Level {
	if status == http.StatusServiceUnavailable {
		return slog.LevelWarn
	}
	return slog.LevelError
}

// maxRequestIDLen bounds a client's request ID, which goes into every log
// line of the request.
const maxRequestIDLen = 64

// safeRequestID reports whether a client's X-Request-ID can be logged and
// echoed as it is: short, and only characters that need no escaping.
func safeRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9',
			b == '-', b == '_', b == '.', b == ':':
		default:
			return false
		}
	}
	return true
}

// idSource makes request IDs unique across replicas without a syscall per
// request: a random prefix per process and a counter.
type idSource struct {
	prefix string
	n      atomic.Uint64
}

func newIDSource() *idSource {
	var b [8]byte
	rand.Read(b[:])
	return &idSource{prefix: hex.EncodeToString(b[:])}
}

func (g *idSource) next() string {
	var num [16]byte
	n := strconv.AppendUint(num[:0], g.n.Add(1), 36)
	var b strings.Builder
	b.Grow(len(g.prefix) + 1 + len(n))
	b.WriteString(g.prefix)
	b.WriteByte('-')
	b.Write(n)
	return b.String()
}

// safeMethod keeps the method label of metrics and logs to a bounded set.
func safeMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

var statusLabels = func() (t [600]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

func statusLabel(code int) string {
	if code >= 0 && code < len(statusLabels) {
		return statusLabels[code]
	}
	return strconv.Itoa(code)
}
