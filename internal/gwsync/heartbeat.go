package gwsync

import "time"

// HeartbeatInterval is how often a gateway instance reports; after
// MissedHeartbeats intervals without one it is shown as disconnected.
const (
	HeartbeatInterval = 60 * time.Second
	MissedHeartbeats  = 3
	// TokenWarning is how long before its token expires an instance is
	// reported as token-expiring.
	TokenWarning = 7 * 24 * time.Hour
)

// Heartbeat events.
const (
	EventStart = "start"
	EventBeat  = "beat"
	EventStop  = "stop"
)

// Heartbeat is what an instance reports to POST /gateway/v1/heartbeat.
type Heartbeat struct {
	InstanceID    string    `json:"instanceId"`
	Hostname      string    `json:"hostname"`
	Version       string    `json:"version"`
	Revision      int64     `json:"revision"`
	UptimeSeconds int64     `json:"uptimeSeconds"`
	Requests      int64     `json:"requests"` // since the previous heartbeat
	TokenExpiry   time.Time `json:"tokenExpiry"`
	Event         string    `json:"event"`     // start, beat, stop
	SyncState     string    `json:"syncState"` // connected, disconnected, unauthorized
	FromBackup    bool      `json:"fromBackup,omitempty"`
}

// Instance statuses shown by GET /api/v1/gateways/{id}/instances.
const (
	StatusConnected     = "connected"
	StatusDisconnected  = "disconnected"
	StatusTokenExpiring = "token-expiring"
)

// InstanceView is one instance as the management API lists it.
type InstanceView struct {
	Heartbeat
	LastHeartbeat time.Time `json:"lastHeartbeat"`
	Status        string    `json:"status"`
}

// Status derives an instance's status from its last heartbeat: disconnected
// after a stop or MissedHeartbeats silent intervals, token-expiring when its
// token expires within TokenWarning, else connected.
func Status(hb Heartbeat, lastSeen, now time.Time) string {
	switch {
	case hb.Event == EventStop || now.Sub(lastSeen) > MissedHeartbeats*HeartbeatInterval:
		return StatusDisconnected
	case !hb.TokenExpiry.IsZero() && hb.TokenExpiry.Sub(now) < TokenWarning:
		return StatusTokenExpiring
	}
	return StatusConnected
}
