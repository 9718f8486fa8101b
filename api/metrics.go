package api

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the HTTP layer's series. Route labels are Gin's path
// templates, "unmatched" or "frontend", so their number stays bounded
// whatever paths clients ask for.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// series holds the resolved children by label values, sparing each
	// request the hashing and locking of WithLabelValues: observing is on
	// the path of every cached hit.
	series sync.Map // seriesKey -> *series
}

type seriesKey struct {
	method, route string
	status        int
}

type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csm_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "csm_http_request_duration_seconds",
			Help: "Time to answer HTTP requests, by method and route template.",
			// Cached answers take well under a millisecond; the defaults
			// would put them all in the first bucket.
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	m.requests = register(reg, m.requests)
	m.duration = register(reg, m.duration)
	return m
}

// observe counts one answered request.
func (m *metrics) observe(method, route string, status int, d time.Duration) {
	k := seriesKey{method, route, status}
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, &series{
			requests: m.requests.WithLabelValues(method, route, statusLabel(status)),
			duration: m.duration.WithLabelValues(method, route),
		})
	}
	s := v.(*series)
	s.requests.Inc()
	s.duration.Observe(d.Seconds())
}

// register adds c to reg, or returns the collector already there, so that
// several handlers can share one registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
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
