package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/web"
)

var _ web.Ingester = (*ingester)(nil)

// ingester ties the ingest pipeline to the database, for the command line, the demo
// and the partner intake API alike.
type ingester struct {
	db      *postgis.DB
	cfg     *Config
	binner  *geo.Binner
	vocab   *postgis.Vocab
	writers int

	mu        sync.Mutex
	areas     *geo.AreaIndex
	areasSeen string // what the stored areas looked like when areas was built
}

// newIngester checks the schema, registers the configured strands and sources and
// the roll-up resolutions.
func newIngester(ctx context.Context, db *postgis.DB, cfg *Config) (*ingester, error) {
	if pending, err := db.Pending(ctx); err != nil {
		return nil, err
	} else if len(pending) > 0 {
		return nil, fmt.Errorf("the database schema is not up to date (migrations %v pending): run `tensionmap migrate`", pending)
	}
	// Runs left 'running' by a process that died are marked so before any new one.
	if _, err := db.MarkInterruptedRuns(ctx); err != nil {
		return nil, err
	}
	vocab, err := db.EnsureVocab(ctx, cfg.Strands, cfg.Sources)
	if err != nil {
		return nil, err
	}
	if err := db.EnsureResolutions(ctx, cfg.Resolutions); err != nil {
		return nil, err
	}
	binner, err := geo.NewBinner(cfg.Resolutions, nil)
	if err != nil {
		return nil, err
	}
	return &ingester{db: db, cfg: cfg, binner: binner, vocab: vocab, writers: 2}, nil
}

// areaIndex returns the index of the stored areas, rebuilt when they changed.
func (ing *ingester) areaIndex(ctx context.Context) (*geo.AreaIndex, error) {
	seen, err := ing.db.AreasVersion(ctx)
	if err != nil {
		return nil, err
	}
	ing.mu.Lock()
	defer ing.mu.Unlock()
	if ing.areas != nil && seen == ing.areasSeen {
		return ing.areas, nil
	}
	areas, err := ing.db.LoadAreas(ctx)
	if err != nil {
		return nil, err
	}
	ing.areas, ing.areasSeen = geo.NewAreaIndex(areas), seen
	return ing.areas, nil
}

// Ingest loads one input as one recorded ingest run.
func (ing *ingester) run(ctx context.Context, origin, actor, input string, r geo.Reader, v *geo.Validator, batchSize int,
	progress func(geo.Summary), onReject func(*geo.RawIncident, *geo.RowError) error) (geo.Summary, error) {
	areas, err := ing.areaIndex(ctx)
	if err != nil {
		return geo.Summary{}, err
	}
	w, err := ing.db.NewIncidentWriter(ctx, ing.vocab, ing.binner)
	if err != nil {
		return geo.Summary{}, err
	}
	defer w.Close()
	runID, err := ing.db.StartRun(ctx, origin, actor, []string{input})
	if err != nil {
		return geo.Summary{}, err
	}
	w.SetRun(runID)
	sum, err := geo.Ingest(ctx, r, w, geo.IngestOptions{
		Validator: v, Binner: ing.binner, Areas: areas, BatchSize: batchSize, Progress: progress, OnReject: onReject,
		Writers: ing.writers,
	})
	// The roll-up rows the run appended are merged by key (counts are exact before
	// and after); a failed run leaves them for the next run over the same days.
	if cerr := w.Compact(ctx); cerr != nil && err == nil {
		err = cerr
	}
	if ferr := ing.db.FinishRun(context.WithoutCancel(ctx), runID, sum, err); ferr != nil && err == nil {
		err = ferr
	}
	return sum, err
}

// Ingest is the partner intake: it validates with the configured vocabulary and key
// and the caller's defaults, and stores through the same pipeline.
func (ing *ingester) Ingest(ctx context.Context, r geo.Reader, defaults geo.Defaults, actor string, onReject func(*geo.RowError)) (geo.Summary, error) {
	v, err := geo.NewValidator(geo.ValidatorOptions{Strands: ing.cfg.Strands, Sources: ing.cfg.Sources, Key: ing.cfg.key,
		Location: ing.cfg.location, Defaults: defaults})
	if err != nil {
		return geo.Summary{}, err
	}
	return ing.run(ctx, "api", actor, "api "+time.Now().UTC().Format(time.RFC3339), r, v, 0, nil,
		func(_ *geo.RawIncident, e *geo.RowError) error {
			onReject(e)
			return nil
		})
}
