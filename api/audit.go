package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

// auditEventJSON is one link of the audit chain.
type auditEventJSON struct {
	Seq                 int64             `json:"seq"`
	At                  string            `json:"at"`
	ActorUserID         string            `json:"actor_user_id,omitempty"`
	ActorOrganisationID string            `json:"actor_organisation_id,omitempty"`
	ObjectType          string            `json:"object_type"`
	ObjectID            string            `json:"object_id,omitempty"`
	TenderID            string            `json:"tender_id,omitempty"`
	Action              string            `json:"action"`
	Detail              map[string]string `json:"detail"`
	PrevHash            string            `json:"prev_hash"`
	Hash                string            `json:"hash"`
}

// verifyResponse is the outcome of checking the whole chain.
type verifyResponse struct {
	OK         bool            `json:"ok"`
	Checked    int64           `json:"checked"`
	FirstBreak *chainBreakJSON `json:"first_break,omitempty"`
}

type chainBreakJSON struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

func toAuditEvent(e market.AuditEvent) auditEventJSON {
	return auditEventJSON{
		Seq: e.Seq, At: e.At.UTC().Format(time.RFC3339Nano),
		ActorUserID: e.ActorUser, ActorOrganisationID: e.ActorOrg,
		ObjectType: e.ObjectType, ObjectID: e.ObjectID, TenderID: e.TenderID, Action: e.Action,
		Detail: nonNilMap(e.Detail), PrevHash: e.PrevHash, Hash: e.Hash,
	}
}

// auditRoutes mounts the audit trail: the operator's whole, a CCG's buyers'
// their own tenders'.
func (s *server) auditRoutes(v1 *gin.RouterGroup) {
	a := v1.Group("/audit", s.authenticate, s.requireUser)
	a.GET("", s.listAudit)
	a.GET("/verify", s.requireOperator, s.verifyAudit)
}

var errAuditForbidden = market.Errorf(market.EFORBIDDEN, "Only the operator, and a CCG's buyers for their own tenders, may read the audit trail.")

// auditScope returns the tenders whose events p may read: every one (nil)
// for the operator, those its CCG leads or jointly commissions for a
// buyer; anyone else is refused.
func (s *server) auditScope(ctx context.Context, p *market.Principal) ([]string, error) {
	switch {
	case market.RequireOperator(p) == nil:
		return nil, nil
	case p.OrgKind == market.KindBuyer && p.Role == market.RoleBuyer:
		ids, err := s.audit.BuyerTenderIDs(ctx, p.OrganisationID)
		if ids == nil {
			ids = []string{}
		}
		return ids, err
	default:
		return nil, errAuditForbidden
	}
}

// auditParams names the query parameters of GET /api/v1/audit.
var auditParams = []string{"object", "action", "actor", "from", "to", "cursor", "page_size"}

// maxActionLen bounds an event type in a filter; the longest the market
// writes is a third of it.
const maxActionLen = 64

// plausibleAction reports whether v is shaped like an event type: words of
// lower-case letters, digits and underscores joined by dots, such as
// "tender.published" or "evaluator.declared_no_conflict".
func plausibleAction(v string) bool {
	if len(v) > maxActionLen {
		return false
	}
	words := strings.Split(v, ".")
	if len(words) < 2 {
		return false
	}
	for _, w := range words {
		if w == "" || w[0] < 'a' || w[0] > 'z' {
			return false
		}
		for i := 0; i < len(w); i++ {
			if b := w[i]; (b < 'a' || b > 'z') && (b < '0' || b > '9') && b != '_' {
				return false
			}
		}
	}
	return true
}

func parseAuditFilter(raw string) (market.AuditFilter, error) {
	var (
		f market.AuditFilter
		p market.Problems
	)
	eachParam(raw, auditParams, &p, func(name, v string) {
		switch name {
		case "object", "actor":
			if !plausibleID(v) {
				p.Add(name, "is not an ID this API gave out")
				return
			}
			if name == "object" {
				f.Object = v
			} else {
				f.Actor = v
			}
		case "action":
			if !plausibleAction(v) {
				p.Add("action", "must be an event type, such as tender.published or bid.scored")
				return
			}
			f.Action = v
		case "from":
			f.From = parseDeadline("from", v, &p)
		case "to":
			f.To = parseDeadline("to", v, &p)
		case "cursor":
			if keys, err := market.DecodeCursor(v); err != nil || !plainKeys(keys) {
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
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		p.Add("to", "must be after from")
	}
	if f.PageSize == 0 {
		f.PageSize = market.DefaultPageSize
	}
	return f, p.Err()
}

// auditBatch is how many events listAudit reads at a time once the first
// read (page_size and one more) has come up short of a page.
const auditBatch = 100

// listAudit pages the events the caller may read, with the filters of
// parseAuditFilter. Two rules of the market hold here too: an event about
// a bid on a tender whose bids are still sealed is withheld from everyone,
// since even a count of bids is secret until the deadline; and who asked a
// clarification question is shown only to the operator, as the published
// question never says (so to anyone else an actor filter matches no
// question's events). Withheld events leave no trace: a page holds
// page_size events the caller may see unless it is the last, and
// next_cursor is given only when another such event follows, so neither a
// page's length nor the number of pages tells how many were withheld.
func (s *server) listAudit(c *gin.Context) {
	f, err := parseAuditFilter(c.Request.URL.RawQuery)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx, p := c.Request.Context(), principal(c)
	scope, err := s.auditScope(ctx, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	f.TenderIDs = scope
	operator := market.RequireOperator(p) == nil
	now := s.now()
	sealed := map[string]bool{}
	isSealed := func(id string) (bool, error) {
		if v, ok := sealed[id]; ok || id == "" || s.tenders == nil {
			return v, nil
		}
		t, err := s.tenders.Store.GetTender(ctx, id)
		if market.ErrorCode(err) == market.ENOTFOUND {
			err = nil
		}
		sealed[id] = err == nil && t.ID != "" && t.Sealed(now)
		return sealed[id], err
	}
	visible := func(e market.AuditEvent) (bool, error) {
		if e.ObjectType == "question" && !operator && f.Actor != "" {
			return false, nil
		}
		if e.ObjectType != "bid" {
			return true, nil
		}
		hide, err := isSealed(e.TenderID)
		return !hide, err
	}

	want := f.PageSize
	items := make([]auditEventJSON, 0, want)
	more := false
	f.PageSize = want + 1
	for !more {
		page, err := s.audit.ListAudit(ctx, f)
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, e := range page.Items {
			ok, err := visible(e)
			if err != nil {
				s.fail(c, err)
				return
			}
			if !ok {
				continue
			}
			if len(items) == want {
				more = true
				break
			}
			r := toAuditEvent(e)
			if e.ObjectType == "question" && !operator {
				r.ActorUserID, r.ActorOrganisationID = "", ""
			}
			items = append(items, r)
		}
		if f.Cursor = page.NextCursor; f.Cursor == "" {
			break
		}
		f.PageSize = auditBatch
	}
	r := listResponse[auditEventJSON]{Items: items}
	if more {
		r.NextCursor = market.AuditCursor(items[len(items)-1].Seq)
	}
	writePrivate(c, http.StatusOK, r)
}

// verifyAudit walks the whole chain in sequence order, in constant memory,
// and reports the first broken link.
func (s *server) verifyAudit(c *gin.Context) {
	var v market.ChainVerifier
	err := s.audit.ScanAudit(c.Request.Context(), func(e market.AuditEvent) error {
		v.Add(e)
		if v.Break != nil {
			return errStopScan
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		s.fail(c, err)
		return
	}
	r := verifyResponse{OK: v.Break == nil, Checked: v.Checked}
	if v.Break != nil {
		r.FirstBreak = &chainBreakJSON{Seq: v.Break.Seq, Reason: v.Break.Reason}
	}
	writePrivate(c, http.StatusOK, r)
}

// errStopScan ends a scan at the first break: nothing after it is checked.
var errStopScan = errors.New("audit verify: stop at the first break")
