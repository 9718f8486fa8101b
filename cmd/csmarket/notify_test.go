package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/csmarket/csmarket/internal/seed"
	"github.com/csmarket/csmarket/internal/sqlstore"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// inbox is a real SMTP server (go-smtp) that keeps what it receives.
type inbox struct {
	mu   sync.Mutex
	msgs []mailMsg
}

type mailMsg struct {
	to   []string
	data string
}

func (b *inbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &inboxSession{b: b}, nil }

type inboxSession struct {
	b  *inbox
	to []string
}

func (s *inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *inboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, mailMsg{to: s.to, data: string(b)})
	s.b.mu.Unlock()
	return nil
}
func (s *inboxSession) Reset()        { s.to = nil }
func (s *inboxSession) Logout() error { return nil }

func (b *inbox) to(addr, subject string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range b.msgs {
		if len(m.to) == 1 && m.to[0] == addr && strings.Contains(m.data, subject) {
			n++
		}
	}
	return n
}

func startSMTP(t *testing.T) (*inbox, string) {
	t.Helper()
	b := &inbox{}
	s := smtp.NewServer(b)
	s.Domain, s.AllowInsecureAuth = "localhost", true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return b, "smtp://" + ln.Addr().String()
}

// streamEvent is one notification read off a stream.
type streamEvent struct {
	ID    int64
	Title string
}

// openStream reads base's notification stream as token, from after
// lastID, sending each event on the channel returned.
func openStream(t *testing.T, base, token string, lastID int64) <-chan streamEvent {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/notifications/stream?access_token="+token, nil)
	if lastID > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(lastID, 10))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("stream: %d %s", res.StatusCode, b)
	}
	t.Cleanup(func() { res.Body.Close() })
	out := make(chan streamEvent, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		var ev streamEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				ev.ID, _ = strconv.ParseInt(line[4:], 10, 64)
			case strings.HasPrefix(line, "data: "):
				var n struct{ Title string }
				json.Unmarshal([]byte(line[6:]), &n)
				ev.Title = n.Title
			case line == "" && ev.ID != 0:
				out <- ev
				ev = streamEvent{}
			}
		}
	}()
	return out
}

func next(t *testing.T, ch <-chan streamEvent, within time.Duration) streamEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(within):
		t.Fatalf("no notification within %v", within)
	}
	return streamEvent{}
}

// TestNotificationsAcrossReplicas runs two serve processes on one store
// and one Redis, each with its dispatcher and mailer, and a real SMTP
// server: a tender published through the first reaches a supplier
// streaming from the second, live, and by e-mail exactly once; a stream
// resumed with Last-Event-ID loses nothing.
func TestNotificationsAcrossReplicas(t *testing.T) {
	redisURL := os.Getenv("TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("TEST_REDIS_URL not set: the two replicas need Redis to share live notifications")
	}
	engine := sqlstore.EngineSQLite
	if os.Getenv(sqlstoretest.EnvDatabaseURL) != "" {
		engine = sqlstore.EnginePostgres
	}
	mail, smtpURL := startSMTP(t)
	dir := t.TempDir()
	vars := map[string]string{
		"CSM_ADDR":              "127.0.0.1:0",
		"CSM_DATABASE_URL":      sqlstoretest.MustURL(t, engine),
		"CSM_REDIS_URL":         redisURL,
		"CSM_JWT_KEY_FILE":      filepath.Join(dir, "keys.pem"),
		"CSM_MIN_TENDER_PERIOD": "0s",
		"CSM_SMTP_URL":          smtpURL,
		"CSM_NOTIFY_POLL":       "50ms",
		"CSM_RATE_LOGIN":        "1000/1m",
	}
	if err := run(t.Context(), []string{"seed"}, env(vars), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	first, second := startServer(t, vars).base, startServer(t, vars).base
	var buyerEmail string
	for _, u := range seed.DemoUsers() {
		if u.Role == "buyer" {
			buyerEmail = u.Email
			break
		}
	}
	buyer := login(t, first, buyerEmail, seed.DemoPassword)
	// A supplier whose listing matches the tenders below, registered
	// through the first replica and streaming from the second.
	const email = "bids@replicas.example"
	resp, body := postJSON(t, first+"/api/v1/auth/register", "", map[string]any{
		"organisation": map[string]any{"kind": "supplier", "name": "Replica Analytics Ltd", "sector": "independent",
			"identifiers": []map[string]string{{"scheme": "GB-COH", "id": "08765432"}}, "regions": []string{"midlands"}},
		"user": map[string]string{"name": "Bid Manager", "email": email, "password": "a long replica passphrase"},
		"listing": map[string]any{"summary": "Analytics.", "capabilities": []string{"contract_management"}, "regions": []string{"midlands"},
			"size": "small", "accreditations": []string{}, "case_studies": []any{}, "contact": map[string]string{"email": email}},
	})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", resp.StatusCode, body)
	}
	supplier := login(t, second, email, "a long replica passphrase")
	live := openStream(t, second, supplier, 0)

	publish := func(title string) {
		t.Helper()
		now := time.Now().UTC()
		resp, body := postJSON(t, first+"/api/v1/tenders", buyer, map[string]any{
			"title": title, "description": "Contract management for community services.",
			"capabilities": []string{"contract_management"}, "regions": []string{"midlands"},
			"contract_months": 12, "budget_pence": 50_000_000,
			"clarification_deadline": now.Add(time.Hour).Format(time.RFC3339Nano), "bid_deadline": now.Add(2 * time.Hour).Format(time.RFC3339Nano),
			"criteria": []map[string]any{{"key": "price", "name": "Price", "kind": "price", "weight": 50}, {"key": "approach", "name": "Approach", "kind": "quality", "weight": 50}},
		})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", resp.StatusCode, body)
		}
		var tender struct{ ID string }
		json.Unmarshal(body, &tender)
		if resp, body := postJSON(t, first+"/api/v1/tenders/"+tender.ID+"/publish", buyer, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("publish: %d %s", resp.StatusCode, body)
		}
	}
	published := time.Now()
	publish("Across replicas one")
	ev := next(t, live, 5*time.Second)
	t.Logf("published through the first replica, streamed from the second after %v", time.Since(published).Round(time.Millisecond))
	if ev.Title != "New opportunity: Across replicas one" {
		t.Fatalf("event %+v", ev)
	}

	// Away: two more are published; the stream resumed on the second
	// replica gets both, in order, and nothing twice.
	publish("Across replicas two")
	publish("Across replicas three")
	time.Sleep(500 * time.Millisecond)
	resumed := openStream(t, second, supplier, ev.ID)
	for _, want := range []string{"New opportunity: Across replicas two", "New opportunity: Across replicas three"} {
		if got := next(t, resumed, 5*time.Second); got.Title != want {
			t.Errorf("resumed %q, want %q", got.Title, want)
		}
	}

	// Both replicas' mailers share the outbox: each e-mail arrives once.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && mail.to(email, "Across replicas three") == 0 {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a second send, if there were one, would land by now
	for _, title := range []string{"Across replicas one", "Across replicas two", "Across replicas three"} {
		if n := mail.to(email, title); n != 1 {
			t.Errorf("%d e-mails about %q, want 1", n, title)
		}
	}
	if code, body := getJSON(t, first+"/api/v1/notifications", supplier); code != 200 || strings.Count(body2s(body), `"tender_published"`) != 3 {
		t.Errorf("inbox on the first replica: %d %s", code, body)
	}
}

func body2s(b []byte) string { return string(b) }
