package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/seed"
)

// testServer is `csmarket serve` running in the test's process.
type testServer struct {
	base string
	logs *logWatcher
	stop func() error // as SIGTERM would; waits for the server to end
}

// startServer runs `serve` with vars on a free port until stop is called or
// the test ends.
func startServer(t *testing.T, vars map[string]string) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := newLogWatcher()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env(vars), nil, io.Discard, logs) }()
	var result error
	stopped := false
	srv := &testServer{logs: logs, stop: func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case result = <-done:
			case <-time.After(20 * time.Second):
				result = errors.New("serve did not stop")
			}
		}
		return result
	}}
	t.Cleanup(func() { srv.stop() })
	select {
	case addr := <-logs.addr:
		srv.base = "http://" + addr
	case err := <-done:
		stopped = true
		t.Fatalf("serve stopped: %v\n%s", err, logs.all())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start:\n%s", logs.all())
	}
	return srv
}

func postJSON(t *testing.T, url, token string, body any) (*http.Response, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func login(t *testing.T, base, email, password string) string {
	t.Helper()
	resp, body := postJSON(t, base+"/api/v1/auth/login", "", map[string]string{"email": email, "password": password})
	if resp.StatusCode != 200 {
		t.Fatalf("login %s: %d %s", email, resp.StatusCode, body)
	}
	var tp struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(body, &tp)
	return tp.AccessToken
}

func me(t *testing.T, base, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAccountsEndToEnd: the demo users printed by seed can sign in; an
// operator created with `admin create` can sign in with the one-time
// password printed for it; keys made once are used again after a restart.
func TestAccountsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{
		"CSM_ADDR":         "127.0.0.1:0",
		"CSM_DATABASE_URL": "sqlite:" + filepath.Join(dir, "accounts.db"),
		"CSM_JWT_KEY_FILE": filepath.Join(dir, "keys.pem"),
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"seed"}, env(vars), nil, &out, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	for _, u := range seed.DemoUsers() {
		if !strings.Contains(out.String(), u.Email) {
			t.Errorf("seed did not print demo user %s:\n%s", u.Email, out.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"admin", "create", "--email", "Ops@Example.org", "--name", "Ops Person"}, env(vars), nil, &out, io.Discard); err != nil {
		t.Fatalf("admin create: %v", err)
	}
	m := regexp.MustCompile(`one-time password[^:]*: (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no one-time password printed:\n%s", out.String())
	}
	if err := run(context.Background(), []string{"admin", "create", "--email", "weak@example.org", "--name", "Weak", "--password-stdin"},
		env(vars), strings.NewReader("password\n"), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("a weak operator password was accepted: %v", err)
	}

	base := startServer(t, vars).base
	opToken := login(t, base, "ops@example.org", m[1])
	if code, body := me(t, base, opToken); code != 200 || !strings.Contains(body, `"operator"`) {
		t.Fatalf("operator /me: %d %s", code, body)
	}
	for _, u := range seed.DemoUsers() {
		token := login(t, base, u.Email, seed.DemoPassword)
		if code, body := me(t, base, token); code != 200 || !strings.Contains(body, `"`+string(u.Role)+`"`) {
			t.Errorf("%s /me: %d %s", u.Email, code, body)
		}
	}
	resp, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("jwks: %v %v", err, resp.StatusCode)
	}
	resp.Body.Close()

	// Another process on the same key file accepts the first one's tokens.
	second := startServer(t, vars).base
	if code, body := me(t, second, opToken); code != 200 {
		t.Fatalf("a second process refused the first one's token: %d %s", code, body)
	}
}
