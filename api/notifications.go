package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

// notificationJSON is one notification in a user's inbox.
type notificationJSON struct {
	ID        string `json:"id"`
	Seq       int64  `json:"seq"`
	Kind      string `json:"kind"`
	TenderID  string `json:"tender_id,omitempty"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Link      string `json:"link,omitempty"`
	CreatedAt string `json:"created_at"`
	Read      bool   `json:"read"`
	ReadAt    string `json:"read_at,omitempty"`
}

func toNotification(n *market.Notification) notificationJSON {
	return notificationJSON{
		ID: n.ID, Seq: n.Seq, Kind: string(n.Kind), TenderID: n.TenderID, Title: n.Title, Body: n.Body, Link: n.Link,
		CreatedAt: rfc3339Milli(n.CreatedAt), Read: !n.ReadAt.IsZero(), ReadAt: rfc3339Milli(n.ReadAt),
	}
}

type notificationList struct {
	Items       []notificationJSON `json:"items"`
	NextCursor  string             `json:"next_cursor,omitempty"`
	UnreadCount int                `json:"unread_count"`
}

type preferenceJSON struct {
	InApp *bool `json:"in_app"`
	Email *bool `json:"email"`
}

type preferencesJSON struct {
	Preferences map[string]preferenceJSON `json:"preferences"`
}

type markedJSON struct {
	Marked int `json:"marked"`
}

type unsubscribedJSON struct {
	Unsubscribed bool   `json:"unsubscribed"`
	Kind         string `json:"kind"`
}

type emailJSON struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	To        string `json:"to"`
	Subject   string `json:"subject"`
	Text      string `json:"text"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error,omitempty"`
	CreatedAt string `json:"created_at"`
	SentAt    string `json:"sent_at,omitempty"`
}

// notificationRoutes mounts each user's inbox and preferences, the
// one-click unsubscribe, and the operator's view of the e-mail outbox.
func (s *server) notificationRoutes(v1 *gin.RouterGroup) {
	v1.POST("/notifications/unsubscribe", s.unsubscribe)
	user := v1.Group("", s.authenticate, s.requireUser)
	user.GET("/notifications", s.listNotifications)
	user.POST("/notifications/read-all", s.readAllNotifications)
	user.POST("/notifications/:id/read", s.readNotification)
	if s.stream != nil {
		v1.GET("/notifications/stream", s.streamToken, s.authenticate, s.requireUser, s.streamNotifications)
	}
	user.GET("/me/notification-preferences", s.getPreferences)
	user.PUT("/me/notification-preferences", s.putPreferences)
	user.GET("/operator/emails", s.requireOperator, s.listEmails)
}

var (
	errNoNotification  = &market.Error{Code: market.ENOTFOUND, Message: "No such notification."}
	notificationParams = []string{"unread", "cursor", "page_size"}
	emailParams        = []string{"status", "cursor", "page_size"}
)

func parsePageSize(p *market.Problems, v string, f *int) {
	n, err := strconv.Atoi(v)
	if err != nil {
		p.Add("page_size", "must be an integer")
	} else if n < 1 || n > market.MaxPageSize {
		p.Add("page_size", "must be between 1 and %d", market.MaxPageSize)
	} else {
		*f = n
	}
}

func parseCursor(p *market.Problems, v string, f *string) {
	if keys, err := market.DecodeCursor(v); err != nil || !plainKeys(keys) {
		p.Add("cursor", "is not a cursor this API gave out")
		return
	}
	*f = v
}

func (s *server) listNotifications(c *gin.Context) {
	var (
		f = market.NotificationFilter{PageSize: market.DefaultPageSize}
		p market.Problems
	)
	eachParam(c.Request.URL.RawQuery, notificationParams, &p, func(name, v string) {
		switch name {
		case "unread":
			b, err := strconv.ParseBool(v)
			if err != nil {
				p.Add("unread", "must be true or false")
				return
			}
			f.UnreadOnly = b
		case "cursor":
			parseCursor(&p, v, &f.Cursor)
		case "page_size":
			parsePageSize(&p, v, &f.PageSize)
		}
	})
	if err := p.Err(); err != nil {
		s.fail(c, err)
		return
	}
	ctx, pr := c.Request.Context(), principal(c)
	page, err := s.inbox.List(ctx, pr, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	unread, err := s.inbox.Unread(ctx, pr)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]notificationJSON, len(page.Items))
	for i := range page.Items {
		items[i] = toNotification(&page.Items[i])
	}
	writePrivate(c, http.StatusOK, notificationList{Items: items, NextCursor: page.NextCursor, UnreadCount: unread})
}

func (s *server) readNotification(c *gin.Context) {
	id, ok := s.pathID(c, errNoNotification)
	if !ok {
		return
	}
	n, err := s.inbox.Read(c.Request.Context(), principal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, toNotification(&n))
}

func (s *server) readAllNotifications(c *gin.Context) {
	n, err := s.inbox.ReadAll(c.Request.Context(), principal(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, markedJSON{Marked: n})
}

func toPreferences(p market.Preferences) preferencesJSON {
	out := preferencesJSON{Preferences: make(map[string]preferenceJSON, len(p))}
	for _, k := range market.NotificationKinds {
		v := p.For(k)
		inApp, email := v.InApp, v.Email
		out.Preferences[string(k)] = preferenceJSON{InApp: &inApp, Email: &email}
	}
	return out
}

func (s *server) getPreferences(c *gin.Context) {
	p, err := s.inbox.Preferences(c.Request.Context(), principal(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, toPreferences(p))
}

// putPreferences stores the kinds given; a kind left out keeps its
// preference, and a kind given must say both channels.
func (s *server) putPreferences(c *gin.Context) {
	var req preferencesJSON
	if err := s.decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	var p market.Problems
	if req.Preferences == nil {
		p.Add("preferences", "is required: an object of kinds")
	}
	prefs := market.Preferences{}
	for k, v := range req.Preferences {
		kind := market.NotificationKind(k)
		if !kind.Valid() {
			p.Add("preferences."+k, "is not a kind of notification")
			continue
		}
		if v.InApp == nil {
			p.Add("preferences."+k+".in_app", "is required: true or false")
		}
		if v.Email == nil {
			p.Add("preferences."+k+".email", "is required: true or false")
		}
		if v.InApp != nil && v.Email != nil {
			prefs[kind] = market.Preference{InApp: *v.InApp, Email: *v.Email}
		}
	}
	if err := p.Err(); err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.inbox.SetPreferences(c.Request.Context(), principal(c), prefs)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, toPreferences(out))
}

// unsubscribe is the one-click link of every e-mail (RFC 8058): the
// token in the query names the user and kind; whatever the body says (a
// mail client posts List-Unsubscribe=One-Click), e-mails of that kind
// stop.
func (s *server) unsubscribe(c *gin.Context) {
	var (
		token string
		p     market.Problems
	)
	eachParam(c.Request.URL.RawQuery, []string{"token"}, &p, func(_, v string) { token = v })
	if token == "" {
		p.Add("token", "is required")
	}
	if err := p.Err(); err != nil {
		s.fail(c, err)
		return
	}
	kind, err := s.inbox.Unsubscribe(c.Request.Context(), token)
	if err != nil {
		s.fail(c, err)
		return
	}
	writePrivate(c, http.StatusOK, unsubscribedJSON{Unsubscribed: true, Kind: string(kind)})
}

func (s *server) listEmails(c *gin.Context) {
	var (
		status   market.EmailStatus
		cursor   string
		pageSize = market.DefaultPageSize
		p        market.Problems
	)
	eachParam(c.Request.URL.RawQuery, emailParams, &p, func(name, v string) {
		switch name {
		case "status":
			switch st := market.EmailStatus(v); st {
			case market.EmailPending, market.EmailSent, market.EmailRecorded, market.EmailFailed:
				status = st
			default:
				p.Add("status", "must be pending, sent, recorded or failed")
			}
		case "cursor":
			parseCursor(&p, v, &cursor)
		case "page_size":
			parsePageSize(&p, v, &pageSize)
		}
	})
	if err := p.Err(); err != nil {
		s.fail(c, err)
		return
	}
	es, next, err := s.inbox.Emails(c.Request.Context(), principal(c), status, cursor, pageSize)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]emailJSON, len(es))
	for i, e := range es {
		items[i] = emailJSON{ID: e.ID, Kind: string(e.Kind), To: e.To, Subject: e.Subject, Text: e.Text, Status: string(e.Status),
			Attempts: e.Attempts, LastError: e.LastError, CreatedAt: rfc3339Milli(e.CreatedAt), SentAt: rfc3339Milli(e.SentAt)}
	}
	writePrivate(c, http.StatusOK, listResponse[emailJSON]{Items: items, NextCursor: next})
}
