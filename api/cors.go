package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// CORS for frontends served from another origin. Tokens are bearer headers,
// never cookies, so no credentials are allowed and a browser sends none;
// only the configured origins, matched exactly, are answered.
var (
	corsAllowMethods  = []string{"GET, HEAD, POST, PUT, PATCH, DELETE"}
	corsAllowHeaders  = []string{"Authorization, Consistency-Token, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-ID"}
	corsExposeHeaders = []string{"Consistency-Token, ETag, Idempotent-Replayed, Location, Retry-After, X-Request-ID"}
	corsMaxAge        = []string{"600"}
)

// corsHeaders lets an allowed origin read the response, and answers its
// preflight requests itself with 204. Any other origin gets no CORS
// headers, so its browser keeps the response from it; the request is
// otherwise served as usual, since CORS protects browsers' users, not the
// server.
func (s *server) corsHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Add("Vary", "Origin")
	origin := c.Request.Header["Origin"]
	if len(origin) != 1 || !s.cors[origin[0]] {
		return
	}
	h["Access-Control-Allow-Origin"] = origin
	if c.Request.Method == http.MethodOptions && c.Request.Header.Get("Access-Control-Request-Method") != "" {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h["Access-Control-Allow-Methods"] = corsAllowMethods
		h["Access-Control-Allow-Headers"] = corsAllowHeaders
		h["Access-Control-Max-Age"] = corsMaxAge
		h["Cache-Control"] = noStore
		c.Writer.WriteHeader(http.StatusNoContent)
		c.Writer.WriteHeaderNow()
		c.Abort()
		return
	}
	h["Access-Control-Expose-Headers"] = corsExposeHeaders
}
