package billing

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/csmarket/csmarket/internal/market"
)

// WorkerOptions tune the worker; zero values take the defaults.
type WorkerOptions struct {
	DaysUntilDue int           // CSM_LEVY_DAYS_DUE (30)
	Poll         time.Duration // how often to look for due levies (5 s)
	Lease        time.Duration // how long a claim holds a levy (2 min)
	BackoffBase  time.Duration // first retry delay after a transient failure (5 s)
	BackoffMax   time.Duration // longest retry delay (1 h)
	Clock        market.Clock
	Logger       *slog.Logger
	Metrics      *Metrics
}

// Worker sends pending levies to Stripe. Every serve process runs one; the
// levies' leases let any number share the work without sending one twice,
// and each Stripe call carries an idempotency key derived from the levy
// and the step, so a crash or a retry at any point never invoices twice.
type Worker struct {
	store market.LevyStore
	api   *client.API
	o     WorkerOptions
	owner string
	kick  chan struct{}
}

// NewWorker returns a worker sending the levies of store through api.
func NewWorker(store market.LevyStore, api *client.API, o WorkerOptions) *Worker {
	if o.DaysUntilDue <= 0 {
		o.DaysUntilDue = 30
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 5 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = time.Hour
	}
	if o.Clock == nil {
		o.Clock = market.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{store: store, api: api, o: o, owner: newOwner(), kick: make(chan struct{}, 1)}
}

// Kick wakes the worker to look for due levies now. It never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run sends due levies until ctx ends, looking again every Poll and
// whenever kicked.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.kick:
		}
		w.Drain(ctx)
		t.Reset(w.o.Poll)
	}
}

// Drain works on due levies until none is due, and returns how many it
// worked on (sent, failed or put back for later).
func (w *Worker) Drain(ctx context.Context) int {
	n := 0
	for ctx.Err() == nil {
		now := w.o.Clock.Now()
		l, err := w.store.ClaimLevy(ctx, w.owner, now, now.Add(w.o.Lease))
		if market.ErrorCode(err) == market.ENOTFOUND {
			return n
		}
		if err != nil {
			w.o.Logger.Warn("levy worker: claim", "error", err.Error())
			return n
		}
		w.send(ctx, l)
		n++
	}
	return n
}

// step is one Stripe call on the way from a pending levy to a sent invoice.
type step struct {
	done market.LevyStep // the step this call completes
	op   string          // its name in metrics and idempotency keys
	call func(ctx context.Context, l *market.Levy) error
}

// send takes a claimed levy as far as it will go: each step's outcome is
// stored before the next, so that a crash resumes where it stopped.
func (w *Worker) send(ctx context.Context, l market.Levy) {
	steps := []step{
		{market.StepCustomer, "customer", w.customer},
		{market.StepInvoice, "invoice", w.invoice},
		{market.StepItem, "invoice_item", w.item},
		{market.StepFinalized, "finalize", w.finalize},
		{market.StepSent, "send", w.sendInvoice},
	}
	for i, s := range steps {
		if stepIndex(l.Step) > i {
			continue
		}
		work := l
		started := time.Now()
		err := s.call(ctx, &work)
		w.o.Metrics.observe(s.op, time.Since(started), err)
		if err != nil {
			w.failed(ctx, l.ID, s.op, err)
			return
		}
		last := s.done == market.StepSent
		saved, err := w.store.WorkLevy(ctx, l.ID, w.owner, last, func(cur *market.Levy) (*market.AuditEvent, error) {
			cur.Step, cur.StripeCustomerID, cur.StripeInvoiceID = s.done, work.StripeCustomerID, work.StripeInvoiceID
			if work.HostedInvoiceURL != "" {
				cur.HostedInvoiceURL = work.HostedInvoiceURL
			}
			if !last || cur.Status != market.LevyPending {
				return nil, nil
			}
			now := w.o.Clock.Now()
			cur.Status, cur.LastError, cur.NextAttemptAt, cur.UpdatedAt = market.LevySent, "", time.Time{}, now
			cur.History = append(cur.History, market.LevyChange{At: now, Status: market.LevySent,
				Note: fmt.Sprintf("Invoice %s sent through Stripe, due in %d days.", cur.StripeInvoiceID, w.o.DaysUntilDue)})
			ev := market.LevyEvent(nil, cur, "levy.sent", map[string]string{"stripe_invoice_id": cur.StripeInvoiceID})
			return &ev, nil
		})
		if err != nil {
			w.o.Logger.Warn("levy worker: save progress", "levy_id", l.ID, "step", s.op, "error", err.Error())
			return
		}
		if last && saved.Status == market.LevySent {
			w.o.Metrics.Count(market.LevySent)
		}
		if saved.Status != market.LevyPending {
			if !last {
				w.release(ctx, l.ID)
			}
			return // Stripe's events moved it on meanwhile (paid, voided)
		}
		l = saved
	}
}

func stepIndex(s market.LevyStep) int {
	switch s {
	case market.StepCustomer:
		return 1
	case market.StepInvoice:
		return 2
	case market.StepItem:
		return 3
	case market.StepFinalized:
		return 4
	case market.StepSent:
		return 5
	}
	return 0
}

// release gives up the lease without changing the levy.
func (w *Worker) release(ctx context.Context, id string) {
	_, err := w.store.WorkLevy(ctx, id, w.owner, true, func(*market.Levy) (*market.AuditEvent, error) { return nil, nil })
	if err != nil {
		w.o.Logger.Warn("levy worker: release", "levy_id", id, "error", err.Error())
	}
}

// failed records a failed step: a final refusal fails the levy with
// Stripe's message, for the operator to retry; anything else puts it back
// for a later attempt, with capped exponential backoff and jitter.
func (w *Worker) failed(ctx context.Context, id, op string, cause error) {
	isFinal := final(cause)
	msg := message(cause)
	// Recorded even when the worker is stopping (its context ended the
	// call), so that the levy is not left leased until the lease runs out.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := w.store.WorkLevy(ctx, id, w.owner, true, func(cur *market.Levy) (*market.AuditEvent, error) {
		now := w.o.Clock.Now()
		cur.Attempts++
		cur.LastError, cur.UpdatedAt = msg, now
		if cur.Status != market.LevyPending {
			return nil, nil
		}
		if !isFinal {
			cur.NextAttemptAt = now.Add(w.backoff(cur.Attempts))
			if cur.Attempts == 1 {
				cur.History = append(cur.History, market.LevyChange{At: now, Status: market.LevyPending,
					Note: "Stripe could not be reached; retrying with backoff."})
			}
			return nil, nil
		}
		cur.Status, cur.NextAttemptAt = market.LevyFailed, time.Time{}
		cur.History = append(cur.History, market.LevyChange{At: now, Status: market.LevyFailed,
			Note: fmt.Sprintf("Stripe refused the %s step: %s", op, msg)})
		ev := market.LevyEvent(nil, cur, "levy.failed", map[string]string{"step": op})
		return &ev, nil
	})
	if err != nil {
		w.o.Logger.Warn("levy worker: record failure", "levy_id", id, "error", err.Error())
		return
	}
	if isFinal {
		w.o.Metrics.Count(market.LevyFailed)
		w.o.Logger.Error("levy worker: Stripe refused a levy; the operator can retry it", "levy_id", id, "step", op, "stripe_error", msg)
	} else {
		w.o.Logger.Warn("levy worker: Stripe unavailable; will retry", "levy_id", id, "step", op, "error", msg)
	}
}

// backoff returns the delay before attempt n+1: BackoffBase doubled for
// each attempt made, capped at BackoffMax, then with "equal jitter" (half
// fixed, half random), so that replicas and levies spread out.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.o.BackoffBase
	for i := 1; i < attempts && d < w.o.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, w.o.BackoffMax)
	return d/2 + rand.N(d/2+1)
}

// idempotencyKey names a Stripe call for one levy and step, the same on
// every retry and every replica.
func idempotencyKey(l *market.Levy, op string) *string {
	return stripe.String("csm-levy-" + l.ID + "-" + op)
}

// customer finds the supplier's Stripe customer: the one recorded, else
// one found again by its metadata, else a new one (created once, under a
// key derived from the organisation).
func (w *Worker) customer(ctx context.Context, l *market.Levy) error {
	id, err := w.store.StripeCustomer(ctx, l.SupplierID)
	if err == nil {
		l.StripeCustomerID = id
		return nil
	} else if market.ErrorCode(err) != market.ENOTFOUND {
		return err
	}
	it := w.api.Customers.Search(&stripe.CustomerSearchParams{SearchParams: stripe.SearchParams{
		Context: ctx, Query: fmt.Sprintf("metadata['%s']:'%s'", MetaOrganisation, l.SupplierID),
	}})
	for it.Next() {
		if c := it.Customer(); c.Metadata[MetaOrganisation] == l.SupplierID {
			id = c.ID
			break
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if id == "" {
		p := &stripe.CustomerParams{Name: stripe.String(l.SupplierName)}
		if l.BillingEmail != "" {
			p.Email = stripe.String(l.BillingEmail)
		}
		p.Context = ctx
		p.AddMetadata(MetaOrganisation, l.SupplierID)
		p.SetIdempotencyKey("csm-customer-" + l.SupplierID)
		c, err := w.api.Customers.New(p)
		if err != nil {
			return err
		}
		id = c.ID
	}
	kept, err := w.store.SetStripeCustomer(ctx, l.SupplierID, id)
	if err != nil {
		return err
	}
	l.StripeCustomerID = kept
	return nil
}

func (w *Worker) description(l *market.Levy) string {
	return fmt.Sprintf("csmarket levy: %d basis points of £%d.%02d awarded for %q", l.BasisPoints,
		l.AwardValuePence/100, l.AwardValuePence%100, l.TenderTitle)
}

// invoice creates the draft invoice, sent by e-mail for the supplier to
// pay (collection_method=send_invoice) within DaysUntilDue.
func (w *Worker) invoice(ctx context.Context, l *market.Levy) error {
	p := &stripe.InvoiceParams{
		Customer:                    stripe.String(l.StripeCustomerID),
		CollectionMethod:            stripe.String(string(stripe.InvoiceCollectionMethodSendInvoice)),
		DaysUntilDue:                stripe.Int64(int64(w.o.DaysUntilDue)),
		AutoAdvance:                 stripe.Bool(false),
		Currency:                    stripe.String(string(stripe.CurrencyGBP)),
		Description:                 stripe.String(w.description(l)),
		PendingInvoiceItemsBehavior: stripe.String("exclude"),
	}
	p.Context, p.IdempotencyKey = ctx, idempotencyKey(l, "invoice")
	p.AddMetadata(MetaLevy, l.ID)
	p.AddMetadata(MetaTender, l.TenderID)
	inv, err := w.api.Invoices.New(p)
	if err != nil {
		return err
	}
	l.StripeInvoiceID = inv.ID
	return nil
}

// item puts the levy's amount on the invoice.
func (w *Worker) item(ctx context.Context, l *market.Levy) error {
	p := &stripe.InvoiceItemParams{
		Customer:    stripe.String(l.StripeCustomerID),
		Invoice:     stripe.String(l.StripeInvoiceID),
		Amount:      stripe.Int64(l.AmountPence),
		Currency:    stripe.String(string(stripe.CurrencyGBP)),
		Description: stripe.String(w.description(l)),
	}
	p.Context, p.IdempotencyKey = ctx, idempotencyKey(l, "invoice_item")
	p.AddMetadata(MetaLevy, l.ID)
	_, err := w.api.InvoiceItems.New(p)
	return err
}

func (w *Worker) finalize(ctx context.Context, l *market.Levy) error {
	p := &stripe.InvoiceFinalizeInvoiceParams{AutoAdvance: stripe.Bool(false)}
	p.Context, p.IdempotencyKey = ctx, idempotencyKey(l, "finalize")
	inv, err := w.api.Invoices.FinalizeInvoice(l.StripeInvoiceID, p)
	if err != nil {
		return err
	}
	l.HostedInvoiceURL = inv.HostedInvoiceURL
	return nil
}

func (w *Worker) sendInvoice(ctx context.Context, l *market.Levy) error {
	p := &stripe.InvoiceSendInvoiceParams{}
	p.Context, p.IdempotencyKey = ctx, idempotencyKey(l, "send")
	inv, err := w.api.Invoices.SendInvoice(l.StripeInvoiceID, p)
	if err != nil {
		return err
	}
	if inv.HostedInvoiceURL != "" {
		l.HostedInvoiceURL = inv.HostedInvoiceURL
	}
	return nil
}

// observe records a Stripe call's latency and, when it failed, its kind.
func (m *Metrics) observe(op string, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(op).Observe(d.Seconds())
	if err != nil {
		kind := "transient"
		if final(err) {
			kind = "final"
		}
		m.errors.WithLabelValues(op, kind).Inc()
	}
}
