package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/csmarket/csmarket/internal/market"
)

// DefaultFrom is the sender of the marketplace's e-mails when none is
// configured.
const DefaultFrom = "csmarket <no-reply@csmarket.localhost>"

// Metrics are the notifications' Prometheus metrics, shared by the
// dispatcher and the mailer of one process.
type Metrics struct {
	notifications *prometheus.CounterVec
}

// NewMetrics registers the notification metrics with reg (none when reg
// is nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "csm_notifications_total",
			Help: "Notifications handled in this process by kind, channel (in_app, email) and result (stored; recorded, sent, retry, failed).",
		}, []string{"kind", "channel", "result"}),
	}
	// The e-mail results exist from the start, so that a rate of failures
	// reads as zero rather than as no data.
	for _, k := range market.NotificationKinds {
		for _, r := range []string{"sent", "retry", "failed"} {
			m.notifications.WithLabelValues(string(k), "email", r)
		}
	}
	if reg != nil {
		reg.MustRegister(m.notifications)
	}
	return m
}

// Count records one notification of kind on channel with result. It does
// nothing on a nil *Metrics.
func (m *Metrics) Count(kind market.NotificationKind, channel, result string) {
	if m != nil {
		m.notifications.WithLabelValues(string(kind), channel, result).Inc()
	}
}

// SMTPConfig is where and how the mailer hands e-mails over, as
// CSM_SMTP_URL gives it.
type SMTPConfig struct {
	Host string
	Port string
	// ImplicitTLS is smtps: TLS from the first byte. Otherwise (smtp) the
	// connection starts in the clear and STARTTLS is used whenever the
	// server offers it.
	ImplicitTLS bool
	// Username and Password, when set, authenticate with PLAIN, which is
	// sent only over TLS or to localhost.
	Username string
	Password string
}

// Addr returns the server's host:port.
func (c SMTPConfig) Addr() string { return net.JoinHostPort(c.Host, c.Port) }

// ParseSMTPURL reads an SMTP server's URL: smtp://[user:pass@]host:port,
// or smtps://[user:pass@]host:port for implicit TLS. The port defaults to
// 25 (smtp) or 465 (smtps). Its errors never repeat the password, since
// they are shown at start-up.
func ParseSMTPURL(s string) (SMTPConfig, error) {
	if strings.TrimSpace(s) == "" {
		return SMTPConfig{}, errors.New("SMTP URL is empty: want smtp://[user:pass@]host:port or smtps://host:port")
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL itself would show the password
		}
		return SMTPConfig{}, fmt.Errorf("SMTP URL is not a URL: %v", err)
	}
	var c SMTPConfig
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		c.Port = "25"
	case "smtps":
		c.Port, c.ImplicitTLS = "465", true
	case "":
		return SMTPConfig{}, errors.New("SMTP URL has no scheme: want smtp:// or smtps://")
	default:
		return SMTPConfig{}, fmt.Errorf("SMTP URL has scheme %q: want smtp:// or smtps://", u.Scheme)
	}
	if u.Opaque != "" {
		return SMTPConfig{}, errors.New("SMTP URL has no host: want smtp://host:port")
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return SMTPConfig{}, errors.New("SMTP URL has no host: want smtp://host:port")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPConfig{}, fmt.Errorf("SMTP URL has port %q: want a number from 1 to 65535", p)
		}
		c.Port = p
	} else if strings.HasSuffix(u.Host, ":") {
		return SMTPConfig{}, errors.New("SMTP URL has an empty port: want host:port")
	}
	if u.Path != "" && u.Path != "/" {
		return SMTPConfig{}, fmt.Errorf("SMTP URL has path %q: want none", u.Path)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return SMTPConfig{}, errors.New("SMTP URL has a query or fragment: want none")
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		if c.Username == "" || c.Password == "" {
			return SMTPConfig{}, errors.New("SMTP URL has credentials without both a user name and a password")
		}
	}
	return c, nil
}

// MailerOptions tune the mailer; zero values take the defaults.
type MailerOptions struct {
	SMTPURL     string        // CSM_SMTP_URL, required
	From        string        // the sender, an RFC 5322 address (DefaultFrom)
	Poll        time.Duration // how often to look for due e-mails (2 s)
	Lease       time.Duration // how long a claim holds an e-mail (2 min)
	BackoffBase time.Duration // first retry delay after a transient failure (5 s)
	BackoffMax  time.Duration // longest retry delay (1 h)
	Timeout     time.Duration // bounds one SMTP conversation (30 s); shorter than Lease
	Clock       market.Clock
	Logger      *slog.Logger
	Metrics     *Metrics
}

// Mailer sends the e-mail outbox over SMTP. Every serve process runs one;
// the e-mails' leases let any number share the work without two sending
// one e-mail at once. An e-mail the server may have taken before the
// connection broke is sent again later: its Message-ID is the same each
// time, so that a duplicate is recognisable, and a transient failure never
// loses one.
type Mailer struct {
	store market.NotificationStore
	smtp  SMTPConfig
	tls   *tls.Config
	from  *mail.Address
	helo  string
	o     MailerOptions
	owner string
	kick  chan struct{}
}

// NewMailer returns a mailer sending the outbox of store to the server of
// o.SMTPURL; it fails on a URL or sender that cannot work.
func NewMailer(store market.NotificationStore, o MailerOptions) (*Mailer, error) {
	cfg, err := ParseSMTPURL(o.SMTPURL)
	if err != nil {
		return nil, err
	}
	if o.From == "" {
		o.From = DefaultFrom
	}
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("mail sender %q: %v", o.From, err)
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 5 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = time.Hour
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	// A conversation outliving its lease could send an e-mail that another
	// replica has claimed meanwhile.
	if o.Timeout >= o.Lease {
		return nil, fmt.Errorf("mailer: the SMTP timeout (%v) must be shorter than the lease (%v)", o.Timeout, o.Lease)
	}
	if o.Clock == nil {
		o.Clock = market.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	helo, err := os.Hostname()
	if err != nil || helo == "" || strings.ContainsAny(helo, " \r\n") {
		helo = "localhost"
	}
	return &Mailer{
		store: store,
		smtp:  cfg,
		tls:   &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12},
		from:  from,
		helo:  helo,
		o:     o,
		owner: newMailOwner(),
		kick:  make(chan struct{}, 1),
	}, nil
}

// newMailOwner returns a lease owner name unique to this mailer.
func newMailOwner() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "mailer-" + hex.EncodeToString(b)
}

// Kick wakes the mailer to look for due e-mails now. It never blocks.
func (m *Mailer) Kick() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Run sends due e-mails until ctx ends, looking again every Poll and
// whenever kicked.
func (m *Mailer) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.kick:
		}
		m.Drain(ctx)
		t.Reset(m.o.Poll)
	}
}

// Drain works on due e-mails until none is due, and returns how many it
// worked on (sent, failed or put back for later).
func (m *Mailer) Drain(ctx context.Context) int {
	n := 0
	for ctx.Err() == nil {
		now := m.o.Clock.Now()
		e, err := m.store.ClaimEmail(ctx, m.owner, now, now.Add(m.o.Lease))
		if market.ErrorCode(err) == market.ENOTFOUND {
			return n
		}
		if err != nil {
			if ctx.Err() == nil {
				m.o.Logger.Warn("mailer: claim", "error", err.Error())
			}
			return n
		}
		m.send(ctx, e)
		n++
	}
	return n
}

// send delivers one claimed e-mail and stores the outcome: sent; failed
// for good when the server refused it; or put back for a later attempt,
// with capped exponential backoff and jitter.
func (m *Mailer) send(ctx context.Context, e market.Email) {
	err := m.deliver(ctx, &e)
	now := m.o.Clock.Now()
	e.Attempts++
	result := "sent"
	switch {
	case err == nil:
		e.Status, e.SentAt, e.NextAttemptAt, e.LastError = market.EmailSent, now, time.Time{}, ""
	case permanent(err):
		result = "failed"
		e.Status, e.NextAttemptAt, e.LastError = market.EmailFailed, time.Time{}, mailMessage(err)
	default:
		result = "retry"
		e.NextAttemptAt, e.LastError = now.Add(m.backoff(e.Attempts)), mailMessage(err)
	}
	m.o.Metrics.Count(e.Kind, "email", result)
	// Recorded even when the mailer is stopping (its context ended the
	// conversation), so that the e-mail is not left leased until the lease
	// runs out.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := m.store.SaveEmail(sctx, &e, m.owner); serr != nil {
		m.o.Logger.Warn("mailer: save outcome", "email_id", e.ID, "result", result, "error", serr.Error())
		return
	}
	switch result {
	case "failed":
		m.o.Logger.Error("mailer: the SMTP server refused an e-mail", "email_id", e.ID, "kind", string(e.Kind), "smtp_error", e.LastError)
	case "retry":
		m.o.Logger.Warn("mailer: e-mail not sent; will retry", "email_id", e.ID, "attempts", e.Attempts,
			"next_attempt_at", e.NextAttemptAt, "error", e.LastError)
	}
}

// backoff returns the delay before attempt n+1: BackoffBase doubled for
// each attempt made, capped at BackoffMax, then with "equal jitter" (half
// fixed, half random), so that replicas and e-mails spread out.
func (m *Mailer) backoff(attempts int) time.Duration {
	d := m.o.BackoffBase
	for i := 1; i < attempts && d < m.o.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, m.o.BackoffMax)
	return d/2 + mrand.N(d/2+1)
}

// refusal is an error about the message itself: the server's 5xx reply to
// its recipient or content, or an e-mail that cannot be written at all.
// Sending it again cannot succeed.
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// permanent reports whether err means the e-mail can never be sent. A 5xx
// reply before the recipient (to EHLO, STARTTLS, AUTH or the sender in
// MAIL FROM) is about this mailer's configuration, not the e-mail, and
// would refuse every e-mail alike: it is retried like any other failure
// until the operator fixes it.
func permanent(err error) bool {
	var r *refusal
	return errors.As(err, &r)
}

// mailMessage returns what the operator is told of err: the server's own
// reply when it gave one.
func mailMessage(err error) string {
	msg := err.Error()
	var te *textproto.Error
	if errors.As(err, &te) {
		msg = te.Error()
	}
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}

// envelopeErr marks err, the reply to the recipient or the content, a
// refusal when it is a 5xx reply.
func envelopeErr(stage string, err error) error {
	err = fmt.Errorf("SMTP %s: %w", stage, err)
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && te.Code < 600 {
		return &refusal{err}
	}
	return err
}

// deliver holds one SMTP conversation that hands e over, within Timeout
// and until ctx ends.
func (m *Mailer) deliver(ctx context.Context, e *market.Email) error {
	to, msg, err := m.compose(e)
	if err != nil {
		return &refusal{err}
	}
	ctx, cancel := context.WithTimeout(ctx, m.o.Timeout)
	defer cancel()
	var (
		conn net.Conn
		d    net.Dialer
	)
	if m.smtp.ImplicitTLS {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: m.tls}).DialContext(ctx, "tcp", m.smtp.Addr())
	} else {
		conn, err = d.DialContext(ctx, "tcp", m.smtp.Addr())
	}
	if err != nil {
		return fmt.Errorf("SMTP connect: %w", err)
	}
	// net/smtp knows no context: the deadline bounds every read and write,
	// and the end of ctx cuts them short.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, m.smtp.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(m.helo); err != nil {
		return fmt.Errorf("SMTP EHLO: %w", err)
	}
	if !m.smtp.ImplicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(m.tls); err != nil {
				return fmt.Errorf("SMTP STARTTLS: %w", err)
			}
		}
	}
	if m.smtp.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("SMTP AUTH: the server does not offer authentication")
		}
		// PlainAuth itself refuses to send the password in the clear to
		// anything but localhost.
		if err := c.Auth(smtp.PlainAuth("", m.smtp.Username, m.smtp.Password, m.smtp.Host)); err != nil {
			return fmt.Errorf("SMTP AUTH: %w", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return fmt.Errorf("SMTP MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return envelopeErr("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return envelopeErr("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return envelopeErr("end of DATA", err)
	}
	// The server has taken the e-mail: a failing QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// compose writes e as an RFC 5322 message and returns its recipient's
// address. The headers are built only from values cleaned of line breaks,
// so that no field of e can add a header.
func (m *Mailer) compose(e *market.Email) (string, []byte, error) {
	if strings.ContainsAny(e.To, "\r\n") {
		return "", nil, errors.New("the recipient address contains a line break")
	}
	to, err := mail.ParseAddress(e.To)
	if err != nil {
		return "", nil, fmt.Errorf("the recipient address %q: %v", e.To, err)
	}
	var (
		h    bytes.Buffer
		body bytes.Buffer
	)
	header := func(name, value string) { h.WriteString(fold(name, value)) }
	header("From", m.from.String())
	header("To", (&mail.Address{Address: to.Address}).String())
	header("Subject", encodeWords(oneLine(e.Subject), len("Subject: ")))
	header("Date", m.o.Clock.Now().Format(time.RFC1123Z))
	header("Message-ID", "<"+messageIDPart(e.ID)+"@csmarket>")
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	if u := e.UnsubscribeURL; u != "" {
		if strings.ContainsAny(u, "\r\n<> \t") {
			m.o.Logger.Warn("mailer: unsubscribe URL cannot go in a header; left out", "email_id", e.ID)
		} else {
			header("List-Unsubscribe", "<"+u+">")
			header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click") // RFC 8058
		}
	}
	if e.HTML == "" {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		if err := writeQP(&body, e.Text); err != nil {
			return "", nil, err
		}
	} else {
		mw := multipart.NewWriter(&body)
		header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
		for _, p := range []struct{ typ, content string }{{"text/plain", e.Text}, {"text/html", e.HTML}} {
			pw, err := mw.CreatePart(textproto.MIMEHeader{
				"Content-Type":              {p.typ + "; charset=utf-8"},
				"Content-Transfer-Encoding": {"quoted-printable"},
			})
			if err != nil {
				return "", nil, err
			}
			if err := writeQP(pw, p.content); err != nil {
				return "", nil, err
			}
		}
		if err := mw.Close(); err != nil {
			return "", nil, err
		}
	}
	h.WriteString("\r\n")
	h.Write(body.Bytes())
	return to.Address, h.Bytes(), nil
}

func writeQP(w io.Writer, s string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, s); err != nil {
		return err
	}
	return qp.Close()
}

// oneLine replaces the control characters of a header value (line
// breaks above all) with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// messageIDPart keeps the characters of an ID that may stand in a
// Message-ID's left part.
func messageIDPart(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._", r) {
			return r
		}
		return -1
	}, id)
}

// encodeWords returns s as it may stand in an unstructured header: as it
// is when it is plain ASCII, else as RFC 2047 Q encoded-words cut between
// characters, each short enough for a line of its own (RFC 2047 allows 76
// characters; the first shares its line with the field's name, of
// nameLen).
func encodeWords(s string, nameLen int) string {
	plain := !strings.Contains(s, "=?")
	for i := 0; i < len(s) && plain; i++ {
		plain = s[i] < 0x80
	}
	if plain {
		return s
	}
	const open, end = "=?utf-8?q?", "?="
	var (
		words []string
		cur   strings.Builder
		limit = 76 - nameLen
	)
	for _, r := range s {
		var enc strings.Builder
		for _, c := range []byte(string(r)) {
			switch {
			case c == ' ':
				enc.WriteByte('_')
			case c > ' ' && c <= '~' && c != '=' && c != '?' && c != '_':
				enc.WriteByte(c)
			default:
				fmt.Fprintf(&enc, "=%02X", c)
			}
		}
		if cur.Len() > 0 && len(open)+cur.Len()+enc.Len()+len(end) > limit {
			words = append(words, open+cur.String()+end)
			cur.Reset()
			limit = 75 // after the space that folds the line
		}
		cur.WriteString(enc.String())
	}
	return strings.Join(append(words, open+cur.String()+end), " ")
}

// fold writes one header field, folded at spaces to keep its lines within
// 76 characters where the words allow.
func fold(name, value string) string {
	var b strings.Builder
	b.WriteString(name + ":")
	line := len(name) + 1
	for _, w := range strings.Split(value, " ") {
		if w != "" && line > len(name)+1 && line+1+len(w) > 76 {
			b.WriteString("\r\n")
			line = 0
		}
		b.WriteString(" " + w)
		line += 1 + len(w)
	}
	b.WriteString("\r\n")
	return b.String()
}
