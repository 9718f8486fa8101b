package market

import (
	"fmt"
	"strings"
	"time"
)

// TenderStatus is where a tender is in its life. It is derived from stored
// timestamps and the server's clock, never kept as a field that a job must
// remember to update: a tender is closed the instant its bid deadline passes.
type TenderStatus string

const (
	TenderDraft        TenderStatus = "draft"
	TenderOpen         TenderStatus = "open"
	TenderClosed       TenderStatus = "closed"
	TenderStandstill   TenderStatus = "standstill"
	TenderAwarded      TenderStatus = "awarded"
	TenderCancelled    TenderStatus = "cancelled"
	TenderUnsuccessful TenderStatus = "unsuccessful"
)

// TenderStatuses lists every status, in life order.
var TenderStatuses = []TenderStatus{TenderDraft, TenderOpen, TenderClosed, TenderStandstill, TenderAwarded, TenderCancelled, TenderUnsuccessful}

// Valid reports whether s is a known status.
func (s TenderStatus) Valid() bool {
	for _, v := range TenderStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// CriterionKind says how a criterion is scored.
type CriterionKind string

const (
	CriterionPrice   CriterionKind = "price"   // lowest price / bid price x weight
	CriterionQuality CriterionKind = "quality" // mean evaluator score / 4 x weight
)

// Criterion is one evaluation criterion, named by a key the buyer chooses;
// bids and scores refer to it by that key.
type Criterion struct {
	Key         string
	Name        string
	Kind        CriterionKind
	Weight      int
	Description string
}

// Baseline is the buyer's in-house option: what keeping the support in
// house would cost and how it would score. It is locked at publication and
// never shown to suppliers or the public.
type Baseline struct {
	PricePence int64
	Scores     map[string]int // quality criterion key -> 0..4
}

// Tender is a CCG's invitation to bid, alone or jointly with other CCGs.
type Tender struct {
	ID          string
	BuyerID     string // the lead CCG
	CreatedBy   string // user ID
	Title       string
	Description string

	Capabilities   []string
	Regions        []string
	ContractMonths int
	BudgetPence    int64

	ClarificationDeadline time.Time
	BidDeadline           time.Time

	Criteria           []Criterion
	Baseline           *Baseline
	JointCommissioners []string // other CCGs' organisation IDs

	PublishedAt      time.Time // zero while a draft
	CancelledAt      time.Time
	CancelReason     string
	UnsuccessfulAt   time.Time // ended without award (issue of evaluation)
	UnsuccessfulNote string
	AwardedAt        time.Time // award decision: standstill starts
	AwardBidID       string
	AwardReason      string
	StandstillEndsAt time.Time
	AwardConfirmedAt time.Time

	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Status derives the tender's status at now.
func (t *Tender) Status(now time.Time) TenderStatus {
	switch {
	case !t.CancelledAt.IsZero():
		return TenderCancelled
	case !t.UnsuccessfulAt.IsZero():
		return TenderUnsuccessful
	case !t.AwardConfirmedAt.IsZero():
		return TenderAwarded
	case !t.AwardedAt.IsZero():
		return TenderStandstill
	case t.PublishedAt.IsZero():
		return TenderDraft
	case now.Before(t.BidDeadline):
		return TenderOpen
	default:
		return TenderClosed
	}
}

// Sealed reports whether bids are sealed at now: before the bid deadline of
// a tender that is not over, nobody but the bidder may see a bid, not even
// as a count.
func (t *Tender) Sealed(now time.Time) bool {
	return t.PublishedAt.IsZero() || now.Before(t.BidDeadline)
}

// QuestionsOpen reports whether suppliers may ask questions at now.
func (t *Tender) QuestionsOpen(now time.Time) bool {
	return t.Status(now) == TenderOpen && now.Before(t.ClarificationDeadline)
}

// Commissioners lists the lead CCG and the joint commissioners.
func (t *Tender) Commissioners() []string {
	return append([]string{t.BuyerID}, t.JointCommissioners...)
}

// PriceCriterion returns the tender's price criterion, if it has one.
func (t *Tender) PriceCriterion() (Criterion, bool) {
	for _, c := range t.Criteria {
		if c.Kind == CriterionPrice {
			return c, true
		}
	}
	return Criterion{}, false
}

// QualityCriteria returns the quality criteria in order.
func (t *Tender) QualityCriteria() []Criterion {
	var qs []Criterion
	for _, c := range t.Criteria {
		if c.Kind == CriterionQuality {
			qs = append(qs, c)
		}
	}
	return qs
}

// Limits on tender content.
const (
	MaxTitleLen            = 200
	MaxDescriptionLen      = 20000
	MaxCriteria            = 20
	MaxJointCommissioners  = 20
	MaxContractMonths      = 120
	MaxBudgetPence         = 100_000_000_000 // £1bn
	DefaultMinTenderPeriod = 168 * time.Hour
)

var criterionKeyOK = func(k string) bool {
	if len(k) < 1 || len(k) > 40 {
		return false
	}
	for i, r := range k {
		if !(r >= 'a' && r <= 'z' || r == '_' || (i > 0 && r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

// CheckDraft records what is wrong with the fields of a draft: anything a
// draft may not hold even unfinished (bad keys, unknown references, sizes).
func (t *Tender) CheckDraft(p *Problems) {
	if n := strings.TrimSpace(t.Title); n == "" || len(n) > MaxTitleLen {
		p.Add("title", "must be 1 to %d characters", MaxTitleLen)
	}
	if len(t.Description) > MaxDescriptionLen {
		p.Add("description", "must be at most %d characters", MaxDescriptionLen)
	}
	checkCapabilities("capabilities", t.Capabilities, p)
	checkRegions("regions", t.Regions, p)
	if t.ContractMonths < 0 || t.ContractMonths > MaxContractMonths {
		p.Add("contract_months", "must be between 1 and %d", MaxContractMonths)
	}
	if t.BudgetPence < 0 || t.BudgetPence > MaxBudgetPence {
		p.Add("budget_pence", "must be between 1 and %d", int64(MaxBudgetPence))
	}
	if len(t.Criteria) > MaxCriteria {
		p.Add("criteria", "at most %d criteria", MaxCriteria)
	}
	keys := map[string]bool{}
	for i, c := range t.Criteria {
		f := fmt.Sprintf("criteria[%d]", i)
		if !criterionKeyOK(c.Key) {
			p.Add(f+".key", "must be 1 to 40 lower-case letters, digits or underscores, starting with a letter")
		} else if keys[c.Key] {
			p.Add(f+".key", "key %q is used twice", c.Key)
		}
		keys[c.Key] = true
		if n := strings.TrimSpace(c.Name); n == "" || len(n) > MaxShortTextLen {
			p.Add(f+".name", "must be 1 to %d characters", MaxShortTextLen)
		}
		if c.Kind != CriterionPrice && c.Kind != CriterionQuality {
			p.Add(f+".kind", "must be price or quality")
		}
		if c.Weight < 0 || c.Weight > 100 {
			p.Add(f+".weight", "must be a whole number from 1 to 100")
		}
		if len(c.Description) > MaxCaseStudyLen {
			p.Add(f+".description", "must be at most %d characters", MaxCaseStudyLen)
		}
	}
	if b := t.Baseline; b != nil {
		if b.PricePence < 0 || b.PricePence > MaxBudgetPence {
			p.Add("in_house_baseline.price_pence", "must be between 1 and %d", int64(MaxBudgetPence))
		}
		for k, s := range b.Scores {
			c, ok := t.criterion(k)
			if !ok || c.Kind != CriterionQuality {
				p.Add("in_house_baseline.scores."+k, "is not a quality criterion of this tender")
			} else if s < 0 || s > 4 {
				p.Add("in_house_baseline.scores."+k, "must be a score from 0 to 4")
			}
		}
	}
	if len(t.JointCommissioners) > MaxJointCommissioners {
		p.Add("joint_commissioners", "at most %d joint commissioners", MaxJointCommissioners)
	}
	seen := map[string]bool{}
	for i, id := range t.JointCommissioners {
		if id == t.BuyerID {
			p.Add(fmt.Sprintf("joint_commissioners[%d]", i), "is the lead commissioner itself")
		} else if seen[id] {
			p.Add(fmt.Sprintf("joint_commissioners[%d]", i), "is given twice")
		}
		seen[id] = true
	}
}

func (t *Tender) criterion(key string) (Criterion, bool) {
	for _, c := range t.Criteria {
		if c.Key == key {
			return c, true
		}
	}
	return Criterion{}, false
}

// CheckPublish records everything that stops the tender being published at
// now with the given minimum tender period: the draft rules, and the ones
// a live tender must meet.
func (t *Tender) CheckPublish(now time.Time, minPeriod time.Duration, p *Problems) {
	t.CheckDraft(p)
	if strings.TrimSpace(t.Description) == "" {
		p.Add("description", "is required to publish")
	}
	if len(t.Capabilities) == 0 {
		p.Add("capabilities", "at least one capability is required to publish")
	}
	if len(t.Regions) == 0 {
		p.Add("regions", "at least one region is required to publish")
	}
	if t.ContractMonths < 1 {
		p.Add("contract_months", "is required to publish")
	}
	if t.BudgetPence < 1 {
		p.Add("budget_pence", "must be a positive number of pence to publish")
	}
	switch {
	case t.BidDeadline.IsZero():
		p.Add("bid_deadline", "is required to publish")
	case !t.BidDeadline.After(now):
		p.Add("bid_deadline", "must be in the future")
	case t.BidDeadline.Sub(now) < minPeriod:
		p.Add("bid_deadline", "must be at least %s after publication (the minimum tender period)", minPeriod)
	}
	switch {
	case t.ClarificationDeadline.IsZero():
		p.Add("clarification_deadline", "is required to publish")
	case !t.ClarificationDeadline.After(now):
		p.Add("clarification_deadline", "must be in the future")
	case !t.BidDeadline.IsZero() && !t.ClarificationDeadline.Before(t.BidDeadline):
		p.Add("clarification_deadline", "must be before the bid deadline")
	}
	total, prices := 0, 0
	for i, c := range t.Criteria {
		if c.Weight < 1 {
			p.Add(fmt.Sprintf("criteria[%d].weight", i), "must be a whole number from 1 to 100")
		}
		total += c.Weight
		if c.Kind == CriterionPrice {
			prices++
			if c.Weight < 10 || c.Weight > 90 {
				p.Add(fmt.Sprintf("criteria[%d].weight", i), "the price criterion must weigh between 10 and 90")
			}
		}
	}
	switch {
	case len(t.Criteria) == 0:
		p.Add("criteria", "are required to publish: one price criterion and at least one quality criterion")
	case prices != 1:
		p.Add("criteria", "must include exactly one price criterion (found %d)", prices)
	case len(t.Criteria) < 2:
		p.Add("criteria", "must include at least one quality criterion")
	}
	if len(t.Criteria) > 0 && total != 100 {
		p.Add("criteria", "weights must add up to 100 (they add up to %d)", total)
	}
	if b := t.Baseline; b != nil {
		if b.PricePence < 1 {
			p.Add("in_house_baseline.price_pence", "must be a positive number of pence")
		}
		for _, c := range t.QualityCriteria() {
			if _, ok := b.Scores[c.Key]; !ok {
				p.Add("in_house_baseline.scores."+c.Key, "the in-house baseline needs a score for every quality criterion")
			}
		}
	}
}

// CostShares splits a joint tender's cost between its commissioners in
// proportion to their registered populations, in parts per million so that
// shares are exact integers that add up to 1,000,000.
func CostShares(commissioners []Organisation) map[string]int64 {
	var total int64
	for _, o := range commissioners {
		total += o.Population
	}
	shares := map[string]int64{}
	if total == 0 {
		return shares
	}
	var given int64
	for i, o := range commissioners {
		if i == len(commissioners)-1 {
			shares[o.ID] = 1_000_000 - given
			break
		}
		s := o.Population * 1_000_000 / total
		shares[o.ID] = s
		given += s
	}
	return shares
}

// TenderFilter selects and pages tenders.
type TenderFilter struct {
	Status     TenderStatus
	Capability string
	Region     string
	Q          string
	Cursor     string
	PageSize   int

	// Set by the rules, not by the client.
	Now      time.Time
	BuyerIDs []string // drafts of these buyers are included (their own list)
}

// Normalize checks the filter and fills in defaults, naming each bad query
// parameter.
func (f *TenderFilter) Normalize() error {
	var p Problems
	f.Q = strings.TrimSpace(f.Q)
	checkListParams(f.Q, f.Capability, f.Region, &f.PageSize, f.Cursor, &p)
	if f.Status != "" && !f.Status.Valid() {
		p.Add("status", "must be one of draft, open, closed, standstill, awarded, cancelled, unsuccessful")
	}
	return p.Err()
}

// TenderPage is one page of tenders.
type TenderPage struct {
	Items      []Tender
	NextCursor string
}

// Question is a supplier's clarification question. Its answer is
// published to everyone without the asker's identity.
type Question struct {
	ID          string
	TenderID    string
	AskerOrgID  string
	AskerUserID string
	Text        string
	Answer      string
	AskedAt     time.Time
	AnsweredAt  time.Time
	AnsweredBy  string
}

// Limits on questions and bids.
const (
	MaxQuestionLen   = 4000
	MaxResponseLen   = 20000
	MaxBidPricePence = MaxBudgetPence
)

// BidStatus is whether a bid is live.
type BidStatus string

const (
	BidSubmitted BidStatus = "submitted"
	BidWithdrawn BidStatus = "withdrawn"
)

// Bid is a supplier's offer for a tender: one live bid per supplier per
// tender; revising it makes a new version and keeps the earlier ones.
type Bid struct {
	ID          string
	TenderID    string
	SupplierID  string
	SubmittedBy string // user ID of the latest version
	Status      BidStatus
	Version     int
	PricePence  int64
	Responses   map[string]string // quality criterion key -> response text
	SubmittedAt time.Time         // first submission
	UpdatedAt   time.Time         // latest version or withdrawal
	WithdrawnAt time.Time
}

// CheckBid records what is wrong with a bid's content for tender t.
func CheckBid(t *Tender, price int64, responses map[string]string, p *Problems) {
	if price < 1 || price > MaxBidPricePence {
		p.Add("price_pence", "must be between 1 and %d pence", int64(MaxBidPricePence))
	}
	for _, c := range t.QualityCriteria() {
		r, ok := responses[c.Key]
		if !ok || strings.TrimSpace(r) == "" {
			p.Add("responses."+c.Key, "a response to %q is required", c.Name)
		} else if len(r) > MaxResponseLen {
			p.Add("responses."+c.Key, "must be at most %d characters", MaxResponseLen)
		}
	}
	for k := range responses {
		if c, ok := t.criterion(k); !ok || c.Kind != CriterionQuality {
			p.Add("responses."+k, "is not a quality criterion of this tender")
		}
	}
}

// AuditEvent records one state change, written in the same transaction as
// the change itself.
type AuditEvent struct {
	Seq        int64
	At         time.Time
	ActorUser  string
	ActorOrg   string
	ObjectType string // "tender", "question", "bid"
	ObjectID   string
	TenderID   string
	Action     string            // e.g. "tender.created", "bid.submitted"
	Detail     map[string]string // never a price, a response or a baseline
	PrevHash   string            // the previous event's Hash ("" for the first)
	Hash       string            // SHA-256 of this event's canonical encoding, PrevHash included
}
