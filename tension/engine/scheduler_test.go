package engine

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// recordingStore remembers the last scheduled run's day and counts the runs asked
// of it (refusing them, as when another run holds the engine).
type recordingStore struct {
	Store
	last   time.Time
	starts int
}

func (s *recordingStore) LastScheduledRun(context.Context) (time.Time, error) { return s.last, nil }
func (s *recordingStore) DataVersion(context.Context) (int64, error)          { return 1, nil }
func (s *recordingStore) StartEngineRun(context.Context, time.Time, string, map[string]any) (int64, func(map[string]int, error) error, bool, error) {
	s.starts++
	return 0, nil, false, nil
}

// TestSchedulerLearnsTheLastRun: a scheduler starting after the daily time runs the
// engine only when the store has no scheduled run of today.
func TestSchedulerLearnsTheLastRun(t *testing.T) {
	today := Today(time.UTC)
	for _, c := range []struct {
		name string
		last time.Time
		want int
	}{
		{"ran today: restart runs nothing", today, 0},
		{"ran yesterday: runs today's", today.AddDate(0, 0, -1), 1},
		{"never ran: runs today's", time.Time{}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &recordingStore{last: c.last}
			s := &Scheduler{Store: st, At: "00:00", Location: time.UTC, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			s.learn(context.Background())
			s.maybeRun(context.Background())
			if st.starts != c.want {
				t.Errorf("%d runs started, want %d", st.starts, c.want)
			}
		})
	}
}
