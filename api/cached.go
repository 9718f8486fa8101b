package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

var (
	jsonContentType = []string{"application/json"}
	// publicRevalidate lets any cache keep a public view but makes it ask
	// again each time, so a listing update shows at once; the ETag makes
	// the asking cheap.
	publicRevalidate = []string{"public, no-cache"}
)

// serveCached answers with the public view ns/key, rendering it with load
// on a cache miss. On a hit it writes the stored bytes as they are: this is
// the path every directory page takes, so it does no encoding.
func (s *server) serveCached(c *gin.Context, ns, key string, load func(ctx context.Context) ([]byte, error)) {
	e, err := s.cache.Fetch(c.Request.Context(), ns, key, s.ttl, load)
	if err != nil {
		s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h["Etag"] = []string{e.ETag}
	h["Cache-Control"] = publicRevalidate
	if inm := c.Request.Header["If-None-Match"]; len(inm) > 0 && etagListMatches(inm, e.ETag) {
		c.Writer.WriteHeader(http.StatusNotModified)
		c.Writer.WriteHeaderNow()
		return
	}
	h["Content-Type"] = jsonContentType
	c.Writer.WriteHeader(http.StatusOK)
	c.Writer.Write(e.Body)
}

// etagListMatches reports whether any If-None-Match header value matches
// etag by weak comparison (RFC 9110, 13.1.2): "*", or a listed tag equal to
// etag once any W/ prefix is dropped.
func etagListMatches(values []string, etag string) bool {
	etag = strings.TrimPrefix(etag, "W/")
	for _, v := range values {
		for v != "" {
			var tag string
			tag, v, _ = strings.Cut(v, ",")
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
				return true
			}
		}
	}
	return false
}
