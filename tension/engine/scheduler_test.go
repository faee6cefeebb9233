package engine

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// recordingStore remembers the last completed run and counts the runs asked of it
// (refusing them, as when another run holds the engine).
type recordingStore struct {
	Store
	last   RunMark
	starts int
}

func (s *recordingStore) LastCompletedRun(context.Context) (RunMark, error) { return s.last, nil }
func (s *recordingStore) DataVersion(context.Context) (int64, error)        { return 1, nil }
func (s *recordingStore) StartEngineRun(context.Context, time.Time, string, map[string]any) (int64, func(map[string]int, error) error, bool, error) {
	s.starts++
	return 0, nil, false, nil
}

// TestSchedulerLearnsTheLastRun: a scheduler starting after the daily time runs the
// engine only when the store has no run of today that stands for the daily one: the
// scheduled run, or any other that started at or after the daily time.
func TestSchedulerLearnsTheLastRun(t *testing.T) {
	today := Today(time.UTC)
	due := today // the daily time is 00:00
	for _, c := range []struct {
		name string
		last RunMark
		want int
	}{
		{"scheduled today: restart runs nothing", RunMark{today, "schedule", due.Add(time.Minute)}, 0},
		{"from the command line today after the daily time: runs nothing", RunMark{today, "cli", due.Add(time.Second)}, 0},
		{"after an ingest today after the daily time: runs nothing", RunMark{today, "ingest", due}, 0},
		{"from the command line for today before the daily time: runs today's", RunMark{today, "cli", due.Add(-time.Second)}, 1},
		{"scheduled yesterday: runs today's", RunMark{today.AddDate(0, 0, -1), "schedule", due.Add(-time.Hour)}, 1},
		{"never ran: runs today's", RunMark{}, 1},
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
