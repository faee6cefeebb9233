package geo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// OutcomeWriter stores outcomes a batch at a time, each batch atomically, skipping
// any (crime, month, outcome type) already stored. It returns how many outcomes
// were new and, for each outcome of the batch, whether its crime is stored.
type OutcomeWriter interface {
	WriteOutcomes(ctx context.Context, batch []*Outcome) (inserted int, matched []bool, err error)
}

// OutcomeIngestOptions configures IngestOutcomes.
type OutcomeIngestOptions struct {
	BatchSize int // outcomes a transaction; DefaultBatchSize when 0

	// Progress, when set, is called after every stored batch.
	Progress func(OutcomeSummary)
	// OnReject, when set, is called for every rejected row.
	OnReject func(*RowError) error
}

// Bounds on what an OutcomeSummary keeps as examples.
const (
	maxUnmatchedExamples = 5
	maxUnknownTypes      = 20
)

// OutcomeSummary counts what a load of outcomes did. Matched and NotYetMatched
// count the valid rows read, whether or not they were new, so that a load run again
// after the crimes arrived shows them matched.
type OutcomeSummary struct {
	Read       int               `json:"read"`       // rows read, rejected ones included
	Inserted   int               `json:"inserted"`   // new outcomes stored
	Duplicates int               `json:"duplicates"` // valid rows already stored (or repeated in the input)
	Rejected   int               `json:"rejected"`
	RejectedBy map[string]int    `json:"rejected_by,omitempty"`     // by column ("record" when unreadable)
	Examples   map[string]string `json:"reject_examples,omitempty"` // the first rejection of each column

	Matched       int      `json:"matched"`                            // valid rows whose crime is stored
	NotYetMatched int      `json:"not_yet_matched"`                    // valid rows whose crime is not (yet) stored: kept
	Unmatched     []string `json:"not_yet_matched_examples,omitempty"` // the first few of their Crime IDs

	Positive     int            `json:"positive"`                // valid rows of a positive outcome type
	Unknown      int            `json:"unknown_type"`            // valid rows of a type not in OutcomeTypes
	UnknownTypes map[string]int `json:"unknown_types,omitempty"` // the first few unknown types and their rows

	Batches int           `json:"batches"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

func (s *OutcomeSummary) reject(e *RowError) {
	countRejection(&s.Rejected, &s.RejectedBy, &s.Examples, e)
}

// Summary returns the counts an incident load has too, for totals over several
// inputs of either kind.
func (s OutcomeSummary) Summary() Summary {
	return Summary{Read: s.Read, Inserted: s.Inserted, Duplicates: s.Duplicates, Rejected: s.Rejected,
		RejectedBy: s.RejectedBy, Examples: s.Examples, Batches: s.Batches, Elapsed: s.Elapsed}
}

// String gives the summary in one line, for logs.
func (s OutcomeSummary) String() string {
	return fmt.Sprintf("read %d, inserted %d, duplicates %d, rejected %d, matched %d, not yet matched %d, positive %d, unknown type %d in %s",
		s.Read, s.Inserted, s.Duplicates, s.Rejected, s.Matched, s.NotYetMatched, s.Positive, s.Unknown, s.Elapsed.Round(time.Millisecond))
}

// IngestOutcomes reads every outcome of r and stores the valid ones through w in
// batches. Rejected rows are counted by column and handed to OnReject; they never
// stop the good ones. An outcome whose crime is not stored is stored all the same
// and counted as not yet matched: it joins its crime when that is loaded. A fatal
// error ends the load after storing what was read before it; running the load
// again stores nothing twice.
func IngestOutcomes(ctx context.Context, r OutcomeReader, w OutcomeWriter, o OutcomeIngestOptions) (OutcomeSummary, error) {
	start := time.Now()
	size := o.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	var sum OutcomeSummary
	seenUnmatched := map[string]bool{}
	batch := make([]*Outcome, 0, min(size, 4096))
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		inserted, matched, err := w.WriteOutcomes(ctx, batch)
		if err != nil {
			return err
		}
		if len(matched) != len(batch) {
			return fmt.Errorf("geo: the outcome writer matched %d outcomes of a batch of %d", len(matched), len(batch))
		}
		sum.Inserted += inserted
		sum.Duplicates += len(batch) - inserted
		sum.Batches++
		for i, m := range matched {
			if m {
				sum.Matched++
				continue
			}
			sum.NotYetMatched++
			if ref := batch[i].CrimeRef; len(sum.Unmatched) < maxUnmatchedExamples && !seenUnmatched[ref] {
				seenUnmatched[ref] = true
				sum.Unmatched = append(sum.Unmatched, ref)
			}
		}
		batch = batch[:0]
		if o.Progress != nil {
			s := sum
			s.Elapsed = time.Since(start)
			o.Progress(s)
		}
		return nil
	}
	var fatal error
	writeFailed := false
	for fatal == nil {
		if err := ctx.Err(); err != nil {
			fatal = err
			break
		}
		out, err := r.Next()
		if err == io.EOF {
			break
		}
		var rowErr *RowError
		switch {
		case errors.As(err, &rowErr):
			sum.Read++
			sum.reject(rowErr)
			if o.OnReject != nil {
				fatal = o.OnReject(rowErr)
			}
			continue
		case err != nil:
			fatal = err
			continue
		}
		sum.Read++
		if out.Positive {
			sum.Positive++
		}
		if !out.Known {
			sum.Unknown++
			if _, ok := sum.UnknownTypes[out.Type]; ok || len(sum.UnknownTypes) < maxUnknownTypes {
				if sum.UnknownTypes == nil {
					sum.UnknownTypes = map[string]int{}
				}
				sum.UnknownTypes[out.Type]++
			}
		}
		batch = append(batch, out)
		if len(batch) >= size {
			if err := flush(); err != nil {
				fatal, writeFailed = err, true
			}
		}
	}
	// What was read before a fatal error of the input is still stored.
	if !writeFailed && ctx.Err() == nil {
		if err := flush(); err != nil {
			fatal = errors.Join(fatal, err)
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, fatal
}

// SortedUnknownTypes returns the unknown outcome types of a summary, most rows first.
func (s OutcomeSummary) SortedUnknownTypes() []string {
	out := make([]string, 0, len(s.UnknownTypes))
	for t := range s.UnknownTypes {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(s.UnknownTypes[b], s.UnknownTypes[a]), strings.Compare(a, b))
	})
	return out
}
