package api

import (
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

// assignRequest names the user the lead buyer assigns to score a tender.
type assignRequest struct {
	UserID string `json:"user_id"`
}

// declarationRequest is an evaluator's declaration of interests: none, or
// the suppliers it has an interest in, with details. conflict is required,
// so that a client cannot declare "no conflict" by leaving it out.
type declarationRequest struct {
	Conflict  *bool    `json:"conflict"`
	Suppliers []string `json:"suppliers"`
	Details   string   `json:"details"`
}

// evaluatorResponse is a tender's evaluator as its commissioners see it.
type evaluatorResponse struct {
	TenderID          string   `json:"tender_id"`
	UserID            string   `json:"user_id"`
	OrganisationID    string   `json:"organisation_id"`
	Assigned          bool     `json:"assigned"`
	AssignedBy        string   `json:"assigned_by,omitempty"`
	AssignedAt        string   `json:"assigned_at,omitempty"`
	Declared          bool     `json:"declared"`
	DeclaredAt        string   `json:"declared_at,omitempty"`
	Conflict          bool     `json:"conflict"`
	ConflictSuppliers []string `json:"conflict_suppliers"`
	ConflictDetails   string   `json:"conflict_details,omitempty"`
	Cleared           bool     `json:"cleared"`
}

func toEvaluator(e market.Evaluator) evaluatorResponse {
	return evaluatorResponse{
		TenderID: e.TenderID, UserID: e.UserID, OrganisationID: e.OrganisationID,
		Assigned: e.Assigned, AssignedBy: e.AssignedBy, AssignedAt: rfc3339Milli(e.AssignedAt),
		Declared: !e.DeclaredAt.IsZero(), DeclaredAt: rfc3339Milli(e.DeclaredAt),
		Conflict: e.Conflict, ConflictSuppliers: nonNil(e.ConflictSuppliers), ConflictDetails: e.ConflictDetails,
		Cleared: e.Cleared(),
	}
}

// evaluatorCandidateResponse is a user the lead buyer may assign to
// evaluate a tender: named, with its organisation, and no e-mail address,
// since the joint commissioners' users are other organisations' staff.
type evaluatorCandidateResponse struct {
	UserID           string `json:"user_id"`
	Name             string `json:"name"`
	Role             string `json:"role"`
	OrganisationID   string `json:"organisation_id"`
	OrganisationName string `json:"organisation_name"`
	Lead             bool   `json:"lead"`
	Assigned         bool   `json:"assigned"`
}

func toEvaluatorCandidate(c market.EvaluatorCandidate) evaluatorCandidateResponse {
	return evaluatorCandidateResponse{
		UserID: c.User.ID, Name: c.User.Name, Role: string(c.User.Role),
		OrganisationID: c.Organisation.ID, OrganisationName: c.Organisation.Name,
		Lead: c.Lead, Assigned: c.Assigned,
	}
}

// scoreInput is one criterion's score; score is a pointer so that a
// missing score is told apart from 0 (unacceptable).
type scoreInput struct {
	Score         *int   `json:"score"`
	Justification string `json:"justification"`
}

type scoresRequest struct {
	Scores map[string]scoreInput `json:"scores"`
}

type scoreJSON struct {
	Score         int    `json:"score"`
	Justification string `json:"justification"`
}

// scoresResponse is one evaluator's scores of one bid.
type scoresResponse struct {
	TenderID    string               `json:"tender_id"`
	BidID       string               `json:"bid_id"`
	EvaluatorID string               `json:"evaluator_id"`
	Scores      map[string]scoreJSON `json:"scores"`
	UpdatedAt   string               `json:"updated_at"`
}

// bidScoresResponse is GET scores: the caller's own scores of a bid and,
// for the lead commissioner's buyers, every evaluator's and the
// moderations.
type bidScoresResponse struct {
	TenderID    string               `json:"tender_id"`
	BidID       string               `json:"bid_id"`
	EvaluatorID string               `json:"evaluator_id"`
	Scores      map[string]scoreJSON `json:"scores"`
	UpdatedAt   string               `json:"updated_at,omitempty"`
	Evaluators  []scoresResponse     `json:"evaluators,omitempty"`
	Moderations []moderationResponse `json:"moderations,omitempty"`
}

type moderationRequest struct {
	Criterion string `json:"criterion"`
	Score     *int   `json:"score"`
	Reason    string `json:"reason"`
}

type moderationResponse struct {
	TenderID  string `json:"tender_id"`
	BidID     string `json:"bid_id"`
	Criterion string `json:"criterion"`
	Score     int    `json:"score"`
	Reason    string `json:"reason"`
	By        string `json:"by"`
	At        string `json:"at"`
}

type awardRequest struct {
	BidID  string `json:"bid_id"`
	Reason string `json:"reason"`
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

// feedbackResponse is an unsuccessful bidder's own result: its scores, its
// rank among the bidders and the winner's total, never another bidder's
// price.
type feedbackResponse struct {
	TenderID     string             `json:"tender_id"`
	BidID        string             `json:"bid_id"`
	PricePence   int64              `json:"price_pence"`
	Scores       map[string]float64 `json:"scores"`
	QualityTotal float64            `json:"quality_total"`
	Total        float64            `json:"total"`
	Rank         int                `json:"rank"`
	Bidders      int                `json:"bidders"`
	Winner       winnerJSON         `json:"winner"`
}

type winnerJSON struct {
	Name  string  `json:"name"`
	Total float64 `json:"total"`
}

// evaluationRoutes mounts evaluation and award on the tenders group,
// whose authenticate has run.
func (s *server) evaluationRoutes(t *gin.RouterGroup) {
	t.GET("/:id/evaluators", s.requireUser, s.listEvaluators)
	t.POST("/:id/evaluators", s.requireUser, s.assignEvaluator)
	t.GET("/:id/evaluator-candidates", s.requireUser, s.listEvaluatorCandidates)
	t.POST("/:id/conflict-declaration", s.requireUser, s.declareConflicts)
	t.GET("/:id/bids/:bid/scores", s.requireUser, s.getScores)
	t.PUT("/:id/bids/:bid/scores", s.requireUser, s.putScores)
	t.PUT("/:id/bids/:bid/moderation", s.requireUser, s.moderate)
	t.GET("/:id/comparison", s.requireUser, s.getComparison)
	t.POST("/:id/award", s.requireUser, s.award)
	t.POST("/:id/award/confirm", s.requireUser, s.confirmAward)
	t.POST("/:id/award/revoke", s.requireUser, s.revokeAward)
	t.POST("/:id/unsuccessful", s.requireUser, s.unsuccessful)
	t.GET("/:id/feedback", s.requireUser, s.feedback)
}

func (s *server) listEvaluators(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	es, err := s.evaluations.ListEvaluators(c.Request.Context(), principal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]evaluatorResponse, len(es))
	for i, e := range es {
		items[i] = toEvaluator(e)
	}
	writePrivate(c, http.StatusOK, listResponse[evaluatorResponse]{Items: items})
}

// listEvaluatorCandidates lists, to the lead CCG's buyers, whom they may
// assign to evaluate the tender, its joint commissioners' users included.
func (s *server) listEvaluatorCandidates(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	cs, err := s.evaluations.EvaluatorCandidates(c.Request.Context(), principal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]evaluatorCandidateResponse, len(cs))
	for i, x := range cs {
		items[i] = toEvaluatorCandidate(x)
	}
	writePrivate(c, http.StatusOK, listResponse[evaluatorCandidateResponse]{Items: items})
}

func (s *server) assignEvaluator(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	var req assignRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.UserID == "" || !plausibleID(req.UserID) {
		s.fail(c, market.Invalid("user_id", "must be the ID of a buyer or evaluator of one of the tender's commissioners"))
		return
	}
	e, err := s.evaluations.AssignEvaluator(c.Request.Context(), principal(c), id, req.UserID)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusCreated, toEvaluator(e))
}

func (s *server) declareConflicts(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	var req declarationRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.Conflict == nil {
		s.fail(c, market.Invalid("conflict", "is required: false for no conflict of interest, or true with suppliers and details"))
		return
	}
	e, err := s.evaluations.Declare(c.Request.Context(), principal(c), id, *req.Conflict, req.Suppliers, req.Details)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, toEvaluator(e))
}

func (s *server) getScores(c *gin.Context) {
	id, bid, ok := s.bidPath(c)
	if !ok {
		return
	}
	p := principal(c)
	bs, err := s.evaluations.GetScores(c.Request.Context(), p, id, bid)
	if err != nil {
		s.fail(c, err)
		return
	}
	own := toScores(id, bid, p.UserID, bs.Own)
	r := bidScoresResponse{TenderID: id, BidID: bid, EvaluatorID: p.UserID, Scores: own.Scores, UpdatedAt: own.UpdatedAt}
	if bs.Lead {
		r.Evaluators = []scoresResponse{}
		r.Moderations = []moderationResponse{}
		var order []string
		by := map[string][]market.Score{}
		for _, sc := range bs.All {
			if _, seen := by[sc.EvaluatorID]; !seen {
				order = append(order, sc.EvaluatorID)
			}
			by[sc.EvaluatorID] = append(by[sc.EvaluatorID], sc)
		}
		for _, e := range order {
			r.Evaluators = append(r.Evaluators, toScores(id, bid, e, by[e]))
		}
		for _, m := range bs.Moderations {
			r.Moderations = append(r.Moderations, toModeration(m))
		}
	}
	writePrivate(c, http.StatusOK, r)
}

// toScores is one evaluator's scores of a bid; updated_at is the latest.
func toScores(tenderID, bidID, evaluatorID string, scores []market.Score) scoresResponse {
	r := scoresResponse{TenderID: tenderID, BidID: bidID, EvaluatorID: evaluatorID, Scores: map[string]scoreJSON{}}
	var latest time.Time
	for _, sc := range scores {
		r.Scores[sc.Criterion] = scoreJSON{Score: sc.Score, Justification: sc.Justification}
		if sc.UpdatedAt.After(latest) {
			latest = sc.UpdatedAt
		}
	}
	if !latest.IsZero() {
		r.UpdatedAt = rfc3339Milli(latest)
	}
	return r
}

func (s *server) putScores(c *gin.Context) {
	id, bid, ok := s.bidPath(c)
	if !ok {
		return
	}
	var req scoresRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	var prob market.Problems
	if req.Scores == nil {
		prob.Add("scores", "is required: a score and justification for each quality criterion")
	}
	in := make(map[string]market.ScoreInput, len(req.Scores))
	for _, k := range sortedStrings(req.Scores) {
		v := req.Scores[k]
		if v.Score == nil {
			prob.Add("scores."+k+".score", "is required: 0 (unacceptable) to 4 (excellent)")
			continue
		}
		in[k] = market.ScoreInput{Score: *v.Score, Justification: v.Justification}
	}
	if err := prob.Err(); err != nil {
		s.fail(c, err)
		return
	}
	scores, err := s.evaluations.PutScores(c.Request.Context(), principal(c), id, bid, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	r := scoresResponse{TenderID: id, BidID: bid, EvaluatorID: principal(c).UserID, Scores: map[string]scoreJSON{}}
	for _, sc := range scores {
		r.Scores[sc.Criterion] = scoreJSON{Score: sc.Score, Justification: sc.Justification}
		r.UpdatedAt = rfc3339Milli(sc.UpdatedAt)
	}
	writePrivate(c, http.StatusOK, r)
}

func (s *server) moderate(c *gin.Context) {
	id, bid, ok := s.bidPath(c)
	if !ok {
		return
	}
	var req moderationRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.Score == nil {
		s.fail(c, market.Invalid("score", "is required: 0 to 4"))
		return
	}
	m, err := s.evaluations.Moderate(c.Request.Context(), principal(c), id, bid, req.Criterion, *req.Score, req.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, toModeration(m))
}

func toModeration(m market.Moderation) moderationResponse {
	return moderationResponse{
		TenderID: m.TenderID, BidID: m.BidID, Criterion: m.Criterion, Score: m.Score, Reason: m.Reason, By: m.By, At: rfc3339Milli(m.At),
	}
}

// decided answers an award decision's change with the caller's view of
// the tender.
func (s *server) decided(c *gin.Context, t market.Tender, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeOwnTender(c, http.StatusOK, t)
}

func (s *server) award(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	var req awardRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if !plausibleID(req.BidID) {
		s.fail(c, market.Invalid("bid_id", "is not a submitted bid of this tender"))
		return
	}
	t, err := s.evaluations.Award(c.Request.Context(), principal(c), id, req.BidID, req.Reason)
	s.decided(c, t, err)
}

func (s *server) confirmAward(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	t, err := s.evaluations.ConfirmAward(c.Request.Context(), principal(c), id)
	s.decided(c, t, err)
}

func (s *server) revokeAward(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	var req reasonRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.evaluations.RevokeAward(c.Request.Context(), principal(c), id, req.Reason)
	s.decided(c, t, err)
}

func (s *server) unsuccessful(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	var req reasonRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.evaluations.Unsuccessful(c.Request.Context(), principal(c), id, req.Reason)
	s.decided(c, t, err)
}

func (s *server) feedback(c *gin.Context) {
	id, ok := s.pathID(c, errNoTender)
	if !ok {
		return
	}
	fb, err := s.evaluations.Feedback(c.Request.Context(), principal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, feedbackResponse{
		TenderID: id, BidID: fb.Own.BidID, PricePence: fb.Own.PricePence, Scores: nonNilScores(fb.Own.Scores),
		QualityTotal: fb.Own.QualityTotal, Total: fb.Own.Total, Rank: fb.Own.Rank, Bidders: fb.Bidders,
		Winner: winnerJSON{Name: fb.WinnerName, Total: fb.WinnerTotal},
	})
}

func nonNilScores(m map[string]float64) map[string]float64 {
	if m == nil {
		return map[string]float64{}
	}
	return m
}

// sortedStrings returns the keys of m in order, so that problems are
// listed alike on every request.
func sortedStrings[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
