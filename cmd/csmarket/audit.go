package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

const auditUsage = `Usage:
  csmarket audit verify        check the audit trail's hash chain, event by event,
                               and report the first broken link (exit status 1)
`

const auditVerifySummary = `Checks the audit trail: every event's hash over its content, its link to the
event before it, the sequence without gaps, and the chain's end against the head
the store records. Prints "audit chain ok: N events", or the first broken link and
exits with status 1. It only reads: it neither migrates the store nor repairs it.`

// errChainBroken is returned, after the break has been printed, so that the
// command exits non-zero.
var errChainBroken = errors.New("audit verify: the audit chain is broken")

func cmdAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			fmt.Fprint(stdout, auditUsage)
			return nil
		}
		fmt.Fprint(stderr, auditUsage)
		return errUsage
	}
	fs := newFlagSet("audit verify", auditVerifySummary, true, stdout)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	// Opened without migrating: migrating chains any event found beyond the
	// chain's recorded head, so a verifier that migrated first would chain
	// in, and then pass, an event added to the end of the table by hand.
	db, err := sqlstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer db.Close()
	checked, brk, err := verifyAuditTrail(ctx, sqlstore.NewAuditStore(db))
	if err != nil {
		return fmt.Errorf("audit verify: %w (has the store been migrated? run csmarket migrate)", err)
	}
	if brk != nil {
		fmt.Fprintf(stdout, "audit chain broken at event %d: %s\n", brk.Seq, brk.Reason)
		return errChainBroken
	}
	fmt.Fprintf(stdout, "audit chain ok: %d events\n", checked)
	return nil
}

// auditTrail is what verification reads: the events in order, and the head
// of the chain as the appends themselves recorded it.
type auditTrail interface {
	ScanAudit(ctx context.Context, fn func(market.AuditEvent) error) error
	Head(ctx context.Context) (seq int64, hash string, err error)
}

// verifyAuditTrail streams the trail through a market.ChainVerifier, which
// catches an edited, removed or reordered event within the chain, and then
// holds the chain's end against the recorded head, which catches what the
// chain alone cannot: events removed from its end, or added after it.
//
// The server may append while this runs. The head read before the scan
// names an event the scan must reach, with that hash; the head read after
// it bounds the events that can have been appended legitimately.
func verifyAuditTrail(ctx context.Context, trail auditTrail) (int64, *market.ChainBreak, error) {
	headSeq, headHash, err := trail.Head(ctx)
	if err != nil {
		return 0, nil, err
	}
	var (
		v        market.ChainVerifier
		last     market.AuditEvent
		sawHead  bool
		headDiff bool
	)
	err = trail.ScanAudit(ctx, func(e market.AuditEvent) error {
		v.Add(e)
		if v.Break != nil {
			return errStopScan
		}
		if e.Seq == headSeq {
			sawHead, headDiff = true, e.Hash != headHash
		}
		last = e
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return 0, nil, err
	}
	if v.Break != nil {
		return v.Checked, v.Break, nil
	}
	switch {
	case headSeq > 0 && !sawHead:
		return v.Checked, &market.ChainBreak{Seq: headSeq, Reason: fmt.Sprintf(
			"the trail ends at event %d but the chain's head records event %d: events were removed from the end", last.Seq, headSeq)}, nil
	case headDiff:
		return v.Checked, &market.ChainBreak{Seq: headSeq, Reason: "its hash is not the one the chain's head records: the end of the trail was rewritten"}, nil
	}
	if v.Checked > 0 && last.Seq > headSeq {
		// Appended while the scan ran, or added by hand: the head moves in
		// the same transaction as every append, so a fresh look tells.
		nowSeq, _, err := trail.Head(ctx)
		if err != nil {
			return 0, nil, err
		}
		if last.Seq > nowSeq {
			return v.Checked, &market.ChainBreak{Seq: nowSeq + 1, Reason: fmt.Sprintf(
				"it follows the chain's recorded head (event %d): it was added outside csmarket", nowSeq)}, nil
		}
	}
	return v.Checked, nil, nil
}

var errStopScan = errors.New("stop scan")
