// Package sqlstore keeps csmarket's data in SQLite (the embedded default, a
// pure Go driver) or PostgreSQL (production), chosen by the database URL.
// Each query is written once with ? placeholders and rebound for PostgreSQL;
// the schema is kept per engine as embedded goose migrations.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Engines, as reported by (*DB).Engine.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// DB is an open csmarket database on one engine.
type DB struct {
	sql    *sql.DB
	engine string
}

// Open connects to the database named by rawURL and checks that it answers.
// Accepted forms: sqlite:PATH, sqlite://PATH or file:PATH for SQLite (the
// parent directory is created), and postgres:// or postgresql:// URLs for
// PostgreSQL, whose search_path parameter, if any, selects the schema.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	var (
		db  *DB
		err error
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		db, err = openPostgres(rawURL)
	case strings.HasPrefix(rawURL, "sqlite:"), strings.HasPrefix(rawURL, "file:"):
		db, err = openSQLite(rawURL)
	default:
		return nil, fmt.Errorf("database URL %q: want sqlite:PATH, sqlite://PATH, file:PATH, or a postgres:// or postgresql:// URL", redact(rawURL))
	}
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", redact(rawURL), err)
	}
	return db, nil
}

// sqlitePragmas are set on every connection: WAL lets readers run beside the
// one writer, busy_timeout makes a writer wait for the lock instead of
// failing, and _txlock=immediate takes the write lock at BEGIN so that a
// transaction never has to upgrade a read lock (which fails at once with
// SQLITE_BUSY, whatever the timeout).
var sqlitePragmas = url.Values{
	"_pragma": {
		"busy_timeout(10000)",
		"journal_mode(WAL)",
		"synchronous(NORMAL)",
		"foreign_keys(1)",
	},
	"_txlock": {"immediate"},
}

func openSQLite(rawURL string) (*DB, error) {
	path := rawURL
	for _, prefix := range []string{"sqlite://", "sqlite:", "file://", "file:"} {
		if strings.HasPrefix(path, prefix) {
			path = strings.TrimPrefix(path, prefix)
			break
		}
	}
	path, query, _ := strings.Cut(path, "?")
	if path == "" {
		return nil, fmt.Errorf("database URL %q: no file path; want e.g. sqlite:data/csmarket.db", rawURL)
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("database URL %q: %w", rawURL, err)
	}
	for k, v := range sqlitePragmas {
		params[k] = append(params[k], v...)
	}
	memory := path == ":memory:"
	if !memory {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("database URL %q: %w", rawURL, err)
		}
	}
	sdb, err := sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		return nil, err
	}
	if memory {
		// Each connection to :memory: is a database of its own.
		sdb.SetMaxOpenConns(1)
	} else {
		sdb.SetMaxOpenConns(8)
		sdb.SetMaxIdleConns(8)
	}
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{sql: sdb, engine: EngineSQLite}, nil
}

func openPostgres(rawURL string) (*DB, error) {
	// Parameters pgx does not know, such as search_path, are sent to the
	// server as run-time settings of every connection.
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database URL %s: %w", redact(rawURL), err)
	}
	sdb := stdlib.OpenDB(*cfg)
	sdb.SetMaxOpenConns(16)
	sdb.SetMaxIdleConns(8)
	sdb.SetConnMaxIdleTime(time.Minute)
	return &DB{sql: sdb, engine: EnginePostgres}, nil
}

// redact hides a password in a URL, for error messages and logs.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	return u.Redacted()
}

// Engine returns EngineSQLite or EnginePostgres.
func (db *DB) Engine() string { return db.engine }

// Ping checks that the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// Close closes every connection.
func (db *DB) Close() error { return db.sql.Close() }

// Migrate brings the schema up to date, then chains any audit events
// written before the hash chain existed. It is safe to run on every start
// and from several processes at once: on PostgreSQL an advisory lock, keyed
// by the schema, lets one process migrate while the others wait, and the
// chain's head lock does the same for the chaining.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.migrations(ctx)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := db.sealAuditTrail(ctx); err != nil {
		return fmt.Errorf("migrate: chain the audit trail: %w", err)
	}
	return nil
}

// migrations returns the goose provider of db's engine, holding the
// PostgreSQL advisory lock while it migrates.
func (db *DB) migrations(ctx context.Context) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations/"+db.engine)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if db.engine == EnginePostgres {
		dialect = goose.DialectPostgres
		var schema string
		if err := db.sql.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("csmarket migrations " + schema))
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.sql, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return p, nil
}

// Queryer runs statements on the database or inside a transaction, so that
// one store function serves both. Statements use ? placeholders.
type Queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ExecContext runs a statement that returns no rows.
func (db *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return db.sql.ExecContext(ctx, db.rebind(query), args...)
}

// QueryContext runs a query.
func (db *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.sql.QueryContext(ctx, db.rebind(query), args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (db *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return db.sql.QueryRowContext(ctx, db.rebind(query), args...)
}

// Tx is a transaction on a DB.
type Tx struct {
	tx *sql.Tx
	db *DB
}

// ExecContext runs a statement that returns no rows.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, tx.db.rebind(query), args...)
}

// QueryContext runs a query.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, tx.db.rebind(query), args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.db.rebind(query), args...)
}

// InTx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise. On SQLite the transaction holds the write lock from its
// start, so keep it short.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	stx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return db.translate(err)
	}
	tx := &Tx{tx: stx, db: db}
	if err := fn(tx); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return db.translate(err)
	}
	return nil
}

var (
	_ Queryer = (*DB)(nil)
	_ Queryer = (*Tx)(nil)
)

// rebind turns ? placeholders into PostgreSQL's $1, $2, ... outside quoted
// literals and identifiers.
func (db *DB) rebind(query string) string {
	if db.engine != EnginePostgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// timeLayout stores SQLite times as fixed-width UTC text, so that they sort
// as text in time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// now returns the clock's time at the precision both engines keep, so that
// what a method returns equals what a later read returns.
func now(c interface{ Now() time.Time }) time.Time {
	return c.Now().UTC().Truncate(time.Microsecond)
}

// timeArg converts t to the engine's column value.
func (db *DB) timeArg(t time.Time) any {
	if db.engine == EngineSQLite {
		return t.UTC().Format(timeLayout)
	}
	return t.UTC()
}

// timeCol scans a timestamp column of either engine into a UTC time.Time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*c.t = v.UTC()
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	return nil
}

func (c timeCol) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("sqlstore: bad stored time %q: %w", s, err)
	}
	*c.t = t.UTC()
	return nil
}

// isNoRows reports whether err means a query found nothing.
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
