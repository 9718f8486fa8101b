package sqlstore

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/csmarket/csmarket/internal/market"
)

// TestPostgresUnreachable: the errors of a database that cannot be reached
// or dropped the connection are EUNAVAILABLE (503, retry), those of a
// statement it refused are not.
func TestPostgresUnreachable(t *testing.T) {
	_, connectErr := pgconn.Connect(t.Context(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
	if connectErr == nil {
		t.Fatal("connected to port 1")
	}
	cases := map[string]struct {
		err  error
		code string
	}{
		"Connect":           {connectErr, market.EUNAVAILABLE},
		"AdminShutdown":     {&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, market.EUNAVAILABLE},
		"CannotConnectNow":  {&pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}, market.EUNAVAILABLE},
		"ConnectionFailure": {&pgconn.PgError{Code: "08006"}, market.EUNAVAILABLE},
		"BadConn":           {driver.ErrBadConn, market.EUNAVAILABLE},
		"UnexpectedEOF":     {fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), market.EUNAVAILABLE},
		"Network":           {&net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, market.EUNAVAILABLE},
		"ConnClosed":        {fmt.Errorf("begin: %w", pgconn.ErrConnClosed), market.EUNAVAILABLE},
		"Unique":            {&pgconn.PgError{Code: "23505"}, market.ECONFLICT},
		"UndefinedTable":    {&pgconn.PgError{Code: "42P01"}, market.EINTERNAL},
		"QueryCanceled":     {&pgconn.PgError{Code: "57014"}, market.EINTERNAL},
		"Other":             {errors.New("something else"), market.EINTERNAL},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := postgresError(c.err)
			if got := market.ErrorCode(err); got != c.code {
				t.Fatalf("postgresError(%v) is %q (%v), want %q", c.err, got, err, c.code)
			}
			if c.code == market.EUNAVAILABLE && !errors.Is(err, c.err) {
				t.Errorf("the cause is not kept for the log: %v", err)
			}
		})
	}
}
