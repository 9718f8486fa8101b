package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// NSTenders holds the public tender views: the opportunities list, a
// published tender's detail and its answered questions.
const NSTenders = "tenders"

// untilHeader is the size of the envelope FetchUntil keeps before a body:
// the instant the view stops being right, in Unix nanoseconds (0: never).
const untilHeader = 8

// maxTurns bounds how many successive turns of one view FetchUntil follows
// before it loads the view without keeping it.
const maxTurns = 8

var errBadEnvelope = errors.New("cache: a view kept by FetchUntil has no envelope")

// FetchUntil is Fetch for a view that is right only until an instant it
// names itself. A tender's status turns at its deadlines whatever a cache
// holds, so load returns the body and the first instant at which it is
// wrong (zero when only a write can make it wrong, which invalidates it).
//
// The instant is checked against now, the server's clock, on every hit:
// neither the jitter of ttl (which may stretch a view's life), nor Redis's
// own expiry, nor another process's clock can serve a view past it. A view
// past its instant is not deleted; the view of the next turn is fetched
// under a key derived from the instant that ended the last, which every
// process derives alike, so that they share one reload rather than each
// bumping the namespace.
func (c *Cache) FetchUntil(ctx context.Context, ns, key string, ttl time.Duration, now func() time.Time,
	load func(ctx context.Context) ([]byte, time.Time, error)) (Entry, error) {
	wrapped := func(ctx context.Context) ([]byte, error) {
		body, until, err := load(ctx)
		if err != nil {
			return nil, err
		}
		env := make([]byte, untilHeader+len(body))
		var n int64
		if !until.IsZero() {
			n = until.UnixNano()
		}
		binary.BigEndian.PutUint64(env, uint64(n))
		copy(env[untilHeader:], body)
		return env, nil
	}
	k := key
	for range maxTurns {
		e, err := c.Fetch(ctx, ns, k, ttl, wrapped)
		if err != nil {
			return Entry{}, err
		}
		until, body, err := openEnvelope(e.Body)
		if err != nil {
			return Entry{}, err
		}
		if until == 0 || now().UnixNano() < until {
			return Entry{Body: body, ETag: e.ETag}, nil
		}
		k = key + "\x00turn:" + strconv.FormatInt(until, 10)
	}
	e, err := c.Fetch(ctx, ns, key, 0, wrapped)
	if err != nil {
		return Entry{}, err
	}
	_, body, err := openEnvelope(e.Body)
	return Entry{Body: body, ETag: e.ETag}, err
}

func openEnvelope(env []byte) (int64, []byte, error) {
	if len(env) < untilHeader {
		return 0, nil, errBadEnvelope
	}
	return int64(binary.BigEndian.Uint64(env)), env[untilHeader:], nil
}

// TenderStore passes reads and writes through to the inner store and
// invalidates the public tender views after each write that changes one:
// a tender's own fields (created, edited, published, cancelled) and an
// answer, which makes a question public.
//
// Bids and new questions change no public view, and they do not
// invalidate it either: a reload, a miss counted in the metrics or a slower
// answer that followed every bid would tell the world that bids arrive,
// which the sealed-bid rule forbids even as a count.
//
// It also keeps tenders read by ID in this process (see Memo), since every
// request about a tender reads it first; every write that changes a
// tender's row (CreateTender, SaveTender, which also records each award
// step, and ConfirmAward) invalidates NSTenders, which retires them on every process.
type TenderStore struct {
	market.TenderStore
	cache   *Cache
	tenders *Memo[string, market.Tender]
}

// memoTenders bounds the tenders one process keeps.
const memoTenders = 1_000

var _ market.TenderStore = (*TenderStore)(nil)

// NewTenderStore wraps inner so that its public-view-changing writes
// invalidate NSTenders.
func NewTenderStore(inner market.TenderStore, c *Cache) market.TenderStore {
	return &TenderStore{TenderStore: inner, cache: c, tenders: NewMemo[string](c, NSTenders, memoTenders, cloneTender)}
}

// GetTender returns the tender, from the memo while no tender write has
// happened since it was read.
func (s *TenderStore) GetTender(ctx context.Context, id string) (market.Tender, error) {
	return s.tenders.Get(ctx, id, func(ctx context.Context) (market.Tender, error) {
		return s.TenderStore.GetTender(ctx, id)
	})
}

// cloneTender copies t's slices, map and baseline, so that a caller
// changing its copy (as every tender write does before saving it) cannot
// change the memo's.
func cloneTender(t market.Tender) market.Tender {
	t.Capabilities = slices.Clone(t.Capabilities)
	t.Regions = slices.Clone(t.Regions)
	t.Criteria = slices.Clone(t.Criteria)
	t.JointCommissioners = slices.Clone(t.JointCommissioners)
	if t.Baseline != nil {
		b := *t.Baseline
		b.Scores = maps.Clone(b.Scores)
		t.Baseline = &b
	}
	return t
}

// CreateTender writes through the inner store, then invalidates the
// tender views.
func (s *TenderStore) CreateTender(ctx context.Context, t *market.Tender, ev market.AuditEvent) error {
	if err := s.TenderStore.CreateTender(ctx, t, ev); err != nil {
		return err
	}
	s.cache.invalidateTendersAfterWrite(ctx)
	return nil
}

// SaveTender writes through the inner store, then invalidates the tender
// views.
func (s *TenderStore) SaveTender(ctx context.Context, t *market.Tender, ifVersion int64, ev market.AuditEvent) error {
	if err := s.TenderStore.SaveTender(ctx, t, ifVersion, ev); err != nil {
		return err
	}
	s.cache.invalidateTendersAfterWrite(ctx)
	return nil
}

// ConfirmAward writes through the inner store, then invalidates the
// tender views, where the final award is now public.
func (s *TenderStore) ConfirmAward(ctx context.Context, t *market.Tender, ifVersion int64, ev market.AuditEvent, l *market.Levy, levyEv market.AuditEvent) error {
	if err := s.TenderStore.ConfirmAward(ctx, t, ifVersion, ev, l, levyEv); err != nil {
		return err
	}
	s.cache.invalidateTendersAfterWrite(ctx)
	return nil
}

// AnswerQuestion writes through the inner store, then invalidates the
// tender views, where the answered question is now public.
func (s *TenderStore) AnswerQuestion(ctx context.Context, q *market.Question, ev market.AuditEvent) error {
	if err := s.TenderStore.AnswerQuestion(ctx, q, ev); err != nil {
		return err
	}
	s.cache.invalidateTendersAfterWrite(ctx)
	return nil
}

// invalidateTendersAfterWrite is invalidateAfterWrite for NSTenders: the
// write stands, so a failure is logged, counted and retried, not returned.
func (c *Cache) invalidateTendersAfterWrite(ctx context.Context) {
	_ = c.Invalidate(context.WithoutCancel(ctx), NSTenders)
}
