package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/csmarket/csmarket/internal/cache"
	"github.com/csmarket/csmarket/internal/market"
	"github.com/csmarket/csmarket/internal/seed"
	"github.com/csmarket/csmarket/internal/sqlstore"
)

func cmdSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("seed", "Loads the demo directory (once: it does nothing when organisations exist),\n"+
		"or with --synthetic N adds N generated providers for benchmarks.", true, stdout)
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
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	// Through the cache wrapper, so that API processes sharing Redis stop
	// serving directory pages that predate the new providers.
	c, err := newCache(cfg, prometheus.NewRegistry(), newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer c.Close()
	orgs := cache.NewOrganisationStore(sqlstore.NewOrganisationStore(db, market.SystemClock{}), c)

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
	if !loaded {
		fmt.Fprintln(stdout, "demo data already present; nothing loaded")
		return nil
	}
	providers, buyers := seed.Demo()
	fmt.Fprintf(stdout, "loaded the demo: %d providers and %d CCGs\n", len(providers), len(buyers))
	return nil
}
