package cache

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	hit, miss, err prometheus.Counter
	near           prometheus.Counter
	memoHit        prometheus.Counter
	memoMiss       prometheus.Counter
	memoBypass     prometheus.Counter
	invalidations  *prometheus.CounterVec
	backendErrors  *prometheus.CounterVec
	breakerOpen    prometheus.Gauge
}

func newMetrics(r prometheus.Registerer) *metrics {
	requests := register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "csm_cache_requests_total",
		Help: "Cache lookups of public views by result: hit, miss (loaded from the store), error (Redis failed or was skipped; loaded from the store).",
	}, []string{"result"}))
	m := &metrics{
		near: register(r, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "csm_cache_near_hits_total",
			Help: "Hits served from this process's near-cache without a Redis round trip (a part of the hits).",
		})),
		hit:  requests.WithLabelValues("hit"),
		miss: requests.WithLabelValues("miss"),
		err:  requests.WithLabelValues("error"),
		invalidations: register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csm_cache_invalidations_total",
			Help: "Namespace invalidations by result: ok, error (Redis not reached; retried), retried (a failed one that reached Redis later), rejoin (every namespace bumped on coming back after losing Redis).",
		}, []string{"result"})),
		backendErrors: register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csm_cache_backend_errors_total",
			Help: "Failed or timed-out Redis calls by operation.",
		}, []string{"op"})),
		breakerOpen: register(r, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "csm_cache_breaker_open",
			Help: "1 while Redis is being skipped after a failure, else 0.",
		})),
	}
	memo := register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "csm_cache_memo_requests_total",
		Help: "Reads of private store data through the in-process memos by result: hit, miss (read from the store and kept), bypass (generation unknown; read from the store).",
	}, []string{"result"}))
	m.memoHit, m.memoMiss, m.memoBypass = memo.WithLabelValues("hit"), memo.WithLabelValues("miss"), memo.WithLabelValues("bypass")
	return m
}

// register adds c to r, or returns the collector already registered under
// its name, so that several caches can share one registry.
func register[C prometheus.Collector](r prometheus.Registerer, c C) C {
	if r == nil {
		return c
	}
	if err := r.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}
