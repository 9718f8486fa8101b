package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAccessLineAsSlog: the hand-written access line carries what the
// slog JSON line carried, under the same keys, with the request's ID.
func TestAccessLineAsSlog(t *testing.T) {
	var fast, std bytes.Buffer
	at := time.Date(2026, 12, 3, 12, 0, 0, 123_456_789, time.UTC)
	accessLine{w: &fast}.write(at, "GET", "/api/v1/providers/:id", 200, 1234*time.Microsecond, 17559, "abc-1")
	log := slog.New(LogHandler(slog.NewJSONHandler(&std, nil)))
	ctx := context.WithValue(context.Background(), requestIDKey{}, "abc-1")
	log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("method", "GET"), slog.String("route", "/api/v1/providers/:id"),
		slog.Int("status", 200), slog.Int64("duration_us", 1234), slog.Int("bytes", 17559))
	var a, b map[string]any
	if err := json.Unmarshal(fast.Bytes(), &a); err != nil {
		t.Fatalf("the access line is not JSON: %v: %s", err, fast.Bytes())
	}
	if err := json.Unmarshal(std.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	if a["time"] != "2026-12-03T12:00:00.123Z" {
		t.Errorf("time %v", a["time"])
	}
	delete(a, "time")
	delete(b, "time")
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	if string(aj) != string(bj) {
		t.Errorf("access line\n%s\nslog's\n%s", aj, bj)
	}
	if !strings.HasSuffix(fast.String(), "}\n") || strings.Count(fast.String(), "\n") != 1 {
		t.Errorf("not one line: %q", fast.String())
	}
	var esc bytes.Buffer
	accessLine{w: &esc}.write(at, "GET", "a\"b\\c\x01", 200, 0, 0, "")
	var m map[string]any
	if err := json.Unmarshal(esc.Bytes(), &m); err != nil || m["route"] != "a\"b\\c\x01" {
		t.Errorf("escaping: %v %q", err, esc.String())
	}
}

// TestAccessLog: with Config.AccessLog, each request is one line there (a
// route template, never the path's IDs), and none in the main log.
func TestAccessLog(t *testing.T) {
	var access syncBuffer
	e := mustEnv(t, "sqlite", func(c *Config) { c.AccessLog = &access })
	for _, target := range []string{"/api/v1/providers?sector=nhs", "/api/v1/providers/01a23bd3-979e-78fe-8df9-67cb8d0fd876", "/api/v1/no-such-route"} {
		rec := httptest.NewRecorder()
		e.s.engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	}
	lines := strings.Split(strings.TrimSuffix(access.buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d access lines for 3 requests:\n%s", len(lines), access.buf.String())
	}
	wantRoutes := []string{"/api/v1/providers", "/api/v1/providers/:id", "unmatched"}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d not JSON: %s", i, l)
		}
		if m["route"] != wantRoutes[i] || m["msg"] != "request" || m["request_id"] == "" || m["method"] != "GET" {
			t.Errorf("line %d: %s", i, l)
		}
	}
	if strings.Contains(access.buf.String(), "01a23bd3") {
		t.Error("an access line holds a path's ID")
	}
}
