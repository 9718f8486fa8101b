package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

// personalDataResponse is everything held about the caller, for a subject
// access request: the same shapes the other routes answer with, gathered.
type personalDataResponse struct {
	ExportedAt              string                    `json:"exported_at"`
	User                    userResponse              `json:"user"`
	Organisation            organisationResponse      `json:"organisation"`
	NotificationPreferences map[string]preferenceJSON `json:"notification_preferences"`
	Notifications           []notificationJSON        `json:"notifications"`
	Questions               []questionResponse        `json:"questions"`
	Bids                    []bidResponse             `json:"bids"`
	Declarations            []evaluatorResponse       `json:"declarations"`
	Scores                  []scoresResponse          `json:"scores"`
	AuditEvents             []auditEventJSON          `json:"audit_events"`
	Sessions                []sessionJSON             `json:"sessions"`
}

// sessionJSON is one sign-in, by its times only.
type sessionJSON struct {
	StartedAt       string `json:"started_at"`
	LastRefreshedAt string `json:"last_refreshed_at"`
	ExpiresAt       string `json:"expires_at"`
	RevokedAt       string `json:"revoked_at,omitempty"`
}

type eraseRequest struct {
	Reason string `json:"reason"`
}

// exportDisposition names the download when a browser saves the export.
var exportDisposition = []string{`attachment; filename="csmarket-personal-data.json"`}

func toPersonalData(d market.PersonalData) personalDataResponse {
	o := d.Organisation
	r := personalDataResponse{
		ExportedAt: rfc3339Milli(d.ExportedAt), User: toUser(d.User), Organisation: toOrganisation(o),
		NotificationPreferences: toPreferences(d.Preferences).Preferences,
		Notifications:           make([]notificationJSON, len(d.Notifications)),
		Questions:               make([]questionResponse, len(d.Questions)),
		Bids:                    make([]bidResponse, 0, len(d.Bids)),
		Declarations:            make([]evaluatorResponse, len(d.Declarations)),
		Scores:                  []scoresResponse{},
		AuditEvents:             make([]auditEventJSON, len(d.AuditEvents)),
		Sessions:                make([]sessionJSON, len(d.Sessions)),
	}
	for i := range d.Notifications {
		r.Notifications[i] = toNotification(&d.Notifications[i])
	}
	for i, q := range d.Questions {
		r.Questions[i] = toQuestion(market.VisibleQuestion{Question: q, Mine: true})
	}
	versions := map[string][]bidVersionJSON{}
	for _, v := range d.BidVersions {
		versions[v.ID] = append(versions[v.ID], bidVersionJSON{
			Version: v.Version, PricePence: v.PricePence, Responses: nonNilMap(v.Responses), At: rfc3339Milli(v.UpdatedAt),
		})
	}
	for _, b := range d.Bids {
		r.Bids = append(r.Bids, bidResponse{
			ID: b.ID, TenderID: b.TenderID,
			Supplier: supplierJSON{ID: o.ID, Name: o.Name, Sector: string(o.Sector)},
			Status:   string(b.Status), Version: b.Version, PricePence: b.PricePence, Responses: nonNilMap(b.Responses),
			SubmittedAt: rfc3339Milli(b.SubmittedAt), UpdatedAt: rfc3339Milli(b.UpdatedAt), WithdrawnAt: rfc3339Milli(b.WithdrawnAt),
			Versions: versions[b.ID],
		})
	}
	for i, e := range d.Declarations {
		r.Declarations[i] = toEvaluator(e)
	}
	// Scores come ordered by tender and bid: one sheet per bid.
	for _, c := range d.Scores {
		n := len(r.Scores)
		if n == 0 || r.Scores[n-1].TenderID != c.TenderID || r.Scores[n-1].BidID != c.BidID {
			r.Scores = append(r.Scores, scoresResponse{TenderID: c.TenderID, BidID: c.BidID, EvaluatorID: c.EvaluatorID,
				Scores: map[string]scoreJSON{}, UpdatedAt: rfc3339Milli(c.UpdatedAt)})
			n++
		}
		sheet := &r.Scores[n-1]
		sheet.Scores[c.Criterion] = scoreJSON{Score: c.Score, Justification: c.Justification}
		if at := rfc3339Milli(c.UpdatedAt); at > sheet.UpdatedAt {
			sheet.UpdatedAt = at
		}
	}
	for i, e := range d.AuditEvents {
		r.AuditEvents[i] = toAuditEvent(e)
	}
	for i, s := range d.Sessions {
		r.Sessions[i] = sessionJSON{
			StartedAt: rfc3339Milli(s.StartedAt), LastRefreshedAt: rfc3339Milli(s.LastRefreshAt),
			ExpiresAt: rfc3339Milli(s.ExpiresAt), RevokedAt: rfc3339Milli(s.RevokedAt),
		}
	}
	return r
}

// exportMe answers a subject access request: everything held about the
// caller, private, as a download.
func (s *server) exportMe(c *gin.Context) {
	d, err := s.accounts.Export(c.Request.Context(), principal(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Writer.Header()["Content-Disposition"] = exportDisposition
	writePrivate(c, http.StatusOK, toPersonalData(d))
}

// eraseUser is the operator erasing a user's personal data.
func (s *server) eraseUser(c *gin.Context) {
	id, ok := s.pathID(c, errNoUser)
	if !ok {
		return
	}
	var req eraseRequest
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.accounts.Erase(c.Request.Context(), principal(c), id, req.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, toUser(u))
}
