// Command csmarket runs the marketplace: its API server, its migrations and
// its demo data. Everything is wired here, by hand.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The Redis client logs its own reconnection attempts; keep them JSON
	// like every other line. It is process-wide, so it is set here once.
	redis.SetLogger(redisLogger{newLogger(os.Stderr, slog.LevelWarn)})
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "csmarket:", err)
		os.Exit(1)
	}
}

// errUsage is returned once the usage has been printed for a bad command line.
var errUsage = errors.New("usage")

const usage = `csmarket: a procurement marketplace for NHS commissioning support.

Usage:
  csmarket serve                   run the API server (and the built frontend)
  csmarket migrate                 apply database migrations and exit
  csmarket seed [--synthetic N]    load the demo directory and demo users, or N generated providers
  csmarket admin create --email EMAIL --name NAME
                                   create a marketplace operator (prints a one-time password)
  csmarket keygen                  print a new signing key to add to CSM_JWT_KEY_FILE
  csmarket audit verify            check the audit trail's hash chain; fails naming the first broken event
  csmarket backup FILE             write a consistent copy of the store to FILE while serve runs
                                   (PostgreSQL: prints the pg_dump command)
  csmarket restore [--force] FILE  with serve stopped, put the backup FILE in place as the store and migrate it
                                   (PostgreSQL: prints the pg_restore command)

Run 'csmarket COMMAND --help' for a command's options and settings.
`

// run is csmarket's whole program, given its arguments and environment, so
// that tests can run it as a user would.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "seed":
		return cmdSeed(ctx, args[1:], getenv, stdout, stderr)
	case "admin":
		return cmdAdmin(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "keygen":
		return cmdKeygen(args[1:], stdout, stderr)
	case "audit":
		return cmdAudit(ctx, args[1:], getenv, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, args[1:], getenv, stdout, stderr)
	case "restore":
		return cmdRestore(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "csmarket: unknown command %q\n\n%s", args[0], usage)
		return errUsage
	}
}

// newFlagSet returns a flag set whose --help prints the command's summary,
// its flags and, when withSettings, the CSM_* settings it reads.
func newFlagSet(name, summary string, withSettings bool, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("csmarket "+name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: csmarket %s\n\n%s\n", name, summary)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(stdout, "\nOptions:")
			fs.PrintDefaults()
		}
		if withSettings {
			fmt.Fprintln(stdout, "\nSettings (environment variables):")
			printSettings(stdout)
		}
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// redisLogger passes the Redis client's messages to slog as warnings.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(format, v...), "component", "redis")
}
