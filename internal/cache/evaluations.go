package cache

import (
	"context"
	"slices"

	"github.com/csmarket/csmarket/internal/market"
)

// NSEvaluators retires the memos of tenders' evaluators and their
// conflict declarations: every AssignEvaluator and DeclareConflicts through
// EvaluationStore invalidates it. It holds no views, since evaluation data
// is private.
const NSEvaluators = "evaluators"

// Sizes of the evaluator memos of one process.
const (
	memoEvaluatorLists = 1_000
	memoEvaluators     = 10_000
)

// EvaluationStore passes evaluation reads and writes through to the inner
// store, and keeps in this process (see Memo) each tender's evaluators and
// each evaluator's record, which every reader of a tender's bids or
// comparison checks. AssignEvaluator and DeclareConflicts invalidate
// NSEvaluators, so that on every process sharing the cache a declaration
// takes effect from the next request on. Scores and moderations pass
// through.
type EvaluationStore struct {
	market.EvaluationStore
	cache *Cache
	lists *Memo[string, []market.Evaluator]
	one   *Memo[[2]string, market.Evaluator] // tender ID, user ID
}

var _ market.EvaluationStore = (*EvaluationStore)(nil)

// NewEvaluationStore wraps inner so that its evaluator reads are memoised
// under NSEvaluators, which its evaluator writes invalidate.
func NewEvaluationStore(inner market.EvaluationStore, c *Cache) *EvaluationStore {
	return &EvaluationStore{
		EvaluationStore: inner,
		cache:           c,
		lists:           NewMemo[string](c, NSEvaluators, memoEvaluatorLists, cloneEvaluators),
		one:             NewMemo[[2]string](c, NSEvaluators, memoEvaluators, cloneEvaluator),
	}
}

// ListEvaluators returns the tender's evaluators, from the memo while no
// evaluator write has happened since they were read.
func (s *EvaluationStore) ListEvaluators(ctx context.Context, tenderID string) ([]market.Evaluator, error) {
	return s.lists.Get(ctx, tenderID, func(ctx context.Context) ([]market.Evaluator, error) {
		return s.EvaluationStore.ListEvaluators(ctx, tenderID)
	})
}

// GetEvaluator returns a user's record for a tender, from the memo while no
// evaluator write has happened since it was read.
func (s *EvaluationStore) GetEvaluator(ctx context.Context, tenderID, userID string) (market.Evaluator, error) {
	return s.one.Get(ctx, [2]string{tenderID, userID}, func(ctx context.Context) (market.Evaluator, error) {
		return s.EvaluationStore.GetEvaluator(ctx, tenderID, userID)
	})
}

// AssignEvaluator writes through the inner store, then invalidates the
// evaluators.
func (s *EvaluationStore) AssignEvaluator(ctx context.Context, e *market.Evaluator, ev market.AuditEvent) error {
	if err := s.EvaluationStore.AssignEvaluator(ctx, e, ev); err != nil {
		return err
	}
	s.cache.invalidateAfterWrite(ctx, NSEvaluators)
	return nil
}

// DeclareConflicts writes through the inner store, then invalidates the
// evaluators.
func (s *EvaluationStore) DeclareConflicts(ctx context.Context, e *market.Evaluator, ev market.AuditEvent) error {
	if err := s.EvaluationStore.DeclareConflicts(ctx, e, ev); err != nil {
		return err
	}
	s.cache.invalidateAfterWrite(ctx, NSEvaluators)
	return nil
}

func cloneEvaluator(e market.Evaluator) market.Evaluator {
	e.ConflictSuppliers = slices.Clone(e.ConflictSuppliers)
	return e
}

func cloneEvaluators(es []market.Evaluator) []market.Evaluator {
	if es == nil {
		return nil
	}
	out := make([]market.Evaluator, len(es))
	for i, e := range es {
		out[i] = cloneEvaluator(e)
	}
	return out
}
