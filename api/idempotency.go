package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
)

// codeIdempotencyKeyReused is the HTTP layer's answer to an
// Idempotency-Key sent again with another request: replaying the first
// answer would be a lie, and running the second might do twice what the
// client meant once.
const codeIdempotencyKeyReused = "idempotency_key_reused"

// Defaults of the idempotency middleware.
const (
	maxIdempotencyKeyLen = 255
	// defaultIdempotencyWait is how long a retry waits for the first
	// request with its key to finish before it is told to come back: long
	// enough for a client that retried too eagerly to get the answer.
	defaultIdempotencyWait = 5 * time.Second
	idempotencyPoll        = 20 * time.Millisecond
)

var (
	errIdempotencyKeyReused = &market.Error{Code: codeIdempotencyKeyReused,
		Message: "This Idempotency-Key was used with a different request; use a new key for a new request.",
		Fields:  []market.FieldError{{Field: "Idempotency-Key", Message: "was used with a different method, path or body"}}}
	errIdempotencyRunning = &market.Error{Code: market.ECONFLICT,
		Message: "A request with this Idempotency-Key is still being processed; retry shortly for its answer.",
		Fields:  []market.FieldError{{Field: "Idempotency-Key", Message: "is in use by a request still running"}}}
	errIdempotencyKey = market.Invalid("Idempotency-Key", "must be one value of 1 to %d visible ASCII characters", maxIdempotencyKeyLen)
)

var replayed = []string{"true"}

// idempotent makes a creating POST safe to retry: the first request with
// an Idempotency-Key runs, and its answer (unless a 5xx or a 429, which are
// worth retrying) is kept for market.IdempotencyTTL and replayed to every
// retry with the same key, method, path and body, with Idempotent-Replayed:
// true. Keys are scoped by the caller's organisation and the route, so
// that no one replays another's answer. A request without the header runs
// as usual.
func (s *server) idempotent(c *gin.Context) {
	h := c.Request.Header["Idempotency-Key"]
	if len(h) == 0 || s.idempotency == nil {
		return
	}
	if len(h) != 1 || !validIdempotencyKey(h[0]) {
		s.fail(c, errIdempotencyKey)
		return
	}
	key := h[0]
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		if isTooLarge(err) {
			s.fail(c, s.errTooLarge())
		} else {
			s.fail(c, market.Invalid("body", "could not be read"))
		}
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	p := principal(c)
	scope := p.OrganisationID + " " + c.FullPath()
	hash := requestHash(c.Request.Method, c.Request.URL.EscapedPath(), body)

	ctx := c.Request.Context()
	deadline := time.Now().Add(s.idempotencyWait)
	rec, err := s.idempotency.ReserveIdempotency(ctx, scope, key, hash, s.clock.Now())
	for err == nil && rec != nil && !rec.Done && rec.RequestHash == hash && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			s.fail(c, ctx.Err())
			return
		case <-time.After(idempotencyPoll):
		}
		rec, err = s.idempotency.ReserveIdempotency(ctx, scope, key, hash, s.clock.Now())
	}
	switch {
	case err != nil:
		s.fail(c, err)
		return
	case rec == nil:
		s.runIdempotent(c, scope, key)
	case rec.RequestHash != hash:
		s.fail(c, errIdempotencyKeyReused)
	case !rec.Done:
		s.fail(c, errIdempotencyRunning)
	default:
		s.replay(c, rec)
	}
}

func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > maxIdempotencyKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// requestHash identifies a request by what it asks: the same key with
// another hash is another request.
func requestHash(method, path string, body []byte) string {
	h := sha256.New()
	io.WriteString(h, method)
	h.Write([]byte{0})
	io.WriteString(h, path)
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// captureWriter keeps a copy of the body a handler writes.
type captureWriter struct {
	gin.ResponseWriter
	buf bytes.Buffer
}

func (w *captureWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *captureWriter) WriteString(str string) (int, error) {
	w.buf.WriteString(str)
	return w.ResponseWriter.WriteString(str)
}

// runIdempotent runs the request that holds the key and keeps its answer,
// or releases the key when the answer is one a retry should not get (a
// 5xx, a 429, a panic), so that the retry runs again.
func (s *server) runIdempotent(c *gin.Context, scope, key string) {
	bg := context.WithoutCancel(c.Request.Context())
	cw := &captureWriter{ResponseWriter: c.Writer}
	c.Writer = cw
	kept := false
	defer func() {
		c.Writer = cw.ResponseWriter
		if kept {
			return
		}
		if err := s.idempotency.ReleaseIdempotency(bg, scope, key); err != nil {
			s.log.LogAttrs(bg, slog.LevelError, "idempotency: release failed", routeAttr(c), errAttr(err))
		}
	}()
	stopRenewing := s.renewIdempotency(bg, routeAttr(c), scope, key)
	c.Next()
	stopRenewing()
	status := c.Writer.Status()
	if status >= 500 || status == http.StatusTooManyRequests || !c.Writer.Written() {
		return
	}
	if err := s.idempotency.CompleteIdempotency(bg, scope, key, status, cw.buf.Bytes()); err != nil {
		s.log.LogAttrs(bg, slog.LevelError, "idempotency: keeping the answer failed", routeAttr(c), errAttr(err))
		return
	}
	kept = true
}

// renewIdempotency renews the reservation of key every quarter of
// market.IdempotencyLease until the returned function is called, so that
// a request running long is not taken for one that died with its process.
func (s *server) renewIdempotency(ctx context.Context, route slog.Attr, scope, key string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(market.IdempotencyLease / 4)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if err := s.idempotency.RenewIdempotency(ctx, scope, key, s.clock.Now()); err != nil {
				s.log.LogAttrs(ctx, slog.LevelWarn, "idempotency: renewal failed", route, errAttr(err))
			}
		}
	}()
	return func() { close(done); <-finished }
}

// replay answers with a kept answer. A problem is given this request's ID
// and path, so that it can be found in the logs; a created object its
// Location again.
func (s *server) replay(c *gin.Context, rec *market.IdempotencyRecord) {
	h := c.Writer.Header()
	h["Idempotent-Replayed"] = replayed
	h["Cache-Control"] = noStore
	body := rec.Body
	if rec.Status >= 400 {
		h["Content-Type"] = problemContentType
		var p problem
		if json.Unmarshal(body, &p) == nil {
			p.RequestID, p.Instance = requestID(c), c.Request.URL.EscapedPath()
			if b, err := json.Marshal(p); err == nil {
				body = b
			}
		}
	} else {
		h["Content-Type"] = jsonContentType
		if rec.Status == http.StatusCreated {
			var created struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(body, &created) == nil && created.ID != "" && plausibleID(created.ID) {
				if loc := createdLocation(c, created.ID); loc != "" {
					h["Location"] = []string{loc}
				}
			}
		}
		if c.FullPath() == "/api/v1/tenders" {
			h["Etag"] = []string{cache.ETag(body)}
		}
	}
	c.Writer.WriteHeader(rec.Status)
	c.Writer.Write(body)
	c.Abort()
}

// createdLocation is where the object a creating POST made lives, for the
// routes that have a GET of it.
func createdLocation(c *gin.Context, id string) string {
	switch c.FullPath() {
	case "/api/v1/tenders", "/api/v1/tenders/:id/bids":
		return c.Request.URL.EscapedPath() + "/" + id
	}
	return ""
}
