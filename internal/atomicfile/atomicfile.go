// Package atomicfile writes files that survive a crash whole or not at all.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data: it writes a temporary file beside it (named
// "." + base + ".*", so a reader listing the directory can skip and remove
// leftovers of an interrupted write), syncs it, renames it over path and
// syncs the directory. After Write returns nil, data is on disk even if the
// process is killed or the machine loses power.
func Write(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	_ = SyncDir(dir) // best effort: some file systems cannot sync a directory
	return nil
}

// SyncDir flushes a directory's entries (a rename or a removal) to disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
