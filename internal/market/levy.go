package market

import (
	"context"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"
)

// LevyStatus is where a levy invoice stands. A levy starts pending (to be
// sent to Stripe), not_sent (Stripe is off) or waived; the worker moves a
// pending one to sent, or to failed on an error Stripe says is final; and
// Stripe's invoice events move a sent one on to payment_failed, paid,
// uncollectible or void.
type LevyStatus string

// Levy statuses.
const (
	LevyPending       LevyStatus = "pending"
	LevyNotSent       LevyStatus = "not_sent"
	LevyWaived        LevyStatus = "waived"
	LevyFailed        LevyStatus = "failed"
	LevySent          LevyStatus = "sent"
	LevyPaymentFailed LevyStatus = "payment_failed"
	LevyUncollectible LevyStatus = "uncollectible"
	LevyPaid          LevyStatus = "paid"
	LevyVoid          LevyStatus = "void"
)

// LevyStatuses lists every status, for filters and metrics.
var LevyStatuses = []LevyStatus{LevyPending, LevyNotSent, LevyWaived, LevyFailed, LevySent,
	LevyPaymentFailed, LevyUncollectible, LevyPaid, LevyVoid}

// invoiceRank orders the statuses an invoice passes through once it
// exists, so that Stripe's events, which may arrive in any order and more
// than once, only ever move a levy forward: sent, then a failed payment,
// then uncollectible, then paid or void, which end it.
var invoiceRank = map[LevyStatus]int{
	LevySent: 1, LevyPaymentFailed: 2, LevyUncollectible: 3, LevyPaid: 4, LevyVoid: 4,
}

// ParseLevyStatus returns the status named s; ok is false for any other.
func ParseLevyStatus(s string) (LevyStatus, bool) {
	st := LevyStatus(s)
	return st, slices.Contains(LevyStatuses, st)
}

// Levy is the marketplace's charge on one awarded contract, billed to the
// winning supplier: the award value times the basis points, rounded half
// up to the penny, capped.
type Levy struct {
	ID              string
	TenderID        string
	TenderTitle     string
	BidID           string
	SupplierID      string
	SupplierName    string
	SupplierSector  Sector
	BillingEmail    string // the winning bid's submitter, who receives the invoice
	AwardValuePence int64
	BasisPoints     int
	CapPence        int64 // 0: no cap
	AmountPence     int64
	Status          LevyStatus
	WaivedReason    string

	// Stripe's side, filled in as the worker goes.
	StripeCustomerID string
	StripeInvoiceID  string
	HostedInvoiceURL string
	Step             LevyStep
	Attempts         int
	NextAttemptAt    time.Time // when a pending levy is next tried
	LastError        string

	CreatedAt time.Time
	UpdatedAt time.Time
	History   []LevyChange // oldest first
}

// LevyStep is how far the worker got with a levy's invoice, so that a
// retry resumes instead of starting again.
type LevyStep string

// The worker's steps, in order.
const (
	StepNone      LevyStep = ""
	StepCustomer  LevyStep = "customer"  // the supplier's Stripe customer is known
	StepInvoice   LevyStep = "invoice"   // the draft invoice exists
	StepItem      LevyStep = "item"      // the levy is on the invoice
	StepFinalized LevyStep = "finalized" // the invoice is final
	StepSent      LevyStep = "sent"      // the invoice was sent
)

// LevyChange is one entry of a levy's history.
type LevyChange struct {
	At     time.Time
	Status LevyStatus
	Note   string
}

// LevyPolicy is how the levy is computed: CSM_LEVY_BASIS_POINTS,
// CSM_LEVY_CAP_PENCE and CSM_LEVY_WAIVED_SECTORS; Invoicing says whether
// levies go to Stripe (CSM_STRIPE_KEY is set).
type LevyPolicy struct {
	BasisPoints   int
	CapPence      int64
	WaivedSectors []Sector
	Invoicing     bool
}

// Bounds of the policy.
const (
	MaxLevyBasisPoints     = 10_000 // 100%
	DefaultLevyBasisPoints = 100
)

// LevyAmount returns value x bp / 10,000, rounded half up to the penny,
// then capped at capPence when that is positive. It is exact for every
// int64 value: the product is taken in 128 bits.
func LevyAmount(value int64, bp int, capPence int64) int64 {
	if value <= 0 || bp <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(value), uint64(bp))
	lo, carry := bits.Add64(lo, 5_000, 0)
	hi += carry
	q, _ := bits.Div64(hi, lo, 10_000)
	amount := int64(q)
	if capPence > 0 && amount > capPence {
		amount = capPence
	}
	return amount
}

// NewLevy returns the levy owed on awarding the bid b of t to the supplier
// o, billed to email, as the policy says, with its first history entry.
func (p LevyPolicy) NewLevy(t *Tender, b *Bid, o *Organisation, email string, now time.Time) Levy {
	l := Levy{
		TenderID: t.ID, TenderTitle: t.Title, BidID: b.ID,
		SupplierID: o.ID, SupplierName: o.Name, SupplierSector: o.Sector, BillingEmail: email,
		AwardValuePence: b.PricePence, BasisPoints: p.BasisPoints, CapPence: p.CapPence,
		CreatedAt: now, UpdatedAt: now,
	}
	l.AmountPence = LevyAmount(b.PricePence, p.BasisPoints, p.CapPence)
	var note string
	switch {
	case slices.Contains(p.WaivedSectors, o.Sector):
		l.Status, l.AmountPence, l.WaivedReason = LevyWaived, 0, fmt.Sprintf("The levy is waived for the %s sector.", o.Sector)
		note = l.WaivedReason
	case l.AmountPence == 0:
		l.Status, l.WaivedReason = LevyWaived, "Nothing is due on this award."
		note = l.WaivedReason
	case p.Invoicing:
		l.Status, l.NextAttemptAt = LevyPending, now
		note = "Recorded on the final award; the invoice will be sent through Stripe."
	default:
		l.Status = LevyNotSent
		note = "Recorded on the final award; invoicing through Stripe is off."
	}
	l.History = []LevyChange{{At: now, Status: l.Status, Note: note}}
	return l
}

// LevyEvent returns the audit event of a levy's change to its current
// status; actor may be nil for the marketplace itself (the worker, Stripe).
func LevyEvent(p *Principal, l *Levy, action string, detail map[string]string) AuditEvent {
	ev := AuditEvent{ObjectType: "levy", ObjectID: l.ID, TenderID: l.TenderID, Action: action, Detail: detail}
	if p != nil {
		ev.ActorUser, ev.ActorOrg = p.UserID, p.OrganisationID
	}
	return ev
}

// levyRecordedDetail is what the audit trail keeps of a new levy.
func levyRecordedDetail(l *Levy) map[string]string {
	return map[string]string{
		"supplier_id": l.SupplierID, "status": string(l.Status),
		"basis_points": fmt.Sprint(l.BasisPoints), "amount_pence": fmt.Sprint(l.AmountPence),
	}
}

// InvoiceStatusFor returns the status an invoice event of Stripe moves a
// levy to; ok is false for an event type that moves none.
func InvoiceStatusFor(eventType string) (LevyStatus, bool) {
	switch eventType {
	case "invoice.finalized", "invoice.sent":
		return LevySent, true
	case "invoice.paid":
		return LevyPaid, true
	case "invoice.payment_failed":
		return LevyPaymentFailed, true
	case "invoice.voided":
		return LevyVoid, true
	case "invoice.marked_uncollectible":
		return LevyUncollectible, true
	}
	return "", false
}

// AdvanceTo moves the levy to st because of an invoice event, unless that
// would move it backwards (an event that arrived late, or twice): a paid
// levy stays paid. A levy the worker has not finished sending may be moved
// on by Stripe's events too, which then say its invoice exists. It reports
// whether the levy changed.
func (l *Levy) AdvanceTo(st LevyStatus, at time.Time, note string) bool {
	to, ok := invoiceRank[st]
	if !ok {
		return false
	}
	switch {
	case l.Status == LevyWaived, l.Status == LevyNotSent:
		return false
	case l.Status == LevyPending && st == LevySent:
		// The worker is still sending it: it says sent once Stripe has
		// sent the invoice, not when the invoice is merely final.
		return false
	}
	if from, isInvoice := invoiceRank[l.Status]; isInvoice && from >= to {
		return false
	}
	l.Status, l.UpdatedAt, l.LastError = st, at, ""
	l.History = append(l.History, LevyChange{At: at, Status: st, Note: note})
	return true
}

// LevyFilter selects levies.
type LevyFilter struct {
	SupplierID string // "" for every supplier (the operator)
	Status     LevyStatus
	From, To   time.Time // created at or after From, before To
	Cursor     string
	PageSize   int
	All        bool // every match on one page, for CSV
}

// LevyPage is one page of levies, newest first.
type LevyPage struct {
	Items      []Levy
	NextCursor string
}

// LevyStore keeps levies. The award's confirmation records a levy through
// TenderStore.ConfirmAward, in the confirmation's own transaction.
type LevyStore interface {
	// GetLevy returns a levy with its history. ENOTFOUND.
	GetLevy(ctx context.Context, id string) (Levy, error)
	// ListLevies pages levies matching f, newest first.
	ListLevies(ctx context.Context, f LevyFilter) (LevyPage, error)
	// UpdateLevy applies change to the stored levy inside a transaction,
	// which holds the row until it ends; unless change fails, the levy is
	// saved (with its new history entries) and the audit event it returns,
	// if any, appended. ENOTFOUND; change's error is returned as it is
	// and nothing is saved.
	UpdateLevy(ctx context.Context, id string, change func(l *Levy) (*AuditEvent, error)) (Levy, error)
	// ClaimLevy leases the pending levy due soonest (NextAttemptAt at or
	// before now, no live lease) to owner until leaseUntil; several
	// replicas claim at once without taking the same one. ENOTFOUND when
	// none is due.
	ClaimLevy(ctx context.Context, owner string, now, leaseUntil time.Time) (Levy, error)
	// WorkLevy applies the worker's change to the stored levy as
	// UpdateLevy does, when owner still holds its lease, and releases the
	// lease when release is set. Reading the row afresh under its lock
	// keeps what Stripe's events changed meanwhile. ECONFLICT when owner
	// lost the lease.
	WorkLevy(ctx context.Context, id, owner string, release bool, change func(l *Levy) (*AuditEvent, error)) (Levy, error)
	// RecordStripeEvent stores a Stripe event's ID, once, and in the same
	// transaction applies it to the levy with levyID (when there is one)
	// as UpdateLevy does. ECONFLICT when the event was recorded before, so
	// that a redelivered event changes nothing.
	RecordStripeEvent(ctx context.Context, eventID, eventType, levyID string, change func(l *Levy) (*AuditEvent, error)) error
	// StripeCustomer returns the Stripe customer recorded for an
	// organisation. ENOTFOUND.
	StripeCustomer(ctx context.Context, orgID string) (string, error)
	// SetStripeCustomer records an organisation's Stripe customer, keeping
	// the first one recorded; it returns the one kept.
	SetStripeCustomer(ctx context.Context, orgID, customerID string) (string, error)
}

// Levies holds the rules of the levy: who may read which levies, and
// retrying one that failed.
type Levies struct {
	Store  LevyStore
	Clock  Clock
	Policy LevyPolicy
	// Kick, when set, wakes this process's worker after a levy becomes
	// due, so that it is sent without waiting for the next poll.
	Kick func()
}

var (
	errNoLevy          = Errorf(ENOTFOUND, "No such levy.")
	errLevyReadersOnly = Errorf(EFORBIDDEN, "Levies are shown to the supplier billed and to the operator only.")
)

// readScope returns the supplier whose levies p may read ("" for every
// one: the operator), or an error for anyone else.
func levyScope(p *Principal) (string, error) {
	if err := RequireUser(p); err != nil {
		return "", err
	}
	switch {
	case RequireOperator(p) == nil:
		return "", nil
	case p.OrgKind == KindSupplier && p.Role == RoleSupplier:
		return p.OrganisationID, nil
	}
	return "", errLevyReadersOnly
}

// List pages the levies p may read: a supplier's own organisation's, or,
// for the operator, every one matching f. A supplier's filter by another
// supplier finds nothing.
func (s *Levies) List(ctx context.Context, p *Principal, f LevyFilter) (LevyPage, error) {
	scope, err := levyScope(p)
	if err != nil {
		return LevyPage{}, err
	}
	if scope != "" {
		if f.SupplierID != "" && f.SupplierID != scope {
			return LevyPage{Items: []Levy{}}, nil
		}
		f.SupplierID = scope
	}
	return s.Store.ListLevies(ctx, f)
}

// Get returns one levy p may read; another supplier's is not found.
func (s *Levies) Get(ctx context.Context, p *Principal, id string) (Levy, error) {
	scope, err := levyScope(p)
	if err != nil {
		return Levy{}, err
	}
	l, err := s.Store.GetLevy(ctx, id)
	if ErrorCode(err) == ENOTFOUND || (err == nil && scope != "" && l.SupplierID != scope) {
		return Levy{}, errNoLevy
	}
	return l, err
}

// Retry lets the operator send a failed levy again, or a levy recorded
// while invoicing was off once it is on: it is pending again, due now,
// with its attempts counted afresh.
func (s *Levies) Retry(ctx context.Context, p *Principal, id string) (Levy, error) {
	if err := RequireOperator(p); err != nil {
		return Levy{}, err
	}
	l, err := s.Store.UpdateLevy(ctx, id, func(l *Levy) (*AuditEvent, error) {
		switch {
		case l.Status == LevyFailed, l.Status == LevyNotSent && s.Policy.Invoicing:
		case l.Status == LevyNotSent:
			return nil, Errorf(ECONFLICT, "Invoicing through Stripe is off (CSM_STRIPE_KEY is not set); this levy cannot be sent.")
		default:
			return nil, Errorf(ECONFLICT, "Only a failed levy can be retried; this one is %s.", l.Status)
		}
		now := s.Clock.Now()
		from := l.Status
		l.Status, l.Attempts, l.NextAttemptAt, l.UpdatedAt = LevyPending, 0, now, now
		l.History = append(l.History, LevyChange{At: now, Status: LevyPending, Note: "Retried by the operator."})
		ev := LevyEvent(p, l, "levy.retried", map[string]string{"from": string(from)})
		return &ev, nil
	})
	if ErrorCode(err) == ENOTFOUND {
		return Levy{}, errNoLevy
	}
	if err == nil && s.Kick != nil {
		s.Kick()
	}
	return l, err
}

// ParseSectors parses a comma-separated list of sectors, as
// CSM_LEVY_WAIVED_SECTORS gives them.
func ParseSectors(s string) ([]Sector, error) {
	var out []Sector
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		sec := Sector(part)
		if !slices.Contains(Sectors, sec) {
			return nil, fmt.Errorf("unknown sector %q", part)
		}
		out = append(out, sec)
	}
	return out, nil
}
