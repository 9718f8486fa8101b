package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/seed"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

func cmdSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("seed", "Loads the demo directory and its demo users (once: organisations are loaded\n"+
		"only into an empty directory), or with --synthetic N adds N generated providers.", true, stdout)
	synthetic := fs.Int("synthetic", 0, "add `N` generated providers instead of the demo")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *synthetic < 0 {
		fmt.Fprintln(stdout, "--synthetic must not be negative")
		return errUsage
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	w, err := openWriter(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer w.close()
	orgs := cache.NewOrganisationStore(sqlstore.NewOrganisationStore(w.db, market.SystemClock{}), w.cache)

	if *synthetic > 0 {
		start := time.Now()
		if err := seed.LoadSynthetic(ctx, orgs, *synthetic); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		fmt.Fprintf(stdout, "added %d synthetic providers in %s\n", *synthetic, time.Since(start).Round(time.Millisecond))
		return nil
	}
	loaded, err := seed.LoadDemo(ctx, orgs)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if loaded {
		providers, buyers := seed.Demo()
		fmt.Fprintf(stdout, "loaded the demo: %d providers and %d CCGs\n", len(providers), len(buyers))
	} else {
		fmt.Fprintln(stdout, "demo data already present; nothing loaded")
	}
	users, err := seed.LoadDemoUsers(ctx, w.accounts)
	if market.ErrorCode(err) == market.ENOTFOUND || (err != nil && !loaded) {
		// A directory that is not the demo's: it has no demo organisations.
		fmt.Fprintf(stdout, "no demo users: %v\n", err)
		return nil
	} else if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(stdout, "demo users (demo only), all with the password %q:\n", seed.DemoPassword)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, u := range users {
		admin := ""
		if u.Admin {
			admin = " (admin)"
		}
		fmt.Fprintf(tw, "  %s\t%s%s\t%s\n", u.Email, u.Role, admin, u.Organisation)
	}
	return tw.Flush()
}
