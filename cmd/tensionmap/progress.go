package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/tensionmap/tensionmap/geo"
	"golang.org/x/term"
)

// progress shows an ingest's progress: a bar with rows/s and ETA on a terminal, a log
// line every few seconds otherwise.
type progress struct {
	bar     *progressbar.ProgressBar
	log     *slog.Logger
	name    string
	counter *countingReader
	last    time.Time
	start   time.Time
}

func newProgress(w io.Writer, mode, name string, size int64, counter *countingReader, log *slog.Logger) *progress {
	p := &progress{name: name, counter: counter, start: time.Now(), last: time.Now()}
	if mode == "auto" {
		mode = "log"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		p.bar = progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(name),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	case "log":
		p.log = log
	}
	return p
}

func (p *progress) update(s geo.Summary) {
	switch {
	case p.bar != nil:
		rate := float64(s.Read) / time.Since(p.start).Seconds()
		p.bar.Describe(fmt.Sprintf("%s: %d rows, %.0f rows/s", p.name, s.Read, rate))
		p.bar.Set64(p.counter.Count())
	case p.log != nil && time.Since(p.last) > 5*time.Second:
		p.last = time.Now()
		p.log.Info("ingesting", "input", p.name, "read", s.Read, "inserted", s.Inserted, "rejected", s.Rejected,
			"rows_per_s", int(float64(s.Read)/time.Since(p.start).Seconds()))
	}
}

func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
