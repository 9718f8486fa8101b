package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/seed"
	"github.com/csmarket/csmarket/internal/sqlstore"
	"github.com/csmarket/csmarket/internal/sqlstore/sqlstoretest"
)

// steadyWriter asks clarification questions through the API, one after
// another, until stopped, and keeps the ID of each one acknowledged (201),
// in order.
type steadyWriter struct {
	mu    sync.Mutex
	acked []string
	err   error
	stop  chan struct{}
	done  chan struct{}
}

func startWriter(url, token string) *steadyWriter {
	w := &steadyWriter{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			body, _ := json.Marshal(map[string]string{"question": fmt.Sprintf("Steady question %d: is the data flowing?", i)})
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				w.fail(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var q struct{ ID string }
			if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &q) != nil || q.ID == "" {
				w.fail(fmt.Errorf("question %d: %d %s", i, resp.StatusCode, b))
				return
			}
			w.mu.Lock()
			w.acked = append(w.acked, q.ID)
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *steadyWriter) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.err = err
}

// snapshot returns the writes acknowledged so far.
func (w *steadyWriter) snapshot() ([]string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.acked...), w.err
}

// waitFor waits until n more writes than now have been acknowledged.
func (w *steadyWriter) waitFor(t *testing.T, n int) {
	t.Helper()
	acked, _ := w.snapshot()
	target := len(acked) + n
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		acked, err := w.snapshot()
		if err != nil {
			t.Fatalf("writer: %v", err)
		}
		if len(acked) >= target {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the writer did not reach %d writes", target)
}

func (w *steadyWriter) halt(t *testing.T) {
	t.Helper()
	close(w.stop)
	<-w.done
	if _, err := w.snapshot(); err != nil {
		t.Fatalf("writer: %v", err)
	}
}

func withVar(vars map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(vars)+1)
	for key, val := range vars {
		out[key] = val
	}
	out[k] = v
	return out
}

// TestBackupWhileServing backs up the SQLite store of a running server
// while a client writes through the API without pause: the backup opens,
// holds every write acknowledged before it began, and, restored, passes
// audit verify. Restore refuses to replace a store without --force, or one
// a server has open even with it; backup refuses to overwrite a file.
func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{
		"CSM_ADDR":              "127.0.0.1:0",
		"CSM_DATABASE_URL":      "sqlite:" + filepath.Join(dir, "live.db"),
		"CSM_JWT_KEY_FILE":      filepath.Join(dir, "keys.pem"),
		"CSM_MIN_TENDER_PERIOD": "0s",
		"CSM_RATE_TOKEN":        "1000000/1m",
	}
	ctx := t.Context()
	if err := run(ctx, []string{"seed"}, env(vars), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	base := startServer(t, vars).base
	var buyerEmail, supplierEmail string
	for _, u := range seed.DemoUsers() {
		switch {
		case u.Role == "buyer" && buyerEmail == "":
			buyerEmail = u.Email
		case u.Role == "supplier" && supplierEmail == "":
			supplierEmail = u.Email
		}
	}
	buyer, supplier := login(t, base, buyerEmail, seed.DemoPassword), login(t, base, supplierEmail, seed.DemoPassword)
	now := time.Now().UTC()
	resp, body := postJSON(t, base+"/api/v1/tenders", buyer, map[string]any{
		"title": "Business intelligence for the backup", "description": "Dashboards for the boards.",
		"capabilities": []string{"business_intelligence"}, "regions": []string{"midlands"},
		"contract_months": 12, "budget_pence": 10_000_000,
		"clarification_deadline": now.Add(time.Hour).Format(time.RFC3339), "bid_deadline": now.Add(2 * time.Hour).Format(time.RFC3339),
		"criteria": []map[string]any{
			{"key": "price", "name": "Price", "kind": "price", "weight": 40},
			{"key": "approach", "name": "Approach", "kind": "quality", "weight": 60},
		},
	})
	if resp.StatusCode != 201 {
		t.Fatalf("create tender: %d %s", resp.StatusCode, body)
	}
	var tender struct{ ID string }
	json.Unmarshal(body, &tender)
	if resp, body = postJSON(t, base+"/api/v1/tenders/"+tender.ID+"/publish", buyer, nil); resp.StatusCode != 200 {
		t.Fatalf("publish: %d %s", resp.StatusCode, body)
	}

	w := startWriter(base+"/api/v1/tenders/"+tender.ID+"/questions", supplier)
	w.waitFor(t, 25)
	before, _ := w.snapshot()
	backup := filepath.Join(dir, "backups", "csmarket.db")
	os.MkdirAll(filepath.Dir(backup), 0o700)
	var out strings.Builder
	if err := run(ctx, []string{"backup", backup}, env(vars), nil, &out, io.Discard); err != nil {
		t.Fatalf("backup: %v", err)
	}
	during, _ := w.snapshot()
	w.waitFor(t, 10)
	w.halt(t)
	t.Logf("%d writes acknowledged before the backup, %d while it ran; %s", len(before), len(during)-len(before), strings.TrimSpace(out.String()))
	if !strings.Contains(out.String(), "backed up") {
		t.Fatalf("backup said %q", out.String())
	}
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v, want mode 0600", fi, err)
	}

	t.Run("NoOverwrite", func(t *testing.T) {
		was, _ := os.ReadFile(backup)
		err := run(ctx, []string{"backup", backup}, env(vars), nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("a second backup to the same file: %v", err)
		}
		if after, _ := os.ReadFile(backup); !bytes.Equal(after, was) {
			t.Fatal("a refused backup changed the file")
		}
	})

	restoredVars := withVar(vars, "CSM_DATABASE_URL", "sqlite:"+filepath.Join(dir, "restored", "csmarket.db"))
	t.Run("Restore", func(t *testing.T) {
		var out strings.Builder
		if err := run(ctx, []string{"restore", backup}, env(restoredVars), nil, &out, io.Discard); err != nil {
			t.Fatalf("restore: %v", err)
		}
		if !strings.Contains(out.String(), "restored") {
			t.Fatalf("restore said %q", out.String())
		}
		out.Reset()
		if err := run(ctx, []string{"audit", "verify"}, env(restoredVars), nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "audit chain ok") {
			t.Fatalf("audit verify on the restored store: %v %s", err, out.String())
		}
		db, err := sqlstore.Open(ctx, restoredVars["CSM_DATABASE_URL"])
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		have := map[string]bool{}
		rows, err := db.QueryContext(ctx, "SELECT id FROM questions")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			rows.Scan(&id)
			have[id] = true
		}
		rows.Close()
		for i, id := range before {
			if !have[id] {
				t.Errorf("write %d (question %s), acknowledged before the backup began, is not in it", i, id)
			}
		}
		if len(have) > len(during)+1 {
			t.Errorf("the backup holds %d questions; at most %d were acknowledged or in flight when it ended", len(have), len(during)+1)
		}
	})

	t.Run("RestoreRefusesToReplace", func(t *testing.T) {
		err := run(ctx, []string{"restore", backup}, env(restoredVars), nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--force") {
			t.Fatalf("restore over a store without --force: %v", err)
		}
		var out strings.Builder
		if err := run(ctx, []string{"restore", backup, "--force"}, env(restoredVars), nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "kept at") {
			t.Fatalf("restore --force: %v %s", err, out.String())
		}
	})

	t.Run("RestoreRefusesAStoreInUse", func(t *testing.T) {
		err := run(ctx, []string{"restore", "--force", backup}, env(vars), nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "in use") {
			t.Fatalf("restore over the running server's store: %v", err)
		}
		if code, _ := getJSON(t, base+"/api/v1/tenders/"+tender.ID+"/questions", supplier); code != 200 {
			t.Fatalf("the server after a refused restore: %d", code)
		}
		if matches, _ := filepath.Glob(filepath.Join(dir, "live.db.replaced-*")); len(matches) != 0 {
			t.Fatalf("a refused restore moved the live store: %v", matches)
		}
	})

	t.Run("BackupOpens", func(t *testing.T) {
		db, err := sqlstore.Open(ctx, "sqlite:"+backup)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var check string
		var n int
		if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("integrity_check: %q %v", check, err)
		}
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM questions").Scan(&n); err != nil || n < len(before) {
			t.Fatalf("the backup holds %d questions (%v), want at least %d", n, err, len(before))
		}
	})

	t.Run("RestoreRefusesWhatIsNotABackup", func(t *testing.T) {
		junk := filepath.Join(dir, "junk.db")
		os.WriteFile(junk, []byte("not a database"), 0o600)
		fresh := withVar(vars, "CSM_DATABASE_URL", "sqlite:"+filepath.Join(dir, "fresh.db"))
		if err := run(ctx, []string{"restore", junk}, env(fresh), nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "not a SQLite database") {
			t.Fatalf("restore of junk: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "fresh.db")); !os.IsNotExist(err) {
			t.Fatalf("a refused restore left a store: %v", err)
		}
	})
}

// TestBackupOnPostgres: on PostgreSQL, backup and restore refuse with the
// pg_dump and pg_restore commands to run instead, naming the schema and
// never the password.
func TestBackupOnPostgres(t *testing.T) {
	vars := map[string]string{"CSM_DATABASE_URL": "postgres://csmarket:s3cret@db.example:5432/csmarket?sslmode=disable&search_path=tenant_a"}
	err := run(context.Background(), []string{"backup", "nightly.dump"}, env(vars), nil, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("backup on PostgreSQL succeeded")
	}
	for _, want := range []string{"pg_dump --format=custom", "--schema=tenant_a", "--file=nightly.dump", "'postgres://csmarket@db.example:5432/csmarket?sslmode=disable'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("backup's answer lacks %q:\n%v", want, err)
		}
	}
	err2 := run(context.Background(), []string{"restore", "nightly.dump"}, env(vars), nil, io.Discard, io.Discard)
	if err2 == nil {
		t.Fatal("restore on PostgreSQL succeeded")
	}
	for _, want := range []string{"pg_restore --clean --if-exists", "--schema=tenant_a", "nightly.dump", "csmarket migrate"} {
		if !strings.Contains(err2.Error(), want) {
			t.Errorf("restore's answer lacks %q:\n%v", want, err2)
		}
	}
	for _, e := range []error{err, err2} {
		if strings.Contains(e.Error(), "s3cret") {
			t.Errorf("the password is in %q", e)
		}
	}
}

// TestPostgresBackupCommands runs the pg_dump and pg_restore commands that
// backup and restore print, as printed, against TEST_DATABASE_URL: the
// restored store is the one dumped, migrates, and passes audit verify.
func TestPostgresBackupCommands(t *testing.T) {
	for _, tool := range []string{"pg_dump", "pg_restore", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	dir := t.TempDir()
	vars := map[string]string{
		"CSM_DATABASE_URL": sqlstoretest.MustURL(t, sqlstore.EnginePostgres),
		"CSM_JWT_KEY_FILE": filepath.Join(dir, "keys.pem"),
	}
	ctx := t.Context()
	if err := run(ctx, []string{"seed"}, env(vars), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	organisations := func() int {
		t.Helper()
		db, err := sqlstore.Open(ctx, vars["CSM_DATABASE_URL"])
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM organisations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// printed returns the lines of the command err prints, to run as they are.
	printed := func(err error) []string {
		t.Helper()
		if err == nil {
			t.Fatal("no command printed")
		}
		var cmds []string
		for _, line := range strings.Split(err.Error(), "\n") {
			if strings.HasPrefix(line, "  pg_") {
				cmds = append(cmds, strings.TrimSpace(line))
			}
		}
		return cmds
	}
	sh := func(cmd string) {
		t.Helper()
		if out, err := exec.CommandContext(ctx, "sh", "-c", cmd).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
	}
	dumped := organisations()
	file := filepath.Join(dir, "csmarket.dump")
	for _, cmd := range printed(run(ctx, []string{"backup", file}, env(vars), nil, io.Discard, io.Discard)) {
		sh(cmd)
	}
	if err := run(ctx, []string{"seed", "--synthetic", "3"}, env(vars), nil, io.Discard, io.Discard); err != nil || organisations() != dumped+3 {
		t.Fatalf("seed after the dump: %v", err)
	}
	cmds := printed(run(ctx, []string{"restore", file}, env(vars), nil, io.Discard, io.Discard))
	if len(cmds) != 1 {
		t.Fatalf("restore printed %q", cmds)
	}
	sh(cmds[0])
	if err := run(ctx, []string{"migrate"}, env(vars), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if n := organisations(); n != dumped {
		t.Fatalf("%d organisations after the restore, %d dumped", n, dumped)
	}
	var out strings.Builder
	if err := run(ctx, []string{"audit", "verify"}, env(vars), nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "audit chain ok") {
		t.Fatalf("audit verify: %v %s", err, out.String())
	}
}

func TestBackupHelp(t *testing.T) {
	for _, cmd := range []string{"backup", "restore"} {
		t.Run(cmd, func(t *testing.T) {
			var stdout bytes.Buffer
			if err := run(context.Background(), []string{cmd, "--help"}, env(nil), nil, &stdout, io.Discard); err != nil && !strings.Contains(err.Error(), "help") {
				t.Fatalf("--help: %v", err)
			}
			for _, want := range []string{"Usage: csmarket " + cmd, "FILE", "CSM_DATABASE_URL"} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("%s --help lacks %q:\n%s", cmd, want, stdout.String())
				}
			}
			if err := run(context.Background(), []string{cmd}, env(nil), nil, io.Discard, io.Discard); err != errUsage {
				t.Errorf("%s without FILE: %v, want the usage", cmd, err)
			}
		})
	}
}
