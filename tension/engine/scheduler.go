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
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		s.maybeRun(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.kickChan():
		}
	}
}

// learn reads what the store remembers: the day of the last scheduled run that
// completed (so that a restart after the daily time does not run the day again)
// and the data version.
func (s *Scheduler) learn(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, err := s.Store.DataVersion(ctx); err == nil {
		s.seenVer = v
	}
	day, err := s.Store.LastScheduledRun(ctx)
	if err != nil {
		s.Log.Warn("the last scheduled engine run could not be read", "err", err)
		return
	}
	if day.After(s.lastDay) {
		s.lastDay = day
	}
}

func (s *Scheduler) maybeRun(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	now := time.Now().In(loc)
	today := Today(loc)
	trigger := ""
	if s.At != "off" && s.At != "" {
		at, _ := time.Parse("15:04", s.At)
		due := time.Date(now.Year(), now.Month(), now.Day(), at.Hour(), at.Minute(), 0, 0, loc)
		if !now.Before(due) && s.lastDay.Before(today) {
			trigger = "schedule"
		}
	}
	if trigger == "" && s.AfterIngest && time.Since(s.lastRun) >= s.Debounce {
		if v, err := s.Store.DataVersion(ctx); err == nil && v != s.seenVer {
			trigger = "ingest"
		}
	}
	if trigger == "" {
		return
	}
	ver, _ := s.Store.DataVersion(ctx)
	res, ok, err := Run(ctx, s.Store, s.Config, today, trigger)
	s.lastRun = time.Now()
	switch {
	case err != nil:
		s.Log.Error("engine run failed", "trigger", trigger, "err", err)
		return
	case !ok:
		s.Log.Info("engine run skipped: another is running", "trigger", trigger)
		return
	}
	if trigger == "schedule" {
		s.lastDay = today
	}
	// Data that arrived during the run changed the version since: the next tick runs again.
	s.seenVer = ver
	s.Log.Info("engine run", "run", res.RunID, "trigger", trigger, "as_of", today.Format(time.DateOnly),
		"findings", len(res.Report.Findings), "opened", res.Opened, "updated", res.Updated, "drafts", res.Drafted, "took", res.Took.Round(time.Millisecond))
	for _, f := range res.Report.Failures {
		s.Log.Error("engine detector failed; the run is partial", "run", res.RunID, "detector", f.Detector, "err", f.Error)
	}
}
