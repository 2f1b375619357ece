// Package lifecycle starts the components of a process in order and stops
// them in reverse order: a component is stopped only after every component
// started after it has stopped, so that what it provides (a store, a
// connection pool, a queue) outlives everything that uses it.
//
// A Group is built up while a command wires itself: Add registers a
// component with a start and a stop function, Go a goroutine that is
// cancelled and joined when it stops. Start starts the components added
// since the last Start, in order; when one fails, every component started so
// far is stopped, in reverse order. Stop stops every started component in
// reverse order, within the group's timeout, and logs each stop and how long
// it took.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

type state int

const (
	pending state = iota // added, not started yet
	started
	done // stopped, or failed to start
)

type component struct {
	name        string
	start, stop func(context.Context) error
	state       state
}

// Group is an ordered set of components. Its methods must not be called
// from the components' start and stop functions.
type Group struct {
	log     *slog.Logger
	timeout time.Duration

	mu      sync.Mutex
	comps   []*component
	stopped bool
}

// New returns an empty group that logs to log (nil: slog.Default()) and
// gives Stop timeout to stop every component.
func New(log *slog.Logger, timeout time.Duration) *Group {
	if log == nil {
		log = slog.Default()
	}
	return &Group{log: log, timeout: timeout}
}

// Add registers a component after the ones already added: it is started
// after them and stopped before them. Either function may be nil. A
// component without a start function holds a resource that is already
// acquired (an open store, a client): it counts as started at once, so that
// it is released when the wiring that follows fails. Add panics after Stop.
func (g *Group) Add(name string, start, stop func(ctx context.Context) error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		panic("lifecycle: Add(" + name + ") after Stop")
	}
	c := &component{name: name, start: start, stop: stop}
	if start == nil {
		c.state = started
	}
	g.comps = append(g.comps, c)
}

// Go registers a component that runs run in a goroutine of its own. Its
// context is not the one Start is given: it ends when the component stops,
// which then waits for run to return (past the group's timeout too, saying
// so in the log), so that nothing run does outlives the components started
// before it.
func (g *Group) Go(name string, run func(ctx context.Context)) {
	var cancel context.CancelFunc
	var finished chan struct{}
	g.Add(name, func(ctx context.Context) error {
		var rctx context.Context
		rctx, cancel = context.WithCancel(context.WithoutCancel(ctx))
		finished = make(chan struct{})
		go func() {
			defer close(finished)
			run(rctx)
		}()
		return nil
	}, func(ctx context.Context) error {
		cancel()
		select {
		case <-finished:
			return nil
		case <-ctx.Done():
		}
		g.log.Warn("component still running after the shutdown timeout; waiting for it", "component", name)
		<-finished
		return nil
	})
}

// Start starts the components added since the last Start, in the order
// they were added. When a start function fails, the components started so
// far (by this call and earlier ones) are stopped in reverse order, as Stop
// does, and the error is returned; the group is then stopped.
func (g *Group) Start(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return errors.New("lifecycle: Start after Stop")
	}
	for _, c := range g.comps {
		if c.state != pending {
			continue
		}
		began := time.Now()
		if err := c.start(ctx); err != nil {
			c.state = done
			g.log.Debug("component failed to start; stopping the others", "component", c.name, "err", err)
			_ = g.stopLocked()
			return err
		}
		c.state = started
		g.log.Debug("component started", "component", c.name, "took", time.Since(began))
	}
	return nil
}

// Stop stops every started component in the reverse order of Add, giving
// each stop function a context that ends the group's timeout after Stop
// began (stop functions should give up waiting when it ends). It logs each
// stop and how long it took, and returns the stop errors joined. Calls
// after the first return nil at once.
func (g *Group) Stop() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stopLocked()
}

func (g *Group) stopLocked() error {
	if g.stopped {
		return nil
	}
	g.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	var errs []error
	for i := len(g.comps) - 1; i >= 0; i-- {
		c := g.comps[i]
		if c.state != started {
			continue
		}
		c.state = done
		if c.stop == nil {
			continue
		}
		began := time.Now()
		err := c.stop(ctx)
		took := time.Since(began)
		if err != nil {
			g.log.Warn("component stop incomplete", "component", c.name, "took", took, "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
			continue
		}
		g.log.Info("component stopped", "component", c.name, "took", took)
	}
	return errors.Join(errs...)
}
