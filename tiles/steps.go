package tiles

import (
	"context"
	"strings"
	"sync"
	"time"
)

// steps records where a render's time went: each derived value it waited for and
// each read of its own, for the log line of a render that passed the tile wait (an
// operator's one clue to why a map answered "come back").
type steps struct {
	mu   sync.Mutex
	list []string
}

type stepsKey struct{}

// withSteps returns ctx carrying a new record of steps.
func withSteps(ctx context.Context) (context.Context, *steps) {
	st := &steps{}
	return context.WithValue(ctx, stepsKey{}, st), st
}

// step records name as taking the time since start, when ctx carries a record and
// the step took a millisecond or more.
func step(ctx context.Context, name string, start time.Time) {
	st, ok := ctx.Value(stepsKey{}).(*steps)
	if !ok {
		return
	}
	d := time.Since(start)
	if d < time.Millisecond {
		return
	}
	st.mu.Lock()
	st.list = append(st.list, name+" "+d.Round(time.Millisecond).String())
	st.mu.Unlock()
}

func (st *steps) String() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return strings.Join(st.list, ", ")
}

// watch starts the record of a render or background count under ctx; done logs it
// with its steps, as msg and the attributes what names, when it took longer than the
// tile wait (what is called only then).
func (s *Service) watch(ctx context.Context, msg string) (context.Context, func(err error, what func() []any)) {
	ctx, st := withSteps(ctx)
	start := time.Now()
	return ctx, func(err error, what func() []any) {
		took := time.Since(start)
		if s.opts.Log == nil || took < s.opts.Wait {
			return
		}
		attrs := append(what(), "steps", st.String(), "took", took.Round(time.Millisecond).String(), "wait", s.opts.Wait.String())
		if err != nil {
			attrs = append(attrs, "err", err.Error())
		}
		s.opts.Log.Warn(msg, attrs...)
	}
}

// stepName is a memo key's kind and what follows it up to the data version: the
// name of a derived value in a render's steps.
func stepName(key string) string {
	if i := strings.LastIndexByte(key, '|'); i > 0 {
		return key[:i]
	}
	return key
}
