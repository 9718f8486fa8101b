package market

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// TenderStore keeps tenders, their questions and bids, and writes each
// change's audit event in the same transaction as the change.
type TenderStore interface {
	// CreateTender stores a new draft, setting its ID, version and times.
	CreateTender(ctx context.Context, t *Tender, ev AuditEvent) error
	// GetTender returns a tender by ID. ENOTFOUND.
	GetTender(ctx context.Context, id string) (Tender, error)
	// SaveTender replaces every field of the stored tender when its version
	// is still ifVersion, bumping the version. EPRECONDITION when it moved.
	SaveTender(ctx context.Context, t *Tender, ifVersion int64, ev AuditEvent) error
	// ConfirmAward saves t as SaveTender does and, in the same
	// transaction, records the levy l (setting its ID) with levyEv, so
	// that no final award is ever without its levy. EPRECONDITION;
	// ENOTFOUND; ECONFLICT when the tender has a levy already.
	ConfirmAward(ctx context.Context, t *Tender, ifVersion int64, ev AuditEvent, l *Levy, levyEv AuditEvent) error
	// ListTenders pages tenders matching f (normalized): published ones,
	// plus the drafts of f.BuyerIDs; status is derived at f.Now. Newest
	// first (by publication, else creation), then ID.
	ListTenders(ctx context.Context, f TenderFilter) (TenderPage, error)

	// CreateQuestion stores a question, setting its ID and AskedAt.
	CreateQuestion(ctx context.Context, q *Question, ev AuditEvent) error
	// AnswerQuestion records the answer of a question that has none yet.
	// ECONFLICT when it was answered meanwhile.
	AnswerQuestion(ctx context.Context, q *Question, ev AuditEvent) error
	// GetQuestion returns a question by ID. ENOTFOUND.
	GetQuestion(ctx context.Context, id string) (Question, error)
	// ListQuestions returns a tender's questions, oldest first.
	ListQuestions(ctx context.Context, tenderID string) ([]Question, error)

	// CreateBid stores version 1 of a new live bid. ECONFLICT when the
	// supplier already has a live bid for the tender (a database
	// constraint, so that concurrent submissions cannot both succeed).
	CreateBid(ctx context.Context, b *Bid, ev AuditEvent) error
	// ReviseBid stores b as the next version of its bid when the live
	// version is still b.Version-1 and the bid is submitted; the earlier
	// versions are kept. ECONFLICT otherwise.
	ReviseBid(ctx context.Context, b *Bid, ev AuditEvent) error
	// WithdrawBid marks a submitted bid withdrawn. ECONFLICT when it is not
	// submitted.
	WithdrawBid(ctx context.Context, b *Bid, ev AuditEvent) error
	// GetBid returns the live version of a bid. ENOTFOUND.
	GetBid(ctx context.Context, id string) (Bid, error)
	// ListBids returns a tender's bids, of one supplier when supplierID is
	// not "", oldest first; withdrawn ones too when withWithdrawn.
	ListBids(ctx context.Context, tenderID, supplierID string, withWithdrawn bool) ([]Bid, error)
	// ListBidPrices returns a tender's submitted bids without their
	// responses (Responses nil), oldest first: what the comparison reads.
	ListBidPrices(ctx context.Context, tenderID string) ([]Bid, error)
	// BidVersions returns every version of a bid, oldest first.
	BidVersions(ctx context.Context, id string) ([]Bid, error)
	// ListSupplierBids returns every bid of one supplier across tenders,
	// submitted and withdrawn, the latest submitted first.
	ListSupplierBids(ctx context.Context, supplierID string) ([]Bid, error)
	// ListOwnTenders pages the tenders of one CCG (or one evaluator's
	// assigned tenders) in every status, newest first.
	ListOwnTenders(ctx context.Context, f OwnTenderFilter) (TenderPage, error)
}

// OrganisationReader reads organisations; the tender rules use it to check
// joint commissioners and to split costs.
type OrganisationReader interface {
	GetOrganisation(ctx context.Context, id string) (Organisation, error)
}

// Tenders holds the rules of tenders, questions and sealed bids: who may
// do what, when, and who may see what. Handlers call it and decide nothing.
type Tenders struct {
	Store           TenderStore
	Declarations    Declarations
	Orgs            OrganisationReader
	Clock           Clock
	MinTenderPeriod time.Duration
}

var (
	errNoTender = Errorf(ENOTFOUND, "No such tender.")
	errNoBid    = Errorf(ENOTFOUND, "No such bid.")
)

// IsCommissioner reports whether p acts for the tender's lead CCG or one of
// its joint commissioners.
func IsCommissioner(p *Principal, t *Tender) bool {
	return p != nil && p.OrgKind == KindBuyer && slices.Contains(t.Commissioners(), p.OrganisationID)
}

// CanSeeTender reports whether p may see t at all: a published tender is
// public; a draft only to its commissioners.
func CanSeeTender(p *Principal, t *Tender) bool {
	return !t.PublishedAt.IsZero() || IsCommissioner(p, t)
}

// CanSeeBaseline reports whether p may see the in-house baseline: only the
// commissioners, never suppliers or the public.
func CanSeeBaseline(p *Principal, t *Tender) bool {
	return IsCommissioner(p, t)
}

// CanSeeBid is the sealed-bid rule, decided here once: the bidding
// supplier always sees its own bid; nobody else sees any bid before the
// deadline; after it, a commissioner's buyer or assigned evaluator sees
// submitted bids once it has declared no conflict of interest for the
// tender (decl is the caller's declaration, nil when it has made none).
// Other suppliers, the operator and the public never do.
func CanSeeBid(p *Principal, t *Tender, b *Bid, now time.Time, decl *Evaluator) bool {
	if p == nil {
		return false
	}
	if p.OrgKind == KindSupplier && p.OrganisationID == b.SupplierID {
		return true
	}
	if b.Status != BidSubmitted || t.Sealed(now) || !IsCommissioner(p, t) {
		return false
	}
	if decl == nil || !decl.Cleared() || decl.UserID != p.UserID || decl.TenderID != t.ID {
		return false
	}
	return p.Role == RoleBuyer || (p.Role == RoleEvaluator && decl.Assigned)
}

// Declarations reads the conflict-of-interest declarations the sealed-bid
// rule needs.
type Declarations interface {
	// GetEvaluator returns a user's evaluator record for a tender.
	// ENOTFOUND when it has neither been assigned nor declared.
	GetEvaluator(ctx context.Context, tenderID, userID string) (Evaluator, error)
}

// declaration loads p's declaration for t, nil when it has none.
func (s *Tenders) declaration(ctx context.Context, p *Principal, t *Tender) (*Evaluator, error) {
	if p == nil || !IsCommissioner(p, t) || s.Declarations == nil {
		return nil, nil
	}
	e, err := s.Declarations.GetEvaluator(ctx, t.ID, p.UserID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &e, nil
}

func requireBuyer(p *Principal) error {
	if p == nil {
		return errUnauthenticated
	}
	if p.OrgKind != KindBuyer || p.Role != RoleBuyer {
		return Errorf(EFORBIDDEN, "Only a CCG's buyers may do this.")
	}
	return nil
}

func requireSupplier(p *Principal) error {
	if p == nil {
		return errUnauthenticated
	}
	if p.OrgKind != KindSupplier || p.Role != RoleSupplier {
		return Errorf(EFORBIDDEN, "Only suppliers may do this.")
	}
	if p.OrgStatus != StatusActive {
		return Errorf(EFORBIDDEN, "Your organisation is not active on the marketplace.")
	}
	return nil
}

func event(p *Principal, t *Tender, objType, objID, action string, detail map[string]string) AuditEvent {
	return AuditEvent{
		ActorUser: p.UserID, ActorOrg: p.OrganisationID, ObjectType: objType, ObjectID: objID,
		TenderID: t.ID, Action: action, Detail: detail,
	}
}

// visibleTender loads a tender that p may see; any other is not found.
func (s *Tenders) visibleTender(ctx context.Context, p *Principal, id string) (Tender, error) {
	t, err := s.Store.GetTender(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return Tender{}, errNoTender
	} else if err != nil {
		return Tender{}, err
	}
	if !CanSeeTender(p, &t) {
		return Tender{}, errNoTender
	}
	return t, nil
}

// leadTender loads a tender that p leads. A tender p may see but not lead
// is forbidden; one it may not see is not found.
func (s *Tenders) leadTender(ctx context.Context, p *Principal, id string) (Tender, error) {
	if err := requireBuyer(p); err != nil {
		return Tender{}, err
	}
	t, err := s.visibleTender(ctx, p, id)
	if err != nil {
		return Tender{}, err
	}
	if t.BuyerID != p.OrganisationID {
		return Tender{}, Errorf(EFORBIDDEN, "Only the lead commissioner may do this.")
	}
	return t, nil
}

// checkJoint records a problem for each joint commissioner that is not a
// CCG on the marketplace.
func (s *Tenders) checkJoint(ctx context.Context, t *Tender, p *Problems) error {
	for i, id := range t.JointCommissioners {
		o, err := s.Orgs.GetOrganisation(ctx, id)
		if ErrorCode(err) == ENOTFOUND || (err == nil && (o.Kind != KindBuyer || o.Status == StatusDisabled)) {
			p.Add(fmt.Sprintf("joint_commissioners[%d]", i), "is not a CCG on the marketplace")
		} else if err != nil {
			return err
		}
	}
	return nil
}

// CreateTender stores a draft led by p's CCG.
func (s *Tenders) CreateTender(ctx context.Context, p *Principal, t Tender) (Tender, error) {
	if err := requireBuyer(p); err != nil {
		return Tender{}, err
	}
	t.BuyerID, t.CreatedBy = p.OrganisationID, p.UserID
	t.PublishedAt, t.CancelledAt, t.UnsuccessfulAt, t.AwardedAt, t.AwardConfirmedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	t.Title = strings.TrimSpace(t.Title)
	var prob Problems
	t.CheckDraft(&prob)
	if err := s.checkJoint(ctx, &t, &prob); err != nil {
		return Tender{}, err
	}
	if err := prob.Err(); err != nil {
		return Tender{}, err
	}
	if err := s.Store.CreateTender(ctx, &t, event(p, &t, "tender", "", "tender.created", nil)); err != nil {
		return Tender{}, err
	}
	return t, nil
}

// GetTender returns a tender p may see.
func (s *Tenders) GetTender(ctx context.Context, p *Principal, id string) (Tender, error) {
	return s.visibleTender(ctx, p, id)
}

// UpdateDraft replaces the editable fields of a draft with those of t
// when the draft's version is still ifVersion. Only the lead may, and only
// while it is a draft: the baseline is locked from publication.
func (s *Tenders) UpdateDraft(ctx context.Context, p *Principal, id string, ifVersion int64, edit func(*Tender)) (Tender, error) {
	t, err := s.leadTender(ctx, p, id)
	if err != nil {
		return Tender{}, err
	}
	if st := t.Status(s.Clock.Now()); st != TenderDraft {
		return Tender{}, Errorf(ECONFLICT, "Only a draft can be edited; this tender is %s.", st)
	}
	if t.Version != ifVersion {
		return Tender{}, Errorf(EPRECONDITION, "The tender has changed since you loaded it.")
	}
	next := t
	edit(&next)
	next.ID, next.BuyerID, next.CreatedBy, next.PublishedAt = t.ID, t.BuyerID, t.CreatedBy, t.PublishedAt
	next.Title = strings.TrimSpace(next.Title)
	var prob Problems
	next.CheckDraft(&prob)
	if err := s.checkJoint(ctx, &next, &prob); err != nil {
		return Tender{}, err
	}
	if err := prob.Err(); err != nil {
		return Tender{}, err
	}
	if err := s.Store.SaveTender(ctx, &next, ifVersion, event(p, &next, "tender", next.ID, "tender.updated", nil)); err != nil {
		return Tender{}, err
	}
	return next, nil
}

// Publish opens a draft for bids, after every publication rule holds. A
// CCG still pending the operator's approval cannot publish.
func (s *Tenders) Publish(ctx context.Context, p *Principal, id string) (Tender, error) {
	t, err := s.leadTender(ctx, p, id)
	if err != nil {
		return Tender{}, err
	}
	if p.OrgStatus != StatusActive {
		return Tender{}, Errorf(EFORBIDDEN, "Your CCG is waiting for the operator's approval and cannot publish yet.")
	}
	now := s.Clock.Now()
	if st := t.Status(now); st != TenderDraft {
		return Tender{}, Errorf(ECONFLICT, "Only a draft can be published; this tender is %s.", st)
	}
	var prob Problems
	t.CheckPublish(now, s.MinTenderPeriod, &prob)
	if err := s.checkJoint(ctx, &t, &prob); err != nil {
		return Tender{}, err
	}
	if err := prob.Err(); err != nil {
		return Tender{}, err
	}
	v := t.Version
	t.PublishedAt = now
	if err := s.Store.SaveTender(ctx, &t, v, event(p, &t, "tender", t.ID, "tender.published", nil)); err != nil {
		return Tender{}, err
	}
	return t, nil
}

// Cancel ends a tender that is not over, with a reason.
func (s *Tenders) Cancel(ctx context.Context, p *Principal, id, reason string) (Tender, error) {
	t, err := s.leadTender(ctx, p, id)
	if err != nil {
		return Tender{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > MaxQuestionLen {
		return Tender{}, Invalid("reason", "a reason of 1 to %d characters is required", MaxQuestionLen)
	}
	now := s.Clock.Now()
	switch st := t.Status(now); st {
	case TenderDraft, TenderOpen, TenderClosed, TenderStandstill:
	default:
		return Tender{}, Errorf(ECONFLICT, "A tender that is %s cannot be cancelled.", st)
	}
	v := t.Version
	t.CancelledAt, t.CancelReason = now, reason
	if err := s.Store.SaveTender(ctx, &t, v, event(p, &t, "tender", t.ID, "tender.cancelled", map[string]string{"reason": reason})); err != nil {
		return Tender{}, err
	}
	return t, nil
}

// ListTenders pages tenders: published ones for everyone; a status=draft
// listing is the caller's own CCG's drafts (lead or joint).
func (s *Tenders) ListTenders(ctx context.Context, p *Principal, f TenderFilter) (TenderPage, error) {
	if err := f.Normalize(); err != nil {
		return TenderPage{}, err
	}
	f.Now, f.BuyerIDs = s.Clock.Now(), nil
	if f.Status == TenderDraft {
		if err := requireUser(p); err != nil {
			return TenderPage{}, err
		}
		if p.OrgKind != KindBuyer {
			return TenderPage{}, Errorf(EFORBIDDEN, "Only a CCG has drafts.")
		}
		f.BuyerIDs = []string{p.OrganisationID}
	}
	return s.Store.ListTenders(ctx, f)
}

func requireUser(p *Principal) error { return RequireUser(p) }

// AskQuestion records a supplier's clarification question while the
// tender is open and before the clarification deadline.
func (s *Tenders) AskQuestion(ctx context.Context, p *Principal, tenderID, text string) (Question, error) {
	if err := requireSupplier(p); err != nil {
		return Question{}, err
	}
	t, err := s.visibleTender(ctx, p, tenderID)
	if err != nil {
		return Question{}, err
	}
	text = strings.TrimSpace(text)
	if text == "" || len(text) > MaxQuestionLen {
		return Question{}, Invalid("question", "must be 1 to %d characters", MaxQuestionLen)
	}
	now := s.Clock.Now()
	if st := t.Status(now); st != TenderOpen {
		return Question{}, Errorf(ECONFLICT, "Questions can be asked only while the tender is open; it is %s.", st)
	}
	if !now.Before(t.ClarificationDeadline) {
		return Question{}, Errorf(ECONFLICT, "The clarification deadline passed at %s.", t.ClarificationDeadline.UTC().Format(time.RFC3339))
	}
	q := Question{TenderID: t.ID, AskerOrgID: p.OrganisationID, AskerUserID: p.UserID, Text: text}
	if err := s.Store.CreateQuestion(ctx, &q, event(p, &t, "question", "", "question.asked", nil)); err != nil {
		return Question{}, err
	}
	return q, nil
}

// AnswerQuestion records a commissioner's answer, which makes the
// question and answer public without the asker's identity.
func (s *Tenders) AnswerQuestion(ctx context.Context, p *Principal, tenderID, questionID, answer string) (Question, error) {
	if err := requireBuyer(p); err != nil {
		return Question{}, err
	}
	t, err := s.visibleTender(ctx, p, tenderID)
	if err != nil {
		return Question{}, err
	}
	if !IsCommissioner(p, &t) {
		return Question{}, Errorf(EFORBIDDEN, "Only the tender's commissioners may answer its questions.")
	}
	q, err := s.Store.GetQuestion(ctx, questionID)
	if ErrorCode(err) == ENOTFOUND || (err == nil && q.TenderID != t.ID) {
		return Question{}, Errorf(ENOTFOUND, "No such question.")
	} else if err != nil {
		return Question{}, err
	}
	answer = strings.TrimSpace(answer)
	if answer == "" || len(answer) > MaxQuestionLen {
		return Question{}, Invalid("answer", "must be 1 to %d characters", MaxQuestionLen)
	}
	if st := t.Status(s.Clock.Now()); st == TenderCancelled || st == TenderDraft {
		return Question{}, Errorf(ECONFLICT, "A tender that is %s takes no answers.", st)
	}
	if !q.AnsweredAt.IsZero() {
		return Question{}, Errorf(ECONFLICT, "This question has already been answered.")
	}
	q.Answer, q.AnsweredBy = answer, p.UserID
	if err := s.Store.AnswerQuestion(ctx, &q, event(p, &t, "question", q.ID, "question.answered", nil)); err != nil {
		return Question{}, err
	}
	return q, nil
}

// VisibleQuestion is a question as one caller may see it.
type VisibleQuestion struct {
	Question
	Mine bool // asked by the caller's organisation; only then is the asker known
}

// ListQuestions returns the answered questions of a tender p may see, and
// p's own organisation's unanswered ones; commissioners see every question
// (to answer them), never who asked.
func (s *Tenders) ListQuestions(ctx context.Context, p *Principal, tenderID string) ([]VisibleQuestion, error) {
	t, err := s.visibleTender(ctx, p, tenderID)
	if err != nil {
		return nil, err
	}
	qs, err := s.Store.ListQuestions(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	commissioner := IsCommissioner(p, &t)
	out := []VisibleQuestion{}
	for _, q := range qs {
		mine := p != nil && p.OrganisationID == q.AskerOrgID
		if q.AnsweredAt.IsZero() && !mine && !commissioner {
			continue
		}
		if !mine {
			q.AskerOrgID, q.AskerUserID = "", ""
		}
		out = append(out, VisibleQuestion{Question: q, Mine: mine})
	}
	return out, nil
}

// openForBids loads a tender p may see that is open for bids at now.
func (s *Tenders) openForBids(ctx context.Context, p *Principal, tenderID string, now time.Time) (Tender, error) {
	t, err := s.visibleTender(ctx, p, tenderID)
	if err != nil {
		return Tender{}, err
	}
	if st := t.Status(now); st != TenderOpen {
		if st == TenderClosed {
			return Tender{}, Errorf(ECONFLICT, "The bid deadline passed at %s.", t.BidDeadline.UTC().Format(time.RFC3339Nano))
		}
		return Tender{}, Errorf(ECONFLICT, "This tender is %s and takes no bids.", st)
	}
	return t, nil
}

// SubmitBid stores a supplier's bid while the tender is open.
func (s *Tenders) SubmitBid(ctx context.Context, p *Principal, tenderID string, price int64, responses map[string]string) (Bid, error) {
	if err := requireSupplier(p); err != nil {
		return Bid{}, err
	}
	now := s.Clock.Now()
	t, err := s.openForBids(ctx, p, tenderID, now)
	if err != nil {
		return Bid{}, err
	}
	var prob Problems
	CheckBid(&t, price, responses, &prob)
	if err := prob.Err(); err != nil {
		return Bid{}, err
	}
	b := Bid{TenderID: t.ID, SupplierID: p.OrganisationID, SubmittedBy: p.UserID, Status: BidSubmitted,
		Version: 1, PricePence: price, Responses: responses, SubmittedAt: now, UpdatedAt: now}
	if err := s.Store.CreateBid(ctx, &b, event(p, &t, "bid", "", "bid.submitted", nil)); err != nil {
		return Bid{}, err
	}
	return b, nil
}

// ownBid loads one of p's own bids on a tender; anyone else's is not found.
func (s *Tenders) ownBid(ctx context.Context, p *Principal, t *Tender, bidID string) (Bid, error) {
	b, err := s.Store.GetBid(ctx, bidID)
	if ErrorCode(err) == ENOTFOUND || (err == nil && (b.TenderID != t.ID || b.SupplierID != p.OrganisationID)) {
		return Bid{}, errNoBid
	}
	return b, err
}

// liveOwnBid loads p's own bid on a tender that is open for bids at now.
// Another organisation's bid is not found, whatever the tender's state,
// so that ids cannot be probed; p's own on a closed tender is a conflict.
func (s *Tenders) liveOwnBid(ctx context.Context, p *Principal, tenderID, bidID string, now time.Time) (Tender, Bid, error) {
	if err := requireSupplier(p); err != nil {
		return Tender{}, Bid{}, err
	}
	t, err := s.visibleTender(ctx, p, tenderID)
	if err != nil {
		return Tender{}, Bid{}, err
	}
	b, err := s.ownBid(ctx, p, &t, bidID)
	if err != nil {
		return Tender{}, Bid{}, err
	}
	if _, err := s.openForBids(ctx, p, tenderID, now); err != nil {
		return Tender{}, Bid{}, err
	}
	return t, b, nil
}

// ReviseBid makes a new version of p's live bid while the tender is open.
func (s *Tenders) ReviseBid(ctx context.Context, p *Principal, tenderID, bidID string, price int64, responses map[string]string) (Bid, error) {
	now := s.Clock.Now()
	t, b, err := s.liveOwnBid(ctx, p, tenderID, bidID, now)
	if err != nil {
		return Bid{}, err
	}
	if b.Status != BidSubmitted {
		return Bid{}, Errorf(ECONFLICT, "A withdrawn bid cannot be revised; submit a new one.")
	}
	var prob Problems
	CheckBid(&t, price, responses, &prob)
	if err := prob.Err(); err != nil {
		return Bid{}, err
	}
	b.Version++
	b.PricePence, b.Responses, b.SubmittedBy, b.UpdatedAt = price, responses, p.UserID, now
	if err := s.Store.ReviseBid(ctx, &b, event(p, &t, "bid", b.ID, "bid.revised", map[string]string{"version": fmt.Sprint(b.Version)})); err != nil {
		return Bid{}, err
	}
	return b, nil
}

// WithdrawBid withdraws p's live bid while the tender is open.
func (s *Tenders) WithdrawBid(ctx context.Context, p *Principal, tenderID, bidID string) (Bid, error) {
	now := s.Clock.Now()
	t, b, err := s.liveOwnBid(ctx, p, tenderID, bidID, now)
	if err != nil {
		return Bid{}, err
	}
	if b.Status != BidSubmitted {
		return Bid{}, Errorf(ECONFLICT, "This bid is already withdrawn.")
	}
	b.Status, b.WithdrawnAt, b.UpdatedAt = BidWithdrawn, now, now
	if err := s.Store.WithdrawBid(ctx, &b, event(p, &t, "bid", b.ID, "bid.withdrawn", nil)); err != nil {
		return Bid{}, err
	}
	return b, nil
}

// GetBid returns a bid p may see under the sealed-bid rule; any other is
// not found, so ids cannot be probed.
func (s *Tenders) GetBid(ctx context.Context, p *Principal, tenderID, bidID string) (Bid, []Bid, error) {
	if err := RequireUser(p); err != nil {
		return Bid{}, nil, err
	}
	t, err := s.visibleTender(ctx, p, tenderID)
	if err != nil {
		return Bid{}, nil, err
	}
	decl, err := s.declaration(ctx, p, &t)
	if err != nil {
		return Bid{}, nil, err
	}
	b, err := s.Store.GetBid(ctx, bidID)
	if ErrorCode(err) == ENOTFOUND || (err == nil && (b.TenderID != t.ID || !CanSeeBid(p, &t, &b, s.Clock.Now(), decl))) {
		return Bid{}, nil, errNoBid
	} else if err != nil {
		return Bid{}, nil, err
	}
	var versions []Bid
	if p.OrganisationID == b.SupplierID {
		if versions, err = s.Store.BidVersions(ctx, b.ID); err != nil {
			return Bid{}, nil, err
		}
	}
	return b, versions, nil
}

// ListBids returns the bids p may see on a tender: a supplier its own
// (withdrawn ones too), at any time; a commissioner's buyer or assigned
// evaluator every submitted bid once the deadline has passed and it has
// declared no conflict. Before then a commissioner is told the bids are
// sealed, with no count.
func (s *Tenders) ListBids(ctx context.Context, p *Principal, tenderID string) ([]Bid, error) {
	if err := RequireUser(p); err != nil {
		return nil, err
	}
	t, err := s.visibleTender(ctx, p, tenderID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	switch {
	case p.OrgKind == KindSupplier:
		return s.Store.ListBids(ctx, t.ID, p.OrganisationID, true)
	case IsCommissioner(p, &t) && (p.Role == RoleBuyer || p.Role == RoleEvaluator):
		if t.Sealed(now) {
			return nil, Errorf(ECONFLICT, "Bids are sealed until the bid deadline, %s.", t.BidDeadline.UTC().Format(time.RFC3339))
		}
		decl, err := s.declaration(ctx, p, &t)
		if err != nil {
			return nil, err
		}
		if decl == nil || decl.DeclaredAt.IsZero() {
			return nil, Errorf(EFORBIDDEN, "Declare any conflict of interest for this tender before reading its bids.")
		}
		if decl.Conflict {
			return nil, Errorf(EFORBIDDEN, "Your declared conflict of interest bars you from this tender's bids.")
		}
		bids, err := s.Store.ListBids(ctx, t.ID, "", false)
		if err != nil {
			return nil, err
		}
		out := bids[:0]
		for i := range bids {
			if CanSeeBid(p, &t, &bids[i], now, decl) {
				out = append(out, bids[i])
			}
		}
		return out, nil
	default:
		return nil, Errorf(EFORBIDDEN, "Only the bidders and, after the deadline, the commissioners' cleared buyers and evaluators see bids.")
	}
}
