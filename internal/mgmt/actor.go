package mgmt

import (
	"context"
	"encoding/hex"
)

// ActorKind says what kind of principal made a management change.
type ActorKind string

// Actor kinds, as the audit log's actorKind names them.
const (
	// ActorAdminToken is a caller holding the admin token: a client of the
	// REST API, or the console signed in with the token. Its ID is the
	// token's fingerprint.
	ActorAdminToken ActorKind = "adminToken"
	// ActorAdminUser is a member of the Administrators group signed in to
	// the admin console; ID is the user id.
	ActorAdminUser ActorKind = "adminUser"
	// ActorDeveloper is a developer acting through the developer portal
	// (signing up, confirming, subscribing, …); ID is the user id.
	ActorDeveloper ActorKind = "developer"
	// ActorGateway is a self-hosted gateway; ID is the gateway id.
	ActorGateway ActorKind = "gateway"
	// ActorSystem is Portico itself (seeding, migrations); ID is empty.
	ActorSystem ActorKind = "system"
)

// Actor is who makes a management change: it is written to the audit log
// with every change and to the log line of every write.
//
// A request over the network acts as the admin token it presents. A caller
// in the same process (the developer portal, the admin console) that holds
// the admin token may act on behalf of the user it has signed in: it puts
// the Actor in the request's context with WithActor. A context cannot be
// set from the network, so no remote caller can claim another actor.
type Actor struct {
	Kind ActorKind
	ID   string
}

// String is the actor as the audit log's older actor field spells it:
// "admin-token", "system", or kind:id ("developer:u1", "adminUser:1",
// "gateway:edge").
func (a Actor) String() string {
	switch a.Kind {
	case ActorAdminToken:
		return "admin-token"
	case ActorSystem, "":
		return "system"
	}
	return string(a.Kind) + ":" + a.ID
}

// valid reports whether a names a known kind, with the id that kind needs.
func (a Actor) valid() bool {
	switch a.Kind {
	case ActorAdminToken, ActorSystem:
		return true
	case ActorAdminUser, ActorDeveloper, ActorGateway:
		return a.ID != ""
	}
	return false
}

type actorKey struct{}

// WithActor returns a context that makes the management requests sent with
// it act as a (see Actor). The request must still present the admin token.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor that ctx carries, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// actor is who acts in ctx: ActorSystem when nobody is named (seeding).
func actor(ctx context.Context) Actor {
	if a, ok := ActorFrom(ctx); ok {
		return a
	}
	return Actor{Kind: ActorSystem}
}

// tokenFingerprint is the admin token's id in the audit log: the first 12
// hex digits of its SHA-256, which tells a rotated token from the previous
// one without revealing either.
func (s *Server) tokenFingerprint() string {
	return hex.EncodeToString(s.tokenHash[:6])
}
