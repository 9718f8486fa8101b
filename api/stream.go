package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/csmarket/csmarket/internal/market"
)

// NotificationStream delivers a user's notifications as they are stored,
// on whichever replica stored them.
type NotificationStream interface {
	// Subscribe returns the user's notifications from now on and the
	// function that ends the subscription; the channel closes when the
	// client fell too far behind (it resumes with Last-Event-ID).
	Subscribe(userID string) (<-chan market.Notification, func())
}

// defaultHeartbeat is how often an idle stream sends a comment, so that
// proxies keep it open and a vanished client is noticed.
const defaultHeartbeat = 15 * time.Second

// streamToken lets a browser's EventSource, which cannot send an
// Authorization header, sign in to the stream with ?access_token=. The
// access log records route templates, never query strings, so the token
// is not written down.
func (s *server) streamToken(c *gin.Context) {
	if len(c.Request.Header["Authorization"]) > 0 {
		return
	}
	q, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		s.fail(c, market.Invalid("query", "is not valid URL encoding"))
		return
	}
	if t := q.Get("access_token"); t != "" {
		c.Request.Header.Set("Authorization", "Bearer "+t)
	}
}

// streamNotifications is GET /api/v1/notifications/stream: Server-Sent
// Events of the caller's notifications. With Last-Event-ID (the seq of
// the last one received), everything stored after it is sent first, so a
// reconnecting client loses nothing; then each new one as it is stored,
// with a heartbeat comment when idle.
func (s *server) streamNotifications(c *gin.Context) {
	var last int64
	if v := c.GetHeader("Last-Event-ID"); v != "" {
		// Digits only, as the stream writes its ids: ParseInt alone
		// would take "+5".
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || strings.Trim(v, "0123456789") != "" {
			s.fail(c, market.Invalid("Last-Event-ID", "must be the id of an event this stream sent"))
			return
		}
		last = n
	}
	p := principal(c)
	ctx := c.Request.Context()
	live, stop := s.stream.Subscribe(p.UserID)
	defer stop()

	rc := http.NewResponseController(c.Writer)
	// The server's write timeout is for answers, not streams; a writer
	// that cannot lift it ends the stream at the timeout and the client
	// resumes with Last-Event-ID.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		s.log.Debug("stream: write deadline kept", errAttr(err))
	}
	h := c.Writer.Header()
	h["Content-Type"] = []string{"text/event-stream; charset=utf-8"}
	h["Cache-Control"] = noStore
	h["X-Accel-Buffering"] = []string{"no"}
	c.Writer.WriteHeader(http.StatusOK)
	sent := map[int64]bool{}
	send := func(n *market.Notification) bool {
		if sent[n.Seq] {
			return true // both resumed from the store and delivered live
		}
		if len(sent) > 4096 {
			clear(sent) // a duplicate is only possible among the latest
		}
		b, _ := json.Marshal(toNotification(n))
		if _, err := fmt.Fprintf(c.Writer, "id: %d\nevent: notification\ndata: %s\n\n", n.Seq, b); err != nil {
			return false
		}
		sent[n.Seq] = true
		if n.Seq > last {
			last = n.Seq
		}
		return rc.Flush() == nil
	}
	if _, err := fmt.Fprint(c.Writer, "retry: 2000\n: connected\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	if last > 0 {
		for cursor := ""; ; {
			page, err := s.inbox.List(ctx, p, market.NotificationFilter{AfterSeq: last, Cursor: cursor, PageSize: market.MaxPageSize})
			if err != nil {
				s.log.WarnContext(ctx, "notification stream: resume", errAttr(err))
				return
			}
			for i := range page.Items {
				if !send(&page.Items[i]) {
					return
				}
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
	}
	beat := s.heartbeat
	if beat <= 0 {
		beat = defaultHeartbeat
	}
	t := time.NewTicker(beat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		case n, ok := <-live:
			if !ok {
				return // fell behind: the client resumes with Last-Event-ID
			}
			if !send(&n) {
				return
			}
		case <-t.C:
			if _, err := fmt.Fprint(c.Writer, ": heartbeat\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}
