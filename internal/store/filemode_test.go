package store

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The SQLite file and its WAL companions are created readable by their
// owner only (the store holds keys and secrets), whatever the umask, and a
// file left wider by an older version is narrowed; the data dir is 0700.
func TestSQLiteFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "portico.db")
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	// a write, so that the WAL and shared-memory files exist
	if _, err := st.Revision(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600}
	for p, mode := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("%s: mode %o, want %o", filepath.Base(p), got, mode)
		}
	}
	st.Close()

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err = Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("reopened: mode %o, want 600", fi.Mode().Perm())
	}
}
