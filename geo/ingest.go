package geo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
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
	BatchSize int        // incidents a transaction; DefaultBatchSize when 0

	// Progress, when set, is called after every stored batch.
	Progress func(Summary)
	// OnReject, when set, is called for every rejected record; raw is nil when the
	// record could not be read at all.
	OnReject func(raw *RawIncident, err *RowError) error
}

// DefaultBatchSize is the number of incidents stored in one transaction.
const DefaultBatchSize = 10000

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
	Batches    int               `json:"batches"`
	Warnings   []string          `json:"warnings,omitempty"`
	Elapsed    time.Duration     `json:"elapsed_ns"`
}

// Add adds another summary's counts to s, for ingests of several inputs.
func (s *Summary) Add(o Summary) {
	s.Read += o.Read
	s.Inserted += o.Inserted
	s.Duplicates += o.Duplicates
	s.Rejected += o.Rejected
	s.Unlocated += o.Unlocated
	s.Skipped += o.Skipped
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

func (s *Summary) reject(e *RowError) {
	s.Rejected++
	field := e.Field
	if field == "" {
		field = "record"
	}
	if s.RejectedBy == nil {
		s.RejectedBy, s.Examples = map[string]int{}, map[string]string{}
	}
	s.RejectedBy[field]++
	if _, ok := s.Examples[field]; !ok {
		s.Examples[field] = e.Error()
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

	var sum Summary
	var writeErr error
	for b := range batches {
		if writeErr != nil {
			continue // drain so the producer can finish
		}
		sum.Add(b.counts)
		if len(b.incidents) == 0 {
			continue
		}
		n, err := w.WriteBatch(ctx, b.incidents)
		if err != nil {
			writeErr = err
			cancel()
			continue
		}
		sum.Inserted += n
		sum.Duplicates += len(b.incidents) - n
		sum.Batches++
		if o.Progress != nil {
			s := sum
			s.Elapsed = time.Since(start)
			o.Progress(s)
		}
	}
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

// produce reads, validates, bins and attributes records into batches of size and
// hands each to emit with the counts of what was read for it. On a fatal error the
// records read before it are still emitted: nothing good is lost.
func produce(ctx context.Context, r Reader, o IngestOptions, size int, emit func([]*Incident, Summary) bool) error {
	var counts Summary
	cur := make([]*Incident, 0, size)
	skippedSoFar := 0
	flush := func() bool {
		counts.Skipped = skipped(r) - skippedSoFar
		skippedSoFar += counts.Skipped
		ok := emit(cur, counts)
		cur, counts = make([]*Incident, 0, size), Summary{}
		return ok
	}
	reject := func(raw *RawIncident, e *RowError) error {
		counts.reject(e)
		if o.OnReject != nil {
			return o.OnReject(raw, e)
		}
		return nil
	}
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		raw, err := r.Next()
		if err == io.EOF {
			break
		}
		var rowErr *RowError
		if err != nil && !errors.As(err, &rowErr) {
			flush()
			return err
		}
		counts.Read++
		if rowErr != nil {
			if err := reject(nil, rowErr); err != nil {
				flush()
				return err
			}
			continue
		}
		in, err := o.Validator.Validate(raw)
		if errors.As(err, &rowErr) {
			if err := reject(raw, rowErr); err != nil {
				flush()
				return err
			}
			continue
		} else if err != nil {
			counts.Read--
			flush()
			return err
		}
		in.Cell = o.Binner.Cell(in)
		if in.Cell == 0 {
			counts.Unlocated++
		} else if o.Areas != nil {
			in.Areas = o.Areas.Containing(nil, in.Location)
		}
		cur = append(cur, in)
		if len(cur) == size && !flush() {
			return ctx.Err()
		}
	}
	if w, ok := r.(Warner); ok {
		counts.Warnings = slices.Clone(w.Warnings())
	}
	if !flush() {
		return ctx.Err()
	}
	return nil
}

func skipped(r Reader) int {
	if s, ok := r.(Skipper); ok {
		return s.Skipped()
	}
	return 0
}

// String gives the summary in one line, for logs.
func (s Summary) String() string {
	return fmt.Sprintf("read %d, inserted %d, duplicates %d, rejected %d, unlocated %d, skipped %d in %s",
		s.Read, s.Inserted, s.Duplicates, s.Rejected, s.Unlocated, s.Skipped, s.Elapsed.Round(time.Millisecond))
}
