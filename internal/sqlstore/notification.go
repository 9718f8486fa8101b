package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// NotificationStore keeps the inboxes, preferences and e-mail outbox, and
// dispatches the audit trail's events into them.
type NotificationStore struct {
	db    *DB
	clock market.Clock
}

var (
	_ market.NotificationStore = (*NotificationStore)(nil)
	_ market.Audiences         = (*NotificationStore)(nil)
)

// NewNotificationStore returns the notifications kept in db.
func NewNotificationStore(db *DB, clock market.Clock) *NotificationStore {
	return &NotificationStore{db: db, clock: clock}
}

var errNoNotification = market.Errorf(market.ENOTFOUND, "No such notification.")

const notificationColumns = "seq, id, user_id, kind, tender_id, title, body, link, created_at, read_at"

func scanNotification(sc scanner) (market.Notification, error) {
	var n market.Notification
	err := sc.Scan(&n.Seq, &n.ID, &n.UserID, &n.Kind, &n.TenderID, &n.Title, &n.Body, &n.Link,
		timeCol{&n.CreatedAt}, nullTimeCol{&n.ReadAt})
	return n, err
}

// cursorNotifications marks a cursor of ListNotifications.
const cursorNotifications = "notifications"

// ListNotifications pages a user's notifications: newest first, or, after
// f.AfterSeq, oldest first for the stream.
func (s *NotificationStore) ListNotifications(ctx context.Context, f market.NotificationFilter) (market.NotificationPage, error) {
	pageSize := f.PageSize
	if pageSize <= 0 {
		pageSize = market.DefaultPageSize
	}
	pageSize = min(pageSize, market.MaxPageSize)
	var (
		b    strings.Builder
		args = []any{f.UserID}
	)
	b.WriteString("SELECT " + notificationColumns + " FROM notifications WHERE user_id = ?")
	if f.UnreadOnly {
		b.WriteString(" AND read_at IS NULL")
	}
	desc := f.AfterSeq == 0
	if !desc {
		b.WriteString(" AND seq > ?")
		args = append(args, f.AfterSeq)
	}
	if f.Cursor != "" {
		keys, err := market.DecodeCursor(f.Cursor)
		if err != nil {
			return market.NotificationPage{}, err
		}
		seq, perr := int64(0), error(nil)
		if len(keys) == 2 && keys[0] == cursorNotifications {
			seq, perr = strconv.ParseInt(keys[1], 10, 64)
		}
		if len(keys) != 2 || keys[0] != cursorNotifications || perr != nil {
			return market.NotificationPage{}, market.Invalid("cursor", "does not belong to this list")
		}
		if desc {
			b.WriteString(" AND seq < ?")
		} else {
			b.WriteString(" AND seq > ?")
		}
		args = append(args, seq)
	}
	if desc {
		b.WriteString(" ORDER BY seq DESC LIMIT ?")
	} else {
		b.WriteString(" ORDER BY seq LIMIT ?")
	}
	args = append(args, pageSize+1)
	page := market.NotificationPage{Items: []market.Notification{}}
	err := eachRow(ctx, s.db, b.String(), args, func(sc scanner) error {
		n, err := scanNotification(sc)
		page.Items = append(page.Items, n)
		return err
	})
	if err != nil {
		return market.NotificationPage{}, s.db.translate(err)
	}
	if len(page.Items) > pageSize {
		page.Items = page.Items[:pageSize]
		page.NextCursor = market.EncodeCursor(cursorNotifications, strconv.FormatInt(page.Items[pageSize-1].Seq, 10))
	}
	return page, nil
}

// UnreadCount counts a user's unread notifications.
func (s *NotificationStore) UnreadCount(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL", userID).Scan(&n)
	return n, s.db.translate(err)
}

// MarkRead marks one of the user's notifications read (keeping the first
// time it was read).
func (s *NotificationStore) MarkRead(ctx context.Context, userID, id string, at time.Time) (market.Notification, error) {
	if _, err := s.db.ExecContext(ctx, "UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL",
		s.db.timeArg(at.UTC().Truncate(time.Microsecond)), id, userID); err != nil {
		return market.Notification{}, s.db.translate(err)
	}
	n, err := scanNotification(s.db.QueryRowContext(ctx, "SELECT "+notificationColumns+" FROM notifications WHERE id = ? AND user_id = ?", id, userID))
	if isNoRows(err) {
		return market.Notification{}, errNoNotification
	}
	return n, s.db.translate(err)
}

// MarkAllRead marks every unread notification of the user read.
func (s *NotificationStore) MarkAllRead(ctx context.Context, userID string, at time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, "UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL",
		s.db.timeArg(at.UTC().Truncate(time.Microsecond)), userID)
	if err != nil {
		return 0, s.db.translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// GetPreferences returns the stored preferences of the users named.
func (s *NotificationStore) GetPreferences(ctx context.Context, userIDs []string) (map[string]market.Preferences, error) {
	out := make(map[string]market.Preferences, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(userIDs))
	for i, id := range userIDs {
		args[i] = id
		out[id] = market.Preferences{}
	}
	err := eachRow(ctx, s.db, "SELECT user_id, kind, in_app, email FROM notification_preferences WHERE user_id IN ("+placeholders(len(args))+")",
		args, func(sc scanner) error {
			var (
				id, kind     string
				inApp, email bool
			)
			if err := sc.Scan(&id, &kind, &inApp, &email); err != nil {
				return err
			}
			out[id][market.NotificationKind(kind)] = market.Preference{InApp: inApp, Email: email}
			return nil
		})
	return out, s.db.translate(err)
}

// PutPreferences stores a user's preferences for the kinds in p.
func (s *NotificationStore) PutPreferences(ctx context.Context, userID string, p market.Preferences) error {
	return s.db.translate(s.db.InTx(ctx, func(tx *Tx) error {
		for _, k := range market.NotificationKinds {
			v, ok := p[k]
			if !ok {
				continue
			}
			if err := putPreference(ctx, tx, userID, k, v); err != nil {
				return err
			}
		}
		return nil
	}))
}

func putPreference(ctx context.Context, q Queryer, userID string, k market.NotificationKind, v market.Preference) error {
	_, err := q.ExecContext(ctx, `INSERT INTO notification_preferences (user_id, kind, in_app, email) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, kind) DO UPDATE SET in_app = excluded.in_app, email = excluded.email`,
		userID, string(k), v.InApp, v.Email)
	return err
}

// Unsubscribe turns e-mail off for the token's user and kind.
func (s *NotificationStore) Unsubscribe(ctx context.Context, token string) (string, market.NotificationKind, error) {
	var (
		userID string
		kind   market.NotificationKind
	)
	err := s.db.InTx(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT user_id, kind FROM unsubscribe_tokens WHERE token_hash = ?", market.HashToken(token)).Scan(&userID, &kind)
		if isNoRows(err) {
			return market.Errorf(market.ENOTFOUND, "This unsubscribe link is not one the marketplace sent.")
		} else if err != nil {
			return err
		}
		inApp := true
		err = tx.QueryRowContext(ctx, "SELECT in_app FROM notification_preferences WHERE user_id = ? AND kind = ?", userID, string(kind)).Scan(&inApp)
		if err != nil && !isNoRows(err) {
			return err
		}
		return putPreference(ctx, tx, userID, kind, market.Preference{InApp: inApp, Email: false})
	})
	return userID, kind, s.db.translate(err)
}

// lockCursor holds the dispatcher's cursor until the transaction ends and
// returns the last event dispatched; with skip, a cursor another replica
// holds returns ok false at once instead of waiting. Every notification is
// written under this lock, so that seq follows commit order.
func lockCursor(ctx context.Context, tx *Tx, skip bool) (int64, bool, error) {
	q := "SELECT last_seq FROM notify_cursor WHERE id = 1"
	if tx.db.engine == EnginePostgres {
		if skip {
			q += " FOR UPDATE SKIP LOCKED"
		} else {
			q += " FOR UPDATE"
		}
	}
	var last int64
	err := tx.QueryRowContext(ctx, q).Scan(&last)
	if isNoRows(err) {
		return 0, false, nil
	}
	return last, err == nil, err
}

// DispatchEvents plans and stores the notifications of the next events.
func (s *NotificationStore) DispatchEvents(ctx context.Context, limit int, plan func(ctx context.Context, ev market.AuditEvent) ([]market.Delivery, error)) (int, []market.Notification, error) {
	var (
		stored []market.Notification
		n      int
	)
	err := s.db.InTx(ctx, func(tx *Tx) error {
		last, ok, err := lockCursor(ctx, tx, true)
		if err != nil || !ok {
			return err
		}
		var events []market.AuditEvent
		err = eachRow(ctx, tx, "SELECT "+auditColumns+" FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?", []any{last, limit},
			func(sc scanner) error {
				ev, err := scanEvent(sc)
				events = append(events, ev)
				return err
			})
		if err != nil || len(events) == 0 {
			return err
		}
		n = len(events)
		for _, ev := range events {
			ds, err := plan(ctx, ev)
			if err != nil {
				return err
			}
			ns, err := s.insertDeliveries(ctx, tx, ds)
			if err != nil {
				return err
			}
			stored = append(stored, ns...)
		}
		_, err = tx.ExecContext(ctx, "UPDATE notify_cursor SET last_seq = ? WHERE id = 1", events[len(events)-1].Seq)
		return err
	})
	if err != nil {
		return 0, nil, s.db.translate(err)
	}
	return n, stored, nil
}

// insertDeliveries stores each delivery's notification (when in the app)
// and e-mail (when by e-mail), with its unsubscribe token.
func (s *NotificationStore) insertDeliveries(ctx context.Context, tx *Tx, ds []market.Delivery) ([]market.Notification, error) {
	at := now(s.clock)
	var out []market.Notification
	for _, d := range ds {
		n := d.Notification
		if d.InApp {
			n.ID, n.CreatedAt = newID(), at
			err := tx.QueryRowContext(ctx, `INSERT INTO notifications (id, user_id, kind, tender_id, title, body, link, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
				n.ID, n.UserID, string(n.Kind), n.TenderID, n.Title, n.Body, n.Link, s.db.timeArg(at)).Scan(&n.Seq)
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		if m := d.Mail; m != nil {
			m.ID, m.NotificationID, m.CreatedAt = newID(), n.ID, at
			if m.Status == market.EmailPending && m.NextAttemptAt.IsZero() {
				m.NextAttemptAt = at
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO email_outbox (id, notification_id, user_id, kind, to_addr, subject,
				text_body, html_body, unsubscribe_url, status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				m.ID, m.NotificationID, m.UserID, string(m.Kind), m.To, m.Subject, m.Text, m.HTML, m.UnsubscribeURL,
				string(m.Status), s.db.nullTimeArg(m.NextAttemptAt), s.db.timeArg(at)); err != nil {
				return nil, err
			}
			if d.UnsubscribeHash != "" {
				if _, err := tx.ExecContext(ctx, "INSERT INTO unsubscribe_tokens (token_hash, user_id, kind, created_at) VALUES (?, ?, ?, ?)",
					d.UnsubscribeHash, m.UserID, string(m.Kind), s.db.timeArg(at)); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// DueDeadlines returns the notices fallen due at nowAt and not fired.
func (s *NotificationStore) DueDeadlines(ctx context.Context, nowAt time.Time, reminderBefore time.Duration) ([]market.DeadlineDue, error) {
	t, ahead := s.db.timeArg(nowAt), s.db.timeArg(nowAt.Add(reminderBefore))
	notFired := func(kind, subject, due string) string {
		return " AND NOT EXISTS (SELECT 1 FROM notices_fired f WHERE f.subject_id = " + subject + " AND f.kind = '" + kind + "' AND f.due_at = " + due + ")"
	}
	query := `SELECT id, 'deadline_reminder', bid_deadline FROM tenders
		WHERE published_at IS NOT NULL AND cancelled_at IS NULL AND bid_deadline > ? AND bid_deadline <= ?` + notFired("deadline_reminder", "tenders.id", "tenders.bid_deadline") + `
		UNION ALL SELECT id, 'bids_ready', bid_deadline FROM tenders
		WHERE published_at IS NOT NULL AND cancelled_at IS NULL AND bid_deadline <= ?` + notFired("bids_ready", "tenders.id", "tenders.bid_deadline") + `
		UNION ALL SELECT id, 'standstill_ended', standstill_ends_at FROM tenders
		WHERE awarded_at IS NOT NULL AND award_confirmed_at IS NULL AND cancelled_at IS NULL AND standstill_ends_at <= ?` + notFired("standstill_ended", "tenders.id", "tenders.standstill_ends_at") + `
		UNION ALL SELECT id, 'buyer_pending', created_at FROM organisations
		WHERE status = 'pending'` + notFired("buyer_pending", "organisations.id", "organisations.created_at") + `
		LIMIT 500`
	var out []market.DeadlineDue
	err := eachRow(ctx, s.db, query, []any{t, ahead, t, t}, func(sc scanner) error {
		var d market.DeadlineDue
		if err := sc.Scan(&d.SubjectID, &d.Kind, timeCol{&d.At}); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, s.db.translate(err)
}

// FireDeadline records d and stores its deliveries in one transaction.
func (s *NotificationStore) FireDeadline(ctx context.Context, d market.DeadlineDue, ds []market.Delivery) ([]market.Notification, error) {
	var stored []market.Notification
	err := s.db.InTx(ctx, func(tx *Tx) error {
		if _, _, err := lockCursor(ctx, tx, false); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO notices_fired (subject_id, kind, due_at, fired_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
			d.SubjectID, string(d.Kind), s.db.timeArg(d.At), s.db.timeArg(now(s.clock)))
		if err != nil {
			return err
		}
		if err := oneRow(res, func() error { return market.Errorf(market.ECONFLICT, "This notice has fired already.") }); err != nil {
			return err
		}
		stored, err = s.insertDeliveries(ctx, tx, ds)
		return err
	})
	if err != nil {
		return nil, s.db.translate(err)
	}
	return stored, nil
}

const emailColumns = `id, notification_id, user_id, kind, to_addr, subject, text_body, html_body, unsubscribe_url,
	status, attempts, next_attempt_at, last_error, created_at, sent_at`

func scanEmail(sc scanner) (market.Email, error) {
	var e market.Email
	err := sc.Scan(&e.ID, &e.NotificationID, &e.UserID, &e.Kind, &e.To, &e.Subject, &e.Text, &e.HTML, &e.UnsubscribeURL,
		&e.Status, &e.Attempts, nullTimeCol{&e.NextAttemptAt}, &e.LastError, timeCol{&e.CreatedAt}, nullTimeCol{&e.SentAt})
	return e, err
}

// cursorEmails marks a cursor of ListEmails.
const cursorEmails = "emails"

// ListEmails pages the outbox, newest first.
func (s *NotificationStore) ListEmails(ctx context.Context, status market.EmailStatus, cursor string, pageSize int) ([]market.Email, string, error) {
	if pageSize <= 0 {
		pageSize = market.DefaultPageSize
	}
	pageSize = min(pageSize, market.MaxPageSize)
	var (
		b    strings.Builder
		args []any
	)
	b.WriteString("SELECT " + emailColumns + " FROM email_outbox WHERE 1 = 1")
	if status != "" {
		b.WriteString(" AND status = ?")
		args = append(args, string(status))
	}
	if cursor != "" {
		keys, err := market.DecodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		if len(keys) != 3 || keys[0] != cursorEmails {
			return nil, "", market.Invalid("cursor", "does not belong to this list")
		}
		at, err := time.Parse(time.RFC3339Nano, keys[1])
		if err != nil {
			return nil, "", market.Invalid("cursor", "is not a cursor this API gave out")
		}
		b.WriteString(" AND (created_at < ? OR (created_at = ? AND id < ?))")
		args = append(args, s.db.timeArg(at), s.db.timeArg(at), keys[2])
	}
	b.WriteString(" ORDER BY created_at DESC, id DESC LIMIT ?")
	args = append(args, pageSize+1)
	out := []market.Email{}
	err := eachRow(ctx, s.db, b.String(), args, func(sc scanner) error {
		e, err := scanEmail(sc)
		out = append(out, e)
		return err
	})
	if err != nil {
		return nil, "", s.db.translate(err)
	}
	next := ""
	if len(out) > pageSize {
		out = out[:pageSize]
		last := out[pageSize-1]
		next = market.EncodeCursor(cursorEmails, last.CreatedAt.UTC().Format(time.RFC3339Nano), last.ID)
	}
	return out, next, nil
}

// ClaimEmail leases the pending e-mail due soonest (see claimDue).
func (s *NotificationStore) ClaimEmail(ctx context.Context, owner string, nowAt, leaseUntil time.Time) (market.Email, error) {
	var out market.Email
	err := s.db.InTx(ctx, func(tx *Tx) error {
		id, err := claimDue(ctx, tx, "email_outbox", owner, nowAt, leaseUntil, market.Errorf(market.ENOTFOUND, "No e-mail is due."))
		if err != nil {
			return err
		}
		out, err = scanEmail(tx.QueryRowContext(ctx, "SELECT "+emailColumns+" FROM email_outbox WHERE id = ?", id))
		return err
	})
	if err != nil {
		return market.Email{}, s.db.translate(err)
	}
	return out, nil
}

// SaveEmail stores the outcome of sending e and releases its lease.
func (s *NotificationStore) SaveEmail(ctx context.Context, e *market.Email, owner string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE email_outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?,
		sent_at = ?, lease_owner = '', lease_until = NULL WHERE id = ? AND lease_owner = ?`,
		string(e.Status), e.Attempts, s.db.nullTimeArg(e.NextAttemptAt), e.LastError, s.db.nullTimeArg(e.SentAt), e.ID, owner)
	if err != nil {
		return s.db.translate(err)
	}
	return oneRow(res, func() error {
		return market.Errorf(market.ECONFLICT, "The lease of e-mail %s has passed to another worker.", e.ID)
	})
}

// MatchingSuppliers returns the active suppliers whose listing shares a
// capability and a region with those given.
func (s *NotificationStore) MatchingSuppliers(ctx context.Context, capabilities, regions []string) ([]string, error) {
	if len(capabilities) == 0 || len(regions) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(capabilities)+len(regions))
	for _, c := range capabilities {
		args = append(args, c)
	}
	for _, r := range regions {
		args = append(args, r)
	}
	var out []string
	err := eachRow(ctx, s.db, `SELECT o.id FROM organisations o WHERE o.kind = 'supplier' AND o.status = 'active'
		AND EXISTS (SELECT 1 FROM listing_capabilities c WHERE c.org_id = o.id AND c.capability IN (`+placeholders(len(capabilities))+`))
		AND EXISTS (SELECT 1 FROM listing_regions r WHERE r.org_id = o.id AND r.region IN (`+placeholders(len(regions))+`))
		ORDER BY o.id`, args, func(sc scanner) error {
		var id string
		err := sc.Scan(&id)
		out = append(out, id)
		return err
	})
	return out, s.db.translate(err)
}

// OperatorUsers returns the active operators.
func (s *NotificationStore) OperatorUsers(ctx context.Context) ([]market.User, error) {
	var out []market.User
	err := eachRow(ctx, s.db, "SELECT "+userColumns+` FROM users u JOIN organisations o ON o.id = u.organisation_id
		WHERE o.kind = 'operator' AND u.status = 'active' AND u.role = 'operator' ORDER BY u.created_at, u.id`, nil, func(sc scanner) error {
		var u market.User
		err := sc.Scan(userDest(&u)...)
		out = append(out, u)
		return err
	})
	return out, s.db.translate(err)
}
