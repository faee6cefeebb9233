package geo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"
)

// BatchWriter stores incidents a batch at a time, each batch atomically, skipping any
// whose (source, source_ref) is already stored. It returns how many it inserted.
type BatchWriter interface {
	WriteBatch(ctx context.Context, batch []*Incident) (inserted int, err error)
}

// IngestOptions configures Ingest. Validator and Binner are required.
type IngestOptions struct {
	Validator *Validator
	Binner    *Binner
	Areas     *AreaIndex // attribution; nil attributes nothing
	// BatchSize is the incidents a transaction, DefaultBatchSize when 0; the first
	// batches of a large size are smaller (an eighth, a quarter, a half of it), so
	// that storing starts while the rest is still being read.
	BatchSize int
	// Writers is how many batches may be stored at once (the BatchWriter must then be
	// safe for concurrent use); 1 when 0.
	Writers int

	// Progress, when set, is called after every stored batch.
	Progress func(Summary)
	// OnReject, when set, is called for every rejected record; raw is nil when the
	// record could not be read at all.
	OnReject func(raw *RawIncident, err *RowError) error
}

// DefaultBatchSize is the number of incidents stored in one transaction.
const DefaultBatchSize = 20000

// Summary counts what an ingest did.
type Summary struct {
	Read       int               `json:"read"`       // records read, rejected ones included
	Inserted   int               `json:"inserted"`   // new incidents stored
	Duplicates int               `json:"duplicates"` // valid records already stored (or repeated in the input)
	Rejected   int               `json:"rejected"`
	RejectedBy map[string]int    `json:"rejected_by,omitempty"`     // by field ("record" when unreadable)
	Examples   map[string]string `json:"reject_examples,omitempty"` // the first rejection of each field
	Unlocated  int               `json:"unlocated"`                 // valid records without a place: kept and counted, not binned
	Skipped    int               `json:"skipped"`                   // passed over on purpose (a crime type filter)
	// Outside counts located records that fall in no imported area, while areas
	// exist; OutsideSwapped how many of them would fall in one with latitude and
	// longitude swapped.
	Outside        int           `json:"outside_areas"`
	OutsideSwapped int           `json:"outside_areas_swapped"`
	Batches        int           `json:"batches"`
	Warnings       []string      `json:"warnings,omitempty"`
	Elapsed        time.Duration `json:"elapsed_ns"`
}

// Add adds another summary's counts to s, for ingests of several inputs.
func (s *Summary) Add(o Summary) {
	s.Read += o.Read
	s.Inserted += o.Inserted
	s.Duplicates += o.Duplicates
	s.Rejected += o.Rejected
	s.Unlocated += o.Unlocated
	s.Skipped += o.Skipped
	s.Outside += o.Outside
	s.OutsideSwapped += o.OutsideSwapped
	s.Batches += o.Batches
	s.Elapsed += o.Elapsed
	s.Warnings = append(s.Warnings, o.Warnings...)
	for k, v := range o.RejectedBy {
		if s.RejectedBy == nil {
			s.RejectedBy = map[string]int{}
		}
		s.RejectedBy[k] += v
	}
	for k, v := range o.Examples {
		if s.Examples == nil {
			s.Examples = map[string]string{}
		}
		if _, ok := s.Examples[k]; !ok {
			s.Examples[k] = v
		}
	}
}

func (s *Summary) reject(e *RowError) { countRejection(&s.Rejected, &s.RejectedBy, &s.Examples, e) }

// countRejection counts a rejected record in a summary's rejections: in all, by
// field ("record" when unreadable), and the field's first as its example.
func countRejection(n *int, by *map[string]int, examples *map[string]string, e *RowError) {
	*n++
	field := e.Field
	if field == "" {
		field = "record"
	}
	if *by == nil {
		*by = map[string]int{}
	}
	if *examples == nil {
		*examples = map[string]string{}
	}
	(*by)[field]++
	if _, ok := (*examples)[field]; !ok {
		(*examples)[field] = e.Error()
	}
}

// Ingest reads every record of r, validates, bins and attributes it, and stores the
// valid ones through w in batches, while the next batch is being prepared. Rejected
// records are counted by field and handed to OnReject; they never stop the good ones.
// A fatal error (unreadable input, ErrNoKey, a failed batch) ends the ingest after the
// batches already stored, which a rerun does not store again.
func Ingest(ctx context.Context, r Reader, w BatchWriter, o IngestOptions) (Summary, error) {
	start := time.Now()
	if o.Validator == nil || o.Binner == nil {
		return Summary{}, errors.New("geo: Ingest needs a Validator and a Binner")
	}
	size := o.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type batch struct {
		incidents []*Incident
		counts    Summary // what was read to fill it
	}
	batches := make(chan batch, 1)
	prodErr := make(chan error, 1)
	go func() {
		defer close(batches)
		prodErr <- produce(ctx, r, o, size, func(b []*Incident, s Summary) bool {
			select {
			case batches <- batch{b, s}:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()

	writers := max(o.Writers, 1)
	var (
		mu       sync.Mutex
		sum      Summary
		writeErr error
		wg       sync.WaitGroup
	)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				mu.Lock()
				failed := writeErr != nil
				sum.Add(b.counts)
				mu.Unlock()
				if failed || len(b.incidents) == 0 {
					continue // drain so the producer can finish
				}
				n, err := w.WriteBatch(ctx, b.incidents)
				mu.Lock()
				if err != nil {
					if writeErr == nil {
						writeErr = err
					}
					cancel()
				} else {
					sum.Inserted += n
					sum.Duplicates += len(b.incidents) - n
					sum.Batches++
					if o.Progress != nil {
						s := sum
						s.Elapsed = time.Since(start)
						o.Progress(s)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	err := <-prodErr
	sum.Elapsed = time.Since(start)
	if writeErr != nil {
		return sum, writeErr
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return sum, err
	}
	return sum, ctx.Err()
}

// rampMin is the smallest batch size whose first batches are smaller.
const rampMin = 4096

// chunkSize is how many records a validation worker takes at a time.
const chunkSize = 512

// item is one record as read: the record, or why it could not be read.
type item struct {
	raw *RawIncident
	err *RowError
}

// chunk is a run of records read in order, and what validation made of them.
type chunk struct {
	seq       int
	items     []item
	incidents []*Incident // the valid ones, in order
	rejects   []item      // the rejected ones, in order, with their reasons
	unlocated int
	outside   int   // located but in no area
	swapped   int   // of outside, those in an area with lat and lon swapped
	fatal     error // ends the input after this chunk's records
}

// produce reads records, has them validated, binned and attributed by parallel
// workers, and hands batches of size to emit in input order, with the counts of
// what was read for each. On a fatal error the records read before it are still
// emitted: nothing good is lost.
func produce(ctx context.Context, r Reader, o IngestOptions, size int, emit func([]*Incident, Summary) bool) error {
	workers := max(runtime.GOMAXPROCS(0), 1)
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	todo := make(chan *chunk, workers)
	done := make(chan *chunk, workers)

	// One reader: records come off the input in order.
	go func() {
		defer close(todo)
		for seq := 0; ; seq++ {
			c := &chunk{seq: seq, items: make([]item, 0, chunkSize)}
			for len(c.items) < chunkSize {
				raw, err := r.Next()
				if err == io.EOF {
					break
				}
				var rowErr *RowError
				if errors.As(err, &rowErr) {
					c.items = append(c.items, item{err: rowErr})
					continue
				} else if err != nil {
					c.fatal = err
					break
				}
				c.items = append(c.items, item{raw: raw})
			}
			last := len(c.items) < chunkSize || c.fatal != nil
			select {
			case todo <- c:
			case <-readCtx.Done():
				return
			}
			if last {
				return
			}
		}
	}()

	// Workers validate, bin and attribute chunks in any order.
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var cache CellCache
			for c := range todo {
				o.process(c, &cache)
				done <- c
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	// The assembler puts chunks back in order and cuts batches.
	var counts Summary
	target := size
	if size >= rampMin {
		target = size / 8
	}
	cur := make([]*Incident, 0, target)
	skippedSoFar := 0
	flush := func() bool {
		counts.Skipped = skipped(r) - skippedSoFar
		skippedSoFar += counts.Skipped
		ok := emit(cur, counts)
		target = min(2*target, size)
		cur, counts = make([]*Incident, 0, target), Summary{}
		return ok
	}
	pending := map[int]*chunk{}
	next := 0
	var fatal error
	for c := range done {
		pending[c.seq] = c
		for pending[next] != nil && fatal == nil {
			c := pending[next]
			delete(pending, next)
			next++
			counts.Read += len(c.items)
			counts.Unlocated += c.unlocated
			counts.Outside += c.outside
			counts.OutsideSwapped += c.swapped
			for _, rej := range c.rejects {
				counts.reject(rej.err)
				if o.OnReject != nil && fatal == nil {
					if err := o.OnReject(rej.raw, rej.err); err != nil {
						fatal = err
					}
				}
			}
			for _, in := range c.incidents {
				cur = append(cur, in)
				if len(cur) == target && !flush() {
					fatal = ctx.Err()
				}
			}
			if c.fatal != nil && fatal == nil {
				fatal = c.fatal
			}
		}
		if fatal != nil {
			break
		}
	}
	if fatal != nil {
		// Let the reader and workers finish before returning.
		go func() {
			for range done {
			}
		}()
		if ctx.Err() == nil {
			flush()
		}
		return fatal
	}
	if w, ok := r.(Warner); ok {
		counts.Warnings = slices.Clone(w.Warnings())
	}
	if !flush() {
		return ctx.Err()
	}
	return nil
}

// process validates, bins and attributes one chunk's records.
func (o *IngestOptions) process(c *chunk, cache *CellCache) {
	for _, it := range c.items {
		if it.err != nil {
			c.rejects = append(c.rejects, it)
			continue
		}
		in, err := o.Validator.Validate(it.raw)
		var rowErr *RowError
		if errors.As(err, &rowErr) {
			c.rejects = append(c.rejects, item{raw: it.raw, err: rowErr})
			continue
		} else if err != nil {
			// Fatal (no key): the records before this one still count.
			c.items = c.items[:len(c.incidents)+len(c.rejects)]
			c.fatal = err
			return
		}
		o.Binner.Bin(cache, in)
		if in.Cell == 0 {
			c.unlocated++
		} else if o.Areas != nil && o.Areas.Len() > 0 {
			in.Areas = o.Areas.Containing(nil, in.Location)
			if len(in.Areas) == 0 {
				c.outside++
				if len(o.Areas.Containing(nil, LatLon{Lat: in.Location.Lon, Lon: in.Location.Lat})) > 0 {
					c.swapped++
				}
			}
		}
		c.incidents = append(c.incidents, in)
	}
}

func skipped(r Reader) int {
	if s, ok := r.(Skipper); ok {
		return s.Skipped()
	}
	return 0
}

// OutsideNote says how many located records fall outside every imported area and the
// likely cause; "" when none do.
func (s Summary) OutsideNote() string {
	switch {
	case s.Outside == 0:
		return ""
	case s.OutsideSwapped > 0:
		return fmt.Sprintf("%d %s outside every imported area; %d of them would fall inside if latitude and longitude were swapped — check the column order",
			s.Outside, plural(s.Outside, "point falls", "points fall"), s.OutsideSwapped)
	}
	return fmt.Sprintf("%d %s outside every imported area — check that the areas imported cover the data, and the coordinates' columns",
		s.Outside, plural(s.Outside, "point falls", "points fall"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// String gives the summary in one line, for logs.
func (s Summary) String() string {
	return fmt.Sprintf("read %d, inserted %d, duplicates %d, rejected %d, unlocated %d, skipped %d in %s",
		s.Read, s.Inserted, s.Duplicates, s.Rejected, s.Unlocated, s.Skipped, s.Elapsed.Round(time.Millisecond))
}
