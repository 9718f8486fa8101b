package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

const benchTarget = "/api/v1/providers?sector=nhs"

// mustBenchEnv returns a seeded SQLite env logging through h (and its
// access lines to access, when set), and the body of benchTarget.
func mustBenchEnv(b *testing.B, h slog.Handler, access io.Writer) (*env, []byte) {
	b.Helper()
	e := mustEnv(b, "sqlite", func(c *Config) { c.Logger, c.AccessLog = slog.New(h), access })
	rec := httptest.NewRecorder()
	e.s.engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, benchTarget, nil))
	if rec.Code != http.StatusOK {
		b.Fatalf("warm-up: %d %s", rec.Code, rec.Body)
	}
	return e, rec.Body.Bytes()
}

// bareGin is the baseline: Gin with no middleware serving the same bytes
// from memory on the same route, with only a content type.
func bareGin(body []byte) http.Handler {
	e := newEngine()
	e.GET("/api/v1/providers", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", body)
	})
	return e
}

func loop(b *testing.B, h http.Handler) {
	req := httptest.NewRequest(http.MethodGet, benchTarget, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

var bareResult struct {
	once sync.Once
	ns   float64
}

// nsPerOp times h on benchTarget for about d. testing.Benchmark cannot be
// called from inside a benchmark, hence this plain loop.
func nsPerOp(h http.Handler, d time.Duration) float64 {
	req := httptest.NewRequest(http.MethodGet, benchTarget, nil)
	n, start := 0, time.Now()
	for time.Since(start) < d {
		for range 1000 {
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
		n += 1000
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// BenchmarkProvidersCachedHit serves a cached directory page through every
// layer, and reports its throughput as a fraction of the bare Gin
// handler's (x_bare). "log=access" writes the access line as serve does
// (the hand-written line, to io.Discard); "log=slog" through slog's JSON
// handler instead; "log=off" discards it, which shows what the line costs.
func BenchmarkProvidersCachedHit(b *testing.B) {
	for _, bc := range []struct {
		name   string
		h      slog.Handler
		access io.Writer
	}{
		{"log=access", slog.NewJSONHandler(io.Discard, nil), io.Discard},
		{"log=slog", slog.NewJSONHandler(io.Discard, nil), nil},
		{"log=off", slog.DiscardHandler, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e, body := mustBenchEnv(b, bc.h, bc.access)
			bareResult.once.Do(func() {
				h := bareGin(body)
				nsPerOp(h, 200*time.Millisecond)
				bareResult.ns = nsPerOp(h, time.Second)
			})
			loop(b, e.s.engine)
			cached := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(bareResult.ns/cached, "x_bare")
		})
	}
}

func BenchmarkBareGin(b *testing.B) {
	_, body := mustBenchEnv(b, slog.DiscardHandler, nil)
	loop(b, bareGin(body))
}
