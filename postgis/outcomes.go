package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tensionmap/tensionmap/geo"
)

var _ geo.OutcomeWriter = (*OutcomeWriter)(nil)

// OutcomeWriter stores police.uk outcomes in outcomes, each batch in one
// transaction, skipping any (crime, month, outcome type) already stored. Outcomes
// are stored whether or not their crime is: they join it when it arrives. Storing
// outcomes changes no roll-up, so the data version stays as it is.
type OutcomeWriter struct {
	db     *DB
	runID  int64
	source string
}

// NewOutcomeWriter returns a writer whose outcomes belong to the ingest run runID
// (0 for none) and match crimes of the source geo.OutcomeSource.
func (db *DB) NewOutcomeWriter(runID int64) *OutcomeWriter {
	return &OutcomeWriter{db: db, runID: runID, source: geo.OutcomeSource}
}

// WriteOutcomes stores a batch and returns how many outcomes were new and, for
// each outcome of the batch, whether its crime is stored. Within a batch the rows
// are stored in order, so that of two outcomes of a crime in one month the later
// row of the file is the latest. A deadlock with a concurrent load is retried.
func (w *OutcomeWriter) WriteOutcomes(ctx context.Context, batch []*geo.Outcome) (int, []bool, error) {
	refs := make([]string, len(batch))
	months := make([]time.Time, len(batch))
	types := make([]string, len(batch))
	positive := make([]bool, len(batch))
	for i, o := range batch {
		refs[i], months[i], types[i], positive[i] = o.CrimeRef, o.Month, o.Type, o.Positive
	}
	var run any
	if w.runID != 0 {
		run = w.runID
	}
	var (
		inserted int
		matched  []bool
	)
	err := retryConflicts(func() error {
		matched = make([]bool, len(batch))
		return pgx.BeginFunc(ctx, w.db.Pool, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `INSERT INTO outcomes (crime_ref, month, outcome, positive, run_id)
				SELECT ref, month, outcome, positive, $5
				FROM unnest($1::text[], $2::date[], $3::text[], $4::boolean[]) WITH ORDINALITY AS u(ref, month, outcome, positive, ord)
				ORDER BY ord
				ON CONFLICT (crime_ref, month, outcome) DO NOTHING`, refs, months, types, positive, run)
			if err != nil {
				return err
			}
			inserted = int(tag.RowsAffected())
			rows, _ := tx.Query(ctx, `SELECT ord FROM unnest($1::text[]) WITH ORDINALITY AS u(ref, ord)
				WHERE EXISTS (SELECT 1 FROM incidents i
					WHERE i.source_id = (SELECT id FROM sources WHERE name = $2) AND i.source_ref = u.ref)`, refs, w.source)
			var ord int64
			_, err = pgx.ForEachRow(rows, []any{&ord}, func() error {
				matched[ord-1] = true
				return nil
			})
			return err
		})
	})
	if err != nil {
		return 0, nil, batchError(len(batch), "outcomes", err)
	}
	return inserted, matched, nil
}

// FinishOutcomeRun records the outcome of an ingest run that loaded outcomes; its
// summary names the format, so that it is told apart from a load of incidents.
func (db *DB) FinishOutcomeRun(ctx context.Context, id int64, sum geo.OutcomeSummary, runErr error) error {
	defer db.releaseRun(id)
	status := "done"
	if runErr != nil {
		status = "failed"
	}
	js, err := json.Marshal(struct {
		Format string `json:"format"`
		geo.OutcomeSummary
	}{geo.FormatPoliceUKOutcomes, sum})
	if err != nil {
		return err
	}
	_, err = db.Pool.Exec(ctx, `UPDATE ingest_runs SET finished_at = now(), status = $2, summary = $3 WHERE id = $1`, id, status, js)
	if err != nil {
		return fmt.Errorf("postgis: recording the ingest run: %w", err)
	}
	return nil
}

// CrimeOutcomes counts the outcomes of the crimes of source geo.OutcomeSource
// whose first possible day of occurrence is within f.From..f.To (zero ends are
// open) and that carry any of f.Strands (all when empty); f.Kinds and f.Sources are
// ignored. Crimes is how many crimes that is, WithOutcome how many of them have an
// outcome, Positive how many have a positive latest outcome, and ByOutcome counts
// them by latest outcome type. A crime's latest outcome is that of its latest month,
// the later load on a tie, as the view latest_outcomes defines it. An unknown
// strand is EINVALID.
func (db *DB) CrimeOutcomes(ctx context.Context, f geo.Filter) (geo.OutcomeCounts, error) {
	out := geo.OutcomeCounts{ByOutcome: map[string]int{}}
	v, err := db.Vocab(ctx)
	if err != nil {
		return out, err
	}
	f.Kinds, f.Sources = nil, nil
	from, to, mask, _, _, err := v.filterArgs(f)
	if err != nil {
		return out, err
	}
	// Each crime looks up its own latest outcome in the view: the LIMIT keeps the
	// lateral subquery from being flattened into a join with the whole view, so the
	// condition on crime_ref reaches the outcomes index and the cost follows the
	// selected crimes, not every outcome stored.
	rows, err := db.Pool.Query(ctx, `SELECT lo.outcome, coalesce(lo.positive, false), count(*)
		FROM incidents i
		LEFT JOIN LATERAL (SELECT l.outcome, l.positive FROM latest_outcomes l WHERE l.crime_ref = i.source_ref LIMIT 1) lo ON true
		WHERE i.source_id = (SELECT id FROM sources WHERE name = $1) AND i.kind = $2
		  AND ($3::date IS NULL OR i.occurred_from >= $3) AND ($4::date IS NULL OR i.occurred_from <= $4)
		  AND ($5::bigint = 0 OR i.strands & $5 <> 0)
		GROUP BY 1, 2`, geo.OutcomeSource, kindCode(geo.KindCrime), from, to, mask)
	if err != nil {
		return out, fmt.Errorf("postgis: crime outcomes: %w", err)
	}
	var outcome *string
	var positive bool
	var n int
	_, err = pgx.ForEachRow(rows, []any{&outcome, &positive, &n}, func() error {
		out.Crimes += n
		if outcome == nil {
			return nil
		}
		out.WithOutcome += n
		out.ByOutcome[*outcome] += n
		if positive {
			out.Positive += n
		}
		return nil
	})
	if err != nil {
		return geo.OutcomeCounts{ByOutcome: map[string]int{}}, fmt.Errorf("postgis: crime outcomes: %w", err)
	}
	return out, nil
}
