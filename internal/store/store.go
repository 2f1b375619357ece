// Package store persists Portico's configuration in a SQL database: SQLite
// (embedded, pure Go) by default, PostgreSQL for several management replicas.
//
// Resources are stored as validated JSON documents keyed by (kind, parent, id);
// links (product→API, group→user, …), unique claims (API paths, user emails),
// subscription key hashes and the audit log have their own tables. Every write
// runs in one transaction through Store.Update, which also bumps the monotonic
// config revision: the revision a transaction commits with is greater than that
// of every transaction committed before it.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned when a resource does not exist.
var ErrNotFound = errors.New("not found")

// UniqueError is returned by ClaimUnique when another owner holds the value.
type UniqueError struct {
	Kind, Name, Value, Owner string
}

func (e *UniqueError) Error() string {
	return fmt.Sprintf("%s %s %q is already used by %s", e.Kind, e.Name, e.Value, e.Owner)
}

// Record is one stored resource. Doc is the resource's JSON document; ETag
// changes on every write of the record.
type Record struct {
	Kind, Parent, ID string
	DisplayName      string
	Doc              []byte
	// Attrs are indexed properties of the record that List filters on
	// (besides id and displayName). Put replaces them with the given map.
	Attrs            map[string]string
	ETag             string
	Revision         int64
	Created, Updated time.Time
}

// Filter restricts a list. Field is "id", "displayName" or the name of one of
// the records' Attrs; Op is "eq", "ne", "contains" or "startswith".
// Comparisons on id and displayName are case-insensitive, on Attrs exact
// (contains and startswith are case-insensitive everywhere).
type Filter struct {
	Field, Op, Value string
}

// ListOptions pages and filters a list; Top <= 0 means no limit.
type ListOptions struct {
	Top, Skip int
	Filters   []Filter
}

// AuditEntry records one change: who did what to which resource path, and
// the config revision it committed with. ActorKind and ActorID say who acted
// (e.g. "developer" and the user's id); Actor is the same as one string
// ("admin-token", "system", "developer:{id}", …), as entries have always
// carried it.
type AuditEntry struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	ActorKind string    `json:"actorKind"`
	ActorID   string    `json:"actorId"`
	Action    string    `json:"action"`
	Kind      string    `json:"kind"`
	Path      string    `json:"path"`
	Revision  int64     `json:"revision"`
}

// Instance is the last heartbeat of one gateway instance. Doc is the
// heartbeat document as the gateway sent it.
type Instance struct {
	GatewayID  string
	InstanceID string
	Doc        []byte
	LastSeen   time.Time
}

// Reader reads resources. Implementations are safe for concurrent use; a
// Reader obtained inside Update or View sees that transaction's state.
type Reader interface {
	Get(ctx context.Context, kind, parent, id string) (Record, error)
	// List returns one page of records of kind under parent ordered by id,
	// and the total count matching the filters. parent "*" lists all parents.
	List(ctx context.Context, kind, parent string, opt ListOptions) ([]Record, int, error)
	// Links returns the b ends of rel for a (or, with reverse, the a ends for b).
	Links(ctx context.Context, rel, end string, reverse bool) ([]string, error)
	HasLink(ctx context.Context, rel, a, b string) (bool, error)
	// AllLinks returns every (a, b) pair of rel, ordered by a then b.
	AllLinks(ctx context.Context, rel string) ([][2]string, error)
	// SubscriptionByKeyHash returns the subscription id holding the key whose
	// hex SHA-256 is hash, and which key it is ("primary" or "secondary").
	SubscriptionByKeyHash(ctx context.Context, hash string) (id, which string, err error)
}

// Tx is a write transaction. Its methods must only be called from the
// function given to Update, and not after it returns.
type Tx interface {
	Reader
	// Revision is the config revision this transaction commits with.
	Revision() int64
	// Put creates or replaces rec and returns it with ETag, Revision and
	// timestamps set.
	Put(ctx context.Context, rec Record) (Record, error)
	// Delete removes one record; ErrNotFound when absent.
	Delete(ctx context.Context, kind, parent, id string) error
	// DeleteAll removes every record of kind under parent and returns how many.
	DeleteAll(ctx context.Context, kind, parent string) (int, error)
	// DeleteIDPrefix removes the records of kind whose id is prefix or starts
	// with prefix + "/".
	DeleteIDPrefix(ctx context.Context, kind, prefix string) (int, error)
	Link(ctx context.Context, rel, a, b string) error
	// Unlink removes links of rel; an empty a or b matches any value.
	Unlink(ctx context.Context, rel, a, b string) (int, error)
	// ClaimUnique records that owner holds value for (kind, name), releasing
	// any other value owner held for it. Values are compared exactly: callers
	// canonicalise (e.g. lower-case) first.
	ClaimUnique(ctx context.Context, kind, name, value, owner string) error
	// ReleaseUniques drops every claim of owner for kind.
	ReleaseUniques(ctx context.Context, kind, owner string) error
	// SetKeyHashes replaces the key hashes of a subscription (which -> hash).
	SetKeyHashes(ctx context.Context, subscriptionID string, hashes map[string]string) error
	Audit(ctx context.Context, e AuditEntry) error
}

// Store is the configuration database; it also keeps request telemetry.
type Store interface {
	Reader
	Telemetry
	// Update runs fn in one write transaction that bumps the config revision.
	// When fn returns an error nothing is written and that error is returned.
	Update(ctx context.Context, fn func(Tx) error) (revision int64, err error)
	// View runs fn over a consistent read-only view.
	View(ctx context.Context, fn func(Reader) error) error
	// Revision returns the last committed config revision.
	Revision(ctx context.Context) (int64, error)
	// AuditLog lists audit entries, newest first.
	AuditLog(ctx context.Context, top, skip int) ([]AuditEntry, int, error)
	// RecordInstance stores a gateway instance's heartbeat. It is not a
	// configuration change: the config revision does not move.
	RecordInstance(ctx context.Context, in Instance) error
	// Instances lists the instances of a gateway that have reported, by id.
	Instances(ctx context.Context, gatewayID string) ([]Instance, error)
	// DeleteInstances forgets every instance of a gateway.
	DeleteInstances(ctx context.Context, gatewayID string) error
	// Dialect names the backing database: "sqlite" or "postgres".
	Dialect() string
	Close() error
}
