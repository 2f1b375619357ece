package policy

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Counters keeps the state of rate-limit, quota and limit-concurrency. It
// outlives snapshots: keys are built from stable ids (the scope and path of
// the policy, the subscription id or the counter key), so a reload never
// resets a counter. Implementations must be safe for concurrent use.
type Counters interface {
	// Take adds n to the counter of key when the sum stays within limit.
	// The counter lives in a window of length period that starts at its
	// first call. ok tells whether n was taken; count is the counter after
	// the call and reset the end of its window.
	Take(key string, n, limit int64, period time.Duration, now time.Time) (ok bool, count int64, reset time.Time)
	// Peek returns the counter of key without changing it.
	Peek(key string, period time.Duration, now time.Time) (count int64, reset time.Time)
	// Acquire takes one of max concurrent slots of key; Release returns it.
	Acquire(key string, max int64) bool
	Release(key string)
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

// Take implements Counters.
func (m *MemoryCounters) Take(key string, n, limit int64, period time.Duration, now time.Time) (bool, int64, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.current(key, period, now)
	if w.count+n > limit {
		return false, w.count, w.start.Add(period)
	}
	w.count += n
	return true, w.count, w.start.Add(period)
}

// Peek implements Counters.
func (m *MemoryCounters) Peek(key string, period time.Duration, now time.Time) (int64, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.current(key, period, now)
	return w.count, w.start.Add(period)
}

// Acquire implements Counters.
func (m *MemoryCounters) Acquire(key string, max int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.slots[key] >= max {
		return false
	}
	m.slots[key]++
	return true
}

// Release implements Counters.
func (m *MemoryCounters) Release(key string) {
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
	calls     Value
	period    Value
	key       Value // by-key: counter-key
	condition Value // by-key: increment-condition
	hasCond   bool
	count     Value // rate-limit-by-key: increment-count
	hdr       limitHeaders
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
		s.calls, s.period = Literal(strconv.FormatInt(b.Int("calls", !quota, 0, 1), 10)), Literal(strconv.FormatInt(b.Int("renewal-period", true, 0, 1), 10))
	}
	if quota {
		if b.Has("bandwidth") {
			b.Str("bandwidth", false)
			b.Errorf("bandwidth", "attribute \"bandwidth\" is not supported by Portico yet")
		} else if !b.Has("calls") {
			b.Errorf("", "attribute \"calls\" is required")
		}
		if byKey && b.Has("first-period-start") {
			b.Str("first-period-start", false)
			b.Errorf("first-period-start", "attribute \"first-period-start\" is not supported by Portico yet")
		}
	} else {
		s.hdr = readLimitHeaders(b)
	}
	for _, a := range []string{"calls", "renewal-period", "increment-count"} {
		v := s.calls
		switch a {
		case "renewal-period":
			v = s.period
		case "increment-count":
			v = s.count
		}
		if b.Err() == nil && b.Has(a) && v.IsLiteral() {
			if n, err := v.Int(nil); err != nil || n < 1 {
				b.Errorf(a, "attribute %q must be a positive integer", a)
			}
		}
	}
	if len(b.Node().Children) > 0 && b.Err() == nil {
		ch := b.Node().Children[0]
		b.err = &CompileError{Path: b.path + "/" + ch.Name, Line: ch.Line, Col: ch.Col,
			Msg: fmt.Sprintf("per-API and per-operation limits (<%s> inside <%s>) are not supported by Portico yet", ch.Name, b.Node().Name)}
	}
	return s, b.Err()
}

func (s *limit) describe() string {
	d := fmt.Sprintf("calls=%s renewal-period=%s", q(s.calls), q(s.period))
	if s.byKey {
		d += " counter-key=" + q(s.key)
		if s.hasCond {
			d += " increment-condition=" + q(s.condition)
		}
	}
	return d
}

func (s *limit) Apply(c *Context) error {
	if c.Counters == nil {
		return nil
	}
	calls, err := s.calls.Int(c)
	if err != nil {
		return err
	}
	secs, err := s.period.Int(c)
	if err != nil {
		return err
	}
	n := int64(1)
	if s.count.src != "" {
		if n, err = s.count.Int(c); err != nil {
			return err
		}
	}
	kind := "rate-limit"
	if s.quota {
		kind = "quota"
	}
	var key string
	if s.byKey {
		k, err := s.key.String(c)
		if err != nil {
			return err
		}
		key = kind + "-by-key\x00" + k
	} else {
		key = kind + "\x00" + s.Scope + "\x00" + s.Path + "\x00" + c.Subscription.ID
	}
	period := time.Duration(secs) * time.Second
	now := c.now()
	var ok bool
	var count int64
	var reset time.Time
	if s.hasCond {
		// The condition may read the response: check now, count at the end.
		count, reset = c.Counters.Peek(key, period, now)
		ok = count < calls
		if ok {
			cond := s.condition
			c.atEnd(func(c *Context) {
				if inc, err := cond.Bool(c); err == nil && inc {
					c.Counters.Take(key, n, math.MaxInt64, period, c.now())
				}
			})
		}
	} else {
		ok, count, reset = c.Counters.Take(key, n, calls, period, now)
	}
	wait := reset.Sub(now)
	retry := int64(math.Ceil(wait.Seconds()))
	if retry < 1 {
		retry = 1
	}
	if !s.quota {
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
	if ok {
		return nil
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
	if !c.Counters.Acquire(k, s.max) {
		return &Error{Status: http.StatusTooManyRequests, Reason: ReasonConcurrencyLimitExceeded, Message: "Too many concurrent requests. Try again later."}
	}
	defer c.Counters.Release(k)
	return runSteps(c, s.steps)
}
