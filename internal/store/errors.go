package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// ErrUnavailable marks an error of a store that cannot serve requests for
// now: PostgreSQL refused or lost the connection, is shutting down or
// starting, has no connection slot left or is a read-only standby; SQLite's
// file is locked beyond the busy timeout, cannot be opened or written (I/O
// error, disk full); or the store was closed. Retrying later may succeed.
// Test for it with errors.Is.
var ErrUnavailable = errors.New("the store is unavailable")

// ErrInvalidText marks an error of a store that refused a string it cannot
// hold (PostgreSQL rejects the NUL character in text). Callers check input
// before it reaches the store; this is the safety net.
var ErrInvalidText = errors.New("the store cannot hold this text")

// classified is an error with its class: errors.Is finds both.
type classified struct {
	class, err error
}

func (e *classified) Error() string   { return e.err.Error() }
func (e *classified) Unwrap() []error { return []error{e.class, e.err} }

// Classify returns err marked with ErrUnavailable or ErrInvalidText when it
// is one of those failures of SQLite, PostgreSQL or database/sql, else err
// unchanged. The store's methods return classified errors; Classify is
// exported for errors that reach callers by other paths.
func Classify(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrUnavailable), errors.Is(err, ErrInvalidText):
		return err
	case unavailable(err):
		return &classified{class: ErrUnavailable, err: err}
	case invalidText(err):
		return &classified{class: ErrInvalidText, err: err}
	}
	return err
}

func unavailable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true // dialing or authenticating failed
	}
	if errors.Is(err, context.Canceled) {
		return false // the caller went away: not the store's fault
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == "57P01", // admin_shutdown (also pg_terminate_backend)
			pe.Code == "57P02", // crash_shutdown
			pe.Code == "57P03", // cannot_connect_now (starting up, recovery)
			pe.Code == "53300", // too_many_connections
			pe.Code == "25006": // read_only_sql_transaction: a standby, e.g. during a failover
			return true
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // primary result code
		case 5, // SQLITE_BUSY: locked beyond the busy timeout
			6,  // SQLITE_LOCKED
			10, // SQLITE_IOERR
			13, // SQLITE_FULL
			14: // SQLITE_CANTOPEN
			return true
		}
		return false
	}
	var ne net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.As(err, &ne):
		return true
	}
	// database/sql's error for a closed *sql.DB is not exported.
	return strings.Contains(err.Error(), "sql: database is closed")
}

func invalidText(err error) bool {
	var pe *pgconn.PgError
	// character_not_in_repertoire ("invalid byte sequence for encoding
	// UTF8: 0x00") and untranslatable_character (\u0000 in jsonb).
	return errors.As(err, &pe) && (pe.Code == "22021" || pe.Code == "22P05")
}
