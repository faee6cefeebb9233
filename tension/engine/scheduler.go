package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Scheduler runs the engine inside serve: once a day at a local time, and after new
// data arrive (a change of the data version, at most every Debounce).
type Scheduler struct {
	Store  Store
	Config Config
	Log    *slog.Logger
	// At is the local time of the daily run, "HH:MM", or "off".
	At string
	// AfterIngest runs the engine again when new data arrived.
	AfterIngest bool
	// Location is the service's zone: days begin at its midnight.
	Location *time.Location
	Debounce time.Duration

	kickOnce sync.Once
	kick     chan struct{}

	mu      sync.Mutex
	lastDay time.Time // the day of the last scheduled run
	lastRun time.Time
	seenVer int64
}

func (s *Scheduler) kickChan() chan struct{} {
	s.kickOnce.Do(func() { s.kick = make(chan struct{}, 1) })
	return s.kick
}

// Kick asks for a run soon, after an ingest through the API.
func (s *Scheduler) Kick() {
	select {
	case s.kickChan() <- struct{}{}:
	default:
	}
}

// Today is the current day in the service's zone, as a date.
func Today(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := time.Now().In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Loop runs until ctx ends, starting once ready is closed (the schema migrated).
func (s *Scheduler) Loop(ctx context.Context, ready <-chan struct{}) {
	select {
	case <-ctx.Done():
		return
	case <-ready:
	}
	s.learn(ctx)
	if s.maybeRun(ctx) == "" {
		s.mu.Lock()
		last := s.lastDay
		s.mu.Unlock()
		if last.IsZero() {
			s.Log.Info("engine scheduler started: nothing due now")
		} else {
			s.Log.Info("engine scheduler started: nothing due now", "daily_run_done_for", last.Format(time.DateOnly))
		}
	}
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.kickChan():
		}
		s.maybeRun(ctx)
	}
}

// due is the daily time on day (a date) in the service's zone; ok is false when
// there is no daily run.
func (s *Scheduler) due(day time.Time) (at time.Time, ok bool) {
	if s.At == "off" || s.At == "" {
		return time.Time{}, false
	}
	t, err := time.Parse("15:04", s.At)
	if err != nil {
		return time.Time{}, false
	}
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(day.Year(), day.Month(), day.Day(), t.Hour(), t.Minute(), 0, 0, loc), true
}

// learn reads what the store remembers: the latest run that completed (so that a
// restart after the daily time does not run the day again) and the data version.
// A run of a day stands for that day's daily run when it was the scheduled one or
// started at or after the daily time, whatever started it (a run from the command
// line, after an ingest); one that started earlier leaves the daily run to come, as
// it does in a service that keeps running.
func (s *Scheduler) learn(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, err := s.Store.DataVersion(ctx); err == nil {
		s.seenVer = v
	}
	last, err := s.Store.LastCompletedRun(ctx)
	if err != nil {
		s.Log.Warn("the last engine run could not be read", "err", err)
		return
	}
	if last.AsOf.IsZero() {
		return
	}
	day := last.AsOf
	if due, ok := s.due(day); ok && last.Trigger != "schedule" && last.Started.Before(due) {
		day = day.AddDate(0, 0, -1)
	}
	if day.After(s.lastDay) {
		s.lastDay = day
	}
}

// maybeRun runs the engine when the daily run is due or new data arrived, and
// returns the trigger it ran for ("" when nothing was due).
func (s *Scheduler) maybeRun(ctx context.Context) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	now := time.Now().In(loc)
	today := Today(loc)
	trigger := ""
	due, daily := s.due(today)
	if daily && !now.Before(due) && s.lastDay.Before(today) {
		trigger = "schedule"
	}
	if trigger == "" && s.AfterIngest && time.Since(s.lastRun) >= s.Debounce {
		if v, err := s.Store.DataVersion(ctx); err == nil && v != s.seenVer {
			trigger = "ingest"
		}
	}
	if trigger == "" {
		return ""
	}
	ver, _ := s.Store.DataVersion(ctx)
	res, ok, err := Run(ctx, s.Store, s.Config, today, trigger)
	s.lastRun = time.Now()
	switch {
	case err != nil:
		s.Log.Error("engine run failed", "trigger", trigger, "err", err)
		return trigger
	case !ok:
		s.Log.Info("engine run skipped: another is running", "trigger", trigger)
		return trigger
	}
	// Any run of today from the daily time on stands for the daily run (see learn).
	if daily && !now.Before(due) {
		s.lastDay = today
	}
	// Data that arrived during the run changed the version since: the next tick runs again.
	s.seenVer = ver
	s.Log.Info("engine run", "run", res.RunID, "trigger", trigger, "as_of", today.Format(time.DateOnly),
		"findings", len(res.Report.Findings), "opened", res.Opened, "updated", res.Updated, "drafts", res.Drafted, "took", res.Took.Round(time.Millisecond))
	for _, f := range res.Report.Failures {
		s.Log.Error("engine detector failed; the run is partial", "run", res.RunID, "detector", f.Detector, "err", f.Error)
	}
	return trigger
}
