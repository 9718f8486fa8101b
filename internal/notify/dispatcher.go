// Package notify tells people what happened: a dispatcher, run by every
// serve process, that plans each committed audit event's notifications
// (market.Notifier decides who) and each deadline's, stores them with
// their e-mails in the outbox, and publishes them live; and a mailer that
// sends the outbox over SMTP.
//
// Every notification comes from a committed audit event or a stored
// timestamp, read in order under one lock, and is stored in the same
// transaction that moves the dispatcher's cursor on: nothing is missed
// (a replica that was down catches up from where the cursor stands) and
// nothing is sent twice (two replicas never plan the same event, and a
// deadline fires once on its key).
package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/csmarket/csmarket/internal/market"
)

// Publisher sends stored notifications to the clients listening live, on
// this replica and the others.
type Publisher interface {
	Publish(ctx context.Context, ns []market.Notification)
}

// DispatcherOptions tune the dispatcher; zero values take the defaults.
type DispatcherOptions struct {
	// PublicURL is the marketplace's address, for links in e-mails.
	PublicURL string
	// Mail says e-mails are sent (CSM_SMTP_URL is set); otherwise they
	// are kept in the outbox as recorded, for the operator to read.
	Mail bool
	// ReminderBefore is how long before a bid deadline askers who have
	// not bid are reminded (CSM_REMINDER_BEFORE, 48 h).
	ReminderBefore time.Duration
	Poll           time.Duration // how often to look for events and deadlines (250 ms)
	Clock          market.Clock
	Logger         *slog.Logger
	Metrics        *Metrics
	Publisher      Publisher
	// MailKick wakes this process's mailer after e-mails were queued.
	MailKick func()
}

// Dispatcher turns events and deadlines into notifications.
type Dispatcher struct {
	store    market.NotificationStore
	notifier *market.Notifier
	o        DispatcherOptions
	kick     chan struct{}
}

// NewDispatcher returns a dispatcher storing into store what notifier
// plans.
func NewDispatcher(store market.NotificationStore, notifier *market.Notifier, o DispatcherOptions) *Dispatcher {
	if o.ReminderBefore <= 0 {
		o.ReminderBefore = 48 * time.Hour
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Clock == nil {
		o.Clock = market.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	return &Dispatcher{store: store, notifier: notifier, o: o, kick: make(chan struct{}, 1)}
}

// Kick wakes the dispatcher now (after a write); it never blocks.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.kick:
		}
		if _, err := d.Drain(ctx); err != nil && ctx.Err() == nil {
			d.o.Logger.Warn("notifications: dispatch", "error", err.Error())
		}
		t.Reset(d.o.Poll)
	}
}

// Drain dispatches every waiting event, then every deadline due, and
// returns the notifications it stored.
func (d *Dispatcher) Drain(ctx context.Context) ([]market.Notification, error) {
	var all []market.Notification
	mailed := false
	for ctx.Err() == nil {
		n, ns, err := d.store.DispatchEvents(ctx, 100, func(ctx context.Context, ev market.AuditEvent) ([]market.Delivery, error) {
			ds, err := d.notifier.ForEvent(ctx, ev)
			if err != nil {
				return nil, err
			}
			mailed = d.render(ds) || mailed
			return ds, nil
		})
		if err != nil {
			return all, err
		}
		d.published(ctx, ns)
		all = append(all, ns...)
		if n == 0 {
			break
		}
	}
	dues, err := d.store.DueDeadlines(ctx, d.o.Clock.Now(), d.o.ReminderBefore)
	if err != nil {
		return all, err
	}
	for _, due := range dues {
		ds, err := d.notifier.ForDeadline(ctx, due)
		if err != nil {
			return all, err
		}
		m := d.render(ds)
		ns, err := d.store.FireDeadline(ctx, due, ds)
		if market.ErrorCode(err) == market.ECONFLICT {
			continue // another replica fired it
		} else if err != nil {
			return all, err
		}
		mailed = mailed || m
		d.published(ctx, ns)
		all = append(all, ns...)
	}
	if mailed && d.o.MailKick != nil {
		d.o.MailKick()
	}
	return all, nil
}

// published counts and publishes what was stored.
func (d *Dispatcher) published(ctx context.Context, ns []market.Notification) {
	if len(ns) == 0 {
		return
	}
	for _, n := range ns {
		d.o.Metrics.Count(n.Kind, "in_app", "stored")
	}
	if d.o.Publisher != nil {
		d.o.Publisher.Publish(ctx, ns)
	}
}

// render writes the e-mail of each delivery that goes by e-mail, with a
// one-click unsubscribe link of its own; it reports whether any does.
func (d *Dispatcher) render(ds []market.Delivery) bool {
	any := false
	for i := range ds {
		del := &ds[i]
		if del.Email == "" {
			continue
		}
		any = true
		b := make([]byte, 24)
		rand.Read(b)
		token := hex.EncodeToString(b)
		// The header's one-click link posts to the API (RFC 8058); the
		// body's opens a page that asks first, since mail scanners follow
		// links in bodies.
		oneClick := d.o.PublicURL + "/api/v1/notifications/unsubscribe?token=" + url.QueryEscape(token)
		unsub := d.o.PublicURL + "/?page=unsubscribe&token=" + url.QueryEscape(token)
		link := d.o.PublicURL + del.Link
		status := market.EmailRecorded
		if d.o.Mail {
			status = market.EmailPending
		}
		del.UnsubscribeHash = market.HashToken(token)
		del.Mail = &market.Email{
			UserID: del.UserID, Kind: del.Kind, To: del.Email, Subject: del.Title,
			Text: del.Body + "\n\n" + link + "\n\n--\nYou receive this because of your csmarket notification preferences.\n" +
				"Stop e-mails like this one: " + unsub + "\n",
			HTML:           renderHTML(del.Title, del.Body, link, unsub),
			UnsubscribeURL: oneClick, Status: status,
		}
		if !d.o.Mail {
			d.o.Metrics.Count(del.Kind, "email", "recorded")
		}
	}
	return any
}

var emailHTML = template.Must(template.New("email").Parse(`<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family: Arial, sans-serif; color: #212b32; max-width: 40em;">
<h1 style="font-size: 1.4em;">{{.Title}}</h1>
<p>{{.Body}}</p>
<p><a href="{{.Link}}" style="color: #005eb8;">Open it in csmarket</a></p>
<hr>
<p style="font-size: 0.9em; color: #4c6272;">You receive this because of your csmarket notification preferences.
<a href="{{.Unsubscribe}}" style="color: #005eb8;">Stop e-mails like this one</a>.</p>
</body></html>
`))

func renderHTML(title, body, link, unsub string) string {
	var b bytes.Buffer
	if err := emailHTML.Execute(&b, struct{ Title, Body, Link, Unsubscribe string }{title, body, link, unsub}); err != nil {
		return "" // the e-mail goes as plain text alone
	}
	return b.String()
}
