// Package billing invoices the marketplace levy through Stripe: a worker,
// run by every serve process, that turns each pending levy into a Stripe
// invoice sent to the winning supplier, and the receiver of Stripe's
// invoice webhooks, which moves each levy on as its invoice is paid,
// voided or written off. It is the only package that imports stripe-go.
package billing

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/csmarket/csmarket/internal/market"
)

// Metadata keys csmarket sets on the Stripe objects it creates, so that
// they can be found again and tied back to the levy.
const (
	MetaOrganisation = "csm_organisation_id"
	MetaLevy         = "csm_levy_id"
	MetaTender       = "csm_tender_id"
)

// Metrics are the levy's Prometheus metrics, shared by the worker and the
// webhook receiver of one process.
type Metrics struct {
	levies   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// NewMetrics registers the levy metrics with reg (none when reg is nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		levies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csm_levies_total",
			Help: "Levies that reached each status in this process: recorded, sent, failed, or moved by Stripe's events.",
		}, []string{"status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "csm_stripe_request_duration_seconds",
			Help:    "Latency of Stripe API calls by operation.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csm_stripe_errors_total",
			Help: "Failed Stripe API calls by operation and kind (transient: retried later; final: the levy failed).",
		}, []string{"operation", "kind"}),
	}
	for _, st := range market.LevyStatuses {
		m.levies.WithLabelValues(string(st))
	}
	if reg != nil {
		reg.MustRegister(m.levies, m.duration, m.errors)
	}
	return m
}

// Count records that a levy reached status st.
func (m *Metrics) Count(st market.LevyStatus) {
	if m != nil {
		m.levies.WithLabelValues(string(st)).Inc()
	}
}

// Options configure the Stripe client.
type Options struct {
	// Key is the secret API key (CSM_STRIPE_KEY); empty turns invoicing off.
	Key string
	// APIBase is Stripe's API address (CSM_STRIPE_API_BASE), for
	// stripe-mock in tests; empty is Stripe itself.
	APIBase string
	// Timeout bounds each Stripe call (10 s when 0).
	Timeout time.Duration
}

// NewClient returns a stripe-go client for o. stripe-go's own retries are
// off: the worker retries a levy later with backoff instead, so that no
// call holds a lease for long.
func NewClient(o Options) *client.API {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	cfg := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: timeout},
		MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
		EnableTelemetry:   stripe.Bool(false),
	}
	if o.APIBase != "" {
		cfg.URL = stripe.String(strings.TrimSuffix(o.APIBase, "/"))
	}
	backends := &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, cfg),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg),
	}
	return client.New(o.Key, backends)
}

// final reports whether err is Stripe refusing the request for good (a
// 4xx other than 409, a concurrent use of an idempotency key, and 429, a
// rate limit): retrying the same request cannot succeed. Anything else (a
// timeout, a refused connection, a 5xx) is transient.
func final(err error) bool {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.HTTPStatusCode
	return c >= 400 && c < 500 && c != http.StatusConflict && c != http.StatusTooManyRequests
}

// message returns what the operator is told of err: Stripe's own message
// when it gave one.
func message(err error) string {
	var se *stripe.Error
	if errors.As(err, &se) && se.Msg != "" {
		msg := se.Msg
		if se.Param != "" {
			msg += " (" + se.Param + ")"
		}
		return msg
	}
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}

// newOwner returns a lease owner name unique to this worker.
func newOwner() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "worker-" + hex.EncodeToString(b)
}
