package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// appendEvent chains ev to the audit trail inside tx, naming objectID and
// tenderID where ev leaves them empty (an object created in the same
// transaction has no ID before it). It is the only writer of audit_events.
//
// It reads the chain's head under a lock that makes concurrent appends take
// turns (FOR UPDATE on PostgreSQL; on SQLite the transaction holds the
// write lock from its start), numbers the event head+1, links it to the
// head's hash, stamps it with the clock's time once its turn has come (so
// that times follow sequence), and hashes it exactly as it will be read
// back: the time at the stored precision, the detail as decoded from its
// stored JSON. Sequence numbers come from the head, moved in the same
// transaction, never from a database sequence, so a rolled-back change
// leaves no gap.
func (tx *Tx) appendEvent(ctx context.Context, clock market.Clock, ev market.AuditEvent, objectID, tenderID string) error {
	if ev.ObjectID == "" {
		ev.ObjectID = objectID
	}
	if ev.TenderID == "" {
		ev.TenderID = tenderID
	}
	detail, err := storedDetail(ev.Detail)
	if err != nil {
		return err
	}
	ev.Detail = detail
	lastSeq, lastHash, err := tx.lockHead(ctx)
	if err != nil {
		return err
	}
	ev.Seq, ev.PrevHash, ev.At = lastSeq+1, lastHash, now(clock)
	ev.Hash = ev.ComputeHash()
	return tx.insertChained(ctx, &ev)
}

// lockHead returns the chain's last sequence number and hash, holding the
// head until the transaction ends.
func (tx *Tx) lockHead(ctx context.Context) (int64, string, error) {
	query := "SELECT last_seq, last_hash FROM audit_head"
	if tx.db.engine == EnginePostgres {
		query += " FOR UPDATE"
	}
	var (
		seq  int64
		hash string
	)
	if err := tx.QueryRowContext(ctx, query).Scan(&seq, &hash); err != nil {
		return 0, "", fmt.Errorf("sqlstore: audit head: %w", err)
	}
	return seq, hash, nil
}

// insertChained stores a chained event and moves the head to it.
func (tx *Tx) insertChained(ctx context.Context, ev *market.AuditEvent) error {
	var tender any
	if ev.TenderID != "" {
		tender = ev.TenderID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_events (seq, at, actor_user, actor_org, object_type,
		object_id, tender_id, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.Seq, tx.db.timeArg(ev.At), ev.ActorUser, ev.ActorOrg, ev.ObjectType, ev.ObjectID, tender,
		ev.Action, mustJSON(ev.Detail), ev.PrevHash, ev.Hash)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "UPDATE audit_head SET last_seq = ?, last_hash = ?", ev.Seq, ev.Hash)
	return err
}

// storedDetail returns detail as it reads back from its stored JSON (which
// turns invalid UTF-8 into U+FFFD), never nil, so that the hash is of what
// is stored.
func storedDetail(detail map[string]string) (map[string]string, error) {
	out := map[string]string{}
	if len(detail) == 0 {
		return out, nil
	}
	if err := json.Unmarshal([]byte(mustJSON(detail)), &out); err != nil {
		return nil, fmt.Errorf("sqlstore: audit detail: %w", err)
	}
	return out, nil
}

// sealAuditTrail chains the events written before the chain existed
// (migration 00004 starts the head at 0). It runs only while the head is
// still at 0: once the chain has begun, an event appended beyond the head
// by hand is tampering for the verifier to report, never something a
// restart may bless.
// In sequence order, each is renumbered to follow the head without a gap,
// linked and hashed, and the head moved to it. It does nothing, in one
// query, when every event is chained.
func (db *DB) sealAuditTrail(ctx context.Context) error {
	return db.InTx(ctx, func(tx *Tx) error {
		lastSeq, lastHash, err := tx.lockHead(ctx)
		if err != nil {
			return err
		}
		if lastSeq != 0 {
			return nil
		}
		for {
			// Batches, because a connection cannot update while it reads.
			var batch []market.AuditEvent
			err := eachRow(ctx, tx, "SELECT "+auditColumns+" FROM audit_events WHERE seq > ? ORDER BY seq LIMIT 500",
				[]any{lastSeq}, func(sc scanner) error {
					ev, err := scanEvent(sc)
					batch = append(batch, ev)
					return err
				})
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				return nil
			}
			for _, ev := range batch {
				// Ascending, each event moves down to a free number: the
				// ones below it have moved already, and it is at least
				// lastSeq+1.
				old := ev.Seq
				ev.Seq, ev.PrevHash = lastSeq+1, lastHash
				ev.Hash = ev.ComputeHash()
				if _, err := tx.ExecContext(ctx, "UPDATE audit_events SET seq = ?, prev_hash = ?, hash = ? WHERE seq = ?",
					ev.Seq, ev.PrevHash, ev.Hash, old); err != nil {
					return err
				}
				lastSeq, lastHash = ev.Seq, ev.Hash
			}
			if _, err := tx.ExecContext(ctx, "UPDATE audit_head SET last_seq = ?, last_hash = ?", lastSeq, lastHash); err != nil {
				return err
			}
		}
	})
}

// auditColumns are read by scanEvent, in this order, from audit_events.
const auditColumns = `seq, at, actor_user, actor_org, object_type, object_id, COALESCE(tender_id, ''),
	action, detail, COALESCE(prev_hash, ''), COALESCE(hash, '')`

func scanEvent(sc scanner) (market.AuditEvent, error) {
	var (
		ev     market.AuditEvent
		detail string
	)
	if err := sc.Scan(&ev.Seq, timeCol{&ev.At}, &ev.ActorUser, &ev.ActorOrg, &ev.ObjectType, &ev.ObjectID,
		&ev.TenderID, &ev.Action, &detail, &ev.PrevHash, &ev.Hash); err != nil {
		return ev, err
	}
	// A detail that is not a JSON object of strings is kept out of Detail,
	// not refused: the chain's check then reports the event as altered.
	if err := json.Unmarshal([]byte(detail), &ev.Detail); err != nil || ev.Detail == nil {
		ev.Detail = map[string]string{}
		if err != nil {
			ev.Detail["(unreadable detail)"] = detail
		}
	}
	return ev, nil
}

// AuditStore reads the audit trail. Events are written by the stores that
// make the changes, each in the change's transaction (appendEvent).
type AuditStore struct {
	db *DB
}

var _ market.AuditStore = (*AuditStore)(nil)

// NewAuditStore returns the audit trail kept in db.
func NewAuditStore(db *DB) *AuditStore { return &AuditStore{db: db} }

// ListAudit returns one page of the events matching f, oldest first: those
// of f.TenderIDs (every event when nil, none when empty), about f.Object
// or of its tender when f.Object is set, of type f.Action, by user
// f.Actor, at or after f.From and before f.To, when each is set.
// EINVALID naming "cursor" for a cursor this list did not give out.
func (s *AuditStore) ListAudit(ctx context.Context, f market.AuditFilter) (market.AuditPage, error) {
	pageSize := f.PageSize
	if pageSize <= 0 {
		pageSize = market.DefaultPageSize
	}
	pageSize = min(pageSize, market.MaxPageSize)
	var after int64
	if f.Cursor != "" {
		var err error
		if after, err = market.AuditCursorSeq(f.Cursor); err != nil {
			return market.AuditPage{}, err
		}
	}
	page := market.AuditPage{Items: []market.AuditEvent{}}
	if f.TenderIDs != nil && len(f.TenderIDs) == 0 {
		return page, nil
	}

	var (
		b    strings.Builder
		args = []any{after}
	)
	b.WriteString("SELECT " + auditColumns + " FROM audit_events WHERE seq > ?")
	if f.TenderIDs != nil {
		b.WriteString(" AND tender_id IN (" + placeholders(len(f.TenderIDs)) + ")")
		for _, id := range f.TenderIDs {
			args = append(args, id)
		}
	}
	if f.Object != "" {
		b.WriteString(" AND (object_id = ? OR tender_id = ?)")
		args = append(args, f.Object, f.Object)
	}
	if f.Action != "" {
		b.WriteString(" AND action = ?")
		args = append(args, f.Action)
	}
	if f.Actor != "" {
		b.WriteString(" AND actor_user = ?")
		args = append(args, f.Actor)
	}
	if !f.From.IsZero() {
		b.WriteString(" AND at >= ?")
		args = append(args, s.db.timeArg(ceilMicro(f.From)))
	}
	if !f.To.IsZero() {
		b.WriteString(" AND at < ?")
		args = append(args, s.db.timeArg(ceilMicro(f.To)))
	}
	b.WriteString(" ORDER BY seq LIMIT ?")
	args = append(args, pageSize+1)
	err := eachRow(ctx, s.db, b.String(), args, func(sc scanner) error {
		ev, err := scanEvent(sc)
		page.Items = append(page.Items, ev)
		return err
	})
	if err != nil {
		return market.AuditPage{}, s.db.translate(err)
	}
	if len(page.Items) > pageSize {
		page.Items = page.Items[:pageSize]
		page.NextCursor = market.AuditCursor(page.Items[pageSize-1].Seq)
	}
	return page, nil
}

// ceilMicro rounds t up to the microsecond, the precision events' times
// are stored at on both engines, so that a bound between two stored
// microseconds falls on the same side of an event on either engine.
func ceilMicro(t time.Time) time.Time {
	if c := t.Truncate(time.Microsecond); !c.Equal(t) {
		return c.Add(time.Microsecond)
	}
	return t
}

// ScanAudit calls fn for every event in sequence order, reading them one
// at a time, so that a trail of any length is scanned in constant memory.
// fn's error stops the scan and is returned. fn runs while the scan holds
// a connection: it must not wait on the same database when the pool may
// have no other.
func (s *AuditStore) ScanAudit(ctx context.Context, fn func(market.AuditEvent) error) error {
	err := eachRow(ctx, s.db, "SELECT "+auditColumns+" FROM audit_events ORDER BY seq", nil, func(sc scanner) error {
		ev, err := scanEvent(sc)
		if err != nil {
			return err
		}
		return fn(ev)
	})
	return s.db.translate(err)
}

// Head returns the sequence number and hash of the chain's last event as
// recorded by the appends themselves. A verifier compares it with the last
// event it read: deleting events from the end of the trail leaves a chain
// that is intact in itself, and only the head shows them missing.
func (s *AuditStore) Head(ctx context.Context) (seq int64, hash string, err error) {
	err = s.db.QueryRowContext(ctx, "SELECT last_seq, last_hash FROM audit_head").Scan(&seq, &hash)
	return seq, hash, s.db.translate(err)
}

// BuyerTenderIDs returns the IDs of the tenders orgID leads or jointly
// commissions, drafts included, in ID order; never nil.
func (s *AuditStore) BuyerTenderIDs(ctx context.Context, orgID string) ([]string, error) {
	ids := []string{}
	err := eachRow(ctx, s.db, `SELECT id FROM tenders WHERE buyer_id = ?
		UNION SELECT tender_id FROM tender_commissioners WHERE org_id = ? ORDER BY 1`,
		[]any{orgID, orgID}, func(sc scanner) error {
			var id string
			if err := sc.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
			return nil
		})
	if err != nil {
		return nil, s.db.translate(err)
	}
	return ids, nil
}
