package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// received is one message an smtpServer accepted.
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool   // the conversation was encrypted
	User string // who authenticated, if anyone
}

// smtpServer is a real SMTP server (go-smtp) on 127.0.0.1 that keeps
// what it accepts, and can be told to refuse, to fail for now, or to stop
// listening altogether.
type smtpServer struct {
	t        *testing.T
	addr     string
	tls      *tls.Config // offered by STARTTLS when set
	implicit bool        // TLS from the first byte (smtps)
	user     string      // AUTH PLAIN with user and pass is required when set
	pass     string

	mu        sync.Mutex
	srv       *smtp.Server
	ln        net.Listener // srv's, closed by stop even before Serve has taken it
	hold      net.Listener // the port kept while the server is down
	msgs      []received
	rcptReply *smtp.SMTPError // the reply to every RCPT TO, when set
	dataReply *smtp.SMTPError // the reply at the end of every DATA, when set
	stall     chan struct{}   // when set, RCPT TO waits for it to close
}

// startSMTP starts a server and stops it when the test ends.
func startSMTP(t *testing.T, s *smtpServer) *smtpServer {
	t.Helper()
	s.t = t
	s.start()
	t.Cleanup(s.stop)
	return s
}

// start listens again, on the same address as before if there was one.
func (s *smtpServer) start() {
	s.t.Helper()
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		s.t.Fatalf("SMTP server: listen: %v", err)
	}
	if s.implicit {
		l = tls.NewListener(l, s.tls)
	}
	srv := smtp.NewServer(s)
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if !s.implicit {
		srv.TLSConfig = s.tls
	}
	s.mu.Lock()
	s.addr, s.srv, s.ln = l.Addr().String(), srv, l
	s.mu.Unlock()
	go srv.Serve(l)
}

// stop closes the listener and every connection: the server is down.
func (s *smtpServer) stop() {
	s.mu.Lock()
	srv, l := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// The listener is closed here too: Close closes only the listeners
		// Serve has taken, and a stop right after a start (the server
		// going down at once) came before Serve did, which kept the port.
		l.Close()
		srv.Close()
	}
}

// down stops the server but keeps its port, closing every connection as
// soon as it is made, so that no other test's server can take the port
// while this one is down.
func (s *smtpServer) down() {
	s.stop()
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("SMTP server: hold the port: %v", err)
	}
	s.mu.Lock()
	s.hold = l
	s.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

// up ends down and serves on the same port again.
func (s *smtpServer) up() {
	s.mu.Lock()
	l := s.hold
	s.hold = nil
	s.mu.Unlock()
	if l != nil {
		l.Close()
	}
	s.start()
}

func (s *smtpServer) set(rcpt, data *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcptReply, s.dataReply = rcpt, data
}

func (s *smtpServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// NewSession makes smtpServer a go-smtp backend.
func (s *smtpServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{s: s, c: c}, nil
}

type smtpSession struct {
	s    *smtpServer
	c    *smtp.Conn
	user string
	r    received
}

func (ss *smtpSession) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.user || password != ss.s.pass {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	_, isTLS := ss.c.TLSConnectionState()
	ss.r = received{From: from, TLS: isTLS, User: ss.user}
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	reply, stall := ss.s.rcptReply, ss.s.stall
	ss.s.mu.Unlock()
	if stall != nil {
		<-stall
	}
	if reply != nil {
		return reply
	}
	ss.r.To = append(ss.r.To, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.dataReply != nil {
		return ss.s.dataReply
	}
	ss.r.Data = b
	ss.s.msgs = append(ss.s.msgs, ss.r)
	return nil
}

func (ss *smtpSession) Reset()        { ss.r = received{} }
func (ss *smtpSession) Logout() error { return nil }

var (
	tempFailure = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later, the disk is full"}
	noMailbox   = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
)

// fixture is a store on one engine with a registered user to write to.
type fixture struct {
	store *sqlstore.NotificationStore
	clock *testClock
	user  market.User
	n     int // the deadlines fired so far, to name the next
}

func newFixture(t *testing.T, engine string) *fixture {
	t.Helper()
	db := sqlstoretest.MustOpen(t, engine)
	clock := &testClock{t: time.Date(2026, 3, 2, 9, 30, 15, 0, time.UTC)}
	org := market.Organisation{
		Kind:        market.KindSupplier,
		Name:        "Tamar Community Trust",
		Sector:      market.SectorThirdSector,
		Identifiers: []market.Identifier{{Scheme: market.SchemeCOH, ID: "07654321"}},
		Regions:     []string{"london"},
	}
	u := market.User{Name: "Sam Jones", Email: "sam@tamar.example.org", Role: market.RoleSupplier, Admin: true,
		Status: market.UserActive, PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"}
	if err := sqlstore.NewUserStore(db, clock).Register(t.Context(), &org, nil, &u); err != nil {
		t.Fatalf("Register: %v", err)
	}
	return &fixture{store: sqlstore.NewNotificationStore(db, clock), clock: clock, user: u}
}

const unsubscribeURL = "http://localhost/api/v1/notifications/unsubscribe?token=abc"

// queue puts an e-mail to the fixture's user (or to the address to, when
// set) in the outbox, and returns it as stored.
func (f *fixture) queue(t *testing.T, subject, to string) market.Email {
	t.Helper()
	f.n++
	if to == "" {
		to = f.user.Email
	}
	e := &market.Email{
		UserID: f.user.ID, Kind: market.NotifyBuyerPending, To: to, Subject: subject,
		Text:           "Body text of " + subject + ".\nSecond line, with a £ sign and a long line that quoted-printable has to wrap because it goes on well past seventy-six characters.",
		HTML:           "<p>HTML of " + subject + " &amp; more</p>",
		UnsubscribeURL: unsubscribeURL, Status: market.EmailPending,
	}
	_, err := f.store.FireDeadline(t.Context(), market.DeadlineDue{SubjectID: fmt.Sprintf("org-%d", f.n), Kind: market.NotifyBuyerPending, At: f.clock.Now()},
		[]market.Delivery{{
			Notification: market.Notification{UserID: f.user.ID, Kind: market.NotifyBuyerPending, Title: subject, Body: "Body of " + subject},
			InApp:        true, Email: to, Mail: e,
		}})
	if err != nil {
		t.Fatalf("FireDeadline: %v", err)
	}
	return f.email(t, e.ID)
}

// email reads an e-mail of the outbox back.
func (f *fixture) email(t *testing.T, id string) market.Email {
	t.Helper()
	es, _, err := f.store.ListEmails(t.Context(), "", "", market.MaxPageSize)
	if err != nil {
		t.Fatalf("ListEmails: %v", err)
	}
	for _, e := range es {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("e-mail %s is not in the outbox", id)
	return market.Email{}
}

// mailer returns a mailer on the fixture's store sending to s.
func (f *fixture) mailer(t *testing.T, s *smtpServer, o MailerOptions) *Mailer {
	t.Helper()
	if o.SMTPURL == "" {
		o.SMTPURL = "smtp://" + s.addr
	}
	o.Clock = f.clock
	o.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	m, err := NewMailer(f.store, o)
	if err != nil {
		t.Fatalf("NewMailer: %v", err)
	}
	return m
}

// eachEngine runs fn as a subtest per engine, each with a fresh fixture.
func eachEngine(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, engine := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			fn(t, newFixture(t, engine))
		})
	}
}

// parsed is a received message read as a mail client reads it.
type parsed struct {
	header  mail.Header
	subject string
	parts   map[string]string // by media type, decoded
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the message does not parse: %v\n%s", err, raw)
	}
	p := parsed{header: msg.Header, parts: map[string]string{}}
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("Subject %q: %v", msg.Header.Get("Subject"), err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		pt, pp, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil || !strings.EqualFold(pp["charset"], "utf-8") {
			t.Errorf("part Content-Type %q (%v), want a charset of utf-8", part.Header.Get("Content-Type"), err)
		}
		b, err := io.ReadAll(part) // quoted-printable is decoded by the reader
		if err != nil {
			t.Fatalf("part %s: %v", pt, err)
		}
		p.parts[pt] = string(b)
	}
	return p
}

// TestMailerSends: a due e-mail arrives once, addressed and written as
// the outbox says, with its one-click unsubscribe headers, and is stored
// as sent; the next drain finds nothing to send.
func TestMailerSends(t *testing.T) {
	eachEngine(t, func(t *testing.T, f *fixture) {
		s := startSMTP(t, &smtpServer{})
		metrics := NewMetrics(prometheus.NewRegistry())
		m := f.mailer(t, s, MailerOptions{Metrics: metrics})
		subject := "Bids close soon: Café pathway review — 2026/27, the second round of the integrated care board’s tender"
		e := f.queue(t, subject, "")

		if n := m.Drain(t.Context()); n != 1 {
			t.Fatalf("Drain worked on %d e-mails, want 1", n)
		}
		msgs := s.messages()
		if len(msgs) != 1 {
			t.Fatalf("%d messages arrived, want 1", len(msgs))
		}
		got := msgs[0]
		if len(got.To) != 1 || got.To[0] != f.user.Email {
			t.Errorf("envelope recipients %q, want [%s]", got.To, f.user.Email)
		}
		if got.From != "no-reply@csmarket.localhost" {
			t.Errorf("envelope sender %q, want the default sender's address", got.From)
		}
		p := parse(t, got.Data)
		if p.subject != subject {
			t.Errorf("Subject %q, want %q", p.subject, subject)
		}
		if raw := p.header.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") {
			t.Errorf("raw Subject %q is not RFC 2047 encoded", raw)
		}
		if to := p.header.Get("To"); to != "<"+f.user.Email+">" {
			t.Errorf("To %q", to)
		}
		if from := p.header.Get("From"); !strings.Contains(from, "<no-reply@csmarket.localhost>") {
			t.Errorf("From %q", from)
		}
		if id := p.header.Get("Message-ID"); id != "<"+e.ID+"@csmarket>" {
			t.Errorf("Message-ID %q, want <%s@csmarket>", id, e.ID)
		}
		if d, err := p.header.Date(); err != nil || !d.Equal(f.clock.Now()) {
			t.Errorf("Date %q (%v), want the clock's time", p.header.Get("Date"), err)
		}
		if v := p.header.Get("MIME-Version"); v != "1.0" {
			t.Errorf("MIME-Version %q", v)
		}
		if v := p.header.Get("List-Unsubscribe"); v != "<"+unsubscribeURL+">" {
			t.Errorf("List-Unsubscribe %q, want <%s>", v, unsubscribeURL)
		}
		if v := p.header.Get("List-Unsubscribe-Post"); v != "List-Unsubscribe=One-Click" {
			t.Errorf("List-Unsubscribe-Post %q", v)
		}
		if text := strings.ReplaceAll(p.parts["text/plain"], "\r\n", "\n"); text != e.Text {
			t.Errorf("text part %q, want %q", text, e.Text)
		}
		if html := strings.ReplaceAll(p.parts["text/html"], "\r\n", "\n"); html != e.HTML {
			t.Errorf("HTML part %q, want %q", html, e.HTML)
		}
		for i, line := range strings.Split(string(got.Data), "\r\n") {
			if len(line) > 76 && !strings.HasPrefix(line, "List-Unsubscribe:") { // a URL is not folded
				t.Errorf("line %d is %d characters long: %q", i+1, len(line), line)
			}
		}

		stored := f.email(t, e.ID)
		if stored.Status != market.EmailSent || !stored.SentAt.Equal(f.clock.Now()) || stored.LastError != "" || stored.Attempts != 1 {
			t.Errorf("stored status %s, sent at %v, last error %q, attempts %d; want sent at %v, no error, 1 attempt",
				stored.Status, stored.SentAt, stored.LastError, stored.Attempts, f.clock.Now())
		}
		if n := counted(t, metrics, "sent"); n != 1 {
			t.Errorf("csm_notifications_total{result=sent} = %v, want 1", n)
		}

		f.clock.Add(time.Hour)
		if n := m.Drain(t.Context()); n != 0 {
			t.Errorf("a second Drain worked on %d e-mails, want 0", n)
		}
		if n := len(s.messages()); n != 1 {
			t.Errorf("%d messages arrived after the second Drain, want still 1", n)
		}
	})
}

// TestMailerRetries: while the server fails for now or is down, the
// e-mail stays pending and waits out a backoff; once the clock passes it
// and the server is back, it is sent exactly once.
func TestMailerRetries(t *testing.T) {
	for name, tc := range map[string]struct {
		fail    func(s *smtpServer)
		recover func(s *smtpServer)
		want    string // in the last error
	}{
		"451 to RCPT": {
			func(s *smtpServer) { s.set(tempFailure, nil) }, func(s *smtpServer) { s.set(nil, nil) }, "451",
		},
		"451 after DATA": {
			func(s *smtpServer) { s.set(nil, tempFailure) }, func(s *smtpServer) { s.set(nil, nil) }, "Try again later",
		},
		"server down": {
			(*smtpServer).down, (*smtpServer).up, "EOF",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			eachEngine(t, func(t *testing.T, f *fixture) {
				s := startSMTP(t, &smtpServer{})
				metrics := NewMetrics(nil)
				m := f.mailer(t, s, MailerOptions{BackoffBase: time.Minute, Metrics: metrics})
				e := f.queue(t, "Retried notice", "")
				tc.fail(s)

				start := f.clock.Now()
				if n := m.Drain(t.Context()); n != 1 {
					t.Fatalf("Drain worked on %d e-mails, want 1", n)
				}
				got := f.email(t, e.ID)
				if got.Status != market.EmailPending || got.Attempts != 1 {
					t.Fatalf("after a transient failure: status %s, attempts %d; want pending, 1", got.Status, got.Attempts)
				}
				if wait := got.NextAttemptAt.Sub(start); wait < 30*time.Second || wait > time.Minute {
					t.Errorf("next attempt %v after the failure, want within [30s, 1m] (BackoffBase with jitter)", wait)
				}
				if !strings.Contains(got.LastError, tc.want) {
					t.Errorf("last error %q, want it to mention %q", got.LastError, tc.want)
				}
				if !got.SentAt.IsZero() {
					t.Errorf("sent at %v, want never", got.SentAt)
				}
				if n := counted(t, metrics, "retry"); n != 1 {
					t.Errorf("csm_notifications_total{result=retry} = %v, want 1", n)
				}

				tc.recover(s)
				if n := m.Drain(t.Context()); n != 0 {
					t.Errorf("Drain before the backoff passed worked on %d e-mails, want 0", n)
				}
				f.clock.Add(time.Minute + time.Second)
				if n := m.Drain(t.Context()); n != 1 {
					t.Fatalf("Drain after the backoff worked on %d e-mails, want 1", n)
				}
				f.clock.Add(time.Hour)
				m.Drain(t.Context())
				if msgs := s.messages(); len(msgs) != 1 {
					t.Errorf("%d messages arrived, want 1", len(msgs))
				}
				got = f.email(t, e.ID)
				if got.Status != market.EmailSent || got.Attempts != 2 || got.LastError != "" {
					t.Errorf("after the retry: status %s, attempts %d, last error %q; want sent, 2, none", got.Status, got.Attempts, got.LastError)
				}
			})
		})
	}
}

// TestMailerPermanentRefusal: a 550 fails the e-mail with the server's
// message, and it is never tried again.
func TestMailerPermanentRefusal(t *testing.T) {
	eachEngine(t, func(t *testing.T, f *fixture) {
		s := startSMTP(t, &smtpServer{})
		m := f.mailer(t, s, MailerOptions{})
		e := f.queue(t, "Refused notice", "")
		s.set(noMailbox, nil)

		if n := m.Drain(t.Context()); n != 1 {
			t.Fatalf("Drain worked on %d e-mails, want 1", n)
		}
		got := f.email(t, e.ID)
		if got.Status != market.EmailFailed || !strings.Contains(got.LastError, "550") || !strings.Contains(got.LastError, "No such user here") {
			t.Errorf("status %s, last error %q; want failed with the server's 550 message", got.Status, got.LastError)
		}
		if !got.SentAt.IsZero() {
			t.Errorf("sent at %v, want never", got.SentAt)
		}

		s.set(nil, nil)
		f.clock.Add(48 * time.Hour)
		if n := m.Drain(t.Context()); n != 0 {
			t.Errorf("Drain worked on %d e-mails after the refusal, want 0", n)
		}
		if msgs := s.messages(); len(msgs) != 0 {
			t.Errorf("%d messages arrived, want none", len(msgs))
		}
		if got := f.email(t, e.ID); got.Status != market.EmailFailed || got.Attempts != 1 {
			t.Errorf("status %s, attempts %d; want still failed after 1", got.Status, got.Attempts)
		}
	})
}

// TestMailersRace: two mailers draining one outbox at once send each
// e-mail exactly once.
func TestMailersRace(t *testing.T) {
	eachEngine(t, func(t *testing.T, f *fixture) {
		s := startSMTP(t, &smtpServer{})
		want := map[string]bool{}
		for i := range 5 {
			want["<"+f.queue(t, fmt.Sprintf("Notice %d", i), "").ID+"@csmarket>"] = true
		}
		ms := []*Mailer{f.mailer(t, s, MailerOptions{}), f.mailer(t, s, MailerOptions{})}
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			drain [2]int
		)
		for i, m := range ms {
			wg.Go(func() {
				<-start
				drain[i] = m.Drain(t.Context())
			})
		}
		close(start)
		wg.Wait()
		if drain[0]+drain[1] != 5 {
			t.Errorf("the mailers worked on %d and %d e-mails, want 5 in all", drain[0], drain[1])
		}
		seen := map[string]int{}
		for _, msg := range s.messages() {
			seen[parse(t, msg.Data).header.Get("Message-ID")]++
		}
		for id := range want {
			if seen[id] != 1 {
				t.Errorf("message %s arrived %d times, want once", id, seen[id])
			}
		}
		if len(seen) != len(want) {
			t.Errorf("messages arrived %v, want %v", seen, want)
		}
		es, _, err := f.store.ListEmails(t.Context(), market.EmailSent, "", market.MaxPageSize)
		if err != nil || len(es) != 5 {
			t.Errorf("%d e-mails stored as sent (%v), want 5", len(es), err)
		}
	})
}

// TestMailerHeaderInjection: a line break in the subject cannot add a
// header or a recipient, and a recipient with one is never sent to.
func TestMailerHeaderInjection(t *testing.T) {
	eachEngine(t, func(t *testing.T, f *fixture) {
		s := startSMTP(t, &smtpServer{})
		m := f.mailer(t, s, MailerOptions{})
		e := f.queue(t, "Hello\r\nBcc: x@y\nX-Evil: 1", "")
		bad := f.queue(t, "Hello", "sam@tamar.example.org\r\nBcc: x@y")

		if n := m.Drain(t.Context()); n != 2 {
			t.Fatalf("Drain worked on %d e-mails, want 2", n)
		}
		msgs := s.messages()
		if len(msgs) != 1 {
			t.Fatalf("%d messages arrived, want 1", len(msgs))
		}
		if len(msgs[0].To) != 1 || msgs[0].To[0] != f.user.Email {
			t.Errorf("envelope recipients %q, want only [%s]", msgs[0].To, f.user.Email)
		}
		p := parse(t, msgs[0].Data)
		for _, h := range []string{"Bcc", "X-Evil"} {
			if v, ok := p.header[h]; ok {
				t.Errorf("the subject added a header %s: %q", h, v)
			}
		}
		if !strings.HasPrefix(p.subject, "Hello") || !strings.Contains(p.subject, "Bcc: x@y") || strings.ContainsAny(p.subject, "\r\n") {
			t.Errorf("Subject %q, want the subject on one line", p.subject)
		}
		if got := f.email(t, e.ID); got.Status != market.EmailSent {
			t.Errorf("the e-mail with a line break in its subject is %s, want sent", got.Status)
		}
		if got := f.email(t, bad.ID); got.Status != market.EmailFailed || !strings.Contains(got.LastError, "line break") {
			t.Errorf("the e-mail with a line break in its recipient is %s (%q), want failed", got.Status, got.LastError)
		}
	})
}

// TestMailerStopsMidSend: a mailer stopped during a conversation still
// stores the attempt, so that the e-mail's lease is released at once and
// another replica can send it after the backoff rather than the lease.
func TestMailerStopsMidSend(t *testing.T) {
	eachEngine(t, func(t *testing.T, f *fixture) {
		s := startSMTP(t, &smtpServer{})
		stall := make(chan struct{})
		s.mu.Lock()
		s.stall = stall
		s.mu.Unlock()
		t.Cleanup(func() { close(stall) })
		m := f.mailer(t, s, MailerOptions{BackoffBase: time.Second, Lease: time.Hour})
		e := f.queue(t, "Interrupted notice", "")

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan int)
		go func() { done <- m.Drain(ctx) }()
		time.Sleep(200 * time.Millisecond) // into RCPT TO, where the server stalls
		cancel()
		select {
		case n := <-done:
			if n != 1 {
				t.Errorf("Drain worked on %d e-mails, want 1", n)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Drain did not return after its context ended")
		}
		got := f.email(t, e.ID)
		if got.Status != market.EmailPending || got.Attempts != 1 || got.LastError == "" {
			t.Errorf("status %s, attempts %d, last error %q; want pending after 1 attempt, with the error", got.Status, got.Attempts, got.LastError)
		}
		f.clock.Add(2 * time.Second) // past the backoff, well within the hour's lease
		now := f.clock.Now()
		if _, err := f.store.ClaimEmail(t.Context(), "another-replica", now, now.Add(time.Minute)); err != nil {
			t.Errorf("another replica cannot claim the e-mail: %v (the lease was left held)", err)
		}
	})
}

// TestMailerRunKick: Run sends at once when kicked, without waiting for
// its poll, and returns when its context ends.
func TestMailerRunKick(t *testing.T) {
	eachEngine(t, func(t *testing.T, f *fixture) {
		s := startSMTP(t, &smtpServer{})
		m := f.mailer(t, s, MailerOptions{Poll: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		stopped := make(chan struct{})
		go func() { m.Run(ctx); close(stopped) }()
		time.Sleep(100 * time.Millisecond) // its first drain finds nothing

		f.queue(t, "Kicked notice", "")
		m.Kick()
		m.Kick() // never blocks
		deadline := time.Now().Add(10 * time.Second)
		for len(s.messages()) == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := len(s.messages()); n != 1 {
			t.Errorf("%d messages arrived after Kick, want 1", n)
		}
		cancel()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	})
}

// TestMailerTLS: with STARTTLS offered the conversation is encrypted
// before the credentials go; smtps is encrypted from the start.
func TestMailerTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	for name, tc := range map[string]struct {
		server *smtpServer
		url    func(addr string) string
	}{
		"STARTTLS with credentials": {
			&smtpServer{tls: serverTLS, user: "mailer", pass: "s3cret:/@"},
			func(addr string) string { return "smtp://mailer:s3cret%3A%2F%40@" + addr },
		},
		"smtps": {
			&smtpServer{tls: serverTLS, implicit: true},
			func(addr string) string { return "smtps://" + addr },
		},
	} {
		t.Run(name, func(t *testing.T) {
			eachEngine(t, func(t *testing.T, f *fixture) {
				s := startSMTP(t, tc.server.clone())
				m := f.mailer(t, s, MailerOptions{SMTPURL: tc.url(s.addr)})
				m.tls.RootCAs = pool
				e := f.queue(t, "Encrypted notice", "")
				if n := m.Drain(t.Context()); n != 1 {
					t.Fatalf("Drain worked on %d e-mails, want 1", n)
				}
				msgs := s.messages()
				if len(msgs) != 1 {
					t.Fatalf("%d messages arrived, want 1 (last error %q)", len(msgs), f.email(t, e.ID).LastError)
				}
				if !msgs[0].TLS || msgs[0].User != s.user {
					t.Errorf("TLS %v, authenticated as %q; want TLS, as %q", msgs[0].TLS, msgs[0].User, s.user)
				}
			})
		})
	}

	t.Run("untrusted certificate", func(t *testing.T) {
		f := newFixture(t, sqlstore.EngineSQLite)
		s := startSMTP(t, &smtpServer{tls: serverTLS})
		m := f.mailer(t, s, MailerOptions{})
		e := f.queue(t, "Never in the clear", "")
		m.Drain(t.Context())
		if msgs := s.messages(); len(msgs) != 0 {
			t.Errorf("%d messages arrived over a connection that failed verification, want none", len(msgs))
		}
		if got := f.email(t, e.ID); got.Status != market.EmailPending || !strings.Contains(got.LastError, "STARTTLS") {
			t.Errorf("status %s, last error %q; want pending after a STARTTLS failure", got.Status, got.LastError)
		}
	})
}

// clone copies a server's settings, for a subtest to run one of its own.
func (s *smtpServer) clone() *smtpServer {
	return &smtpServer{tls: s.tls, implicit: s.implicit, user: s.user, pass: s.pass}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestParseSMTPURL: the URLs CSM_SMTP_URL may hold, and clear refusals of
// those it may not, none of which repeats the password.
func TestParseSMTPURL(t *testing.T) {
	for in, want := range map[string]SMTPConfig{
		"smtp://127.0.0.1:1025":                 {Host: "127.0.0.1", Port: "1025"},
		"smtp://mail.example.org":               {Host: "mail.example.org", Port: "25"},
		"SMTP://mail.example.org:587/":          {Host: "mail.example.org", Port: "587"},
		"smtp://apikey:p%40ss@smtp.example:587": {Host: "smtp.example", Port: "587", Username: "apikey", Password: "p@ss"},
		"smtps://smtp.example.org":              {Host: "smtp.example.org", Port: "465", ImplicitTLS: true},
		"smtps://u:pw@smtp.example.org:2465":    {Host: "smtp.example.org", Port: "2465", ImplicitTLS: true, Username: "u", Password: "pw"},
		"smtp://[::1]:25":                       {Host: "::1", Port: "25"},
	} {
		got, err := ParseSMTPURL(in)
		if err != nil || got != want {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"":                                       "empty",
		"http://mail.example.org:25":             "scheme",
		"mail.example.org:25":                    "scheme",
		"mail.example.org":                       "scheme",
		"smtp://":                                "no host",
		"smtp://:25":                             "no host",
		"smtp:mail.example.org":                  "no host",
		"smtp://mail.example.org:abc":            "port",
		"smtp://mail.example.org:0":              "port",
		"smtp://mail.example.org:70000":          "port",
		"smtp://mail.example.org:":               "port",
		"smtp://mail.example.org:25/path":        "path",
		"smtp://mail.example.org:25?tls=1":       "query",
		"smtp://user@mail.example.org:25":        "password",
		"smtp://user:hunter2@mail.example.org:x": "port",
	} {
		_, err := ParseSMTPURL(in)
		if err == nil {
			t.Errorf("ParseSMTPURL(%q) succeeded, want an error about the %s", in, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSMTPURL(%q) = %q, want it to mention %q", in, err, want)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseSMTPURL(%q) = %q repeats the password", in, err)
		}
	}
}

// TestNewMailerRefuses: a mailer that could not work is refused at
// start-up rather than failing every e-mail later.
func TestNewMailerRefuses(t *testing.T) {
	for name, o := range map[string]MailerOptions{
		"no URL":                 {},
		"bad URL":                {SMTPURL: "smtp://"},
		"bad sender":             {SMTPURL: "smtp://127.0.0.1:25", From: "not an address"},
		"timeout outlasts lease": {SMTPURL: "smtp://127.0.0.1:25", Timeout: 5 * time.Minute, Lease: time.Minute},
	} {
		if _, err := NewMailer(nil, o); err == nil {
			t.Errorf("%s: NewMailer succeeded, want an error", name)
		}
	}
}

// TestMailerBackoff: the delay doubles per attempt from BackoffBase, is
// capped at BackoffMax, and its jitter keeps it within [half, whole].
func TestMailerBackoff(t *testing.T) {
	m, err := NewMailer(nil, MailerOptions{SMTPURL: "smtp://127.0.0.1:25", BackoffBase: time.Second, BackoffMax: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for attempts, ceiling := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 16 * time.Second, 6: 30 * time.Second, 60: 30 * time.Second} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := m.backoff(attempts)
			if d < ceiling/2 || d > ceiling {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempts, d, ceiling/2, ceiling)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("attempt %d: only %d distinct delays in 200: no jitter", attempts, len(seen))
		}
	}
}

// counted reads csm_notifications_total for the fixtures' e-mails.
func counted(t *testing.T, m *Metrics, result string) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.notifications.WithLabelValues(string(market.NotifyBuyerPending), "email", result).Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetCounter().GetValue()
}

// TestMetricsNil: counting on no metrics does nothing, for callers
// without a registry.
func TestMetricsNil(t *testing.T) {
	var m *Metrics
	m.Count(market.NotifyBidsReady, "in_app", "stored")
}

// TestSubjectEncoding: any subject reads back as written, in lines of at
// most 76 characters, and plain ASCII goes as it is.
func TestSubjectEncoding(t *testing.T) {
	for _, subject := range []string{
		"",
		"Bids are ready to evaluate: Community MSK service",
		"Bids close soon: Café",
		"Looks encoded =?utf-8?q?but_is_not?= at all",
		strings.Repeat("é", 80),
		strings.Repeat("€ 😀 ", 30),
		"Award decided: " + strings.Repeat("Ünïcödé words_with=odd?chars ", 8),
	} {
		value := encodeWords(subject, len("Subject: "))
		field := fold("Subject", value)
		for _, line := range strings.Split(strings.TrimSuffix(field, "\r\n"), "\r\n") {
			if len(line) > 76 {
				t.Errorf("%q: line of %d characters: %q", subject, len(line), line)
			}
		}
		msg, err := mail.ReadMessage(strings.NewReader(field + "\r\n"))
		if err != nil {
			t.Fatalf("%q: %v", subject, err)
		}
		got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || got != subject {
			t.Errorf("%q reads back as %q (%v)", subject, got, err)
		}
		if isASCII := !strings.ContainsFunc(subject, func(r rune) bool { return r >= 0x80 }); isASCII && !strings.Contains(subject, "=?") && value != subject {
			t.Errorf("%q was encoded as %q, want it as it is", subject, value)
		}
	}
}
