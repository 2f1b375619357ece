// Package web holds what the developer portal and the admin console share:
// server-side sessions, CSRF tokens, sign-in throttling, security headers,
// the outbox of e-mail messages, usage charts drawn from the reports API,
// SVG charts and the embedded base stylesheet. Both reach the management
// API through the typed in-process client, internal/mgmt/mgmtclient.
//
// Everything here keeps its state in memory: sessions, tokens and the
// outbox are lost when the process restarts (users sign in again; pending
// confirmation links must be requested again).
package web
