package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/csmarket/csmarket/internal/market"
)

// Webhooks receives Stripe's events at POST /api/v1/billing/stripe/webhook.
type Webhooks struct {
	// Secret is the endpoint's signing secret (CSM_STRIPE_WEBHOOK_SECRET);
	// empty refuses every event, since none can be verified.
	Secret  string
	Store   market.LevyStore
	Clock   market.Clock
	Metrics *Metrics
}

// signatureField names the header a bad signature is reported against.
const signatureField = "Stripe-Signature"

// invoiceObject is what csmarket reads of an event's invoice.
type invoiceObject struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Metadata         map[string]string `json:"metadata"`
	HostedInvoiceURL string            `json:"hosted_invoice_url"`
}

// Receive verifies payload against its Stripe-Signature header with
// stripe-go's webhook.ConstructEventWithOptions (the default tolerance of
// five minutes; a mismatch of API version is accepted, since only the
// invoice's id, metadata and hosted URL are read) and applies it: each
// event ID once, and an invoice event only ever moving its levy forward.
// A bad, missing or stale signature is EINVALID naming the header, and
// changes nothing; an event of another type is accepted and ignored.
func (h *Webhooks) Receive(ctx context.Context, payload []byte, signature string) error {
	if h.Secret == "" {
		return market.Invalid(signatureField, "cannot be verified: CSM_STRIPE_WEBHOOK_SECRET is not set")
	}
	ev, err := webhook.ConstructEventWithOptions(payload, signature, h.Secret, webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil {
		return market.Invalid(signatureField, "%s", signatureProblem(err))
	}
	if ev.ID == "" {
		return market.Invalid("id", "the event has no id")
	}
	to, ok := market.InvoiceStatusFor(string(ev.Type))
	if !ok {
		return nil
	}
	var inv invoiceObject
	if ev.Data == nil || json.Unmarshal(ev.Data.Raw, &inv) != nil || inv.Object != "invoice" {
		return market.Invalid("data.object", "is not an invoice")
	}
	levyID := inv.Metadata[MetaLevy]
	moved := false
	err = h.Store.RecordStripeEvent(ctx, ev.ID, string(ev.Type), levyID, func(l *market.Levy) (*market.AuditEvent, error) {
		if l.StripeInvoiceID != "" && inv.ID != "" && l.StripeInvoiceID != inv.ID {
			return nil, nil // an earlier invoice of this levy, since replaced
		}
		at := h.Clock.Now()
		if !l.AdvanceTo(to, at, fmt.Sprintf("Stripe: %s (event %s).", ev.Type, ev.ID)) {
			return nil, nil
		}
		if l.StripeInvoiceID == "" {
			l.StripeInvoiceID = inv.ID
		}
		if inv.HostedInvoiceURL != "" {
			l.HostedInvoiceURL = inv.HostedInvoiceURL
		}
		moved = true
		e := market.LevyEvent(nil, l, "levy."+string(to), map[string]string{"stripe_event_id": ev.ID, "stripe_event_type": string(ev.Type)})
		return &e, nil
	})
	if market.ErrorCode(err) == market.ECONFLICT {
		return nil // delivered again: processed once already
	}
	if err == nil && moved {
		h.Metrics.Count(to)
	}
	return err
}

// signatureProblem says what is wrong with a signature, without echoing it.
func signatureProblem(err error) string {
	switch {
	case errors.Is(err, webhook.ErrNotSigned):
		return "is missing"
	case errors.Is(err, webhook.ErrTooOld):
		return "is too old: its timestamp is outside the tolerance"
	case errors.Is(err, webhook.ErrInvalidHeader):
		return "is not a Stripe signature header"
	case errors.Is(err, webhook.ErrNoValidSignature):
		return "does not match the payload"
	}
	return "does not verify: the body is not a Stripe event"
}
