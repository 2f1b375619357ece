package policy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/portico-gw/portico/internal/policy/expr"
)

// maxRetryCount and maxRetryInterval bound retry as APIM does.
const (
	maxRetryCount    = 50
	maxRetryInterval = 300 // seconds
)

// retry is <retry condition count interval max-interval delta
// first-fast-retry>: it runs its policies, then runs them again while the
// condition holds, at most count more times.
type retry struct {
	StepInfo
	cond                         Value
	count                        int64
	interval, maxInterval, delta time.Duration
	hasMax, hasDelta             bool
	firstFast                    bool
	steps                        []Step
}

func newRetry(b *Builder) (Step, error) {
	s := &retry{StepInfo: b.Info()}
	s.cond = b.Val("condition", true)
	if b.Err() == nil && s.cond.IsLiteral() {
		if _, err := s.cond.Bool(nil); err != nil {
			b.Errorf("condition", "attribute \"condition\" must be a boolean expression")
		}
	}
	s.count = b.Int("count", true, 0, 1)
	if b.Err() == nil && s.count > maxRetryCount {
		b.Errorf("count", "attribute \"count\" must be at most %d", maxRetryCount)
	}
	seconds := func(name string, required bool) time.Duration {
		n := b.Int(name, required, 0, 0)
		if b.Err() == nil && n > maxRetryInterval {
			b.Errorf(name, "attribute %q must be at most %d seconds", name, maxRetryInterval)
		}
		return time.Duration(n) * time.Second
	}
	s.interval = seconds("interval", true)
	s.hasMax, s.hasDelta = b.Has("max-interval"), b.Has("delta")
	s.maxInterval = seconds("max-interval", false)
	s.delta = seconds("delta", false)
	if b.Err() == nil && s.hasMax && s.maxInterval < s.interval {
		b.Errorf("max-interval", "attribute \"max-interval\" must not be less than \"interval\"")
	}
	s.firstFast = b.Bool("first-fast-retry", false)
	s.steps = b.Steps()
	return s, b.Err()
}

func (s *retry) describe() string {
	d := fmt.Sprintf("condition=%s count=%d interval=%s", q(s.cond), s.count, s.interval)
	if s.hasMax {
		d += fmt.Sprintf(" max-interval=%s", s.maxInterval)
	}
	if s.hasDelta {
		d += fmt.Sprintf(" delta=%s", s.delta)
	}
	if s.firstFast {
		d += " first-fast-retry=true"
	}
	return d
}

func (s *retry) branches() []branch { return []branch{{label: "attempt", steps: s.steps}} }

// delay is the wait before retry n (1 for the first retry): fixed
// (interval), linear (interval and delta: interval + (n-1)·delta) or
// exponential (interval, delta and max-interval: interval +
// (2^(n-1)-1)·delta·random(0.8…1.2)), never more than max-interval.
func (s *retry) delay(n int64) time.Duration {
	if n == 1 && s.firstFast {
		return 0
	}
	d := s.interval
	switch {
	case s.hasDelta && s.hasMax:
		f := float64(int64(1)<<min(n-1, 30)-1) * float64(s.delta) * (0.8 + 0.4*rand.Float64())
		if f > float64(s.maxInterval) {
			f = float64(s.maxInterval)
		}
		d += time.Duration(f)
	case s.hasDelta:
		d += time.Duration(n-1) * s.delta
	}
	if s.hasMax && d > s.maxInterval {
		d = s.maxInterval
	}
	return d
}

func (s *retry) Apply(c *Context) error {
	if c.section == inbound || c.section == backend {
		// forward-request sends the body once per attempt: keep it.
		if _, err := c.Request.Body.Bytes(); err != nil {
			return &Error{Status: http.StatusBadRequest, Reason: ReasonClientConnectionFailure, Message: "The request body could not be read.", Err: err}
		}
	}
	for n := int64(0); ; n++ {
		if n > 0 {
			if err := sleep(c.requestContext(), s.delay(n)); err != nil {
				return &Error{Status: http.StatusBadRequest, Reason: ReasonClientConnectionFailure, Message: "The client went away during retry.", Err: err}
			}
		}
		if err := runSteps(c, s.steps); err != nil || c.stopped {
			return err
		}
		if n == s.count {
			return nil
		}
		again, err := s.cond.Bool(c)
		if err != nil || !again {
			return err
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitAll is <wait for="all|any">. Its send-request children run at once;
// its other children (choose, cache-lookup-value) run one after the other
// first, on the request's goroutine, because the Context is not safe for
// concurrent use.
type waitAll struct {
	StepInfo
	any   bool
	steps []Step
}

func newWait(b *Builder) (Step, error) {
	s := &waitAll{StepInfo: b.Info()}
	s.any = b.Enum("for", "all", "all", "any") == "any"
	for _, n := range b.Node().Children {
		switch n.Name {
		case "send-request", "cache-lookup-value", "choose":
		default:
			if b.err == nil {
				b.err = &CompileError{Path: b.path + "/" + n.Name, Line: n.Line, Col: n.Col,
					Msg: fmt.Sprintf("unexpected element <%s> in <wait> (allowed: send-request, cache-lookup-value, choose)", n.Name)}
			}
		}
	}
	if b.Err() == nil {
		s.steps = b.Steps()
	}
	if b.Err() == nil && len(s.steps) == 0 {
		b.Errorf("", "<wait> needs at least one child policy")
	}
	return s, b.Err()
}

func (s *waitAll) describe() string {
	if s.any {
		return "for=any"
	}
	return "for=all"
}

func (s *waitAll) branches() []branch { return []branch{{label: "concurrently", steps: s.steps}} }

type sendResult struct {
	i   int
	res *expr.Response
	err error
}

func (s *waitAll) Apply(c *Context) error {
	var sends []*sendRequest
	for _, st := range s.steps {
		if sr, ok := st.(*sendRequest); ok {
			sends = append(sends, sr)
			continue
		}
		if err := runSteps(c, []Step{st}); err != nil || c.stopped {
			return err
		}
		if s.any {
			// A child that ran to its end completed first.
			return nil
		}
	}
	if len(sends) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(c.requestContext())
	defer cancel()
	client := c.httpClient()
	results := make(chan sendResult, len(sends))
	built := make([]bool, len(sends))
	var buildErr error
	started := 0
	for i, sr := range sends {
		req, err := sr.build(c)
		if err != nil {
			if sr.ignoreError {
				c.SetVar(sr.varName, nil)
			} else if buildErr == nil {
				buildErr = locate(c, sr, err)
			}
			continue
		}
		built[i] = true
		started++
		go func() {
			res, err := sr.exchange(ctx, client, req)
			results <- sendResult{i: i, res: res, err: err}
		}()
	}
	if buildErr != nil {
		cancel()
		for range started {
			<-results
		}
		return buildErr
	}
	got := make([]*sendResult, len(sends))
	for range started {
		r := <-results
		got[r.i] = &r
		if s.any {
			cancel()
			for range started - 1 {
				<-results
			}
			return locate(c, sends[r.i], sends[r.i].store(c, r.res, r.err))
		}
	}
	var first error
	for i, r := range got {
		if !built[i] {
			continue
		}
		if err := sends[i].store(c, r.res, r.err); err != nil && first == nil {
			first = locate(c, sends[i], err)
		}
	}
	return first
}

// locate attributes a child's *Error to the child, so that LastError names
// the send-request that failed rather than the wait around it.
func locate(c *Context, st Step, err error) error {
	if e, ok := err.(*Error); ok {
		return &located{info: st.Info(), section: c.section, err: e}
	}
	return err
}
