package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// privateSQLiteFiles makes the SQLite database at path readable by its
// owner only before SQLite opens it: a new file is created with mode 0600
// (SQLite would create it 0644), and an existing file, with its -wal and
// -shm companions, loses any group and other permission. SQLite creates
// the -wal and -shm files with the database file's mode, so they follow.
// In-memory databases are left alone.
func privateSQLiteFiles(path string) error {
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") || strings.Contains(path, "mode=memory") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create sqlite file: %w", err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("restrict sqlite file mode: %w", err)
			}
		}
	}
	return nil
}
