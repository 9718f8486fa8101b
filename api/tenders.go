package api

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
)

// tenderRequest is a tender as its buyer writes it: the body of POST
// /api/v1/tenders, and the document a PATCH merges into.
type tenderRequest struct {
	Title                 string          `json:"title"`
	Description           string          `json:"description"`
	Capabilities          []string        `json:"capabilities"`
	Regions               []string        `json:"regions"`
	ContractMonths        int             `json:"contract_months"`
	BudgetPence           int64           `json:"budget_pence"`
	ClarificationDeadline string          `json:"clarification_deadline,omitempty"`
	BidDeadline           string          `json:"bid_deadline,omitempty"`
	Criteria              []criterionJSON `json:"criteria"`
	InHouseBaseline       *baselineJSON   `json:"in_house_baseline,omitempty"`
	JointCommissioners    []string        `json:"joint_commissioners"`
}

type criterionJSON struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Weight      int    `json:"weight"`
	Description string `json:"description,omitempty"`
}

type baselineJSON struct {
	PricePence int64          `json:"price_pence"`
	Scores     map[string]int `json:"scores"`
}

// tenderResponse is a tender as one caller may see it. It never carries
// anything about bids, not even how many there are; the baseline only for
// the commissioners.
type tenderResponse struct {
	ID                    string             `json:"id"`
	Status                string             `json:"status"`
	Title                 string             `json:"title"`
	Description           string             `json:"description"`
	Capabilities          []string           `json:"capabilities"`
	Regions               []string           `json:"regions"`
	ContractMonths        int                `json:"contract_months"`
	BudgetPence           int64              `json:"budget_pence"`
	ClarificationDeadline string             `json:"clarification_deadline,omitempty"`
	BidDeadline           string             `json:"bid_deadline,omitempty"`
	QuestionsOpen         bool               `json:"questions_open"`
	Criteria              []criterionJSON    `json:"criteria"`
	BuyerID               string             `json:"buyer_id"`
	JointCommissioners    []string           `json:"joint_commissioners"`
	Commissioners         []commissionerJSON `json:"commissioners"`
	InHouseBaseline       *baselineJSON      `json:"in_house_baseline,omitempty"`
	PublishedAt           string             `json:"published_at,omitempty"`
	CancelledAt           string             `json:"cancelled_at,omitempty"`
	CancelReason          string             `json:"cancel_reason,omitempty"`
	UnsuccessfulAt        string             `json:"unsuccessful_at,omitempty"`
	UnsuccessfulReason    string             `json:"unsuccessful_reason,omitempty"`
	StandstillEndsAt      string             `json:"standstill_ends_at,omitempty"`
	AwardedAt             string             `json:"awarded_at,omitempty"`
	Award                 *awardJSON         `json:"award,omitempty"`
	Version               int64              `json:"version"`
	CreatedAt             string             `json:"created_at"`
	UpdatedAt             string             `json:"updated_at"`
}

// awardJSON is a tender's award: to everyone once it is final (the
// winner and the award value, never a losing price), and to the
// commissioners from the decision on, with the bid and the reason.
type awardJSON struct {
	Supplier    supplierJSON `json:"supplier"`
	ValuePence  int64        `json:"value_pence"`
	DecidedAt   string       `json:"decided_at"`
	ConfirmedAt string       `json:"confirmed_at,omitempty"`
	BidID       string       `json:"bid_id,omitempty"`
	Reason      string       `json:"reason,omitempty"`
}

// commissionerJSON is one CCG paying for a tender, with its share of the
// cost in parts per million of the whole, by registered population.
type commissionerJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Lead         bool   `json:"lead"`
	Population   int64  `json:"population"`
	CostSharePPM int64  `json:"cost_share_ppm"`
}

type cancelRequest struct {
	Reason string `json:"reason"`
}

// rfc3339Milli formats a time in UTC to the millisecond, enough to tell
// a deadline from the instant before it, without trailing zeros.
func rfc3339Milli(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
}

// rfc3339Shape is RFC 3339's date-time, which time.Parse does not hold a
// time to: it also takes a one-digit hour, a comma before the fraction and
// an offset of 24 hours.
var rfc3339Shape = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`)

// parseDeadline reads an RFC 3339 time; "" is no deadline yet. Its offset
// may not take it out of the years RFC 3339 can write in UTC, in which it
// is stored and given back ("9999-12-31T23:00:00-01:00" is in year 10000).
func parseDeadline(field, v string, p *market.Problems) time.Time {
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if y := t.UTC().Year(); err != nil || y < 0 || y > 9999 || !rfc3339Shape.MatchString(v) {
		p.Add(field, "must be an RFC 3339 time, such as 2026-12-08T12:00:00Z")
		return time.Time{}
	}
	return t.UTC()
}

// fromTenderRequest converts the editable fields; a time that cannot be
// read is EINVALID naming its field.
func fromTenderRequest(r tenderRequest) (market.Tender, error) {
	var p market.Problems
	t := market.Tender{
		Title: r.Title, Description: r.Description,
		Capabilities: r.Capabilities, Regions: r.Regions,
		ContractMonths: r.ContractMonths, BudgetPence: r.BudgetPence,
		ClarificationDeadline: parseDeadline("clarification_deadline", r.ClarificationDeadline, &p),
		BidDeadline:           parseDeadline("bid_deadline", r.BidDeadline, &p),
		JointCommissioners:    r.JointCommissioners,
	}
	for _, c := range r.Criteria {
		t.Criteria = append(t.Criteria, market.Criterion{
			Key: c.Key, Name: c.Name, Kind: market.CriterionKind(c.Kind), Weight: c.Weight, Description: c.Description,
		})
	}
	if b := r.InHouseBaseline; b != nil {
		t.Baseline = &market.Baseline{PricePence: b.PricePence, Scores: b.Scores}
	}
	return t, p.Err()
}

// setEditable copies the fields a buyer edits from src to dst.
func setEditable(dst *market.Tender, src market.Tender) {
	dst.Title, dst.Description = src.Title, src.Description
	dst.Capabilities, dst.Regions = src.Capabilities, src.Regions
	dst.ContractMonths, dst.BudgetPence = src.ContractMonths, src.BudgetPence
	dst.ClarificationDeadline, dst.BidDeadline = src.ClarificationDeadline, src.BidDeadline
	dst.Criteria, dst.Baseline, dst.JointCommissioners = src.Criteria, src.Baseline, src.JointCommissioners
}

// toTenderRequest is the draft as its buyer wrote it, which a PATCH
// merges into.
func toTenderRequest(t market.Tender) tenderRequest {
	return tenderRequest{
		Title: t.Title, Description: t.Description,
		Capabilities: nonNil(t.Capabilities), Regions: nonNil(t.Regions),
		ContractMonths: t.ContractMonths, BudgetPence: t.BudgetPence,
		ClarificationDeadline: rfc3339Milli(t.ClarificationDeadline),
		BidDeadline:           rfc3339Milli(t.BidDeadline),
		Criteria:              toCriteria(t.Criteria),
		InHouseBaseline:       toBaseline(t.Baseline),
		JointCommissioners:    nonNil(t.JointCommissioners),
	}
}

func toCriteria(cs []market.Criterion) []criterionJSON {
	out := make([]criterionJSON, len(cs))
	for i, c := range cs {
		out[i] = criterionJSON{Key: c.Key, Name: c.Name, Kind: string(c.Kind), Weight: c.Weight, Description: c.Description}
	}
	return out
}

func toBaseline(b *market.Baseline) *baselineJSON {
	if b == nil {
		return nil
	}
	scores := b.Scores
	if scores == nil {
		scores = map[string]int{}
	}
	return &baselineJSON{PricePence: b.PricePence, Scores: scores}
}

// orgNames looks organisations up once per rendering.
type orgNames struct {
	orgs market.OrganisationReader
	seen map[string]market.Organisation
}

func (s *server) newOrgNames() *orgNames {
	return &orgNames{orgs: s.tenders.Orgs, seen: map[string]market.Organisation{}}
}

// get returns organisation id; one that has gone is shown by its ID alone.
func (n *orgNames) get(ctx context.Context, id string) (market.Organisation, error) {
	if o, ok := n.seen[id]; ok {
		return o, nil
	}
	o, err := n.orgs.GetOrganisation(ctx, id)
	switch market.ErrorCode(err) {
	case "":
	case market.ENOTFOUND:
		o = market.Organisation{ID: id}
	default:
		return market.Organisation{}, err
	}
	n.seen[id] = o
	return o, nil
}

// toTender renders t at now; the baseline only when withBaseline, which
// the caller decides by market.CanSeeBaseline.
func (s *server) toTender(ctx context.Context, names *orgNames, t market.Tender, now time.Time, withBaseline bool) (tenderResponse, error) {
	ids := t.Commissioners()
	orgs := make([]market.Organisation, len(ids))
	for i, id := range ids {
		o, err := names.get(ctx, id)
		if err != nil {
			return tenderResponse{}, err
		}
		orgs[i] = o
	}
	shares := market.CostShares(orgs)
	comms := make([]commissionerJSON, len(orgs))
	for i, o := range orgs {
		comms[i] = commissionerJSON{ID: ids[i], Name: o.Name, Lead: i == 0, Population: o.Population, CostSharePPM: shares[o.ID]}
	}
	r := tenderResponse{
		ID:                    t.ID,
		Status:                string(t.Status(now)),
		Title:                 t.Title,
		Description:           t.Description,
		Capabilities:          nonNil(t.Capabilities),
		Regions:               nonNil(t.Regions),
		ContractMonths:        t.ContractMonths,
		BudgetPence:           t.BudgetPence,
		ClarificationDeadline: rfc3339Milli(t.ClarificationDeadline),
		BidDeadline:           rfc3339Milli(t.BidDeadline),
		QuestionsOpen:         t.QuestionsOpen(now),
		Criteria:              toCriteria(t.Criteria),
		BuyerID:               t.BuyerID,
		JointCommissioners:    nonNil(t.JointCommissioners),
		Commissioners:         comms,
		PublishedAt:           rfc3339Milli(t.PublishedAt),
		CancelledAt:           rfc3339Milli(t.CancelledAt),
		CancelReason:          t.CancelReason,
		Version:               t.Version,
		CreatedAt:             rfc3339Milli(t.CreatedAt),
		UpdatedAt:             rfc3339Milli(t.UpdatedAt),
	}
	r.UnsuccessfulAt, r.UnsuccessfulReason = rfc3339Milli(t.UnsuccessfulAt), t.UnsuccessfulNote
	r.StandstillEndsAt, r.AwardedAt = rfc3339Milli(t.StandstillEndsAt), rfc3339Milli(t.AwardConfirmedAt)
	if withBaseline {
		r.InHouseBaseline = toBaseline(t.Baseline)
	}
	// The commissioners, who may see the baseline, see the award decision
	// during the standstill; everyone sees the final award.
	if t.AwardBidID != "" && (withBaseline || !t.AwardConfirmedAt.IsZero()) {
		a, err := s.toAward(ctx, names, &t, withBaseline)
		if err != nil {
			return tenderResponse{}, err
		}
		r.Award = a
	}
	return r, nil
}

// toAward renders t's award; the bid and the reason only for the
// commissioners.
func (s *server) toAward(ctx context.Context, names *orgNames, t *market.Tender, commissioner bool) (*awardJSON, error) {
	b, err := s.tenders.Store.GetBid(ctx, t.AwardBidID)
	if err != nil {
		return nil, err
	}
	o, err := names.get(ctx, b.SupplierID)
	if err != nil {
		return nil, err
	}
	a := &awardJSON{
		Supplier:   supplierJSON{ID: b.SupplierID, Name: o.Name, Sector: string(o.Sector)},
		ValuePence: b.PricePence, DecidedAt: rfc3339Milli(t.AwardedAt), ConfirmedAt: rfc3339Milli(t.AwardConfirmedAt),
	}
	if commissioner {
		a.BidID, a.Reason = b.ID, t.AwardReason
	}
	return a, nil
}

// nextTurn is the first instant after now at which t's view changes
// without a write: its clarification or bid deadline while it is open.
// Zero when only a write can change it.
func nextTurn(t *market.Tender, now time.Time) time.Time {
	if t.Status(now) != market.TenderOpen {
		return time.Time{}
	}
	var turn time.Time
	for _, d := range []time.Time{t.ClarificationDeadline, t.BidDeadline} {
		if d.After(now) && (turn.IsZero() || d.Before(turn)) {
			turn = d
		}
	}
	return turn
}

func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// now is the time by the tender rules' clock, which decides every status.
func (s *server) now() time.Time {
	if s.tenders.Clock == nil {
		return s.clock.Now()
	}
	return s.tenders.Clock.Now()
}

// tenderRoutes mounts the tenders, their questions and bids. The GETs of
// tenders and questions are public but read the caller when a token is
// sent, since a buyer sees its drafts and baseline and a supplier its own
// questions; every bid route needs a caller.
func (s *server) tenderRoutes(v1 *gin.RouterGroup) {
	t := v1.Group("/tenders", s.authenticate)
	t.GET("", s.listTenders)
	t.POST("", s.requireUser, s.idempotent, s.createTender)
	t.GET("/:id", s.getTender)
	t.PATCH("/:id", s.requireUser, s.patchTender)
	t.POST("/:id/publish", s.requireUser, s.publishTender)
	t.POST("/:id/cancel", s.requireUser, s.cancelTender)
	t.GET("/:id/questions", s.listQuestions)
	t.POST("/:id/questions", s.requireUser, s.idempotent, s.askQuestion)
	t.POST("/:id/questions/:qid/answer", s.requireUser, s.answerQuestion)
	t.GET("/:id/bids", s.requireUser, s.listBids)
	t.POST("/:id/bids", s.requireUser, s.idempotent, s.submitBid)
	t.GET("/:id/bids/:bid", s.requireUser, s.getBid)
	t.PUT("/:id/bids/:bid", s.requireUser, s.reviseBid)
	t.POST("/:id/bids/:bid/withdraw", s.requireUser, s.withdrawBid)
	v1.GET("/me/bids", s.authenticate, s.requireUser, s.listOwnBids)
	v1.GET("/me/tenders", s.authenticate, s.requireUser, s.listOwnTenders)
	if s.evaluations != nil {
		s.evaluationRoutes(t)
	}
	if s.ocds != nil {
		t.GET("/:id/ocds", s.getOCDS)
	}
}

var (
	errNoTender   = &market.Error{Code: market.ENOTFOUND, Message: "No such tender."}
	errNoQuestion = &market.Error{Code: market.ENOTFOUND, Message: "No such question."}
	errNoBid      = &market.Error{Code: market.ENOTFOUND, Message: "No such bid."}
)

// writeTender answers with the caller's own view of a tender: private, and
// with the ETag that a PATCH names in If-Match.
func writeTender(c *gin.Context, status int, r tenderResponse) {
	body, err := json.Marshal(r)
	if err != nil {
		panic(err) // strings, ints, bools and maps of them always marshal
	}
	h := c.Writer.Header()
	etag := cache.ETag(body)
	h["Etag"] = []string{etag}
	h["Cache-Control"] = noStore
	if inm := c.Request.Header["If-None-Match"]; status == http.StatusOK && c.Request.Method == http.MethodGet &&
		len(inm) > 0 && cache.ETagMatches(inm, etag) {
		c.Writer.WriteHeader(http.StatusNotModified)
		c.Writer.WriteHeaderNow()
		return
	}
	h["Content-Type"] = jsonContentType
	c.Writer.WriteHeader(status)
	c.Writer.Write(body)
}

func (s *server) createTender(c *gin.Context) {
	var req tenderRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	t, err := fromTenderRequest(req)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx, p := c.Request.Context(), principal(c)
	t, err = s.tenders.CreateTender(ctx, p, t)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Writer.Header()["Location"] = []string{"/api/v1/tenders/" + t.ID}
	s.writeOwnTender(c, http.StatusCreated, t)
}

// getTender serves the public view, cached, to anyone who may not see the
// baseline of a published tender, and the caller's own view, uncached, to
// its commissioners and to the buyers of a draft.
func (s *server) getTender(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	p := principal(c)
	if p == nil {
		s.servePublicTender(c, id)
		return
	}
	ctx := c.Request.Context()
	t, err := s.tenders.GetTender(ctx, p, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if market.CanSeeTender(nil, &t) && !market.CanSeeBaseline(p, &t) {
		s.servePublicTender(c, id)
		return
	}
	s.writeOwnTender(c, http.StatusOK, t)
}

// writeOwnTender renders t for the caller (the baseline only to its
// commissioners) and writes it, uncached.
func (s *server) writeOwnTender(c *gin.Context, status int, t market.Tender) {
	p := principal(c)
	r, err := s.toTender(c.Request.Context(), s.newOrgNames(), t, s.now(), market.CanSeeBaseline(p, &t))
	if err != nil {
		s.fail(c, err)
		return
	}
	writeTender(c, status, r)
}

// servePublicTender serves a published tender as the public sees it,
// cached until its next deadline at the latest.
func (s *server) servePublicTender(c *gin.Context, id string) {
	s.servePublic(c, "tender/"+id, true, func(ctx context.Context) ([]byte, time.Time, error) {
		t, err := s.tenders.GetTender(ctx, nil, id)
		if err != nil {
			return nil, time.Time{}, err
		}
		now := s.now()
		r, err := s.toTender(ctx, s.newOrgNames(), t, now, market.CanSeeBaseline(nil, &t))
		if err != nil {
			return nil, time.Time{}, err
		}
		body, err := json.Marshal(r)
		return body, nextTurn(&t, now), err
	})
}

// servePublic answers with a public tender view, kept in NSTenders until
// the instant load says it turns (when cacheable), with its ETag and 304.
func (s *server) servePublic(c *gin.Context, key string, cacheable bool, load func(ctx context.Context) ([]byte, time.Time, error)) {
	ttl := s.ttl
	if !cacheable {
		ttl = 0
	}
	e, err := s.cache.FetchUntil(viewContext(c), cache.NSTenders, key, ttl, s.now, load)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeView(c, e)
}

// tenderParams names the query parameters of GET /api/v1/tenders.
var tenderParams = []string{"status", "capability", "region", "q", "cursor", "page_size"}

func parseTenderFilter(raw string) (market.TenderFilter, error) {
	var (
		f market.TenderFilter
		p market.Problems
	)
	eachParam(raw, tenderParams, &p, func(name, v string) {
		switch name {
		case "status":
			f.Status = market.TenderStatus(v)
		case "capability":
			f.Capability = v
		case "region":
			f.Region = v
		case "q":
			if !plainText(v) {
				p.Add("q", "must be UTF-8 text without control characters")
				return
			}
			f.Q = v
		case "cursor":
			if keys, err := market.DecodeCursor(v); err == nil && !plainKeys(keys) {
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
	if err := p.Err(); err != nil {
		return f, err
	}
	if err := f.Normalize(); err != nil {
		return f, err
	}
	return f, nil
}

// tendersKey names a page of the public list by its normalized filter; the
// free-text query comes last so that no value can pose as another field.
func tendersKey(f market.TenderFilter) string {
	return "list?s=" + string(f.Status) + "&c=" + f.Capability + "&r=" + f.Region +
		"&n=" + strconv.Itoa(f.PageSize) + "&k=" + f.Cursor + "&q=" + f.Q
}

// listTenders serves the public opportunities, cached, and a CCG's own
// drafts (status=draft), private. A page of closed tenders is not kept:
// a tender joins it when its deadline passes, and nothing on the page
// says when that will be. It is still served with its ETag.
func (s *server) listTenders(c *gin.Context) {
	f, err := parseTenderFilter(c.Request.URL.RawQuery)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := principal(c)
	if f.Status == market.TenderDraft {
		ctx := c.Request.Context()
		page, err := s.tenders.ListTenders(ctx, p, f)
		if err != nil {
			s.fail(c, err)
			return
		}
		list, _, err := s.toTenderList(ctx, page, p)
		if err != nil {
			s.fail(c, err)
			return
		}
		writePrivate(c, http.StatusOK, list)
		return
	}
	s.servePublic(c, tendersKey(f), f.Status != market.TenderClosed, func(ctx context.Context) ([]byte, time.Time, error) {
		page, err := s.tenders.ListTenders(ctx, nil, f)
		if err != nil {
			return nil, time.Time{}, err
		}
		list, turn, err := s.toTenderList(ctx, page, nil)
		if err != nil {
			return nil, time.Time{}, err
		}
		body, err := json.Marshal(list)
		return body, turn, err
	})
}

// toTenderList renders a page of tenders without their baselines, and the
// first instant at which one of them turns.
func (s *server) toTenderList(ctx context.Context, page market.TenderPage, p *market.Principal) (listResponse[tenderResponse], time.Time, error) {
	now := s.now()
	names := s.newOrgNames()
	items := make([]tenderResponse, len(page.Items))
	var turn time.Time
	for i := range page.Items {
		t := &page.Items[i]
		r, err := s.toTender(ctx, names, *t, now, false)
		if err != nil {
			return listResponse[tenderResponse]{}, time.Time{}, err
		}
		items[i] = r
		turn = earlier(turn, nextTurn(t, now))
	}
	return listResponse[tenderResponse]{Items: items, NextCursor: page.NextCursor}, turn, nil
}

// codePreconditionRequired and staleVersion come from listing.go: the same
// If-Match rules hold for a draft tender.
var (
	errTenderIfMatchRequired = &market.Error{Code: codePreconditionRequired,
		Message: "Send If-Match with the ETag of GET /api/v1/tenders/{id}, so that no one else's edit is overwritten."}
	errTenderIfMatchStale = &market.Error{Code: market.EPRECONDITION,
		Message: "The tender has changed since the ETag in If-Match; get it again, reapply the edit and retry."}
)

// patchTender merges a JSON merge patch (RFC 7396) of the editable fields
// into the draft and saves it when If-Match names the draft the caller
// saw. Who may edit, and whether the tender is still a draft, is the
// market's to decide; If-Match only chooses the version it is given.
func (s *server) patchTender(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	var patch map[string]any
	if err := s.decodeJSONAs(c, &patch, "application/merge-patch+json", jsonMediaType); err != nil {
		s.fail(c, err)
		return
	}
	if patch == nil {
		s.fail(c, market.Invalid("body", "must be a JSON object of the fields to change"))
		return
	}
	ctx, p := c.Request.Context(), principal(c)
	cur, err := s.tenders.GetTender(ctx, p, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	names := s.newOrgNames()
	view, err := s.toTender(ctx, names, cur, s.now(), market.CanSeeBaseline(p, &cur))
	if err != nil {
		s.fail(c, err)
		return
	}
	body, err := json.Marshal(view)
	if err != nil {
		s.fail(c, err)
		return
	}
	version := cur.Version
	var refused error
	switch ifMatch := c.Request.Header["If-Match"]; {
	case len(ifMatch) == 0:
		refused, version = errTenderIfMatchRequired, staleVersion
	case !ifMatchList(ifMatch, cache.ETag(body)):
		refused, version = errTenderIfMatchStale, staleVersion
	}
	doc, err := json.Marshal(toTenderRequest(cur))
	if err != nil {
		s.fail(c, err)
		return
	}
	var merged any
	if err := json.Unmarshal(doc, &merged); err != nil {
		s.fail(c, err)
		return
	}
	merged = mergePatch(merged, patch)
	doc, err = json.Marshal(merged)
	if err != nil {
		s.fail(c, err)
		return
	}
	var req tenderRequest
	if err := decodeJSONBytes(doc, &req); err != nil {
		s.fail(c, err)
		return
	}
	edited, err := fromTenderRequest(req)
	if err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.tenders.UpdateDraft(ctx, p, id, version, func(t *market.Tender) { setEditable(t, edited) })
	if err != nil {
		if refused != nil && market.ErrorCode(err) == market.EPRECONDITION {
			err = refused
		}
		s.fail(c, err)
		return
	}
	r, err := s.toTender(ctx, names, t, s.now(), market.CanSeeBaseline(p, &t))
	if err != nil {
		s.fail(c, err)
		return
	}
	writeTender(c, http.StatusOK, r)
}

// mergePatch applies an RFC 7396 merge patch to target: objects merge key
// by key, null removes, anything else replaces.
func mergePatch(target any, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergePatch(tm[k], v)
	}
	return tm
}

func (s *server) publishTender(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	t, err := s.tenders.Publish(c.Request.Context(), principal(c), id)
	s.decided(c, t, err)
}

func (s *server) cancelTender(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	var req cancelRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.tenders.Cancel(c.Request.Context(), principal(c), id, req.Reason)
	s.decided(c, t, err)
}
