package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log the server writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeRestartDoesNotRerunTheDay starts serve after the daily time (00:00)
// several times over one database: a run of today from the command line, or the
// scheduled run, stands for the day and a restart runs nothing; a run that started
// before the daily time does not, and serve runs the day's.
func TestServeRestartDoesNotRerunTheDay(t *testing.T) {
	c := newCLI(t)
	db := c.db()
	ctx := context.Background()
	if code, _, errOut := c.run("scan", "--replicates", "19"); code != 0 {
		t.Fatalf("scan: exit %d: %s", code, errOut)
	}
	runs := func(where string) int64 { return c.count("SELECT count(*) FROM engine_runs WHERE " + where) }
	if n := runs("trigger = 'cli' AND status IN ('done', 'partial')"); n != 1 {
		t.Fatalf("%d completed runs from the command line, want 1", n)
	}

	// serve starts, waits for the condition, and stops.
	serve := func(until func(log string) bool, what string) {
		t.Helper()
		cfg := DefaultConfig()
		cfg.DatabaseURL = c.env["TENSIONMAP_DATABASE_URL"]
		cfg.DataDir = c.env["TENSIONMAP_DATA_DIR"]
		cfg.Listen = "127.0.0.1:0"
		cfg.EngineAt = "00:00"
		cfg.ScanReplicates, cfg.NearRepeatReplicates = 19, 19
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		var log lockedBuffer
		s := &serveCmd{cfg: cfg, log: slog.New(slog.NewTextHandler(&log, nil)), onReady: func(string) {}}
		sctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(sctx) }()
		deadline := time.Now().Add(3 * time.Minute)
		for !until(log.String()) {
			if time.Now().After(deadline) {
				stop()
				t.Fatalf("serve: %s did not happen; its log:\n%s", what, log.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve: %v", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("serve did not shut down")
		}
	}
	started := func(log string) bool { return strings.Contains(log, "engine scheduler started: nothing due now") }

	serve(started, "the scheduler's start")
	if n := runs("true"); n != 1 {
		t.Errorf("%d runs after serve started over today's run from the command line, want 1 (no rerun)", n)
	}

	// The run from the command line started before today's daily time: serve runs the day.
	if _, err := db.Pool.Exec(ctx, `UPDATE engine_runs SET started_at = as_of::timestamp - interval '3 hours'`); err != nil {
		t.Fatal(err)
	}
	serve(func(string) bool { return runs("trigger = 'schedule' AND status IN ('done', 'partial')") == 1 }, "the scheduled run")

	// Restarted after it: nothing runs again.
	serve(started, "the scheduler's start")
	if n := runs("true"); n != 2 {
		t.Errorf("%d runs after a restart following today's scheduled run, want 2 (no rerun)", n)
	}
}
