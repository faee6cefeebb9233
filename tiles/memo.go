package tiles

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Memo keeps a few derived values (counts of a filter, area geometries) keyed by
// everything they depend on, computing each once however many tiles ask at once.
// The oldest value goes first when more than its limit are held.
type Memo struct {
	mu    sync.Mutex
	max   int
	order []string
	vals  map[string]any
	group singleflight.Group
}

// NewMemo returns a memo holding at most max values.
func NewMemo(max int) *Memo { return &Memo{max: max, vals: map[string]any{}} }

// Get returns the value of key, computing it with compute when it is not held. An
// error is returned to every waiter and nothing is kept. The wait for a value not
// held is a step of the render ctx belongs to.
func (m *Memo) Get(ctx context.Context, key string, compute func() (any, error)) (any, error) {
	m.mu.Lock()
	if v, ok := m.vals[key]; ok {
		m.mu.Unlock()
		return v, nil
	}
	m.mu.Unlock()
	defer step(ctx, stepName(key), time.Now())
	v, err, _ := m.group.Do(key, func() (any, error) {
		v, err := compute()
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		m.put(key, v)
		return v, nil
	})
	return v, err
}

// Put holds v under key, as Get holds what it computes.
func (m *Memo) Put(key string, v any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(key, v)
}

// put holds v under key; m.mu is held.
func (m *Memo) put(key string, v any) {
	if _, ok := m.vals[key]; !ok {
		m.order = append(m.order, key)
		if len(m.order) > m.max {
			delete(m.vals, m.order[0])
			m.order = m.order[1:]
		}
	}
	m.vals[key] = v
}

// Once runs compute once among the callers asking for key at the same time and
// gives them all its result, holding nothing.
func (m *Memo) Once(key string, compute func() (any, error)) (any, error) {
	v, err, _ := m.group.Do("once|"+key, compute)
	return v, err
}

// Peek returns the value of key when it is held, without computing it.
func (m *Memo) Peek(key string) (any, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vals[key]
	return v, ok
}
