package sqlstore

import (
	"context"
	"errors"

	"github.com/csmarket/csmarket/internal/market"
)

// AppendEvent appends ev to the chain in a transaction of its own, as a
// store's write does beside its change. With rollBack the transaction then
// fails, as a change failing after its event would, and AppendEvent
// returns nil when it was rolled back.
func AppendEvent(ctx context.Context, db *DB, clock market.Clock, ev market.AuditEvent, rollBack bool) error {
	errRollBack := errors.New("roll back")
	err := db.InTx(ctx, func(tx *Tx) error {
		if err := tx.appendEvent(ctx, clock, ev, "", ""); err != nil {
			return err
		}
		if rollBack {
			return errRollBack
		}
		return nil
	})
	if rollBack && errors.Is(err, errRollBack) {
		return nil
	}
	return err
}

// MigrateTo brings the schema of db up to version, and no further, so that
// a test can store rows as an older release did before migrating on.
func MigrateTo(ctx context.Context, db *DB, version int64) error {
	p, err := db.migrations(ctx)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
