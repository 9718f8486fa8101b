package market

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// NotificationKind names what a notification is about; preferences are
// kept per kind.
type NotificationKind string

// Notification kinds.
const (
	NotifyTenderPublished    NotificationKind = "tender_published"    // to suppliers whose listing matches
	NotifyQuestionAnswered   NotificationKind = "question_answered"   // to suppliers that asked or bid
	NotifyDeadlineReminder   NotificationKind = "deadline_reminder"   // to askers with no live bid, before the deadline
	NotifyBidsReady          NotificationKind = "bids_ready"          // to commissioners' buyers and evaluators, at the deadline
	NotifyAwardDecided       NotificationKind = "award_decided"       // to every bidder: won or not
	NotifyAwardConfirmed     NotificationKind = "award_confirmed"     // to every bidder and commissioner
	NotifyAwardRevoked       NotificationKind = "award_revoked"       // to every bidder and commissioner
	NotifyTenderCancelled    NotificationKind = "tender_cancelled"    // to every bidder and commissioner
	NotifyTenderUnsuccessful NotificationKind = "tender_unsuccessful" // to every bidder and commissioner
	NotifyStandstillEnded    NotificationKind = "standstill_ended"    // to the lead commissioner's buyers
	NotifyLevyInvoiced       NotificationKind = "levy_invoiced"       // to the supplier billed
	NotifyBuyerPending       NotificationKind = "buyer_pending"       // to operators
	NotifyBidReceipt         NotificationKind = "bid_receipt"         // to the bidder's own organisation only
)

// NotificationKinds lists every kind, in the order preferences show them.
var NotificationKinds = []NotificationKind{
	NotifyTenderPublished, NotifyQuestionAnswered, NotifyDeadlineReminder, NotifyBidReceipt,
	NotifyBidsReady, NotifyAwardDecided, NotifyStandstillEnded, NotifyAwardConfirmed, NotifyAwardRevoked,
	NotifyTenderCancelled, NotifyTenderUnsuccessful, NotifyLevyInvoiced, NotifyBuyerPending,
}

// Valid reports whether k is a kind.
func (k NotificationKind) Valid() bool { return slices.Contains(NotificationKinds, k) }

// Notification is one message to one user.
type Notification struct {
	ID        string
	Seq       int64 // increases with every notification stored: the stream's event ID
	UserID    string
	Kind      NotificationKind
	TenderID  string
	Title     string
	Body      string
	Link      string // a path of the web app, e.g. /?page=tender&id=...
	CreatedAt time.Time
	ReadAt    time.Time
}

// Delivery is a notification planned for a user, on the channels the
// user's preferences choose; Email addresses the message.
type Delivery struct {
	Notification
	InApp bool
	Email string // the address, when it goes by e-mail too
	// Mail is the e-mail rendered for the outbox, and UnsubscribeHash the
	// hash of the one-click unsubscribe token it carries.
	Mail            *Email
	UnsubscribeHash string
}

// Preference is how one kind reaches a user.
type Preference struct {
	InApp bool
	Email bool
}

// DefaultPreference is every channel: a user who has said nothing hears
// of everything, in the app and by e-mail.
var DefaultPreference = Preference{InApp: true, Email: true}

// Preferences are a user's choices per kind; a kind missing has the
// default.
type Preferences map[NotificationKind]Preference

// For returns the preference for k.
func (p Preferences) For(k NotificationKind) Preference {
	if v, ok := p[k]; ok {
		return v
	}
	return DefaultPreference
}

// NotificationFilter selects a user's notifications.
type NotificationFilter struct {
	UserID     string
	UnreadOnly bool
	AfterSeq   int64 // only those stored after this one (the stream's resume)
	Cursor     string
	PageSize   int
}

// NotificationPage is one page, newest first (oldest first when AfterSeq
// is set, for the stream).
type NotificationPage struct {
	Items      []Notification
	NextCursor string
}

// Email is one message of the e-mail outbox.
type Email struct {
	ID             string
	NotificationID string
	UserID         string
	Kind           NotificationKind
	To             string
	Subject        string
	Text           string
	HTML           string
	Status         EmailStatus
	Attempts       int
	NextAttemptAt  time.Time
	LastError      string
	UnsubscribeURL string
	CreatedAt      time.Time
	SentAt         time.Time
}

// EmailStatus is where an e-mail stands.
type EmailStatus string

// E-mail statuses: pending (to send), sent, recorded (kept, not sent:
// there is no SMTP server configured), failed (refused for good).
const (
	EmailPending  EmailStatus = "pending"
	EmailSent     EmailStatus = "sent"
	EmailRecorded EmailStatus = "recorded"
	EmailFailed   EmailStatus = "failed"
)

// DeadlineDue is a notice fired by the clock passing a stored timestamp
// rather than by a change: a tender's deadlines, or how long a CCG has
// waited for approval.
type DeadlineDue struct {
	SubjectID string           // the tender, or the pending organisation
	Kind      NotificationKind // deadline_reminder, bids_ready, standstill_ended or buyer_pending
	At        time.Time        // when it fell due
}

// NotificationStore keeps notifications, preferences and the e-mail
// outbox.
type NotificationStore interface {
	// ListNotifications pages a user's notifications.
	ListNotifications(ctx context.Context, f NotificationFilter) (NotificationPage, error)
	// UnreadCount counts a user's unread notifications.
	UnreadCount(ctx context.Context, userID string) (int, error)
	// MarkRead marks one of the user's notifications read. ENOTFOUND when
	// it is not the user's.
	MarkRead(ctx context.Context, userID, id string, at time.Time) (Notification, error)
	// MarkAllRead marks every unread notification of the user read and
	// says how many.
	MarkAllRead(ctx context.Context, userID string, at time.Time) (int, error)
	// GetPreferences returns the preferences of the users named (a user
	// with none stored has an empty map).
	GetPreferences(ctx context.Context, userIDs []string) (map[string]Preferences, error)
	// PutPreferences replaces the stored preferences of a user for the
	// kinds in p.
	PutPreferences(ctx context.Context, userID string, p Preferences) error
	// Unsubscribe turns e-mail off for the user and kind of an
	// unsubscribe token. ENOTFOUND for a token it did not give out.
	Unsubscribe(ctx context.Context, token string) (userID string, kind NotificationKind, err error)

	// DispatchEvents takes the audit events after the last one dispatched,
	// at most limit, under a lock that lets one replica at a time dispatch
	// (another finds nothing to do), and stores in one transaction the
	// deliveries plan returns for each, with their e-mails, and how far it
	// got. It returns the notifications stored. A failure stores nothing
	// and the same events are planned again next time. It returns how
	// many events it took (0: none was waiting, or another replica holds
	// the lock).
	DispatchEvents(ctx context.Context, limit int, plan func(ctx context.Context, ev AuditEvent) ([]Delivery, error)) (int, []Notification, error)
	// DueDeadlines returns the tenders' deadlines that have fallen due at
	// now and not fired: reminders from reminderBefore ahead of the bid
	// deadline, the bid deadline itself, and the end of a standstill.
	DueDeadlines(ctx context.Context, now time.Time, reminderBefore time.Duration) ([]DeadlineDue, error)
	// FireDeadline records that d fired and stores its deliveries, in one
	// transaction. ECONFLICT when it has fired already (another replica).
	FireDeadline(ctx context.Context, d DeadlineDue, ds []Delivery) ([]Notification, error)

	// ListEmails pages the outbox for the operator, newest first.
	ListEmails(ctx context.Context, status EmailStatus, cursor string, pageSize int) ([]Email, string, error)
	// ClaimEmail leases the pending e-mail due soonest to owner until
	// leaseUntil. ENOTFOUND when none is due.
	ClaimEmail(ctx context.Context, owner string, now, leaseUntil time.Time) (Email, error)
	// SaveEmail stores the outcome of sending e, whose lease owner holds,
	// and releases it. ECONFLICT when owner lost the lease.
	SaveEmail(ctx context.Context, e *Email, owner string) error
}

// Audiences finds who a notice goes to beyond one tender's parties.
type Audiences interface {
	// MatchingSuppliers returns the active supplier organisations whose
	// listing shares at least one capability and one region with those
	// given.
	MatchingSuppliers(ctx context.Context, capabilities, regions []string) ([]string, error)
	// OperatorUsers returns the marketplace's active operators.
	OperatorUsers(ctx context.Context) ([]User, error)
}

// Notifier decides who hears of what: it plans the deliveries of each
// audit event and each deadline. Sealed bids hold here as everywhere: an
// event about a bid reaches the bidder's own organisation and no one else,
// and nothing before the deadline tells anyone else that a bid exists.
type Notifier struct {
	Tenders    TenderStore
	Users      UserStore
	Evaluators EvaluationStore
	Audiences  Audiences
	Levies     LevyStore
	Prefs      NotificationStore
	Clock      Clock
}

// ForEvent plans the notifications of one audit event (none for most).
func (n *Notifier) ForEvent(ctx context.Context, ev AuditEvent) ([]Delivery, error) {
	var (
		t   Tender
		err error
	)
	if ev.TenderID != "" && ev.ObjectType != "levy" {
		if t, err = n.Tenders.GetTender(ctx, ev.TenderID); ErrorCode(err) == ENOTFOUND {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
	}
	link := tenderLink(ev.TenderID)
	switch ev.Action {
	case "tender.published":
		orgs, err := n.Audiences.MatchingSuppliers(ctx, t.Capabilities, t.Regions)
		if err != nil {
			return nil, err
		}
		return n.toOrgs(ctx, orgs, NotifyTenderPublished, t.ID, "New opportunity: "+t.Title,
			fmt.Sprintf("%s matches your listing. Bids close %s.", t.Title, when(t.BidDeadline)), link)
	case "question.answered":
		q, err := n.Tenders.GetQuestion(ctx, ev.ObjectID)
		if err != nil {
			return nil, err
		}
		orgs := []string{q.AskerOrgID}
		bids, err := n.Tenders.ListBids(ctx, t.ID, "", false)
		if err != nil {
			return nil, err
		}
		for _, b := range bids {
			orgs = append(orgs, b.SupplierID)
		}
		return n.toOrgs(ctx, orgs, NotifyQuestionAnswered, t.ID, "A clarification was answered: "+t.Title,
			"The buyer answered a clarification question. Read it on the tender.", link)
	case "bid.submitted", "bid.revised", "bid.withdrawn":
		b, err := n.Tenders.GetBid(ctx, ev.ObjectID)
		if err != nil {
			return nil, err
		}
		what := map[string]string{"bid.submitted": "submitted", "bid.revised": "revised", "bid.withdrawn": "withdrawn"}[ev.Action]
		return n.toOrgs(ctx, []string{b.SupplierID}, NotifyBidReceipt, t.ID, fmt.Sprintf("Your bid was %s: %s", what, t.Title),
			fmt.Sprintf("Receipt: your organisation's bid on %s was %s at %s. Bids close %s.", t.Title, what, when(ev.At), when(t.BidDeadline)), link)
	case "tender.award_decided":
		return n.awardDecided(ctx, &t, ev.Detail["bid_id"])
	case "tender.awarded":
		return n.toBiddersAndCommissioners(ctx, &t, NotifyAwardConfirmed, "Award confirmed: "+t.Title,
			"The award is final. The winner and the award value are now public.")
	case "tender.award_revoked":
		return n.toBiddersAndCommissioners(ctx, &t, NotifyAwardRevoked, "Award decision revoked: "+t.Title,
			"The award decision was revoked during the standstill; the tender is being evaluated again.")
	case "tender.cancelled":
		return n.toBiddersAndCommissioners(ctx, &t, NotifyTenderCancelled, "Tender cancelled: "+t.Title,
			"The tender was cancelled: "+t.CancelReason)
	case "tender.unsuccessful":
		return n.toBiddersAndCommissioners(ctx, &t, NotifyTenderUnsuccessful, "Tender ended without award: "+t.Title,
			"The tender ended without an award: "+t.UnsuccessfulNote)
	case "levy.sent":
		l, err := n.Levies.GetLevy(ctx, ev.ObjectID)
		if err != nil {
			return nil, err
		}
		return n.toOrgs(ctx, []string{l.SupplierID}, NotifyLevyInvoiced, l.TenderID, "Levy invoice sent: "+l.TenderTitle,
			fmt.Sprintf("The marketplace levy of %s on %s was invoiced through Stripe.", pounds(l.AmountPence), l.TenderTitle), "/?page=levies")
	}
	return nil, nil
}

// ForDeadline plans the notifications of a deadline fallen due.
func (n *Notifier) ForDeadline(ctx context.Context, d DeadlineDue) ([]Delivery, error) {
	if d.Kind == NotifyBuyerPending {
		o, err := n.Users.GetOrganisation(ctx, d.SubjectID)
		if ErrorCode(err) == ENOTFOUND || (err == nil && o.Status != StatusPending) {
			return nil, nil // approved (or gone) before anyone was told
		} else if err != nil {
			return nil, err
		}
		ops, err := n.Audiences.OperatorUsers(ctx)
		if err != nil {
			return nil, err
		}
		return n.toUsers(ctx, ops, NotifyBuyerPending, "", "A CCG is waiting for approval: "+o.Name,
			fmt.Sprintf("%s registered as a buyer and waits for your approval.", o.Name), "/?page=operator")
	}
	t, err := n.Tenders.GetTender(ctx, d.SubjectID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	now := n.Clock.Now()
	link := tenderLink(t.ID)
	switch d.Kind {
	case NotifyDeadlineReminder:
		if t.Status(now) != TenderOpen {
			return nil, nil // the deadline passed while nobody was here to remind
		}
		qs, err := n.Tenders.ListQuestions(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		bids, err := n.Tenders.ListBids(ctx, t.ID, "", false)
		if err != nil {
			return nil, err
		}
		var orgs []string
		for _, q := range qs {
			if !slices.ContainsFunc(bids, func(b Bid) bool { return b.SupplierID == q.AskerOrgID && b.Status == BidSubmitted }) {
				orgs = append(orgs, q.AskerOrgID)
			}
		}
		return n.toOrgs(ctx, orgs, NotifyDeadlineReminder, t.ID, "Bids close soon: "+t.Title,
			fmt.Sprintf("You asked about %s and have not bid. Bids close %s.", t.Title, when(t.BidDeadline)), link)
	case NotifyBidsReady:
		if st := t.Status(now); st == TenderCancelled || st == TenderDraft || st == TenderOpen {
			return nil, nil
		}
		users, err := n.commissionerUsers(ctx, &t, true)
		if err != nil {
			return nil, err
		}
		return n.toUsers(ctx, users, NotifyBidsReady, t.ID, "Bids are ready to evaluate: "+t.Title,
			"The bid deadline has passed. Declare any conflict of interest, then read and score the bids.", link)
	case NotifyStandstillEnded:
		if t.Status(now) != TenderStandstill {
			return nil, nil
		}
		users, err := n.orgUsers(ctx, []string{t.BuyerID}, func(u User) bool { return u.Role == RoleBuyer })
		if err != nil {
			return nil, err
		}
		return n.toUsers(ctx, users, NotifyStandstillEnded, t.ID, "Standstill ended: "+t.Title,
			"The standstill has ended with no revocation; the award can now be confirmed.", link)
	}
	return nil, nil
}

// awardDecided tells every bidder whether it won, with the feedback link
// and the end of the standstill.
func (n *Notifier) awardDecided(ctx context.Context, t *Tender, winningBid string) ([]Delivery, error) {
	bids, err := n.Tenders.ListBids(ctx, t.ID, "", false)
	if err != nil {
		return nil, err
	}
	var out []Delivery
	for _, b := range bids {
		if b.Status != BidSubmitted {
			continue
		}
		title, body := "You were not successful: "+t.Title,
			fmt.Sprintf("The buyer decided to award %s to another bidder. Your scores and rank are in your feedback. The standstill ends %s.", t.Title, when(t.StandstillEndsAt))
		link := "/?page=tender&id=" + t.ID + "&view=feedback"
		if b.ID == winningBid {
			title, body = "You are the preferred bidder: "+t.Title,
				fmt.Sprintf("The buyer decided to award %s to your organisation. The award becomes final after the standstill, which ends %s.", t.Title, when(t.StandstillEndsAt))
			link = tenderLink(t.ID)
		}
		ds, err := n.toOrgs(ctx, []string{b.SupplierID}, NotifyAwardDecided, t.ID, title, body, link)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

func (n *Notifier) toBiddersAndCommissioners(ctx context.Context, t *Tender, kind NotificationKind, title, body string) ([]Delivery, error) {
	bids, err := n.Tenders.ListBids(ctx, t.ID, "", true)
	if err != nil {
		return nil, err
	}
	var orgs []string
	for _, b := range bids {
		orgs = append(orgs, b.SupplierID)
	}
	users, err := n.orgUsers(ctx, orgs, nil)
	if err != nil {
		return nil, err
	}
	cs, err := n.commissionerUsers(ctx, t, false)
	if err != nil {
		return nil, err
	}
	return n.toUsers(ctx, append(users, cs...), kind, t.ID, title, body, tenderLink(t.ID))
}

// commissionerUsers returns the buyers of the tender's commissioners and,
// with evaluators, its assigned evaluators.
func (n *Notifier) commissionerUsers(ctx context.Context, t *Tender, evaluators bool) ([]User, error) {
	users, err := n.orgUsers(ctx, t.Commissioners(), func(u User) bool { return u.Role == RoleBuyer })
	if err != nil || !evaluators {
		return users, err
	}
	es, err := n.Evaluators.ListEvaluators(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if !e.Assigned || slices.ContainsFunc(users, func(u User) bool { return u.ID == e.UserID }) {
			continue
		}
		u, err := n.Users.GetUser(ctx, e.UserID)
		if ErrorCode(err) == ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		if u.Status == UserActive {
			users = append(users, u)
		}
	}
	return users, nil
}

// orgUsers returns the active users of the organisations (each once) that
// keep passes (every one when keep is nil).
func (n *Notifier) orgUsers(ctx context.Context, orgIDs []string, keep func(User) bool) ([]User, error) {
	var out []User
	seen := map[string]bool{}
	for _, id := range orgIDs {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		o, err := n.Users.GetOrganisation(ctx, id)
		if ErrorCode(err) == ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		if o.Status == StatusDisabled {
			continue
		}
		us, err := n.Users.ListUsers(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			if u.Status == UserActive && (keep == nil || keep(u)) {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

func (n *Notifier) toOrgs(ctx context.Context, orgIDs []string, kind NotificationKind, tenderID, title, body, link string) ([]Delivery, error) {
	users, err := n.orgUsers(ctx, orgIDs, nil)
	if err != nil {
		return nil, err
	}
	return n.toUsers(ctx, users, kind, tenderID, title, body, link)
}

// toUsers makes one delivery per user (each once), on the channels the
// user's preferences choose; a user who wants neither gets none.
func (n *Notifier) toUsers(ctx context.Context, users []User, kind NotificationKind, tenderID, title, body, link string) ([]Delivery, error) {
	if len(users) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(users))
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	prefs, err := n.Prefs.GetPreferences(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []Delivery
	seen := map[string]bool{}
	for _, u := range users {
		if seen[u.ID] {
			continue
		}
		seen[u.ID] = true
		p := prefs[u.ID].For(kind)
		if !p.InApp && !p.Email {
			continue
		}
		d := Delivery{Notification: Notification{UserID: u.ID, Kind: kind, TenderID: tenderID, Title: title, Body: body, Link: link}, InApp: p.InApp}
		if p.Email {
			d.Email = u.Email
		}
		out = append(out, d)
	}
	return out, nil
}

func tenderLink(id string) string {
	if id == "" {
		return "/"
	}
	return "/?page=tender&id=" + id
}

// when writes a time as people read it in notifications: UTC, to the minute.
func when(t time.Time) string {
	if t.IsZero() {
		return "(not set)"
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// pounds writes pence as £1,234.56.
func pounds(p int64) string {
	neg := p < 0
	if neg {
		p = -p
	}
	whole := fmt.Sprint(p / 100)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	s := fmt.Sprintf("£%s.%02d", b.String(), p%100)
	if neg {
		s = "-" + s
	}
	return s
}

// Inbox holds the rules of a user's own notifications: each user reads
// and marks only its own.
type Inbox struct {
	Store NotificationStore
	Clock Clock
}

// List pages p's notifications.
func (s *Inbox) List(ctx context.Context, p *Principal, f NotificationFilter) (NotificationPage, error) {
	if err := RequireUser(p); err != nil {
		return NotificationPage{}, err
	}
	f.UserID = p.UserID
	return s.Store.ListNotifications(ctx, f)
}

// Unread counts p's unread notifications.
func (s *Inbox) Unread(ctx context.Context, p *Principal) (int, error) {
	if err := RequireUser(p); err != nil {
		return 0, err
	}
	return s.Store.UnreadCount(ctx, p.UserID)
}

// Read marks one of p's notifications read; another user's is not found.
func (s *Inbox) Read(ctx context.Context, p *Principal, id string) (Notification, error) {
	if err := RequireUser(p); err != nil {
		return Notification{}, err
	}
	return s.Store.MarkRead(ctx, p.UserID, id, s.Clock.Now())
}

// ReadAll marks every notification of p read.
func (s *Inbox) ReadAll(ctx context.Context, p *Principal) (int, error) {
	if err := RequireUser(p); err != nil {
		return 0, err
	}
	return s.Store.MarkAllRead(ctx, p.UserID, s.Clock.Now())
}

// Preferences returns p's preference for every kind.
func (s *Inbox) Preferences(ctx context.Context, p *Principal) (Preferences, error) {
	if err := RequireUser(p); err != nil {
		return nil, err
	}
	all, err := s.Store.GetPreferences(ctx, []string{p.UserID})
	if err != nil {
		return nil, err
	}
	out := Preferences{}
	for _, k := range NotificationKinds {
		out[k] = all[p.UserID].For(k)
	}
	return out, nil
}

// SetPreferences stores p's choices for the kinds given.
func (s *Inbox) SetPreferences(ctx context.Context, p *Principal, prefs Preferences) (Preferences, error) {
	if err := RequireUser(p); err != nil {
		return nil, err
	}
	if err := s.Store.PutPreferences(ctx, p.UserID, prefs); err != nil {
		return nil, err
	}
	return s.Preferences(ctx, p)
}

// HashToken is how unsubscribe tokens are kept: by SHA-256, never as
// given out.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Unsubscribe turns off e-mails of one kind for whoever was sent the
// token: anyone holding the link may, as RFC 8058's one-click asks.
func (s *Inbox) Unsubscribe(ctx context.Context, token string) (NotificationKind, error) {
	if token == "" || len(token) > 128 {
		return "", Invalid("token", "is not an unsubscribe token")
	}
	_, kind, err := s.Store.Unsubscribe(ctx, token)
	return kind, err
}

// Emails pages the e-mail outbox for the operator.
func (s *Inbox) Emails(ctx context.Context, p *Principal, status EmailStatus, cursor string, pageSize int) ([]Email, string, error) {
	if err := RequireOperator(p); err != nil {
		return nil, "", err
	}
	return s.Store.ListEmails(ctx, status, cursor, pageSize)
}
