package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

// StripeWebhook verifies and applies an event Stripe sent: an EINVALID
// error for a payload or signature it refuses, which changes nothing.
type StripeWebhook interface {
	Receive(ctx context.Context, payload []byte, signature string) error
}

// levyJSON is one levy as its supplier and the operator see it.
type levyJSON struct {
	ID               string           `json:"id"`
	Tender           levyTenderJSON   `json:"tender"`
	Supplier         rowSupplierJSON  `json:"supplier"`
	BidID            string           `json:"bid_id"`
	AwardValuePence  int64            `json:"award_value_pence"`
	BasisPoints      int              `json:"basis_points"`
	CapPence         int64            `json:"cap_pence"`
	AmountPence      int64            `json:"amount_pence"`
	Currency         string           `json:"currency"`
	Status           string           `json:"status"`
	WaivedReason     string           `json:"waived_reason,omitempty"`
	StripeInvoiceID  string           `json:"stripe_invoice_id,omitempty"`
	HostedInvoiceURL string           `json:"hosted_invoice_url,omitempty"`
	Attempts         *int             `json:"attempts,omitempty"`
	NextAttemptAt    string           `json:"next_attempt_at,omitempty"`
	LastError        string           `json:"last_error,omitempty"`
	CreatedAt        string           `json:"created_at"`
	UpdatedAt        string           `json:"updated_at"`
	History          []levyChangeJSON `json:"history"`
}

type levyTenderJSON struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type levyChangeJSON struct {
	At     string `json:"at"`
	Status string `json:"status"`
	Note   string `json:"note,omitempty"`
}

// toLevy renders l; the worker's attempts and Stripe's error messages are
// the operator's alone.
func toLevy(l *market.Levy, operator bool) levyJSON {
	r := levyJSON{
		ID: l.ID, Tender: levyTenderJSON{ID: l.TenderID, Title: l.TenderTitle},
		Supplier: rowSupplierJSON{ID: l.SupplierID, Name: l.SupplierName, Sector: string(l.SupplierSector)},
		BidID:    l.BidID, AwardValuePence: l.AwardValuePence, BasisPoints: l.BasisPoints, CapPence: l.CapPence,
		AmountPence: l.AmountPence, Currency: "GBP", Status: string(l.Status), WaivedReason: l.WaivedReason,
		StripeInvoiceID: l.StripeInvoiceID, HostedInvoiceURL: l.HostedInvoiceURL,
		CreatedAt: rfc3339Milli(l.CreatedAt), UpdatedAt: rfc3339Milli(l.UpdatedAt),
		History: make([]levyChangeJSON, len(l.History)),
	}
	for i, h := range l.History {
		r.History[i] = levyChangeJSON{At: rfc3339Milli(h.At), Status: string(h.Status), Note: h.Note}
	}
	if operator {
		attempts := l.Attempts
		r.Attempts, r.LastError = &attempts, l.LastError
		if l.Status == market.LevyPending {
			r.NextAttemptAt = rfc3339Milli(l.NextAttemptAt)
		}
	}
	return r
}

// billingRoutes mounts the levies and Stripe's webhook.
func (s *server) billingRoutes(v1 *gin.RouterGroup) {
	b := v1.Group("/billing")
	if s.levies != nil && s.accounts != nil {
		b.GET("/levies", s.authenticate, s.requireUser, s.listLevies)
		b.GET("/levies/:id", s.authenticate, s.requireUser, s.getLevy)
		b.POST("/levies/:id/retry", s.authenticate, s.requireUser, s.requireOperator, s.retryLevy)
	}
	if s.stripeWebhook != nil {
		b.POST("/stripe/webhook", s.receiveStripeEvent)
	}
}

var (
	errNoLevy   = &market.Error{Code: market.ENOTFOUND, Message: "No such levy."}
	levyParams  = []string{"status", "supplier", "from", "to", "format", "cursor", "page_size"}
	timeProblem = "must be an RFC 3339 time with a zone, e.g. 2026-04-01T00:00:00Z"
)

// parseLevyQuery reads the filters of GET /api/v1/billing/levies, naming
// each bad one.
func parseLevyQuery(raw string) (market.LevyFilter, bool, error) {
	var (
		f     = market.LevyFilter{PageSize: market.DefaultPageSize}
		p     market.Problems
		asCSV bool
	)
	eachParam(raw, levyParams, &p, func(name, v string) {
		switch name {
		case "status":
			st, ok := market.ParseLevyStatus(v)
			if !ok {
				p.Add("status", "must be one of pending, not_sent, waived, failed, sent, payment_failed, uncollectible, paid, void")
				return
			}
			f.Status = st
		case "supplier":
			if !plausibleID(v) {
				p.Add("supplier", "is not an ID this API gave out")
				return
			}
			f.SupplierID = v
		case "from", "to":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				p.Add(name, "%s", timeProblem)
				return
			}
			if name == "from" {
				f.From = t
			} else {
				f.To = t
			}
		case "format":
			switch v {
			case "csv":
				asCSV = true
			case "json":
			default:
				p.Add("format", "must be json or csv")
			}
		case "cursor":
			if keys, err := market.DecodeCursor(v); err != nil || !plainKeys(keys) {
				p.Add("cursor", "is not a cursor this API gave out")
				return
			}
			f.Cursor = v
		case "page_size":
			n, err := strconv.Atoi(v)
			if err != nil {
				p.Add("page_size", "must be an integer")
			} else if n < 1 || n > market.MaxPageSize {
				p.Add("page_size", "must be between 1 and %d", market.MaxPageSize)
			} else {
				f.PageSize = n
			}
		}
	})
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		p.Add("to", "must be after from")
	}
	f.All = asCSV
	return f, asCSV, p.Err()
}

func (s *server) listLevies(c *gin.Context) {
	f, asCSV, err := parseLevyQuery(c.Request.URL.RawQuery)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := principal(c)
	page, err := s.levies.List(c.Request.Context(), p, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	operator := market.RequireOperator(p) == nil
	if asCSV {
		h := c.Writer.Header()
		h["Content-Type"] = csvContentType
		h["Cache-Control"] = noStore
		h["Content-Disposition"] = []string{`attachment; filename="levies.csv"`}
		c.Writer.WriteHeader(http.StatusOK)
		c.Writer.Write(leviesCSV(page.Items))
		return
	}
	items := make([]levyJSON, len(page.Items))
	for i := range page.Items {
		items[i] = toLevy(&page.Items[i], operator)
	}
	writePrivate(c, http.StatusOK, listResponse[levyJSON]{Items: items, NextCursor: page.NextCursor})
}

// leviesCSV writes levies as CSV, one row each, formula injection defused.
func leviesCSV(ls []market.Levy) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"levy_id", "created_at", "tender_id", "tender_title", "supplier_id", "supplier_name", "sector",
		"award_value_pence", "basis_points", "cap_pence", "amount_pence", "currency", "status", "stripe_invoice_id", "hosted_invoice_url"})
	for _, l := range ls {
		w.Write(safeCells([]string{l.ID, rfc3339Milli(l.CreatedAt), l.TenderID, l.TenderTitle, l.SupplierID, l.SupplierName,
			string(l.SupplierSector), strconv.FormatInt(l.AwardValuePence, 10), strconv.Itoa(l.BasisPoints),
			strconv.FormatInt(l.CapPence, 10), strconv.FormatInt(l.AmountPence, 10), "GBP", string(l.Status),
			l.StripeInvoiceID, l.HostedInvoiceURL}))
	}
	w.Flush()
	return buf.Bytes()
}

func (s *server) getLevy(c *gin.Context) {
	id, ok := s.pathID(c, errNoLevy)
	if !ok {
		return
	}
	p := principal(c)
	l, err := s.levies.Get(c.Request.Context(), p, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, toLevy(&l, market.RequireOperator(p) == nil))
}

func (s *server) retryLevy(c *gin.Context) {
	id, ok := s.pathID(c, errNoLevy)
	if !ok {
		return
	}
	l, err := s.levies.Retry(c.Request.Context(), principal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, toLevy(&l, true))
}

// webhookReceived is the answer to an event Stripe sent.
type webhookReceived struct {
	Received bool `json:"received"`
}

// receiveStripeEvent hands the raw body, exactly as signed, to the
// verifier; no JSON is decoded before the signature is checked.
func (s *server) receiveStripeEvent(c *gin.Context) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.fail(c, market.Errorf(market.ETOOLARGE, "The request body is larger than %d bytes.", s.maxBody))
			return
		}
		s.fail(c, market.Invalid("body", "could not be read"))
		return
	}
	if err := s.stripeWebhook.Receive(c.Request.Context(), body, c.GetHeader("Stripe-Signature")); err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, webhookReceived{Received: true})
}
