package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// translate turns a driver error into a market.Error where the domain has a
// name for it; anything else is returned wrapped, and so stays internal.
func (db *DB) translate(err error) error {
	if db.engine == EnginePostgres {
		return postgresError(err)
	}
	return sqliteError(err)
}

// sqliteError translates an error of modernc.org/sqlite.
func sqliteError(err error) error {
	if err == nil || leaveAsIs(err) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return market.Errorf(market.ENOTFOUND, "Not found.")
	}
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return market.Errorf(market.ECONFLICT, "Already exists.")
		}
	}
	return fmt.Errorf("sqlite: %w", err)
}

// postgresError translates an error of pgx.
func postgresError(err error) error {
	if err == nil || leaveAsIs(err) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return market.Errorf(market.ENOTFOUND, "Not found.")
	}
	var e *pgconn.PgError
	if errors.As(err, &e) {
		switch e.Code {
		case "23505": // unique_violation
			return market.Errorf(market.ECONFLICT, "Already exists.")
		}
	}
	if postgresUnreachable(err) {
		// The client sees errUnreachable; the log, under the request ID, the cause.
		return fmt.Errorf("postgres: %w: %w", errUnreachable, err)
	}
	return fmt.Errorf("postgres: %w", err)
}

// errUnreachable is what a client learns when the database went away under
// its request: the request did not complete, and may be sent again.
var errUnreachable = &market.Error{Code: market.EUNAVAILABLE,
	Message: "The database is not reachable at the moment; try again shortly."}

// postgresUnreachable reports whether err means the server could not be
// reached or dropped the connection (a restart, a failover, the network),
// as opposed to refusing the statement. A write that fails so may or may
// not have been committed; a client retries it under an Idempotency-Key.
func postgresUnreachable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"): // connection_exception
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

func leaveAsIs(err error) bool {
	var e *market.Error
	return errors.As(err, &e) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
