// Package sqlstoretest gives tests a fresh, migrated database on every
// engine they can reach: SQLite always, PostgreSQL when TEST_DATABASE_URL
// is set. Each database is isolated (a file in the test's temporary
// directory, or a schema of its own), so test packages may run at once
// against one PostgreSQL server.
package sqlstoretest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/csmarket/csmarket/internal/sqlstore"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// EnvDatabaseURL names the variable holding the PostgreSQL server's URL.
const EnvDatabaseURL = "TEST_DATABASE_URL"

// Engines returns the engines to run a suite on: "sqlite", plus "postgres"
// when TEST_DATABASE_URL is set.
func Engines(tb testing.TB) []string {
	tb.Helper()
	if os.Getenv(EnvDatabaseURL) == "" {
		return []string{sqlstore.EngineSQLite}
	}
	return []string{sqlstore.EngineSQLite, sqlstore.EnginePostgres}
}

// MustOpen returns an empty, migrated database on engine, closed and
// dropped when the test ends. For "postgres" it skips the test when
// TEST_DATABASE_URL is not set.
func MustOpen(tb testing.TB, engine string) *sqlstore.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var rawURL string
	switch engine {
	case sqlstore.EngineSQLite:
		rawURL = "sqlite:" + filepath.Join(tb.TempDir(), "csmarket.db")
	case sqlstore.EnginePostgres:
		rawURL = mustSchema(tb, ctx)
	default:
		tb.Fatalf("sqlstoretest: unknown engine %q", engine)
	}
	db, err := sqlstore.Open(ctx, rawURL)
	if err != nil {
		tb.Fatalf("sqlstoretest: open %s: %v", engine, err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		tb.Fatalf("sqlstoretest: migrate %s: %v", engine, err)
	}
	return db
}

// MustURL returns the URL of an empty database on engine (a file in the
// test's temporary directory, or a schema of its own), for tests that run
// the server itself; it is dropped when the test ends. For "postgres" it
// skips the test when TEST_DATABASE_URL is not set.
func MustURL(tb testing.TB, engine string) string {
	tb.Helper()
	switch engine {
	case sqlstore.EngineSQLite:
		return "sqlite:" + filepath.Join(tb.TempDir(), "csmarket.db")
	case sqlstore.EnginePostgres:
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return mustSchema(tb, ctx)
	}
	tb.Fatalf("sqlstoretest: unknown engine %q", engine)
	return ""
}

// mustSchema creates a uniquely named schema in TEST_DATABASE_URL's
// database, dropped with everything in it at cleanup, and returns the URL
// that selects it.
func mustSchema(tb testing.TB, ctx context.Context) string {
	tb.Helper()
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		tb.Skipf("%s is not set: skipping the PostgreSQL store", EnvDatabaseURL)
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("sqlstoretest: %s: %v", EnvDatabaseURL, err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("sqlstoretest: %v", err)
	}
	admin.SetMaxOpenConns(1)
	var b [8]byte
	rand.Read(b[:])
	schema := "csm_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA "`+schema+`"`); err != nil {
		admin.Close()
		tb.Fatalf("sqlstoretest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA "`+schema+`" CASCADE`); err != nil {
			tb.Errorf("sqlstoretest: drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
