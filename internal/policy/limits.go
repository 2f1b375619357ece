package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Counters keeps the state of rate-limit, quota and limit-concurrency. It
// outlives snapshots: keys are built from stable ids (the scope and path of
// the policy, the subscription id or the counter key), so a reload never
// resets a counter. Implementations must be safe for concurrent use.
//
// ctx is the request's context. A call that needs a remote store (Redis)
// stops when ctx ends and returns ctx's error; that is the only error:
// an implementation answers a failure of its store itself (counter.Redis
// counts locally then), so that policies neither admit nor refuse calls
// because a store failed.
type Counters interface {
	// Take adds n to the counter of key when the sum stays within limit.
	// The counter lives in a window of length period that starts at its
	// first call. ok tells whether n was taken; count is the counter after
	// the call and reset the end of its window.
	Take(ctx context.Context, key string, n, limit int64, period time.Duration, now time.Time) (ok bool, count int64, reset time.Time, err error)
	// Peek returns the counter of key without changing it.
	Peek(ctx context.Context, key string, period time.Duration, now time.Time) (count int64, reset time.Time, err error)
	// Acquire takes one of max concurrent slots of key; Release returns it.
	// Release is never abandoned when ctx ends (a slot must come back).
	Acquire(ctx context.Context, key string, max int64) (bool, error)
	Release(ctx context.Context, key string)
}

// requestEnded is the error of a step that stopped waiting because the
// request's context ended (err is its ctx.Err()) while it was doing what
// during says: a timeout when the request's time ran out
// (--request-timeout), as when it runs out during forward-request, and 499
// (recorded, never sent) when the client went away or the gateway is
// stopping. Any other err is returned as it is (the runner answers 500):
// Counters and Cache return no other, but a new implementation might.
func requestEnded(err error, during string) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusGatewayTimeout, Reason: ReasonTimeout,
			Message: "Gateway timeout: the request's time ran out while " + during + ".", Err: err}
	case errors.Is(err, context.Canceled):
		return &Error{Status: StatusClientClosedRequest, Reason: ReasonClientConnectionFailure,
			Message: "The request was cancelled while " + during + ".", Err: err}
	}
	return err
}

// MemoryCounters are Counters held in the process. The zero value is not
// usable; call NewMemoryCounters.
type MemoryCounters struct {
	mu      sync.Mutex
	windows map[string]*window
	slots   map[string]int64
	ops     int
}

type window struct {
	start  time.Time
	period time.Duration
	count  int64
}

// NewMemoryCounters returns empty in-memory counters.
func NewMemoryCounters() *MemoryCounters {
	return &MemoryCounters{windows: map[string]*window{}, slots: map[string]int64{}}
}

// current returns the live window of key, starting a new one when the old
// one ended. The caller holds mu.
func (m *MemoryCounters) current(key string, period time.Duration, now time.Time) *window {
	m.ops++
	if m.ops%4096 == 0 {
		for k, w := range m.windows {
			if !now.Before(w.start.Add(w.period)) {
				delete(m.windows, k)
			}
		}
	}
	w := m.windows[key]
	if w == nil || !now.Before(w.start.Add(w.period)) || w.period != period {
		w = &window{start: now, period: period}
		m.windows[key] = w
	}
	return w
}

// Take implements Counters. It never waits, so it ignores ctx and never
// fails.
func (m *MemoryCounters) Take(_ context.Context, key string, n, limit int64, period time.Duration, now time.Time) (bool, int64, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.current(key, period, now)
	if w.count+n > limit {
		return false, w.count, w.start.Add(period), nil
	}
	w.count += n
	return true, w.count, w.start.Add(period), nil
}

// Peek implements Counters; like Take it ignores ctx.
func (m *MemoryCounters) Peek(_ context.Context, key string, period time.Duration, now time.Time) (int64, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.current(key, period, now)
	return w.count, w.start.Add(period), nil
}

// Acquire implements Counters; like Take it ignores ctx.
func (m *MemoryCounters) Acquire(_ context.Context, key string, max int64) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.slots[key] >= max {
		return false, nil
	}
	m.slots[key]++
	return true, nil
}

// Release implements Counters.
func (m *MemoryCounters) Release(_ context.Context, key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.slots[key]--; m.slots[key] <= 0 {
		delete(m.slots, key)
	}
}

// limitHeaders are the optional header and variable names of rate-limit
// and rate-limit-by-key.
type limitHeaders struct {
	retryHeader, retryVar, remainingHeader, remainingVar, totalHeader string
}

func readLimitHeaders(b *Builder) limitHeaders {
	return limitHeaders{
		retryHeader: b.Str("retry-after-header-name", false), retryVar: b.Str("retry-after-variable-name", false),
		remainingHeader: b.Str("remaining-calls-header-name", false), remainingVar: b.Str("remaining-calls-variable-name", false),
		totalHeader: b.Str("total-calls-header-name", false),
	}
}

// limit is the shared logic of rate-limit, rate-limit-by-key, quota and
// quota-by-key.
type limit struct {
	StepInfo
	quota     bool
	byKey     bool
	calls     Value // absent (quota with bandwidth only): no call limit
	period    Value
	bandwidth Value // quota: kilobytes of request and response bodies
	key       Value // by-key: counter-key
	condition Value // by-key: increment-condition
	hasCond   bool
	count     Value // rate-limit-by-key: increment-count
	hdr       limitHeaders
	nested    []nestedLimit // rate-limit, quota: <api> and <operation>
}

// nestedLimit is an <api> or <operation> element of rate-limit or quota:
// a limit of its own, counted per subscription and API (or operation), that
// applies to calls of that API (or operation of that API) on top of the
// outer limit.
type nestedLimit struct {
	api, op          bool   // what it matches; op implies the parent API matched
	apiID, apiName   string // the API (for an operation, of its parent)
	opID, opName     string
	calls, bandwidth int64 // 0 when absent
	period           int64 // seconds
}

// matches reports whether the nested limit applies to the call.
func (n *nestedLimit) matches(c *Context) bool {
	if !matchRef(n.apiID, n.apiName, c.API.ID, c.API.Name) {
		return false
	}
	return !n.op || matchRef(n.opID, n.opName, c.Operation.ID, c.Operation.Name)
}

// matchRef matches an id (when given) or else a name.
func matchRef(id, name, gotID, gotName string) bool {
	if id != "" {
		return id == gotID
	}
	return name != "" && name == gotName
}

func newRateLimit(b *Builder) (Step, error)      { return newLimit(b, false, false) }
func newRateLimitByKey(b *Builder) (Step, error) { return newLimit(b, false, true) }
func newQuota(b *Builder) (Step, error)          { return newLimit(b, true, false) }
func newQuotaByKey(b *Builder) (Step, error)     { return newLimit(b, true, true) }

func newLimit(b *Builder, quota, byKey bool) (Step, error) {
	s := &limit{StepInfo: b.Info(), quota: quota, byKey: byKey}
	if byKey {
		s.calls, s.period = b.Val("calls", !quota), b.Val("renewal-period", true)
		s.key = b.Val("counter-key", true)
		s.hasCond = b.Has("increment-condition")
		s.condition = b.Val("increment-condition", false)
		if !quota {
			s.count = b.Val("increment-count", false)
		}
	} else {
		if b.Has("calls") || !quota {
			s.calls = Literal(strconv.FormatInt(b.Int("calls", true, 0, 1), 10))
		}
		s.period = Literal(strconv.FormatInt(b.Int("renewal-period", true, 0, 1), 10))
	}
	if quota {
		if byKey {
			s.bandwidth = b.Val("bandwidth", false)
		} else if b.Has("bandwidth") {
			s.bandwidth = Literal(strconv.FormatInt(b.Int("bandwidth", true, 0, 1), 10))
		}
		if !b.Has("calls") && !b.Has("bandwidth") {
			b.Errorf("", "attribute \"calls\" or \"bandwidth\" is required")
		}
		if byKey && b.Has("first-period-start") {
			b.Str("first-period-start", false)
			b.Errorf("first-period-start", "attribute \"first-period-start\" is not supported by Portico yet")
		}
	} else {
		s.hdr = readLimitHeaders(b)
	}
	for _, a := range []string{"calls", "renewal-period", "increment-count", "bandwidth"} {
		v := s.calls
		switch a {
		case "renewal-period":
			v = s.period
		case "increment-count":
			v = s.count
		case "bandwidth":
			v = s.bandwidth
		}
		if b.Err() == nil && b.Has(a) && v.IsLiteral() {
			if n, err := v.Int(nil); err != nil || n < 1 {
				b.Errorf(a, "attribute %q must be a positive integer", a)
			}
		}
	}
	if byKey {
		if len(b.Node().Children) > 0 && b.Err() == nil {
			ch := b.Node().Children[0]
			b.err = &CompileError{Path: b.path + "/" + ch.Name, Line: ch.Line, Col: ch.Col,
				Msg: fmt.Sprintf("<%s> takes no child elements (per-API and per-operation limits belong to <%s>)", b.Node().Name, b.Node().Name[:len(b.Node().Name)-len("-by-key")])}
		}
		return s, b.Err()
	}
	for _, ab := range b.Children("api") {
		api := readNested(ab, quota, nestedLimit{api: true})
		s.nested = append(s.nested, api)
		for _, ob := range ab.Children("operation") {
			op := readNested(ob, quota, nestedLimit{api: true, op: true, apiID: api.apiID, apiName: api.apiName})
			s.nested = append(s.nested, op)
			ab.Close(ob)
		}
		b.Close(ab)
	}
	return s, b.Err()
}

// readNested reads an <api> or <operation> element into n.
func readNested(ch *Builder, quota bool, n nestedLimit) nestedLimit {
	id, name := ch.Str("id", false), ch.Str("name", false)
	if id == "" && name == "" {
		ch.Errorf("", "attribute \"id\" or \"name\" is required")
	}
	if n.op {
		n.opID, n.opName = id, name
	} else {
		n.apiID, n.apiName = id, name
	}
	n.calls = ch.Int("calls", !quota, 0, 1)
	n.period = ch.Int("renewal-period", true, 0, 1)
	if quota {
		n.bandwidth = ch.Int("bandwidth", false, 0, 1)
		if n.calls == 0 && n.bandwidth == 0 && ch.Err() == nil {
			ch.Errorf("", "attribute \"calls\" or \"bandwidth\" is required")
		}
	}
	if !n.op {
		return n
	}
	ch.NoChildren()
	return n
}

func (s *limit) describe() string {
	var d string
	if s.calls.src != "" {
		d = fmt.Sprintf("calls=%s ", q(s.calls))
	}
	if s.bandwidth.src != "" {
		d += fmt.Sprintf("bandwidth=%s ", q(s.bandwidth))
	}
	d += "renewal-period=" + q(s.period)
	if s.byKey {
		d += " counter-key=" + q(s.key)
		if s.hasCond {
			d += " increment-condition=" + q(s.condition)
		}
	}
	for _, n := range s.nested {
		what, id, name := "api", n.apiID, n.apiName
		if n.op {
			what, id, name = "operation", n.opID, n.opName
		}
		d += fmt.Sprintf(" %s(id=%q name=%q calls=%d bandwidth=%d renewal-period=%d)", what, id, name, n.calls, n.bandwidth, n.period)
	}
	return d
}

// limitCheck is one counter a call is held to: the outer limit or a
// matching nested one. A zero calls or bytes means no such limit.
type limitCheck struct {
	key    string
	calls  int64
	bytes  int64 // bandwidth in bytes
	period time.Duration
}

// checks returns the counters the call is held to, outer first.
func (s *limit) checks(c *Context) ([]limitCheck, error) {
	var calls, kb int64
	var err error
	if s.calls.src != "" {
		if calls, err = s.calls.Int(c); err != nil {
			return nil, err
		}
	}
	if s.bandwidth.src != "" {
		if kb, err = s.bandwidth.Int(c); err != nil {
			return nil, err
		}
	}
	secs, err := s.period.Int(c)
	if err != nil {
		return nil, err
	}
	kind := "rate-limit"
	if s.quota {
		kind = "quota"
	}
	var key string
	if s.byKey {
		k, err := s.key.String(c)
		if err != nil {
			return nil, err
		}
		key = kind + "-by-key\x00" + k
	} else {
		key = kind + "\x00" + s.Scope + "\x00" + s.Path + "\x00" + c.Subscription.ID
	}
	out := []limitCheck{{key: key, calls: calls, bytes: kb * 1024, period: time.Duration(secs) * time.Second}}
	for i := range s.nested {
		n := &s.nested[i]
		if !n.matches(c) {
			continue
		}
		k := key + "\x00api\x00" + c.API.ID
		if n.op {
			k += "\x00operation\x00" + c.Operation.ID
		}
		out = append(out, limitCheck{key: k, calls: n.calls, bytes: n.bandwidth * 1024, period: time.Duration(n.period) * time.Second})
	}
	return out, nil
}

func (s *limit) Apply(c *Context) error {
	if c.Counters == nil {
		return nil
	}
	checks, err := s.checks(c)
	if err != nil {
		return err
	}
	n := int64(1)
	if s.count.src != "" {
		if n, err = s.count.Int(c); err != nil {
			return err
		}
	}
	ctx := c.requestContext()
	now := c.now()
	// With several counters, look first, so that a call refused by one
	// counter is not counted by the others (two calls racing may both pass
	// the look; Take still holds each counter to its limit). A single
	// counter is only taken: one round trip for shared counters.
	refused, tightest := -1, -1
	var counts []int64
	var resets []time.Time
	for i, ch := range checks {
		count, reset := int64(0), now.Add(ch.period)
		if ch.calls > 0 && (s.hasCond || len(checks) > 1) {
			if count, reset, err = c.Counters.Peek(ctx, ch.key, ch.period, now); err != nil {
				return s.counterError(err)
			}
			if (s.hasCond && count >= ch.calls) || (!s.hasCond && count+n > ch.calls) {
				refused = i
			}
		}
		if ch.bytes > 0 {
			used, r, err := c.Counters.Peek(ctx, ch.key+"\x00bytes", ch.period, now)
			if err != nil {
				return s.counterError(err)
			}
			if used >= ch.bytes {
				refused, reset = i, r
			}
		}
		counts, resets = append(counts, count), append(resets, reset)
		if refused >= 0 {
			break
		}
	}
	if refused < 0 && !s.hasCond {
		for i, ch := range checks {
			if ch.calls == 0 {
				continue
			}
			ok, count, reset, err := c.Counters.Take(ctx, ch.key, n, ch.calls, ch.period, now)
			if err != nil {
				return s.counterError(err)
			}
			counts[i], resets[i] = count, reset
			if !ok {
				refused = i
				break
			}
		}
	}
	if refused < 0 {
		if s.hasCond {
			cond := s.condition
			c.atEnd(func(c *Context) {
				if inc, err := cond.Bool(c); err == nil && inc {
					ctx := context.WithoutCancel(c.requestContext()) // the call happened: count it
					for _, ch := range checks {
						if ch.calls > 0 {
							c.Counters.Take(ctx, ch.key, n, math.MaxInt64, ch.period, c.now()) //nolint:errcheck // ctx never ends
						}
					}
				}
			})
		}
		s.meter(c, checks)
	}
	for i, ch := range checks {
		if ch.calls > 0 && i < len(counts) && (tightest < 0 || ch.calls-counts[i] < checks[tightest].calls-counts[tightest]) {
			tightest = i
		}
	}
	if !s.quota && tightest >= 0 {
		calls, count := checks[tightest].calls, counts[tightest]
		if s.hdr.remainingVar != "" {
			c.SetVar(s.hdr.remainingVar, int(max(calls-count, 0)))
		}
		if h := s.hdr.remainingHeader; h != "" {
			rem := strconv.FormatInt(max(calls-count, 0), 10)
			c.atEnd(func(c *Context) { setHeaderOn(c, h, rem) })
		}
		if h := s.hdr.totalHeader; h != "" {
			tot := strconv.FormatInt(calls, 10)
			c.atEnd(func(c *Context) { setHeaderOn(c, h, tot) })
		}
	}
	if refused < 0 {
		return nil
	}
	wait := resets[refused].Sub(now)
	retry := int64(math.Ceil(wait.Seconds()))
	if retry < 1 {
		retry = 1
	}
	if s.quota {
		return &Error{Status: http.StatusForbidden, Source: s.Name, Reason: ReasonQuotaExceeded,
			Message: "Out of call volume quota. Quota will be replenished in " + timeSpan(wait) + "."}
	}
	if s.hdr.retryVar != "" {
		c.SetVar(s.hdr.retryVar, int(retry))
	}
	e := &Error{Status: http.StatusTooManyRequests, Source: s.Name, Reason: ReasonRateLimitExceeded,
		Message: fmt.Sprintf("Rate limit is exceeded. Try again in %d seconds.", retry),
		Header:  http.Header{"Retry-After": {strconv.FormatInt(retry, 10)}}}
	if h := s.hdr.retryHeader; h != "" {
		e.Header.Set(h, strconv.FormatInt(retry, 10))
	}
	return e
}

// counterError is the error of the step when a counter call failed: the
// request's context ended (the only error Counters return).
func (s *limit) counterError(err error) error {
	during := "the rate-limit counters were consulted"
	if s.quota {
		during = "the quota counters were consulted"
	}
	return requestEnded(err, during)
}

// meter counts the request and response bodies of a call against the
// bandwidth of the checks that have one, when the increment-condition (if
// any) holds at the end of the pipeline. The request body is counted as the
// backend reads it; the response body as the client is sent it, when the
// gateway closes it (or at the end of the pipeline when it is held in
// memory).
func (s *limit) meter(c *Context, checks []limitCheck) {
	var bw []limitCheck
	for _, ch := range checks {
		if ch.bytes > 0 {
			bw = append(bw, ch)
		}
	}
	if len(bw) == 0 {
		return
	}
	req := &atomic.Int64{}
	if b := &c.Request.Body; b.buffered {
		req.Add(int64(len(b.data)))
	} else if b.stream != nil {
		b.stream = &countingBody{rc: b.stream, n: req}
	}
	c.atEnd(func(c *Context) {
		if s.hasCond {
			if inc, err := s.condition.Bool(c); err != nil || !inc {
				return
			}
		}
		counters := c.Counters
		// The bytes were sent: they count even when the request has ended.
		ctx := context.WithoutCancel(c.requestContext())
		record := func(res int64) {
			now := c.now()
			for _, ch := range bw {
				counters.Take(ctx, ch.key+"\x00bytes", req.Load()+res, math.MaxInt64, ch.period, now) //nolint:errcheck // ctx never ends
			}
		}
		switch b := &c.Response.Body; {
		case b.buffered:
			record(int64(len(b.data)))
		case b.stream != nil:
			b.stream = &countingBody{rc: b.stream, n: &atomic.Int64{}, done: record}
		default:
			record(0)
		}
	})
}

// countingBody counts the bytes read through it into n and, when it has a
// done function, calls it once with the count on Close.
type countingBody struct {
	rc   io.ReadCloser
	n    *atomic.Int64
	done func(n int64)
	once sync.Once
}

func (b *countingBody) Read(p []byte) (int, error) {
	k, err := b.rc.Read(p)
	b.n.Add(int64(k))
	return k, err
}

func (b *countingBody) Close() error {
	err := b.rc.Close()
	if b.done != nil {
		b.once.Do(func() { b.done(b.n.Load()) })
	}
	return err
}

func setHeaderOn(c *Context, name, v string) {
	if c.Response.Header == nil {
		c.Response.Header = http.Header{}
	}
	c.Response.Header.Set(name, v)
}

// timeSpan formats d as .NET formats a TimeSpan: [d.]hh:mm:ss.
func timeSpan(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	secs := int64(math.Ceil(d.Seconds()))
	days, secs := secs/86400, secs%86400
	s := fmt.Sprintf("%02d:%02d:%02d", secs/3600, secs%3600/60, secs%60)
	if days > 0 {
		s = strconv.FormatInt(days, 10) + "." + s
	}
	return s
}

// limitConcurrency is <limit-concurrency key max-count> around policies:
// at most max-count requests with the same key run them at once; others
// get 429.
type limitConcurrency struct {
	StepInfo
	key   Value
	max   int64
	steps []Step
}

func newLimitConcurrency(b *Builder) (Step, error) {
	s := &limitConcurrency{StepInfo: b.Info(), key: b.Val("key", true), max: b.Int("max-count", true, 0, 1)}
	s.steps = b.Steps()
	return s, b.Err()
}

func (s *limitConcurrency) describe() string {
	return fmt.Sprintf("key=%s max-count=%d", q(s.key), s.max)
}

func (s *limitConcurrency) branches() []branch { return []branch{{label: "policies", steps: s.steps}} }

func (s *limitConcurrency) Apply(c *Context) error {
	if c.Counters == nil {
		return runSteps(c, s.steps)
	}
	k, err := s.key.String(c)
	if err != nil {
		return err
	}
	k = "limit-concurrency\x00" + k
	ctx := c.requestContext()
	ok, err := c.Counters.Acquire(ctx, k, s.max)
	if err != nil {
		return requestEnded(err, "a limit-concurrency slot was taken")
	}
	if !ok {
		return &Error{Status: http.StatusTooManyRequests, Reason: ReasonConcurrencyLimitExceeded, Message: "Too many concurrent requests. Try again later."}
	}
	defer c.Counters.Release(context.WithoutCancel(ctx), k)
	return runSteps(c, s.steps)
}
