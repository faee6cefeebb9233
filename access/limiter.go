package access

import (
	"sync"
	"time"
)

// Limiter slows brute-force sign-in: it counts failures per key (an address, a
// username) in a sliding window and refuses further attempts for that key once the
// count reaches the limit, until enough failures leave the window for the count to
// fall below it again. It is per process: behind several replicas each counts its own.
type Limiter struct {
	Max    int           // failures allowed in the window (below 1 counts as 1)
	Window time.Duration // length of the window
	mu     sync.Mutex
	fails  map[string][]time.Time
}

// NewLimiter returns a limiter of max failures per window.
func NewLimiter(max int, window time.Duration) *Limiter {
	return &Limiter{Max: max, Window: window, fails: map[string][]time.Time{}}
}

// Allow reports whether every key may try now, and if not how long until one may.
func (l *Limiter) Allow(now time.Time, keys ...string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		f := l.prune(k, now)
		if n := max(l.Max, 1); len(f) >= n {
			// Concurrent attempts, each allowed before any failed, can leave more
			// failures than Max: the key may try again once all but Max-1 of them
			// have left the window, not as soon as the oldest has.
			wait = max(wait, f[len(f)-n].Add(l.Window).Sub(now))
		}
	}
	return wait == 0, wait
}

// Fail records a failed attempt under every key.
func (l *Limiter) Fail(now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		l.fails[k] = append(l.prune(k, now), now)
	}
	if len(l.fails) > 100_000 {
		// Bound memory under a flood of distinct keys: forget the idle ones.
		for k := range l.fails {
			if len(l.prune(k, now)) == 0 {
				delete(l.fails, k)
			}
		}
	}
}

// Succeed forgets the failures of a key (a username that signed in).
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

func (l *Limiter) prune(k string, now time.Time) []time.Time {
	f := l.fails[k]
	i := 0
	for i < len(f) && now.Sub(f[i]) >= l.Window {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(l.fails, k)
		return nil
	}
	l.fails[k] = f
	return f
}
