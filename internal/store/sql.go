package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations
var migrations embed.FS

type dialect struct {
	name   string
	goose  goose.Dialect
	dollar bool   // $n placeholders
	like   string // case-insensitive LIKE operator
}

var (
	sqliteDialect   = dialect{name: "sqlite", goose: goose.DialectSQLite3, like: "LIKE"}
	postgresDialect = dialect{name: "postgres", goose: goose.DialectPostgres, dollar: true, like: "ILIKE"}
)

// rebind turns '?' placeholders into $n for PostgreSQL. Queries in this
// package never hold '?' inside string literals.
func (d dialect) rebind(q string) string {
	if !d.dollar {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// SQLStore implements Store over database/sql.
type SQLStore struct {
	d      dialect
	writer *sql.DB // SQLite: one connection, so writers queue in Go, never on SQLITE_BUSY
	reader *sql.DB
}

// Open opens the store at dsn: a "postgres://" or "postgresql://" URL for
// PostgreSQL, otherwise a SQLite file path (created with its directory). It
// applies pending migrations before returning.
func Open(ctx context.Context, dsn string) (*SQLStore, error) {
	var s *SQLStore
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, fmt.Errorf("parse postgres URL: %w", redactURLError(err))
		}
		// Custom plans for every query: cached generic plans of the filtered
		// list queries are ten times slower than custom ones.
		if q := u.Query(); q.Get("default_query_exec_mode") == "" {
			q.Set("default_query_exec_mode", "exec")
			u.RawQuery = q.Encode()
		}
		db, err := sql.Open("pgx", u.String())
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s = &SQLStore{d: postgresDialect, writer: db, reader: db}
	} else {
		path := strings.TrimPrefix(dsn, "sqlite://")
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create data directory: %w", err)
			}
		}
		if err := privateSQLiteFiles(path); err != nil {
			return nil, err
		}
		params := "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)"
		w, err := sql.Open("sqlite", "file:"+path+params+"&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		w.SetMaxOpenConns(1)
		r, err := sql.Open("sqlite", "file:"+path+params)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		r.SetMaxOpenConns(8)
		s = &SQLStore{d: sqliteDialect, writer: w, reader: r}
	}
	if err := s.writer.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to %s store: %w", s.d.name, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Analyze(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Analyze refreshes the query planner's statistics. Open runs it; run it
// again after a bulk load (PostgreSQL's autovacuum also does, within about a
// minute) so that filtered lists use the attribute index from the start.
func (s *SQLStore) Analyze(ctx context.Context) error {
	q := "PRAGMA optimize=0x10002"
	if s.d.name == "postgres" {
		q = "ANALYZE resources, resource_attrs, links, uniques, subscription_keys"
	}
	if _, err := s.writer.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("analyze %s store: %w", s.d.name, err)
	}
	return nil
}

func (s *SQLStore) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+s.d.name)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(s.d.goose, s.writer, sub, goose.WithVerbose(false))
	if err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// redactURLError drops the URL (which may hold a password) from a parse error.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Dialect implements Store.
func (s *SQLStore) Dialect() string { return s.d.name }

// Close implements Store.
func (s *SQLStore) Close() error {
	err := s.writer.Close()
	if s.reader != s.writer {
		err = errors.Join(err, s.reader.Close())
	}
	return err
}

// queryer is what *sql.DB and *sql.Tx have in common.
type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// reader implements Reader over a queryer.
type reader struct {
	d dialect
	q queryer
}

func (s *SQLStore) r() reader { return reader{d: s.d, q: s.reader} }

// Get implements Reader.
func (s *SQLStore) Get(ctx context.Context, kind, parent, id string) (Record, error) {
	rec, err := s.r().Get(ctx, kind, parent, id)
	return rec, Classify(err)
}

// List implements Reader.
func (s *SQLStore) List(ctx context.Context, kind, parent string, opt ListOptions) ([]Record, int, error) {
	recs, n, err := s.r().List(ctx, kind, parent, opt)
	return recs, n, Classify(err)
}

// Links implements Reader.
func (s *SQLStore) Links(ctx context.Context, rel, end string, reverse bool) ([]string, error) {
	ls, err := s.r().Links(ctx, rel, end, reverse)
	return ls, Classify(err)
}

// HasLink implements Reader.
func (s *SQLStore) HasLink(ctx context.Context, rel, a, b string) (bool, error) {
	ok, err := s.r().HasLink(ctx, rel, a, b)
	return ok, Classify(err)
}

// AllLinks implements Reader.
func (s *SQLStore) AllLinks(ctx context.Context, rel string) ([][2]string, error) {
	ls, err := s.r().AllLinks(ctx, rel)
	return ls, Classify(err)
}

// SubscriptionByKeyHash implements Reader.
func (s *SQLStore) SubscriptionByKeyHash(ctx context.Context, hash string) (string, string, error) {
	id, which, err := s.r().SubscriptionByKeyHash(ctx, hash)
	return id, which, Classify(err)
}

const recordCols = "kind, parent, id, display_name, doc, etag, revision, created_at, updated_at"

func scanRecord(sc interface{ Scan(...any) error }) (Record, error) {
	var r Record
	var doc string
	var created, updated int64
	if err := sc.Scan(&r.Kind, &r.Parent, &r.ID, &r.DisplayName, &doc, &r.ETag, &r.Revision, &created, &updated); err != nil {
		return Record{}, err
	}
	r.Doc = []byte(doc)
	r.Created = time.UnixMicro(created).UTC()
	r.Updated = time.UnixMicro(updated).UTC()
	return r, nil
}

func (r reader) Get(ctx context.Context, kind, parent, id string) (Record, error) {
	row := r.q.QueryRowContext(ctx, r.d.rebind("SELECT "+recordCols+" FROM resources WHERE kind = ? AND parent = ? AND id = ?"), kind, parent, id)
	rec, err := scanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("get %s %q: %w", kind, id, err)
	}
	return rec, nil
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// from builds the FROM and WHERE clauses of a list. Columns of resources are
// qualified with "r.". The first attribute equality filter, when there is
// one, drives the query through the (kind, name, value, parent, id) index,
// which also yields rows in list order, so a page reads only what it returns.
func (r reader) from(kind, parent string, fs []Filter) (string, []any, error) {
	var conds []string
	var args []any
	from := " FROM resources r"
	driven := false
	for _, f := range fs {
		if f.Field != "id" && f.Field != "displayName" && f.Op == "eq" && !driven {
			driven = true
			if r.d.name == "sqlite" {
				from = " FROM resource_attrs d CROSS JOIN resources r" // CROSS JOIN fixes the join order in SQLite
			} else {
				from = " FROM resource_attrs d JOIN resources r ON true"
			}
			conds = append(conds, "d.kind = ?", "d.name = ?", "d.value = ?", "r.kind = d.kind", "r.parent = d.parent", "r.id = d.id")
			args = append(args, kind, f.Field, f.Value)
			continue
		}
		var test string // a condition on a column or attribute value
		var val any
		switch f.Op {
		case "eq", "ne":
			test, val = "%s = ?", f.Value
		case "contains":
			test, val = "%s "+r.d.like+` ? ESCAPE '\'`, "%"+escapeLike(f.Value)+"%"
		case "startswith":
			test, val = "%s "+r.d.like+` ? ESCAPE '\'`, escapeLike(f.Value)+"%"
		default:
			return "", nil, fmt.Errorf("invalid filter operator %q", f.Op)
		}
		not := ""
		if f.Op == "ne" {
			not = "NOT "
		}
		switch f.Field {
		case "id", "displayName":
			col := "r.id"
			if f.Field == "displayName" {
				col = "r.display_name"
			}
			if f.Op == "eq" || f.Op == "ne" {
				test = "lower(%s) = lower(?)"
			}
			conds = append(conds, not+"("+fmt.Sprintf(test, col)+")")
			args = append(args, val)
		default:
			conds = append(conds, "(r.parent, r.id) "+not+"IN (SELECT a.parent, a.id FROM resource_attrs a WHERE a.kind = ? AND a.name = ? AND "+fmt.Sprintf(test, "a.value")+")")
			args = append(args, kind, f.Field, val)
		}
	}
	conds = append(conds, "r.kind = ?")
	args = append(args, kind)
	if parent != "*" {
		conds = append(conds, "r.parent = ?")
		args = append(args, parent)
	}
	return from + " WHERE " + strings.Join(conds, " AND "), args, nil
}

func (r reader) List(ctx context.Context, kind, parent string, opt ListOptions) ([]Record, int, error) {
	from, args, err := r.from(kind, parent, opt.Filters)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := r.q.QueryRowContext(ctx, r.d.rebind("SELECT COUNT(*)"+from), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", kind, err)
	}
	q := "SELECT r." + strings.ReplaceAll(recordCols, ", ", ", r.") + from + " ORDER BY r.parent, r.id"
	if opt.Top > 0 {
		q += " LIMIT " + strconv.Itoa(opt.Top)
	} else if opt.Skip > 0 {
		if r.d.name == "postgres" {
			q += " LIMIT ALL"
		} else {
			q += " LIMIT -1"
		}
	}
	if opt.Skip > 0 {
		q += " OFFSET " + strconv.Itoa(opt.Skip)
	}
	rows, err := r.q.QueryContext(ctx, r.d.rebind(q), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", kind, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		rec, err := scanRecord(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list %s: %w", kind, err)
		}
		out = append(out, rec)
	}
	return out, total, rows.Err()
}

func (r reader) Links(ctx context.Context, rel, end string, reverse bool) ([]string, error) {
	q := "SELECT b FROM links WHERE rel = ? AND a = ? ORDER BY b"
	if reverse {
		q = "SELECT a FROM links WHERE rel = ? AND b = ? ORDER BY a"
	}
	rows, err := r.q.QueryContext(ctx, r.d.rebind(q), rel, end)
	if err != nil {
		return nil, fmt.Errorf("links %s: %w", rel, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (r reader) AllLinks(ctx context.Context, rel string) ([][2]string, error) {
	rows, err := r.q.QueryContext(ctx, r.d.rebind("SELECT a, b FROM links WHERE rel = ? ORDER BY a, b"), rel)
	if err != nil {
		return nil, fmt.Errorf("links %s: %w", rel, err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (r reader) HasLink(ctx context.Context, rel, a, b string) (bool, error) {
	var n int
	err := r.q.QueryRowContext(ctx, r.d.rebind("SELECT COUNT(*) FROM links WHERE rel = ? AND a = ? AND b = ?"), rel, a, b).Scan(&n)
	return n > 0, err
}

func (r reader) SubscriptionByKeyHash(ctx context.Context, hash string) (string, string, error) {
	var id, which string
	err := r.q.QueryRowContext(ctx, r.d.rebind("SELECT subscription_id, which FROM subscription_keys WHERE hash = ?"), hash).Scan(&id, &which)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	return id, which, err
}

// Revision implements Store.
func (s *SQLStore) Revision(ctx context.Context) (int64, error) {
	var rev int64
	err := s.reader.QueryRowContext(ctx, "SELECT revision FROM config_revision WHERE id = 1").Scan(&rev)
	return rev, Classify(err)
}

// View implements Store. Failures of the store are classified (Classify).
func (s *SQLStore) View(ctx context.Context, fn func(Reader) error) error {
	return Classify(s.view(ctx, fn))
}

func (s *SQLStore) view(ctx context.Context, fn func(Reader) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.d.name == "postgres" {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.reader.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	return fn(reader{d: s.d, q: tx})
}

// Update implements Store. Failures of the store, also those fn returns,
// are classified (Classify).
func (s *SQLStore) Update(ctx context.Context, fn func(Tx) error) (int64, error) {
	rev, err := s.update(ctx, fn)
	return rev, Classify(err)
}

func (s *SQLStore) update(ctx context.Context, fn func(Tx) error) (int64, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin write: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	// Taking the revision row first serialises writers on PostgreSQL, so
	// revisions are handed out in commit order.
	var rev int64
	if err := tx.QueryRowContext(ctx, "UPDATE config_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision").Scan(&rev); err != nil {
		return 0, fmt.Errorf("bump config revision: %w", err)
	}
	t := &sqlTx{reader: reader{d: s.d, q: tx}, rev: rev, now: time.Now().UTC()}
	if err := fn(t); err != nil {
		return 0, err
	}
	if s.d.name == "postgres" {
		// Delivered to the listeners of every replica when the transaction
		// commits (WatchRevisions).
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", revisionChannel, strconv.FormatInt(rev, 10)); err != nil {
			return 0, fmt.Errorf("notify config revision: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return rev, nil
}

// revisionChannel is the PostgreSQL notification channel of committed
// config revisions.
const revisionChannel = "portico_revision"

// WatchRevisions calls fn with every config revision committed by any
// process sharing the store, as soon as it commits, until ctx ends or the
// connection fails (the error is returned; callers retry). On SQLite, which
// one process owns, it only waits for ctx. It holds one connection.
func (s *SQLStore) WatchRevisions(ctx context.Context, fn func(rev int64)) error {
	if s.d.name != "postgres" {
		<-ctx.Done()
		return ctx.Err()
	}
	conn, err := s.reader.Conn(ctx)
	if err != nil {
		return fmt.Errorf("watch revisions: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("watch revisions: unexpected driver connection %T", dc)
		}
		if _, err := pc.Conn().Exec(ctx, "LISTEN "+revisionChannel); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		defer func() { // the connection goes back to the pool: stop listening
			uctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, _ = pc.Conn().Exec(uctx, "UNLISTEN "+revisionChannel)
		}()
		for {
			n, err := pc.Conn().WaitForNotification(ctx)
			if err != nil {
				return err
			}
			if rev, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
				fn(rev)
			}
		}
	})
}

// RecordInstance implements Store.
func (s *SQLStore) RecordInstance(ctx context.Context, in Instance) error {
	_, err := s.writer.ExecContext(ctx, s.d.rebind(`INSERT INTO gateway_instances (gateway_id, instance_id, doc, last_seen) VALUES (?, ?, ?, ?)
ON CONFLICT (gateway_id, instance_id) DO UPDATE SET doc = excluded.doc, last_seen = excluded.last_seen`),
		in.GatewayID, in.InstanceID, string(in.Doc), in.LastSeen.UnixMicro())
	if err != nil {
		return Classify(fmt.Errorf("record gateway instance: %w", err))
	}
	return nil
}

// Instances implements Store.
func (s *SQLStore) Instances(ctx context.Context, gatewayID string) ([]Instance, error) {
	rows, err := s.reader.QueryContext(ctx, s.d.rebind("SELECT gateway_id, instance_id, doc, last_seen FROM gateway_instances WHERE gateway_id = ? ORDER BY instance_id"), gatewayID)
	if err != nil {
		return nil, Classify(fmt.Errorf("list gateway instances: %w", err))
	}
	defer rows.Close()
	var out []Instance
	for rows.Next() {
		var in Instance
		var doc string
		var seen int64
		if err := rows.Scan(&in.GatewayID, &in.InstanceID, &doc, &seen); err != nil {
			return nil, err
		}
		in.Doc, in.LastSeen = []byte(doc), time.UnixMicro(seen).UTC()
		out = append(out, in)
	}
	return out, rows.Err()
}

// DeleteInstances implements Store.
func (s *SQLStore) DeleteInstances(ctx context.Context, gatewayID string) error {
	_, err := s.writer.ExecContext(ctx, s.d.rebind("DELETE FROM gateway_instances WHERE gateway_id = ?"), gatewayID)
	return err
}

// AuditLog implements Store.
func (s *SQLStore) AuditLog(ctx context.Context, top, skip int) ([]AuditEntry, int, error) {
	var total int
	if err := s.reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_log").Scan(&total); err != nil {
		return nil, 0, Classify(err)
	}
	if top <= 0 {
		top = 100
	}
	rows, err := s.reader.QueryContext(ctx, s.d.rebind("SELECT id, at, actor, actor_kind, actor_id, action, kind, path, revision FROM audit_log ORDER BY id DESC LIMIT ? OFFSET ?"), top, skip)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.ActorKind, &e.ActorID, &e.Action, &e.Kind, &e.Path, &e.Revision); err != nil {
			return nil, 0, err
		}
		e.At = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	return out, total, rows.Err()
}

type sqlTx struct {
	reader
	rev int64
	now time.Time
}

func (t *sqlTx) Revision() int64 { return t.rev }

func (t *sqlTx) exec(ctx context.Context, q string, args ...any) (int, error) {
	res, err := t.q.ExecContext(ctx, t.d.rebind(q), args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t *sqlTx) Put(ctx context.Context, rec Record) (Record, error) {
	rec.Revision = t.rev
	rec.ETag = `"` + strconv.FormatInt(t.rev, 10) + `"`
	rec.Updated = t.now
	var created int64
	err := t.q.QueryRowContext(ctx, t.d.rebind(`INSERT INTO resources (`+recordCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (kind, parent, id) DO UPDATE SET display_name = excluded.display_name, doc = excluded.doc,
etag = excluded.etag, revision = excluded.revision, updated_at = excluded.updated_at
RETURNING created_at`),
		rec.Kind, rec.Parent, rec.ID, rec.DisplayName, string(rec.Doc), rec.ETag, rec.Revision, t.now.UnixMicro(), t.now.UnixMicro()).Scan(&created)
	if err != nil {
		return Record{}, fmt.Errorf("put %s %q: %w", rec.Kind, rec.ID, err)
	}
	rec.Created = time.UnixMicro(created).UTC()
	if _, err := t.exec(ctx, "DELETE FROM resource_attrs WHERE kind = ? AND parent = ? AND id = ?", rec.Kind, rec.Parent, rec.ID); err != nil {
		return Record{}, fmt.Errorf("put %s %q attributes: %w", rec.Kind, rec.ID, err)
	}
	for name, value := range rec.Attrs {
		if _, err := t.exec(ctx, "INSERT INTO resource_attrs (kind, parent, id, name, value) VALUES (?, ?, ?, ?, ?)", rec.Kind, rec.Parent, rec.ID, name, value); err != nil {
			return Record{}, fmt.Errorf("put %s %q attributes: %w", rec.Kind, rec.ID, err)
		}
	}
	return rec, nil
}

func (t *sqlTx) Delete(ctx context.Context, kind, parent, id string) error {
	if _, err := t.exec(ctx, "DELETE FROM resource_attrs WHERE kind = ? AND parent = ? AND id = ?", kind, parent, id); err != nil {
		return fmt.Errorf("delete %s %q attributes: %w", kind, id, err)
	}
	n, err := t.exec(ctx, "DELETE FROM resources WHERE kind = ? AND parent = ? AND id = ?", kind, parent, id)
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", kind, id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

func (t *sqlTx) DeleteAll(ctx context.Context, kind, parent string) (int, error) {
	if _, err := t.exec(ctx, "DELETE FROM resource_attrs WHERE kind = ? AND parent = ?", kind, parent); err != nil {
		return 0, err
	}
	return t.exec(ctx, "DELETE FROM resources WHERE kind = ? AND parent = ?", kind, parent)
}

func (t *sqlTx) DeleteIDPrefix(ctx context.Context, kind, prefix string) (int, error) {
	if _, err := t.exec(ctx, `DELETE FROM resource_attrs WHERE kind = ? AND (id = ? OR id LIKE ? ESCAPE '\')`, kind, prefix, escapeLike(prefix)+"/%"); err != nil {
		return 0, err
	}
	return t.exec(ctx, `DELETE FROM resources WHERE kind = ? AND (id = ? OR id LIKE ? ESCAPE '\')`, kind, prefix, escapeLike(prefix)+"/%")
}

func (t *sqlTx) Link(ctx context.Context, rel, a, b string) error {
	_, err := t.exec(ctx, "INSERT INTO links (rel, a, b) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", rel, a, b)
	return err
}

func (t *sqlTx) Unlink(ctx context.Context, rel, a, b string) (int, error) {
	q, args := "DELETE FROM links WHERE rel = ?", []any{rel}
	if a != "" {
		q += " AND a = ?"
		args = append(args, a)
	}
	if b != "" {
		q += " AND b = ?"
		args = append(args, b)
	}
	return t.exec(ctx, q, args...)
}

func (t *sqlTx) ClaimUnique(ctx context.Context, kind, name, value, owner string) error {
	var holder string
	err := t.q.QueryRowContext(ctx, t.d.rebind("SELECT owner FROM uniques WHERE kind = ? AND name = ? AND value = ?"), kind, name, value).Scan(&holder)
	switch {
	case err == nil && holder == owner:
		return nil
	case err == nil:
		return &UniqueError{Kind: kind, Name: name, Value: value, Owner: holder}
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if _, err := t.exec(ctx, "DELETE FROM uniques WHERE kind = ? AND name = ? AND owner = ?", kind, name, owner); err != nil {
		return err
	}
	_, err = t.exec(ctx, "INSERT INTO uniques (kind, name, value, owner) VALUES (?, ?, ?, ?)", kind, name, value, owner)
	return err
}

func (t *sqlTx) ReleaseUniques(ctx context.Context, kind, owner string) error {
	_, err := t.exec(ctx, "DELETE FROM uniques WHERE kind = ? AND owner = ?", kind, owner)
	return err
}

func (t *sqlTx) SetKeyHashes(ctx context.Context, subID string, hashes map[string]string) error {
	if _, err := t.exec(ctx, "DELETE FROM subscription_keys WHERE subscription_id = ?", subID); err != nil {
		return err
	}
	for which, h := range hashes {
		if h == "" {
			continue
		}
		if _, err := t.exec(ctx, "INSERT INTO subscription_keys (hash, subscription_id, which) VALUES (?, ?, ?)", h, subID, which); err != nil {
			return fmt.Errorf("store key hash of subscription %q: %w", subID, err)
		}
	}
	return nil
}

func (t *sqlTx) Audit(ctx context.Context, e AuditEntry) error {
	_, err := t.exec(ctx, "INSERT INTO audit_log (at, actor, actor_kind, actor_id, action, kind, path, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		t.now.UnixMicro(), e.Actor, e.ActorKind, e.ActorID, e.Action, e.Kind, e.Path, t.rev)
	return err
}
