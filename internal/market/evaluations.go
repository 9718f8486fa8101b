package market

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Evaluations holds the rules of evaluation and award: who scores, the
// conflict declarations, moderation, the comparison, the award decision,
// its standstill and the final award.
type Evaluations struct {
	Tenders    TenderStore
	Store      EvaluationStore
	Users      UserStore
	Clock      Clock
	Standstill time.Duration
	// Levy computes the marketplace levy recorded on each final award.
	Levy LevyPolicy
	// LevyRecorded, when set, is told of each levy recorded (after its
	// transaction committed), so that this process's worker sends it at
	// once and the metrics count it.
	LevyRecorded func(l *Levy)
}

// evaluators returns the tender's evaluator records, with the creator
// assigned by default when it has no record yet.
func (s *Evaluations) evaluators(ctx context.Context, t *Tender) ([]Evaluator, error) {
	es, err := s.Store.ListEvaluators(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(es, func(e Evaluator) bool { return e.UserID == t.CreatedBy }) {
		es = append([]Evaluator{{TenderID: t.ID, UserID: t.CreatedBy, OrganisationID: t.BuyerID, Assigned: true,
			AssignedBy: t.CreatedBy, AssignedAt: t.CreatedAt}}, es...)
	}
	return es, nil
}

func (s *Evaluations) tender(ctx context.Context, p *Principal, id string) (Tender, error) {
	if err := RequireUser(p); err != nil {
		return Tender{}, err
	}
	t, err := s.Tenders.GetTender(ctx, id)
	if ErrorCode(err) == ENOTFOUND || (err == nil && !CanSeeTender(p, &t)) {
		return Tender{}, errNoTender
	}
	return t, err
}

// commissionerTender loads a tender p commissions as a buyer or evaluator;
// to anyone else a published tender is forbidden, a draft not found.
func (s *Evaluations) commissionerTender(ctx context.Context, p *Principal, id string) (Tender, error) {
	t, err := s.tender(ctx, p, id)
	if err != nil {
		return Tender{}, err
	}
	if !IsCommissioner(p, &t) || (p.Role != RoleBuyer && p.Role != RoleEvaluator) {
		return Tender{}, Errorf(EFORBIDDEN, "Only the tender's commissioners may do this.")
	}
	return t, nil
}

func (s *Evaluations) leadTender(ctx context.Context, p *Principal, id string) (Tender, error) {
	t, err := s.commissionerTender(ctx, p, id)
	if err != nil {
		return Tender{}, err
	}
	if t.BuyerID != p.OrganisationID || p.Role != RoleBuyer {
		return Tender{}, Errorf(EFORBIDDEN, "Only the lead commissioner's buyers may do this.")
	}
	return t, nil
}

// AssignEvaluator lets the lead buyer assign a buyer or evaluator of one of
// the commissioners to score the tender, until the award decision.
func (s *Evaluations) AssignEvaluator(ctx context.Context, p *Principal, tenderID, userID string) (Evaluator, error) {
	t, err := s.leadTender(ctx, p, tenderID)
	if err != nil {
		return Evaluator{}, err
	}
	if st := t.Status(s.Clock.Now()); st != TenderDraft && st != TenderOpen && st != TenderClosed {
		return Evaluator{}, Errorf(ECONFLICT, "Evaluators cannot be assigned to a tender that is %s.", st)
	}
	u, err := s.Users.GetUser(ctx, userID)
	if ErrorCode(err) == ENOTFOUND || (err == nil && (!slices.Contains(t.Commissioners(), u.OrganisationID) ||
		(u.Role != RoleBuyer && u.Role != RoleEvaluator) || u.Status != UserActive)) {
		return Evaluator{}, Invalid("user_id", "must be an active buyer or evaluator of one of the tender's commissioners")
	} else if err != nil {
		return Evaluator{}, err
	}
	if u.ID == t.CreatedBy {
		return Evaluator{}, Errorf(ECONFLICT, "The tender's creator is an evaluator already.")
	}
	e := Evaluator{TenderID: t.ID, UserID: u.ID, OrganisationID: u.OrganisationID, Assigned: true, AssignedBy: p.UserID, AssignedAt: s.Clock.Now()}
	if err := s.Store.AssignEvaluator(ctx, &e, event(p, &t, "evaluator", u.ID, "evaluator.assigned", map[string]string{"user_id": u.ID})); err != nil {
		return Evaluator{}, err
	}
	return e, nil
}

// EvaluatorCandidate is a user the lead buyer may assign to evaluate a
// tender, with its organisation.
type EvaluatorCandidate struct {
	User         User
	Organisation Organisation
	// Lead is true for the lead commissioner's users, false for a joint
	// commissioner's.
	Lead bool
	// Assigned is true for a user assigned already (the tender's creator
	// is, from the start); AssignEvaluator refuses it.
	Assigned bool
}

// EvaluatorCandidates returns, to the lead commissioner's buyers, the users
// AssignEvaluator accepts for the tender, and those assigned already: the
// active buyers and evaluators of the lead CCG, then of each joint
// commissioner in the tender's order, each organisation's oldest first.
// It answers in every status, so that assigned evaluators are named after
// the award too. ENOTFOUND for a draft of another CCG; EFORBIDDEN for
// anyone else who may see the tender, a joint commissioner's buyers
// included.
func (s *Evaluations) EvaluatorCandidates(ctx context.Context, p *Principal, tenderID string) ([]EvaluatorCandidate, error) {
	t, err := s.leadTender(ctx, p, tenderID)
	if err != nil {
		return nil, err
	}
	es, err := s.evaluators(ctx, &t)
	if err != nil {
		return nil, err
	}
	assigned := make(map[string]bool, len(es))
	for _, e := range es {
		if e.Assigned {
			assigned[e.UserID] = true
		}
	}
	out := []EvaluatorCandidate{}
	for i, orgID := range t.Commissioners() {
		o, err := s.Users.GetOrganisation(ctx, orgID)
		if err != nil {
			return nil, err
		}
		users, err := s.Users.ListUsers(ctx, orgID)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if u.Status != UserActive || (u.Role != RoleBuyer && u.Role != RoleEvaluator) {
				continue
			}
			out = append(out, EvaluatorCandidate{User: u, Organisation: o, Lead: i == 0, Assigned: assigned[u.ID]})
		}
	}
	return out, nil
}

// ListEvaluators returns the tender's evaluators to its commissioners.
func (s *Evaluations) ListEvaluators(ctx context.Context, p *Principal, tenderID string) ([]Evaluator, error) {
	t, err := s.commissionerTender(ctx, p, tenderID)
	if err != nil {
		return nil, err
	}
	return s.evaluators(ctx, &t)
}

// Declare records p's declaration of conflicts of interest for a tender,
// once: none, or the suppliers it has an interest in, with details. An
// assigned evaluator must declare before it scores; a commissioner's buyer
// must declare before it reads bids. A declared conflict bars p from the
// tender's bids and scores.
func (s *Evaluations) Declare(ctx context.Context, p *Principal, tenderID string, conflict bool, suppliers []string, details string) (Evaluator, error) {
	t, err := s.commissionerTender(ctx, p, tenderID)
	if err != nil {
		return Evaluator{}, err
	}
	es, err := s.evaluators(ctx, &t)
	if err != nil {
		return Evaluator{}, err
	}
	i := slices.IndexFunc(es, func(e Evaluator) bool { return e.UserID == p.UserID })
	var e Evaluator
	switch {
	case i >= 0:
		e = es[i]
	case p.Role == RoleBuyer:
		e = Evaluator{TenderID: t.ID, UserID: p.UserID, OrganisationID: p.OrganisationID}
	default:
		return Evaluator{}, Errorf(EFORBIDDEN, "You are not assigned to evaluate this tender.")
	}
	if !e.DeclaredAt.IsZero() {
		return Evaluator{}, Errorf(ECONFLICT, "You declared your interests in this tender already.")
	}
	details = strings.TrimSpace(details)
	var prob Problems
	if conflict && details == "" {
		prob.Add("details", "say what the conflict is")
	}
	if len(details) > MaxReasonLen {
		prob.Add("details", "must be at most %d characters", MaxReasonLen)
	}
	if !conflict && len(suppliers) > 0 {
		prob.Add("suppliers", "name suppliers only when declaring a conflict")
	}
	if err := prob.Err(); err != nil {
		return Evaluator{}, err
	}
	e.DeclaredAt, e.Conflict, e.ConflictSuppliers, e.ConflictDetails = s.Clock.Now(), conflict, suppliers, details
	action := "evaluator.declared_no_conflict"
	if conflict {
		action = "evaluator.declared_conflict"
	}
	if err := s.Store.DeclareConflicts(ctx, &e, event(p, &t, "evaluator", p.UserID, action, nil)); err != nil {
		return Evaluator{}, err
	}
	return e, nil
}

// ScoreInput is one criterion's score with its justification.
type ScoreInput struct {
	Score         int
	Justification string
}

// scorable loads a closed tender and a submitted bid of it that p, a
// cleared assigned evaluator, may score.
func (s *Evaluations) scorable(ctx context.Context, p *Principal, tenderID, bidID string) (Tender, Bid, error) {
	t, err := s.commissionerTender(ctx, p, tenderID)
	if err != nil {
		return Tender{}, Bid{}, err
	}
	es, err := s.evaluators(ctx, &t)
	if err != nil {
		return Tender{}, Bid{}, err
	}
	i := slices.IndexFunc(es, func(e Evaluator) bool { return e.UserID == p.UserID })
	if i < 0 || !es[i].Assigned {
		return Tender{}, Bid{}, Errorf(EFORBIDDEN, "You are not assigned to evaluate this tender.")
	}
	if es[i].DeclaredAt.IsZero() {
		return Tender{}, Bid{}, Errorf(EFORBIDDEN, "Declare any conflict of interest for this tender first.")
	}
	if es[i].Conflict {
		return Tender{}, Bid{}, Errorf(EFORBIDDEN, "Your declared conflict of interest bars you from scoring this tender.")
	}
	if st := t.Status(s.Clock.Now()); st != TenderClosed {
		return Tender{}, Bid{}, Errorf(ECONFLICT, "Bids are scored after the bid deadline and before the award decision; this tender is %s.", st)
	}
	b, err := s.Tenders.GetBid(ctx, bidID)
	if ErrorCode(err) == ENOTFOUND || (err == nil && (b.TenderID != t.ID || b.Status != BidSubmitted)) {
		return Tender{}, Bid{}, errNoBid
	}
	return t, b, err
}

// PutScores records p's scores of one bid: every quality criterion scored
// 0 to 4 with a written justification. Scores can change until the award
// decision.
func (s *Evaluations) PutScores(ctx context.Context, p *Principal, tenderID, bidID string, in map[string]ScoreInput) ([]Score, error) {
	t, b, err := s.scorable(ctx, p, tenderID, bidID)
	if err != nil {
		return nil, err
	}
	var prob Problems
	now := s.Clock.Now()
	var scores []Score
	for _, c := range t.QualityCriteria() {
		in, ok := in[c.Key]
		switch {
		case !ok:
			prob.Add("scores."+c.Key, "a score for %q is required", c.Name)
		case in.Score < 0 || in.Score > 4:
			prob.Add("scores."+c.Key+".score", "must be 0 (unacceptable) to 4 (excellent)")
		case strings.TrimSpace(in.Justification) == "":
			prob.Add("scores."+c.Key+".justification", "a written justification is required")
		case len(in.Justification) > MaxJustificationLen:
			prob.Add("scores."+c.Key+".justification", "must be at most %d characters", MaxJustificationLen)
		}
		scores = append(scores, Score{TenderID: t.ID, BidID: b.ID, EvaluatorID: p.UserID, Criterion: c.Key,
			Score: in.Score, Justification: strings.TrimSpace(in.Justification), UpdatedAt: now})
	}
	for k := range in {
		if c, ok := t.criterion(k); !ok || c.Kind != CriterionQuality {
			prob.Add("scores."+k, "is not a quality criterion of this tender")
		}
	}
	if err := prob.Err(); err != nil {
		return nil, err
	}
	if err := s.Store.PutScores(ctx, scores, event(p, &t, "bid", b.ID, "bid.scored", nil)); err != nil {
		return nil, err
	}
	return scores, nil
}

// Moderate records the lead buyer's moderated score of a bid on a
// criterion, with a reason; it replaces the evaluators' mean.
func (s *Evaluations) Moderate(ctx context.Context, p *Principal, tenderID, bidID, criterion string, score int, reason string) (Moderation, error) {
	t, err := s.leadTender(ctx, p, tenderID)
	if err != nil {
		return Moderation{}, err
	}
	if _, _, err := s.scorable(ctx, p, tenderID, bidID); err != nil {
		return Moderation{}, err
	}
	var prob Problems
	if c, ok := t.criterion(criterion); !ok || c.Kind != CriterionQuality {
		prob.Add("criterion", "is not a quality criterion of this tender")
	}
	if score < 0 || score > 4 {
		prob.Add("score", "must be 0 to 4")
	}
	if err := CheckReason("reason", reason); err != nil {
		prob = append(prob, ErrorFields(err)...)
	}
	if err := prob.Err(); err != nil {
		return Moderation{}, err
	}
	m := Moderation{TenderID: t.ID, BidID: bidID, Criterion: criterion, Score: score, Reason: strings.TrimSpace(reason), By: p.UserID, At: s.Clock.Now()}
	if err := s.Store.PutModeration(ctx, &m, event(p, &t, "bid", bidID, "bid.moderated", map[string]string{"criterion": criterion})); err != nil {
		return Moderation{}, err
	}
	return m, nil
}

// Compare builds the comparison of a tender's bids for its commissioners'
// cleared buyers and evaluators, once the deadline has passed.
func (s *Evaluations) Compare(ctx context.Context, p *Principal, tenderID string) (Comparison, error) {
	t, es, err := s.CompareAccess(ctx, p, tenderID)
	if err != nil {
		return Comparison{}, err
	}
	return s.Comparison(ctx, &t, es)
}

// CompareAccess is the rule of Compare without the work: it returns the
// tender and its evaluators when p may read the comparison now. A caller
// that keeps built comparisons (they depend on no reader) checks each
// reader with it, and builds with Comparison only when what it keeps is
// out of date.
func (s *Evaluations) CompareAccess(ctx context.Context, p *Principal, tenderID string) (Tender, []Evaluator, error) {
	t, err := s.commissionerTender(ctx, p, tenderID)
	if err != nil {
		return Tender{}, nil, err
	}
	if t.Sealed(s.Clock.Now()) {
		return Tender{}, nil, Errorf(ECONFLICT, "Bids are sealed until the bid deadline.")
	}
	es, err := s.evaluators(ctx, &t)
	if err != nil {
		return Tender{}, nil, err
	}
	i := slices.IndexFunc(es, func(e Evaluator) bool { return e.UserID == p.UserID })
	if i < 0 || !es[i].Cleared() {
		return Tender{}, nil, Errorf(EFORBIDDEN, "Declare any conflict of interest for this tender before comparing its bids.")
	}
	return t, es, nil
}

// Comparison builds the comparison of t, which CompareAccess returned with
// its evaluators es.
func (s *Evaluations) Comparison(ctx context.Context, t *Tender, es []Evaluator) (Comparison, error) {
	return s.comparison(ctx, t, es)
}

// orgReaders is how many organisations a comparison reads at once from a
// store that reads them one by one.
const orgReaders = 8

func supplierIDs(bids []Bid) []string {
	ids := make([]string, len(bids))
	for i, b := range bids {
		ids[i] = b.SupplierID
	}
	return ids
}

// organisations reads the organisations of ids: in one read when the
// store can, otherwise orgReaders at a time.
func (s *Evaluations) organisations(ctx context.Context, ids []string) (map[string]Organisation, error) {
	if many, ok := s.Users.(OrganisationsReader); ok {
		return many.GetOrganisations(ctx, ids)
	}
	orgs := make(map[string]Organisation, len(ids))
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		slots = make(chan struct{}, orgReaders)
	)
	for _, id := range ids {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			o, err := s.Users.GetOrganisation(ctx, id)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = err
				}
				return
			}
			orgs[id] = o
		})
	}
	wg.Wait()
	return orgs, first
}

func (s *Evaluations) comparison(ctx context.Context, t *Tender, es []Evaluator) (Comparison, error) {
	// The scores are most of the reading: they are read beside the bids
	// and their suppliers, on a connection of their own.
	var (
		scores        []Score
		mods          []Moderation
		scoresErr     error
		scoresRead    = make(chan struct{})
		in            []BidInput
		commissioners []Organisation
	)
	go func() {
		defer close(scoresRead)
		if scores, scoresErr = s.Store.ListScoreValues(ctx, t.ID); scoresErr == nil {
			mods, scoresErr = s.Store.ListModerations(ctx, t.ID)
		}
	}()
	err := func() error {
		bids, err := s.Tenders.ListBidPrices(ctx, t.ID)
		if err != nil {
			return err
		}
		// Every bidder's organisation, in one read (or from the memo): one
		// after another, a cold comparison waited for a round trip per bid.
		var ids []string
		seen := map[string]bool{}
		for _, id := range append(supplierIDs(bids), t.Commissioners()...) {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		orgs, err := s.organisations(ctx, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, ok := orgs[id]; !ok {
				return Errorf(ENOTFOUND, "No organisation %q.", id)
			}
		}
		in = make([]BidInput, 0, len(bids))
		for _, b := range bids {
			in = append(in, BidInput{Bid: b, Supplier: orgs[b.SupplierID]})
		}
		for _, id := range t.Commissioners() {
			commissioners = append(commissioners, orgs[id])
		}
		return nil
	}()
	<-scoresRead
	if err != nil {
		return Comparison{}, err
	}
	if scoresErr != nil {
		return Comparison{}, scoresErr
	}
	// Only assigned evaluators score: a buyer who declared no conflict just
	// to read the bids is cleared, but must not leave every row incomplete.
	scorers := make([]Evaluator, 0, len(es))
	for _, e := range es {
		if e.Assigned {
			scorers = append(scorers, e)
		}
	}
	return Compare(t, in, scores, mods, scorers, commissioners), nil
}

// Award records the lead buyer's award decision for a submitted bid of a
// closed tender, which starts the standstill.
func (s *Evaluations) Award(ctx context.Context, p *Principal, tenderID, bidID, reason string) (Tender, error) {
	t, err := s.leadTender(ctx, p, tenderID)
	if err != nil {
		return Tender{}, err
	}
	now := s.Clock.Now()
	if st := t.Status(now); st != TenderClosed {
		return Tender{}, Errorf(ECONFLICT, "Only a closed tender can be awarded; this one is %s.", st)
	}
	if err := CheckReason("reason", reason); err != nil {
		return Tender{}, err
	}
	b, err := s.Tenders.GetBid(ctx, bidID)
	if ErrorCode(err) == ENOTFOUND || (err == nil && (b.TenderID != t.ID || b.Status != BidSubmitted)) {
		return Tender{}, Invalid("bid_id", "is not a submitted bid of this tender")
	} else if err != nil {
		return Tender{}, err
	}
	v := t.Version
	t.AwardedAt, t.AwardBidID, t.AwardReason, t.StandstillEndsAt = now, b.ID, strings.TrimSpace(reason), now.Add(s.Standstill)
	if err := s.Tenders.SaveTender(ctx, &t, v, event(p, &t, "tender", t.ID, "tender.award_decided", map[string]string{"bid_id": b.ID})); err != nil {
		return Tender{}, err
	}
	return t, nil
}

// RevokeAward withdraws the award decision during the standstill; the
// tender is closed again.
func (s *Evaluations) RevokeAward(ctx context.Context, p *Principal, tenderID, reason string) (Tender, error) {
	t, err := s.leadTender(ctx, p, tenderID)
	if err != nil {
		return Tender{}, err
	}
	if st := t.Status(s.Clock.Now()); st != TenderStandstill {
		return Tender{}, Errorf(ECONFLICT, "Only an award in its standstill can be revoked; this tender is %s.", st)
	}
	if err := CheckReason("reason", reason); err != nil {
		return Tender{}, err
	}
	v, bid := t.Version, t.AwardBidID
	t.AwardedAt, t.AwardBidID, t.AwardReason, t.StandstillEndsAt = time.Time{}, "", "", time.Time{}
	if err := s.Tenders.SaveTender(ctx, &t, v, event(p, &t, "tender", t.ID, "tender.award_revoked",
		map[string]string{"bid_id": bid, "reason": strings.TrimSpace(reason)})); err != nil {
		return Tender{}, err
	}
	return t, nil
}

// ConfirmAward makes the award final once the standstill has ended.
func (s *Evaluations) ConfirmAward(ctx context.Context, p *Principal, tenderID string) (Tender, error) {
	t, err := s.leadTender(ctx, p, tenderID)
	if err != nil {
		return Tender{}, err
	}
	now := s.Clock.Now()
	if st := t.Status(now); st != TenderStandstill {
		return Tender{}, Errorf(ECONFLICT, "Only an award in its standstill can be confirmed; this tender is %s.", st)
	}
	if now.Before(t.StandstillEndsAt) {
		return Tender{}, Errorf(ECONFLICT, "The standstill ends at %s; the award can be confirmed after that.", t.StandstillEndsAt.UTC().Format(time.RFC3339))
	}
	b, err := s.Tenders.GetBid(ctx, t.AwardBidID)
	if err != nil {
		return Tender{}, err
	}
	o, err := s.Users.GetOrganisation(ctx, b.SupplierID)
	if err != nil {
		return Tender{}, err
	}
	var email string
	if u, err := s.Users.GetUser(ctx, b.SubmittedBy); err == nil {
		email = u.Email
	} else if ErrorCode(err) != ENOTFOUND {
		return Tender{}, err
	}
	v := t.Version
	t.AwardConfirmedAt = now
	levy := s.Levy.NewLevy(&t, &b, &o, email, now)
	if err := s.Tenders.ConfirmAward(ctx, &t, v, event(p, &t, "tender", t.ID, "tender.awarded", map[string]string{"bid_id": t.AwardBidID}),
		&levy, LevyEvent(p, &levy, "levy.recorded", levyRecordedDetail(&levy))); err != nil {
		return Tender{}, err
	}
	if s.LevyRecorded != nil {
		s.LevyRecorded(&levy)
	}
	return t, nil
}

// Unsuccessful ends a closed tender without an award, with a reason.
func (s *Evaluations) Unsuccessful(ctx context.Context, p *Principal, tenderID, reason string) (Tender, error) {
	t, err := s.leadTender(ctx, p, tenderID)
	if err != nil {
		return Tender{}, err
	}
	now := s.Clock.Now()
	if st := t.Status(now); st != TenderClosed {
		return Tender{}, Errorf(ECONFLICT, "Only a closed tender can end without award; this one is %s.", st)
	}
	if err := CheckReason("reason", reason); err != nil {
		return Tender{}, err
	}
	v := t.Version
	t.UnsuccessfulAt, t.UnsuccessfulNote = now, strings.TrimSpace(reason)
	if err := s.Tenders.SaveTender(ctx, &t, v, event(p, &t, "tender", t.ID, "tender.unsuccessful", map[string]string{"reason": t.UnsuccessfulNote})); err != nil {
		return Tender{}, err
	}
	return t, nil
}

// Feedback is what an unsuccessful bidder learns once the award is
// decided: its own scores and rank, and the winner's total; never another
// loser's price.
type Feedback struct {
	Own         ComparisonRow
	Bidders     int
	WinnerTotal float64
	WinnerName  string
}

// Feedback returns p's supplier's feedback on a tender with an award
// decision (standstill or awarded).
func (s *Evaluations) Feedback(ctx context.Context, p *Principal, tenderID string) (Feedback, error) {
	if err := requireSupplier(p); err != nil {
		return Feedback{}, err
	}
	t, err := s.tender(ctx, p, tenderID)
	if err != nil {
		return Feedback{}, err
	}
	if st := t.Status(s.Clock.Now()); st != TenderStandstill && st != TenderAwarded {
		return Feedback{}, Errorf(ECONFLICT, "Feedback is given once the award is decided; this tender is %s.", st)
	}
	es, err := s.evaluators(ctx, &t)
	if err != nil {
		return Feedback{}, err
	}
	cmp, err := s.comparison(ctx, &t, es)
	if err != nil {
		return Feedback{}, err
	}
	fb := Feedback{}
	found := false
	for _, r := range cmp.Rows {
		if r.InHouse {
			continue
		}
		fb.Bidders++
		if r.BidID == t.AwardBidID {
			fb.WinnerTotal, fb.WinnerName = r.Total, r.SupplierName
		}
		if r.SupplierID == p.OrganisationID {
			fb.Own, found = r, true
		}
	}
	if !found {
		return Feedback{}, Errorf(ENOTFOUND, "Your organisation has no submitted bid on this tender.")
	}
	// Rank among bidders only: the in-house option is the buyer's business.
	rank := 1
	for _, r := range cmp.Rows {
		if !r.InHouse && r.SupplierID != p.OrganisationID && ahead(&r, &fb.Own) {
			rank++
		}
	}
	fb.Own.Rank, fb.Own.Shares = rank, nil
	return fb, nil
}

// BidScores is one bid's scores as GetScores shows them: the caller's own
// (to read back into its form) and, for the lead commissioner's buyers
// only, every evaluator's with the moderations, to moderate from.
type BidScores struct {
	Own         []Score
	Lead        bool
	All         []Score
	Moderations []Moderation
}

// GetScores returns p's own scores of a submitted bid once the bid deadline
// has passed, and to the lead commissioner's buyers every evaluator's too.
// p must be a commissioner's buyer or evaluator who has declared no
// conflict (forbidden otherwise); before the deadline it is a conflict, as
// bids are sealed; a bid not of this tender or withdrawn is not found.
func (s *Evaluations) GetScores(ctx context.Context, p *Principal, tenderID, bidID string) (BidScores, error) {
	t, _, err := s.CompareAccess(ctx, p, tenderID)
	if err != nil {
		return BidScores{}, err
	}
	b, err := s.Tenders.GetBid(ctx, bidID)
	if ErrorCode(err) == ENOTFOUND || (err == nil && (b.TenderID != t.ID || b.Status != BidSubmitted)) {
		return BidScores{}, errNoBid
	} else if err != nil {
		return BidScores{}, err
	}
	scores, err := s.Store.ListScores(ctx, t.ID)
	if err != nil {
		return BidScores{}, err
	}
	out := BidScores{Own: []Score{}, Lead: t.BuyerID == p.OrganisationID && p.Role == RoleBuyer}
	for _, sc := range scores {
		if sc.BidID != b.ID {
			continue
		}
		if sc.EvaluatorID == p.UserID {
			out.Own = append(out.Own, sc)
		}
		if out.Lead {
			out.All = append(out.All, sc)
		}
	}
	if !out.Lead {
		return out, nil
	}
	mods, err := s.Store.ListModerations(ctx, t.ID)
	if err != nil {
		return BidScores{}, err
	}
	out.Moderations = []Moderation{}
	for _, m := range mods {
		if m.BidID == b.ID {
			out.Moderations = append(out.Moderations, m)
		}
	}
	if out.All == nil {
		out.All = []Score{}
	}
	return out, nil
}
