package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/csmarket/csmarket/internal/sqlstore"
)

const backupSummary = `Writes a consistent copy of the store to FILE, which must not exist.

SQLite: an online backup (VACUUM INTO). csmarket serve goes on serving and
writing meanwhile, and the copy holds every write acknowledged before the
backup began. The copy is compacted and readable by its owner alone; it
holds personal data, so keep it as carefully as the store.
PostgreSQL: csmarket does not copy it itself; the command prints the
pg_dump command that does.`

const restoreSummary = `Puts the backup FILE in place as the store at CSM_DATABASE_URL, then
migrates it, so that a backup made by an older csmarket is brought up to date.

SQLite: stop csmarket serve first. FILE is checked (whole, and csmarket's)
before anything is replaced. A store already at CSM_DATABASE_URL is replaced
only with --force, never while a process has it open, and is kept beside it
as PATH.replaced-TIME. Everything written after the backup was made is lost,
erasures of personal data included: make them again.
PostgreSQL: csmarket does not restore it itself; the command prints the
pg_restore command that does.`

func cmdBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := newFlagSet("backup FILE", backupSummary, true, stdout)
	file, err := parseFileArg(flags, args)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	path, ok := sqlstore.SQLiteFile(cfg.DatabaseURL)
	if !ok {
		if isPostgres(cfg.DatabaseURL) {
			return pgBackupCommand(cfg.DatabaseURL, file)
		}
		return errors.New("backup: CSM_DATABASE_URL names no database file to copy")
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: no SQLite store at %s (CSM_DATABASE_URL): %w", path, err)
	}
	// Opened without migrating: a backup copies the store as it is.
	db, err := sqlstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer db.Close()
	if err := db.Backup(ctx, file); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("backup: %s already exists; name a new file (a backup never overwrites one)", file)
		}
		return fmt.Errorf("backup: %w", err)
	}
	size := ""
	if fi, err := os.Stat(file); err == nil {
		size = fmt.Sprintf(" (%d bytes)", fi.Size())
	}
	fmt.Fprintf(stdout, "backed up the sqlite store %s to %s%s\n", path, file, size)
	return nil
}

func cmdRestore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := newFlagSet("restore [--force] FILE", restoreSummary, true, stdout)
	force := flags.Bool("force", false, "replace the store at CSM_DATABASE_URL when there is one (it is kept as PATH.replaced-TIME)")
	file, err := parseFileArg(flags, args)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	path, ok := sqlstore.SQLiteFile(cfg.DatabaseURL)
	if !ok {
		if isPostgres(cfg.DatabaseURL) {
			return pgRestoreCommand(cfg.DatabaseURL, file)
		}
		return errors.New("restore: CSM_DATABASE_URL names no database file to restore to")
	}
	replaced, err := sqlstore.RestoreSQLite(ctx, file, path, *force)
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("restore: there is a store at %s already; stop csmarket serve, then run restore --force to replace it (it is kept as %s.replaced-TIME)", path, path)
	case errors.Is(err, sqlstore.ErrInUse):
		return fmt.Errorf("restore: the store at %s is in use; stop csmarket serve (every process with this CSM_DATABASE_URL), then try again", path)
	case err != nil:
		return fmt.Errorf("restore: %w", err)
	}
	if replaced != "" {
		fmt.Fprintf(stdout, "the store that was at %s is kept at %s\n", path, replaced)
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return fmt.Errorf("restore: %s is in place but could not be migrated: %w", path, err)
	}
	db.Close()
	fmt.Fprintf(stdout, "restored %s as the sqlite store %s, and migrated it\n", file, path)
	if cfg.RedisURL != "" {
		fmt.Fprintln(stdout, "the cache at CSM_REDIS_URL may hold views of the store replaced: empty it (redis-cli -u URL FLUSHDB) before csmarket serve starts")
	}
	return nil
}

// parseFileArg parses args as flags before or after exactly one FILE.
func parseFileArg(flags *flag.FlagSet, args []string) (string, error) {
	if err := parseFlagsOnly(flags, args); err != nil {
		return "", err
	}
	if flags.NArg() == 0 {
		fmt.Fprintln(flags.Output(), "FILE is missing")
		flags.Usage()
		return "", errUsage
	}
	file := flags.Arg(0)
	if err := parseFlags(flags, flags.Args()[1:]); err != nil {
		return "", err
	}
	return file, nil
}

// parseFlagsOnly is parseFlags allowing arguments after the flags.
func parseFlagsOnly(flags *flag.FlagSet, args []string) error {
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

func isPostgres(rawURL string) bool {
	return strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://")
}

// pgTarget returns the connection URL a PostgreSQL tool is given for
// rawURL: without the password, which the tools read from PGPASSWORD or
// ~/.pgpass (a command line is seen by every user of the machine), and
// without search_path, which libpq does not know, turned into the schema
// the tools are limited to.
func pgTarget(rawURL string) (conn, schema string) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "postgres://USER@HOST:PORT/DATABASE", ""
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if sp := q.Get("search_path"); sp != "" {
		schema = strings.TrimSpace(strings.Split(sp, ",")[0])
		q.Del("search_path")
		u.RawQuery = q.Encode()
	}
	return u.String(), schema
}

func pgBackupCommand(rawURL, file string) error {
	conn, schema := pgTarget(rawURL)
	cmd := "pg_dump --format=custom"
	if schema != "" {
		cmd += " --schema=" + shellQuote(schema)
	}
	cmd += " --file=" + shellQuote(file) + " " + shellQuote(conn)
	return fmt.Errorf(`backup: the store is PostgreSQL, which pg_dump backs up (one consistent snapshot, while csmarket serves); run
  %s
with the password in PGPASSWORD or ~/.pgpass (deploy/README.md shows it for the compose topology)`, cmd)
}

func pgRestoreCommand(rawURL, file string) error {
	conn, schema := pgTarget(rawURL)
	cmd := "pg_restore --clean --if-exists --no-owner --single-transaction"
	if schema != "" {
		cmd += " --schema=" + shellQuote(schema)
	}
	cmd += " --dbname=" + shellQuote(conn) + " " + shellQuote(file)
	return fmt.Errorf(`restore: the store is PostgreSQL, which pg_restore restores; stop every csmarket serve, then run
  %s
  csmarket migrate
with the password in PGPASSWORD or ~/.pgpass, and empty the cache at CSM_REDIS_URL (redis-cli FLUSHDB) before serving again (deploy/README.md shows it for the compose topology)`, cmd)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@=,+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
