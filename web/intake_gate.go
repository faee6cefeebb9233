package web

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"golang.org/x/time/rate"
)

// throttledError is a request refused for its caller's pace, answered 429 with
// Retry-After.
type throttledError struct {
	msg   string
	after time.Duration
}

func (e *throttledError) Error() string { return e.msg }

// retryAfter is the whole seconds of a Retry-After header, at least 1.
func (e *throttledError) retryAfter() string {
	return fmt.Sprint(max(1, int(math.Ceil(e.after.Seconds()))))
}

// intakeGate paces the partner intake. Each caller (a token, or a user) may have
// at most concurrent intakes in flight and start them at rate per second with bursts
// of burst; beyond either it is answered 429. Intakes that are through the gate and
// have read their body store one at a time per writer slot, so that they never hold
// more than their share of the database pool.
type intakeGate struct {
	concurrent int
	rate       rate.Limit
	burst      int

	mu      sync.Mutex
	callers map[string]*intakeCaller

	writers chan struct{}
}

type intakeCaller struct {
	active int
	bucket *rate.Limiter
}

// newIntakeGate returns a gate letting each caller have concurrent intakes at once
// and start perMinute a minute (bursts of half a minute's worth), with writers
// intakes storing at once over all callers.
func newIntakeGate(concurrent int, perMinute float64, writers int) *intakeGate {
	return &intakeGate{concurrent: concurrent, rate: rate.Limit(perMinute / 60), burst: max(concurrent, int(perMinute/2)),
		callers: map[string]*intakeCaller{}, writers: make(chan struct{}, writers)}
}

// enter lets a caller's intake in, or refuses it with a *throttledError. The caller
// must call the returned release when the intake ends.
func (g *intakeGate) enter(key string) (release func(), err error) {
	now := time.Now() // the pace is wall time's, whatever clock the server's data keeps
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.callers[key]
	if c == nil {
		c = &intakeCaller{bucket: rate.NewLimiter(g.rate, g.burst)}
		g.callers[key] = c
	}
	if c.active >= g.concurrent {
		return nil, &throttledError{msg: fmt.Sprintf("this caller already has %d intakes in progress: wait for one to finish", c.active),
			after: 5 * time.Second}
	}
	r := c.bucket.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, &throttledError{msg: fmt.Sprintf("more than %g intakes a minute from this caller: slow down", float64(g.rate)*60),
			after: d}
	}
	c.active++
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		c.active--
		// A caller with nothing in flight and a full bucket is forgotten, so the map
		// holds only callers seen lately.
		if c.active == 0 && c.bucket.TokensAt(time.Now()) >= float64(g.burst) {
			delete(g.callers, key)
		}
	}, nil
}

// write waits for a writer slot and returns its release; while it waits the intake
// holds no database connection. It gives EUNAVAILABLE (503) when ctx ends first.
func (g *intakeGate) write(ctx context.Context) (release func(), err error) {
	select {
	case g.writers <- struct{}{}:
		return func() { <-g.writers }, nil
	case <-ctx.Done():
		return nil, geo.Errorf(geo.EUNAVAILABLE, "the intake is busy storing other uploads: try again shortly")
	}
}
