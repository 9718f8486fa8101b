package sqlstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrInUse is returned by RestoreSQLite when another connection, such as
// a running csmarket serve, has the database it would replace open.
var ErrInUse = errors.New("the database is in use")

// SQLiteFile returns the file of a SQLite database URL (sqlite:PATH,
// sqlite://PATH, file:PATH, with or without parameters), and false for a
// URL of another engine or an in-memory database.
func SQLiteFile(rawURL string) (string, bool) {
	for _, prefix := range []string{"sqlite://", "sqlite:", "file://", "file:"} {
		if strings.HasPrefix(rawURL, prefix) {
			path, _, _ := strings.Cut(strings.TrimPrefix(rawURL, prefix), "?")
			return path, path != "" && path != ":memory:"
		}
	}
	return "", false
}

// Backup writes an online, consistent copy of this SQLite database to
// path, which must not exist (fs.ErrExist). VACUUM INTO reads one snapshot
// (WAL lets the server go on writing meanwhile, and the copy holds every
// transaction committed before it began) and writes it compacted. The
// copy is made beside path under a temporary name, flushed to disk and
// only then linked into place, so that a failed backup leaves nothing at
// path and a file that appears there meanwhile is never replaced.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.engine != EngineSQLite {
		return errors.New("sqlstore: Backup copies SQLite databases; use pg_dump for PostgreSQL")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(abs); err == nil {
		return fmt.Errorf("%s: %w", path, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp, err := tempName(abs)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	// An absolute path never reads as a URI filename, and a bound
	// parameter needs no quoting.
	if _, err := db.sql.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return fmt.Errorf("sqlite: VACUUM INTO: %w", err)
	}
	// The copy holds personal data: readable by its owner alone.
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if err := os.Link(tmp, abs); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", path, fs.ErrExist)
		}
		// A file system without hard links: the check above stands in.
		if _, serr := os.Lstat(abs); serr == nil {
			return fmt.Errorf("%s: %w", path, fs.ErrExist)
		}
		if err := os.Rename(tmp, abs); err != nil {
			return err
		}
	}
	return syncDir(filepath.Dir(abs))
}

// sqliteMagic begins every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// RestoreSQLite puts the SQLite database at src (a backup) in place as
// the database at dst, and returns where the database it replaced was
// moved, if there was one. src is copied, and the copy checked (PRAGMA
// quick_check, and it must hold csmarket's migrations), before anything at
// dst is touched. A database at dst, or its -wal or -shm file, is replaced
// only with force (else fs.ErrExist), and never while another connection
// has it open (ErrInUse): it is first checkpointed into one file on a
// connection that needs exclusive access to leave WAL mode, then moved to
// dst.replaced-TIME. The caller migrates the restored database.
//
// Nothing here can see a server that has the database open but holds no
// connection at that moment (its pool closes idle ones after minutes):
// serve must be stopped first, as csmarket restore's help says.
func RestoreSQLite(ctx context.Context, src, dst string, force bool) (replaced string, err error) {
	if err := checkMagic(src); err != nil {
		return "", err
	}
	dstAbs, err := filepath.Abs(dst)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dstAbs), 0o750); err != nil {
		return "", err
	}
	tmp, err := tempName(dstAbs)
	if err != nil {
		return "", err
	}
	defer removeDB(tmp)
	if err := copyFile(src, tmp); err != nil {
		return "", err
	}
	if err := checkBackup(ctx, tmp); err != nil {
		return "", fmt.Errorf("%s: %w", src, err)
	}

	exists := false
	for _, p := range []string{dstAbs, dstAbs + "-wal", dstAbs + "-shm"} {
		if _, err := os.Lstat(p); err == nil {
			exists = true
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	if exists {
		if !force {
			return "", fmt.Errorf("%s: %w", dst, fs.ErrExist)
		}
		if _, err := os.Lstat(dstAbs); err == nil {
			if err := leaveWAL(ctx, dstAbs); err != nil {
				return "", err
			}
			replaced = dstAbs + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
			if err := os.Rename(dstAbs, replaced); err != nil {
				return "", err
			}
		}
		// What is left is a journal without its database, which SQLite
		// would otherwise apply to the restored one.
		for _, p := range []string{dstAbs + "-wal", dstAbs + "-shm", dstAbs + "-journal"} {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return replaced, err
			}
		}
	}
	if err := os.Rename(tmp, dstAbs); err != nil {
		return replaced, err
	}
	return replaced, syncDir(filepath.Dir(dstAbs))
}

func checkMagic(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, sqliteMagic) {
		return fmt.Errorf("%s is not a SQLite database", path)
	}
	return nil
}

// openFile opens the SQLite file at path on one connection that waits for
// no lock.
func openFile(path string) (*sql.DB, error) {
	sdb, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		return nil, err
	}
	sdb.SetMaxOpenConns(1)
	return sdb, nil
}

// checkBackup checks that the database at path is whole and csmarket's,
// and leaves it as one file, out of WAL mode.
func checkBackup(ctx context.Context, path string) error {
	sdb, err := openFile(path)
	if err != nil {
		return err
	}
	defer sdb.Close()
	var result string
	if err := sdb.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&result); err != nil {
		return fmt.Errorf("not a readable SQLite database: %w", err)
	}
	if result != "ok" {
		return fmt.Errorf("the database is damaged: %s", result)
	}
	var n int
	if err := sdb.QueryRowContext(ctx, "SELECT count(*) FROM goose_db_version").Scan(&n); err != nil || n == 0 {
		return errors.New("not a csmarket database: it has no migrations")
	}
	_, err = sdb.ExecContext(ctx, "PRAGMA journal_mode=DELETE")
	return err
}

// leaveWAL checkpoints the database at path into its main file and takes
// it out of WAL mode, which SQLite allows only to the one connection that
// has it open: so it fails with ErrInUse while any other does.
func leaveWAL(ctx context.Context, path string) error {
	sdb, err := openFile(path)
	if err != nil {
		return err
	}
	defer sdb.Close()
	var mode string
	if err := sdb.QueryRowContext(ctx, "PRAGMA journal_mode=DELETE").Scan(&mode); err != nil {
		var e *sqlite.Error
		if errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY {
			return fmt.Errorf("%s: %w", path, ErrInUse)
		}
		return fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return nil
}

// tempName returns an unused name beside path for a file that will become
// path.
func tempName(path string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+hex.EncodeToString(b[:])), nil
}

// removeDB removes a database file and any journal SQLite left beside it.
func removeDB(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		os.Remove(p)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
