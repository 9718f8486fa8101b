package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/seed"
)

// auditVerify runs `csmarket audit verify` against the SQLite file at path.
func auditVerify(t *testing.T, path string) (string, error) {
	t.Helper()
	vars := map[string]string{"CSM_DATABASE_URL": "sqlite:" + path}
	var stdout bytes.Buffer
	err := cmdAudit(context.Background(), []string{"verify"}, env(vars), &stdout, io.Discard)
	return stdout.String(), err
}

// mustAuditedStore seeds a store and makes audited changes through the real
// server: a tender created, published and asked about. It returns the
// SQLite file, the server stopped, and the number of events.
func mustAuditedStore(t *testing.T) (string, int) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.db")
	vars := map[string]string{
		"CSM_ADDR":              "127.0.0.1:0",
		"CSM_DATABASE_URL":      "sqlite:" + path,
		"CSM_JWT_KEY_FILE":      filepath.Join(dir, "keys.pem"),
		"CSM_MIN_TENDER_PERIOD": "0s",
	}
	if err := run(t.Context(), []string{"seed"}, env(vars), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	srv := startServer(t, vars)
	var buyerEmail, supplierEmail string
	for _, u := range seed.DemoUsers() {
		switch {
		case u.Role == "buyer" && buyerEmail == "":
			buyerEmail = u.Email
		case u.Role == "supplier" && supplierEmail == "":
			supplierEmail = u.Email
		}
	}
	buyer := login(t, srv.base, buyerEmail, seed.DemoPassword)
	supplier := login(t, srv.base, supplierEmail, seed.DemoPassword)
	now := time.Now().UTC()
	resp, body := postJSON(t, srv.base+"/api/v1/tenders", buyer, map[string]any{
		"title": "Continuing healthcare reviews", "description": "Review of CHC packages across the CCG.",
		"capabilities": []string{"continuing_healthcare"}, "regions": []string{"london"},
		"contract_months": 12, "budget_pence": 20_000_000,
		"clarification_deadline": now.Add(time.Hour).Format(time.RFC3339), "bid_deadline": now.Add(2 * time.Hour).Format(time.RFC3339),
		"criteria": []map[string]any{
			{"key": "price", "name": "Price", "kind": "price", "weight": 50},
			{"key": "approach", "name": "Approach", "kind": "quality", "weight": 50},
		},
	})
	if resp.StatusCode != 201 {
		t.Fatalf("create tender: %d %s", resp.StatusCode, body)
	}
	var tender struct{ ID string }
	json.Unmarshal(body, &tender)
	if resp, body := postJSON(t, srv.base+"/api/v1/tenders/"+tender.ID+"/publish", buyer, nil); resp.StatusCode != 200 {
		t.Fatalf("publish: %d %s", resp.StatusCode, body)
	}
	if resp, body := postJSON(t, srv.base+"/api/v1/tenders/"+tender.ID+"/questions", supplier, map[string]string{"question": "Is there a backlog?"}); resp.StatusCode != 201 {
		t.Fatalf("question: %d %s", resp.StatusCode, body)
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	db := mustSQLite(t, path)
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM audit_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if n < 3 {
		t.Fatalf("want at least 3 audited changes, the store has %d events", n)
	}
	return path, n
}

func mustSQLite(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// copyStore copies the SQLite file (and its journal, if any) so that each
// case tampers with its own.
func copyStore(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(path + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestAuditVerify: `csmarket audit verify` passes the trail the server
// wrote, and names the first broken event after each kind of tampering
// done directly in the database.
func TestAuditVerify(t *testing.T) {
	path, n := mustAuditedStore(t)
	out, err := auditVerify(t, copyStore(t, path))
	if err != nil || strings.TrimSpace(out) != "audit chain ok: "+strconv.Itoa(n)+" events" {
		t.Fatalf("verify of an untouched trail: %v %q", err, out)
	}

	last := int64(n)
	cases := []struct {
		name   string
		tamper func(db *sql.DB) error
		seq    int64
		reason string
	}{
		{"EditedAction", func(db *sql.DB) error {
			_, err := db.Exec("UPDATE audit_events SET action = 'tender.cancelled' WHERE seq = 2")
			return err
		}, 2, "altered"},
		{"EditedDetail", func(db *sql.DB) error {
			_, err := db.Exec(`UPDATE audit_events SET detail = '{"title":"Something else"}' WHERE seq = 1`)
			return err
		}, 1, "altered"},
		{"EditedTime", func(db *sql.DB) error {
			_, err := db.Exec("UPDATE audit_events SET at = '2020-01-01T00:00:00Z' WHERE seq = ?", last)
			return err
		}, last, "altered"},
		{"DeletedFromTheMiddle", func(db *sql.DB) error {
			_, err := db.Exec("DELETE FROM audit_events WHERE seq = 2")
			return err
		}, 3, "missing"},
		{"DeletedFromTheEnd", func(db *sql.DB) error {
			_, err := db.Exec("DELETE FROM audit_events WHERE seq = ?", last)
			return err
		}, last, "removed from the end"},
		{"Reordered", func(db *sql.DB) error {
			for _, q := range []string{
				"UPDATE audit_events SET seq = -1 WHERE seq = 1",
				"UPDATE audit_events SET seq = 1 WHERE seq = 2",
				"UPDATE audit_events SET seq = 2 WHERE seq = -1",
			} {
				if _, err := db.Exec(q); err != nil {
					return err
				}
			}
			return nil
		}, 1, "does not start the chain"},
		{"RehashedEdit", func(db *sql.DB) error {
			// Whoever edits an event and recomputes its hash breaks the
			// link from the event after it.
			return rewrite(db, 2, func(e *market.AuditEvent) { e.Action = "tender.cancelled" })
		}, 3, "previous-hash"},
		{"AppendedByHand", func(db *sql.DB) error {
			// A well-formed event, chained to the last one, that no
			// change of csmarket's wrote: the recorded head tells.
			e, err := readEvent(db, last)
			if err != nil {
				return err
			}
			forged := market.AuditEvent{Seq: last + 1, At: e.At.Add(time.Second), ActorUser: e.ActorUser, ActorOrg: e.ActorOrg,
				ObjectType: "tender", ObjectID: e.TenderID, TenderID: e.TenderID, Action: "tender.cancelled", Detail: map[string]string{}, PrevHash: e.Hash}
			forged.Hash = forged.ComputeHash()
			_, err = db.Exec(`INSERT INTO audit_events (seq, at, actor_user, actor_org, object_type, object_id, tender_id, action, detail, prev_hash, hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?)`, forged.Seq, forged.At.UTC().Format("2006-01-02T15:04:05.000000Z"), forged.ActorUser, forged.ActorOrg,
				forged.ObjectType, forged.ObjectID, forged.TenderID, forged.Action, forged.PrevHash, forged.Hash)
			return err
		}, last + 1, "added outside csmarket"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := copyStore(t, path)
			db := mustSQLite(t, p)
			if err := tc.tamper(db); err != nil {
				t.Fatalf("tamper: %v", err)
			}
			db.Close()
			out, err := auditVerify(t, p)
			if err == nil {
				t.Fatalf("verify passed a tampered trail: %q", out)
			}
			want := "audit chain broken at event " + strconv.FormatInt(tc.seq, 10) + ": "
			if !strings.HasPrefix(out, want) || !strings.Contains(out, tc.reason) {
				t.Fatalf("want %q...%q, got %q", want, tc.reason, out)
			}
		})
	}
}

// readEvent reads one stored event as the store's reader would hash it.
func readEvent(db *sql.DB, seq int64) (market.AuditEvent, error) {
	var (
		e               market.AuditEvent
		at, detail      string
		tender, prev, h sql.NullString
	)
	err := db.QueryRow(`SELECT seq, at, actor_user, actor_org, object_type, object_id, tender_id, action, detail, prev_hash, hash
		FROM audit_events WHERE seq = ?`, seq).Scan(&e.Seq, &at, &e.ActorUser, &e.ActorOrg, &e.ObjectType, &e.ObjectID, &tender, &e.Action, &detail, &prev, &h)
	if err != nil {
		return e, err
	}
	if e.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
		return e, err
	}
	e.TenderID, e.PrevHash, e.Hash = tender.String, prev.String, h.String
	err = json.Unmarshal([]byte(detail), &e.Detail)
	return e, err
}

// rewrite edits an event and stores it with a freshly computed hash.
func rewrite(db *sql.DB, seq int64, edit func(*market.AuditEvent)) error {
	e, err := readEvent(db, seq)
	if err != nil {
		return err
	}
	edit(&e)
	e.Hash = e.ComputeHash()
	_, err = db.Exec("UPDATE audit_events SET action = ?, hash = ? WHERE seq = ?", e.Action, e.Hash, seq)
	return err
}

func TestAuditHelp(t *testing.T) {
	var stdout bytes.Buffer
	err := cmdAudit(context.Background(), []string{"verify", "--help"}, env(nil), &stdout, io.Discard)
	if err != nil && !strings.Contains(err.Error(), "help") {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"Usage: csmarket audit verify", "audit chain ok", "CSM_DATABASE_URL"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("audit verify --help lacks %q:\n%s", want, stdout.String())
		}
	}
	var stderr bytes.Buffer
	if err := cmdAudit(context.Background(), []string{"check"}, env(nil), io.Discard, &stderr); !errors.Is(err, errUsage) || !strings.Contains(stderr.String(), "audit verify") {
		t.Fatalf("an unknown audit command: %v %q", err, stderr.String())
	}
}
