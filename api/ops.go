package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/csmarket/csmarket/internal/market"
)

// readyTimeout bounds a readiness check, so that a hung dependency makes the
// replica unready rather than hanging the load balancer's probe.
const readyTimeout = 3 * time.Second

var (
	statusOK       = []byte(`{"status":"ok"}`)
	statusReady    = []byte(`{"status":"ready"}`)
	statusDegraded = []byte(`{"status":"degraded","detail":"The cache is not reachable; requests are served from the store."}`)
	yamlType       = []string{"application/yaml"}
)

func (s *server) health(c *gin.Context) {
	writeUncached(c, jsonContentType, statusOK)
}

var errNotReady = &market.Error{Code: market.EUNAVAILABLE, Message: "The store is not reachable."}

func (s *server) readiness(c *gin.Context) {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.LogAttrs(ctx, levelFor(http.StatusServiceUnavailable), "not ready", errAttr(err))
			s.writeProblem(c, errNotReady)
			return
		}
	}
	if s.degraded != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
		defer cancel()
		if err := s.degraded(ctx); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "degraded", errAttr(err))
			writeUncached(c, jsonContentType, statusDegraded)
			return
		}
	}
	writeUncached(c, jsonContentType, statusReady)
}

func (s *server) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return func(c *gin.Context) {
		c.Writer.Header()["Cache-Control"] = noStore
		h.ServeHTTP(c.Writer, c.Request)
	}
}

func (s *server) openapi(c *gin.Context) {
	writeUncached(c, yamlType, spec)
}

func writeUncached(c *gin.Context, contentType []string, body []byte) {
	h := c.Writer.Header()
	h["Content-Type"] = contentType
	h["Cache-Control"] = noStore
	c.Writer.WriteHeader(http.StatusOK)
	c.Writer.Write(body)
}
