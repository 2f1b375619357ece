// Package telemetry holds Portico's request records and the machinery that
// moves them off the gateway's hot path: one Record per request (what APIM
// calls a GatewayLogs row), a bounded Queue that never blocks a request and
// groups records into Batches with stable ids, the JSON access log, and the
// latency histogram that lets reports compute percentiles from per-minute
// rollups.
//
// The life of a record:
//
//   - The gateway takes a zeroed Record from NewRecord once the response is
//     complete, fills it and hands it to a Queue (Queue.Record), which takes
//     ownership and returns at once: when the queue is full the record is
//     dropped and counted (portico_telemetry_dropped_records_total).
//   - The queue's goroutine (Queue.Run) writes the access log line, if any,
//     and appends the record to the current Batch; every BatchSize records or
//     FlushInterval it hands the batch to a Shipper: the store of the
//     management plane in portico serve, the on-disk buffer of a self-hosted
//     gateway's agent, which uploads it to POST /gateway/v1/telemetry.
//   - The store inserts a batch and its per-minute rollups in one transaction
//     keyed by the batch id, so a batch shipped twice is counted once.
//
// The package depends on nothing else in Portico.
package telemetry

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Record is one request as the gateway handled it. Durations are measured
// by the gateway; sizes are body bytes (headers are not counted).
type Record struct {
	// Time is when the gateway started handling the request (UTC).
	Time time.Time
	// RequestID is the request id sent to the backend and the client.
	RequestID string
	// GatewayID names the gateway ("managed" for the built-in one) and
	// InstanceID the process that served the request.
	GatewayID  string
	InstanceID string
	// APIID, OperationID, ProductID, SubscriptionID and UserID are what the
	// request matched; "" when nothing did.
	APIID          string
	OperationID    string
	ProductID      string
	SubscriptionID string
	UserID         string
	// ClientIP is the address of the caller (the TCP peer).
	ClientIP string
	// Method and URL are the request line as received; the subscription key
	// query parameter's value is masked whatever its case (see MaskQuery),
	// and so is the presented key wherever else it appears.
	Method string
	URL    string
	// ResponseCode is the status sent to the client (499 when the client
	// went away first); BackendResponseCode the status the backend answered
	// with, 0 when the request never got an answer from it.
	ResponseCode        int
	BackendResponseCode int
	// RequestSize and ResponseSize are the body bytes read from the client
	// and written to it.
	RequestSize  int64
	ResponseSize int64
	// TotalTime runs from receiving the request until the response was
	// complete; BackendTime is the time spent waiting for the backend's
	// response headers (summed over attempts); ClientTime is the time spent
	// writing the response to the client, from its headers to its end.
	TotalTime   time.Duration
	BackendTime time.Duration
	ClientTime  time.Duration
	// Cache is "none", "hit" or "miss" (response caching policies).
	Cache string
	// LastError* describe the error the request ended with, as APIM's
	// context.LastError: the source (policy or gateway stage), the section,
	// the stable reason and the message; all "" without an error.
	LastErrorSource  string
	LastErrorSection string
	LastErrorReason  string
	LastErrorMessage string
	// BackendURL is the URL the request was forwarded to; "" when it was not.
	BackendURL string
}

// Cache values of Record.Cache.
const (
	CacheNone = "none"
	CacheHit  = "hit"
	CacheMiss = "miss"
)

var recordPool = sync.Pool{New: func() any { return new(Record) }}

// NewRecord returns a zeroed Record, recycled when possible. Give it to a
// Queue (which takes ownership) or to Release.
func NewRecord() *Record { return recordPool.Get().(*Record) }

// Release zeroes r and recycles it; r must not be used afterwards.
func Release(r *Record) {
	*r = Record{}
	recordPool.Put(r)
}

// Outcome is the class of a request in reports.
type Outcome uint8

// Outcomes, in APIM's report terms.
const (
	// OutcomeSuccess: 1xx, 2xx and 3xx responses.
	OutcomeSuccess Outcome = iota
	// OutcomeBlocked: 401, 403 and 429 produced by Portico (a subscription
	// check, a rate limit, an access policy), not relayed from a backend.
	OutcomeBlocked
	// OutcomeFailed: 5xx responses, including backend failures (502, 504).
	OutcomeFailed
	// OutcomeOther: everything else (404, 400, a backend's own 4xx, clients
	// that went away).
	OutcomeOther
)

// NumOutcomes is the number of Outcome values.
const NumOutcomes = 4

var outcomeNames = [NumOutcomes]string{"success", "blocked", "failed", "other"}

// String returns "success", "blocked", "failed" or "other".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "other"
}

// Outcome classifies the record.
func (r *Record) Outcome() Outcome {
	s := r.ResponseCode
	switch {
	case s >= 500 && s < 600:
		return OutcomeFailed
	case s == http.StatusUnauthorized || s == http.StatusForbidden || s == http.StatusTooManyRequests:
		if r.BackendResponseCode == 0 || r.LastErrorReason != "" {
			return OutcomeBlocked
		}
		return OutcomeOther
	case s >= 100 && s < 400:
		return OutcomeSuccess
	}
	return OutcomeOther
}

// Served reports whether the request got an answer from a backend, which
// is when BackendTime counts as service time in reports.
func (r *Record) Served() bool { return r.BackendResponseCode != 0 || r.BackendTime > 0 }

// Limits applied by Sanitize.
const (
	MaxIDLength      = 256
	MaxURLLength     = 2048
	MaxMessageLength = 1024
)

// Sanitize bounds the record's strings (ids and method to MaxIDLength, URLs
// to MaxURLLength, the error message to MaxMessageLength, all valid UTF-8)
// and its numbers (no negative sizes or durations), so that a record from
// an untrusted gateway cannot bloat the store.
func (r *Record) Sanitize() {
	for _, p := range []*string{&r.RequestID, &r.GatewayID, &r.InstanceID, &r.APIID, &r.OperationID, &r.ProductID,
		&r.SubscriptionID, &r.UserID, &r.ClientIP, &r.Method, &r.Cache, &r.LastErrorSource, &r.LastErrorSection, &r.LastErrorReason} {
		*p = clip(*p, MaxIDLength)
	}
	r.URL = clip(r.URL, MaxURLLength)
	r.BackendURL = clip(r.BackendURL, MaxURLLength)
	r.LastErrorMessage = clip(r.LastErrorMessage, MaxMessageLength)
	r.RequestSize, r.ResponseSize = max(r.RequestSize, 0), max(r.ResponseSize, 0)
	r.TotalTime, r.BackendTime, r.ClientTime = max(r.TotalTime, 0), max(r.BackendTime, 0), max(r.ClientTime, 0)
	if r.ResponseCode < 0 || r.ResponseCode > 999 {
		r.ResponseCode = 0
	}
	if r.BackendResponseCode < 0 || r.BackendResponseCode > 999 {
		r.BackendResponseCode = 0
	}
	if r.Cache == "" {
		r.Cache = CacheNone
	}
	r.Time = r.Time.UTC()
}

func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// MaskQuery returns rawQuery with the value of every parameter whose
// decoded name is one of names, compared case-insensitively, replaced by
// "***" (so subscription keys never reach logs, traces or the store,
// whatever the case a client spelt the parameter in). Other pairs are kept
// byte for byte. It returns rawQuery itself, without allocating, when there
// is nothing to mask.
func MaskQuery(rawQuery string, names ...string) string {
	if rawQuery == "" || len(names) == 0 {
		return rawQuery
	}
	var b []byte
	for rest, start := rawQuery, 0; ; {
		pair, after, more := strings.Cut(rest, "&")
		k, v, hasValue := strings.Cut(pair, "=")
		switch {
		case hasValue && v != "" && paramNameIsAny(k, names):
			if b == nil {
				b = make([]byte, 0, len(rawQuery)+3)
				b = append(b, rawQuery[:start]...)
			}
			b = append(b, k...)
			b = append(b, "=***"...)
		case b != nil:
			b = append(b, pair...)
		}
		if !more {
			break
		}
		if b != nil {
			b = append(b, '&')
		}
		start += len(pair) + 1
		rest = after
	}
	if b == nil {
		return rawQuery
	}
	return string(b)
}

// paramNameIsAny reports whether the escaped query name k decodes to one of
// names, ignoring case.
func paramNameIsAny(k string, names []string) bool {
	if strings.ContainsAny(k, "%+") {
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return false
		}
		k = dk
	}
	for _, n := range names {
		if n != "" && strings.EqualFold(k, n) {
			return true
		}
	}
	return false
}

// AppendJSON appends r as one JSON object (no newline) to b. Times are RFC
// 3339 in UTC, durations milliseconds with microsecond precision. The field
// names are those of the access log, the byRequest report and the
// /gateway/v1/telemetry protocol.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendStr(b, "requestId", r.RequestID)
	b = appendStr(b, "gatewayId", r.GatewayID)
	b = appendStr(b, "instanceId", r.InstanceID)
	b = appendStr(b, "apiId", r.APIID)
	b = appendStr(b, "operationId", r.OperationID)
	b = appendStr(b, "productId", r.ProductID)
	b = appendStr(b, "subscriptionId", r.SubscriptionID)
	b = appendStr(b, "userId", r.UserID)
	b = appendStr(b, "clientIp", r.ClientIP)
	b = appendStr(b, "method", r.Method)
	b = appendStr(b, "url", r.URL)
	b = appendInt(b, "responseCode", int64(r.ResponseCode))
	b = appendInt(b, "backendResponseCode", int64(r.BackendResponseCode))
	b = appendInt(b, "requestSize", r.RequestSize)
	b = appendInt(b, "responseSize", r.ResponseSize)
	b = appendMillis(b, "totalTime", r.TotalTime)
	b = appendMillis(b, "backendTime", r.BackendTime)
	b = appendMillis(b, "clientTime", r.ClientTime)
	cache := r.Cache
	if cache == "" {
		cache = CacheNone
	}
	b = appendStr(b, "cache", cache)
	b = appendStr(b, "lastErrorSource", r.LastErrorSource)
	b = appendStr(b, "lastErrorSection", r.LastErrorSection)
	b = appendStr(b, "lastErrorReason", r.LastErrorReason)
	b = appendStr(b, "lastErrorMessage", r.LastErrorMessage)
	b = appendStr(b, "backendUrl", r.BackendURL)
	return append(b, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (r Record) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// wireRecord is the JSON form of a Record for decoding.
type wireRecord struct {
	Time                time.Time `json:"time"`
	RequestID           string    `json:"requestId"`
	GatewayID           string    `json:"gatewayId"`
	InstanceID          string    `json:"instanceId"`
	APIID               string    `json:"apiId"`
	OperationID         string    `json:"operationId"`
	ProductID           string    `json:"productId"`
	SubscriptionID      string    `json:"subscriptionId"`
	UserID              string    `json:"userId"`
	ClientIP            string    `json:"clientIp"`
	Method              string    `json:"method"`
	URL                 string    `json:"url"`
	ResponseCode        int       `json:"responseCode"`
	BackendResponseCode int       `json:"backendResponseCode"`
	RequestSize         int64     `json:"requestSize"`
	ResponseSize        int64     `json:"responseSize"`
	TotalTime           float64   `json:"totalTime"`
	BackendTime         float64   `json:"backendTime"`
	ClientTime          float64   `json:"clientTime"`
	Cache               string    `json:"cache"`
	LastErrorSource     string    `json:"lastErrorSource"`
	LastErrorSection    string    `json:"lastErrorSection"`
	LastErrorReason     string    `json:"lastErrorReason"`
	LastErrorMessage    string    `json:"lastErrorMessage"`
	BackendURL          string    `json:"backendUrl"`
}

// UnmarshalJSON implements json.Unmarshaler for the form AppendJSON writes.
func (r *Record) UnmarshalJSON(data []byte) error {
	var w wireRecord
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*r = Record{Time: w.Time, RequestID: w.RequestID, GatewayID: w.GatewayID, InstanceID: w.InstanceID,
		APIID: w.APIID, OperationID: w.OperationID, ProductID: w.ProductID, SubscriptionID: w.SubscriptionID, UserID: w.UserID,
		ClientIP: w.ClientIP, Method: w.Method, URL: w.URL, ResponseCode: w.ResponseCode, BackendResponseCode: w.BackendResponseCode,
		RequestSize: w.RequestSize, ResponseSize: w.ResponseSize,
		TotalTime: fromMillis(w.TotalTime), BackendTime: fromMillis(w.BackendTime), ClientTime: fromMillis(w.ClientTime),
		Cache: w.Cache, LastErrorSource: w.LastErrorSource, LastErrorSection: w.LastErrorSection,
		LastErrorReason: w.LastErrorReason, LastErrorMessage: w.LastErrorMessage, BackendURL: w.BackendURL}
	return nil
}

// fromMillis converts milliseconds (microsecond precision) to a Duration.
func fromMillis(ms float64) time.Duration {
	us := ms * 1000
	if us < 0 {
		return 0
	}
	return time.Duration(us+0.5) * time.Microsecond
}

// Millis renders d in milliseconds with microsecond precision.
func Millis(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

func appendMillis(b []byte, name string, d time.Duration) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	b = strconv.AppendInt(b, us/1000, 10)
	if frac := us % 1000; frac != 0 {
		b = append(b, '.')
		b = append(b, byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return b
}

func appendInt(b []byte, name string, v int64) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return strconv.AppendInt(b, v, 10)
}

func appendStr(b []byte, name, v string) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return AppendQuoted(b, v)
}

const hexDigits = "0123456789abcdef"

// AppendQuoted appends s as a JSON string. Control characters, quotes and
// backslashes are escaped and invalid UTF-8 becomes U+FFFD, so the output is
// always valid JSON and a line never breaks.
func AppendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
