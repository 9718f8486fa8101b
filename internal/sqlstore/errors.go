package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
	return fmt.Errorf("postgres: %w", err)
}

func leaveAsIs(err error) bool {
	var e *market.Error
	return errors.As(err, &e) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
