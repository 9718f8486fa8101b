package market

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Canonical returns the event's canonical encoding: its fields in a fixed
// order, times in RFC 3339 UTC with nanoseconds, detail keys sorted, as one
// JSON array. The hash chain hashes exactly these bytes, so any engine or
// process computes the same hash for the same event.
func (e *AuditEvent) Canonical() []byte {
	keys := make([]string, 0, len(e.Detail))
	for k := range e.Detail {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	detail := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		detail = append(detail, k, e.Detail[k])
	}
	b, _ := json.Marshal([]any{
		"csmarket-audit-v1", strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano),
		e.ActorUser, e.ActorOrg, e.ObjectType, e.ObjectID, e.TenderID, e.Action, detail, e.PrevHash,
	})
	return b
}

// ComputeHash returns the SHA-256 of the canonical encoding, hex.
func (e *AuditEvent) ComputeHash() string {
	sum := sha256.Sum256(e.Canonical())
	return hex.EncodeToString(sum[:])
}

// ChainBreak is the first place where the audit chain does not hold.
type ChainBreak struct {
	Seq    int64 // the event found wrong (or the one after a gap)
	Reason string
}

// ChainVerifier checks events in sequence order, one at a time, so that a
// chain of any length is verified in constant memory.
type ChainVerifier struct {
	prev    *AuditEvent
	Checked int64
	Break   *ChainBreak
}

// Add checks the next event; after the first break it records nothing more.
func (v *ChainVerifier) Add(e AuditEvent) {
	if v.Break != nil {
		return
	}
	v.Checked++
	switch {
	case v.prev == nil && e.PrevHash != "":
		v.Break = &ChainBreak{Seq: e.Seq, Reason: "the first event does not start the chain"}
	case v.prev != nil && e.Seq != v.prev.Seq+1:
		v.Break = &ChainBreak{Seq: e.Seq, Reason: fmt.Sprintf("sequence jumps from %d to %d: events are missing or reordered", v.prev.Seq, e.Seq)}
	case v.prev != nil && e.PrevHash != v.prev.Hash:
		v.Break = &ChainBreak{Seq: e.Seq, Reason: "its previous-hash does not match the event before it"}
	case e.ComputeHash() != e.Hash:
		v.Break = &ChainBreak{Seq: e.Seq, Reason: "its content does not match its hash: the event was altered"}
	}
	e2 := e
	v.prev = &e2
}

// AuditFilter selects audit events; the filters that are set all apply.
type AuditFilter struct {
	TenderIDs []string  // nil: every event (the operator); empty: none
	Object    string    // an object ID: events about it, or of its tender
	Action    string    // an event type, such as "tender.published"
	Actor     string    // the ID of the user who acted
	From      time.Time // events at or after it (zero: from the first)
	To        time.Time // events before it (zero: to the last)
	Cursor    string
	PageSize  int
}

// auditCursorKind marks a cursor of the audit trail's list, so that a
// cursor of another list is refused.
const auditCursorKind = "a"

// AuditCursor returns the cursor of the audit trail's list that resumes
// after event seq. A reader that leaves some events out (see the API's
// GET /api/v1/audit) makes its own from the last event it kept.
func AuditCursor(seq int64) string {
	return EncodeCursor(auditCursorKind, strconv.FormatInt(seq, 10))
}

// AuditCursorSeq returns the sequence number an AuditCursor resumes after.
// EINVALID naming "cursor" for anything else.
func AuditCursorSeq(cursor string) (int64, error) {
	keys, err := DecodeCursor(cursor)
	if err != nil {
		return 0, err
	}
	if len(keys) != 2 || keys[0] != auditCursorKind {
		return 0, Invalid("cursor", "does not belong to this list")
	}
	seq, err := strconv.ParseInt(keys[1], 10, 64)
	if err != nil || seq < 0 {
		return 0, Invalid("cursor", "is not a cursor this API gave out")
	}
	return seq, nil
}

// AuditPage is one page of audit events, oldest first.
type AuditPage struct {
	Items      []AuditEvent
	NextCursor string
}

// AuditStore reads the audit trail. Writing is done by the stores that
// make the changes, in the same transaction, chained to the last event.
type AuditStore interface {
	// ListAudit pages events matching f by sequence. EINVALID for a bad cursor.
	ListAudit(ctx context.Context, f AuditFilter) (AuditPage, error)
	// ScanAudit calls fn for every event in sequence order.
	ScanAudit(ctx context.Context, fn func(AuditEvent) error) error
	// BuyerTenderIDs returns the IDs of the tenders an organisation leads
	// or jointly commissions.
	BuyerTenderIDs(ctx context.Context, orgID string) ([]string, error)
}

// SectorFigures is one sector's part in the market.
type SectorFigures struct {
	Listings        int
	Bids            int
	Awards          int
	AwardValuePence int64
}

// ChoiceFigures say whether the market gives commissioners a real choice:
// who lists, bids and wins, by sector.
type ChoiceFigures struct {
	Sectors map[Sector]SectorFigures
	// TendersWithBids counts closed-or-later tenders with at least one bid;
	// MultiSectorTenders those with bids from two or more sectors; and
	// SingleBidTenders those with exactly one.
	TendersWithBids    int
	MultiSectorTenders int
	SingleBidTenders   int
}

// MarketStore computes market-wide figures.
type MarketStore interface {
	// ChoiceFigures counts at now: bids are counted only on tenders whose
	// bid deadline has passed, so the figures never reveal sealed bids.
	ChoiceFigures(ctx context.Context, now time.Time) (ChoiceFigures, error)
}
