package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
)

var (
	jsonContentType = []string{"application/json"}
	// publicRevalidate lets any cache keep a public view but makes it ask
	// again each time, so a listing update shows at once; the ETag makes
	// the asking cheap.
	publicRevalidate = []string{"public, no-cache"}
)

// consistencyHeader carries the consistency token: a write's answer gives
// the generations its invalidations made, and a read that sends it back is
// served from a view at least that new on whichever replica answers.
const consistencyHeader = "Consistency-Token"

// serveCached answers with the public view ns/key, rendering it with load
// on a cache miss. On a hit it writes the stored bytes as they are: this is
// the path every directory page takes, so it does no encoding.
func (s *server) serveCached(c *gin.Context, ns, key string, load func(ctx context.Context) ([]byte, error)) {
	e, err := s.cache.Fetch(viewContext(c), ns, key, s.ttl, load)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeView(c, e)
}

// writeView answers with a public view: its stored bytes as they are (or
// their gzip, made once, when the client accepts it), or 304 when the
// client holds them.
func (s *server) writeView(c *gin.Context, e cache.Entry) {
	h := c.Writer.Header()
	body, etag := e.Body, e.ETag
	var gz []byte
	if ae := c.Request.Header["Accept-Encoding"]; len(ae) > 0 && len(body) >= minCompressed && acceptsGzip(ae) {
		if gz = s.compress.gzipped(e); gz != nil {
			body, etag = gz, gzipETag(e.ETag)
		}
	}
	if _, ok := h["Vary"]; ok {
		h["Vary"] = varyOriginEnc // the CORS middleware's Origin, and ours
	} else {
		h["Vary"] = varyEncoding
	}
	h["Etag"] = []string{etag}
	h["Cache-Control"] = publicRevalidate
	if inm := c.Request.Header["If-None-Match"]; len(inm) > 0 && cache.ETagMatches(inm, e.ETag) {
		c.Writer.WriteHeader(http.StatusNotModified)
		c.Writer.WriteHeaderNow()
		return
	}
	h["Content-Type"] = jsonContentType
	if gz != nil {
		h["Content-Encoding"] = gzipEncoding
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	c.Writer.WriteHeader(http.StatusOK)
	c.Writer.Write(body)
}

// viewContext is the request's context for a cached view, with its
// If-None-Match tags, so that a tag this replica does not hold is checked
// with Redis.
func viewContext(c *gin.Context) context.Context {
	ctx := c.Request.Context()
	if inm := c.Request.Header["If-None-Match"]; len(inm) > 0 {
		ctx = cache.WithETags(ctx, inm)
	}
	return ctx
}

// tokenWriter adds the Consistency-Token of the request's invalidations
// to its answer, once, just before the headers go out.
type tokenWriter struct {
	gin.ResponseWriter
	col  *cache.Collector
	done bool
}

func (w *tokenWriter) addToken() {
	if w.done {
		return
	}
	w.done = true
	if t := w.col.Token(); t != "" && !w.Written() {
		w.Header()[consistencyHeader] = []string{t}
	}
}

func (w *tokenWriter) WriteHeaderNow() { w.addToken(); w.ResponseWriter.WriteHeaderNow() }

func (w *tokenWriter) Write(b []byte) (int, error) { w.addToken(); return w.ResponseWriter.Write(b) }

func (w *tokenWriter) WriteString(s string) (int, error) {
	w.addToken()
	return w.ResponseWriter.WriteString(s)
}

func (w *tokenWriter) Flush() { w.addToken(); w.ResponseWriter.Flush() }

// consistency collects the generations of a write's invalidations for its
// answer's Consistency-Token, and gives a read that sends one back views
// at least that new (400 when it cannot be read; an empty one is none).
func (s *server) consistency(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead:
		if v := c.Request.Header[consistencyHeader]; len(v) > 1 || len(v) == 1 && v[0] != "" {
			m, err := cache.ParseToken(v[0])
			if err != nil || len(v) > 1 {
				s.fail(c, market.Invalid(consistencyHeader, "must be the Consistency-Token of an answer to a write, given once and as it was given"))
				c.Abort()
				return
			}
			c.Request = c.Request.WithContext(cache.WithMinimum(c.Request.Context(), m))
		}
		c.Next()
		return
	case http.MethodOptions:
		c.Next()
		return
	}
	ctx, col := cache.WithCollector(c.Request.Context())
	c.Request = c.Request.WithContext(ctx)
	w := &tokenWriter{ResponseWriter: c.Writer, col: col}
	c.Writer = w
	c.Next()
	w.addToken()
}
