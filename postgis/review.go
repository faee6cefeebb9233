package postgis

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tensionmap/tensionmap/cases"
	"github.com/tensionmap/tensionmap/geo"
)

// reviewMonths is the length of a review's monthly series.
const reviewMonths = 24

// Review computes the figures of a strategic review (see geo.Review for every
// definition) in one read-only snapshot, so that they agree with each other while
// reports arrive. Counts of reports come from the roll-ups (day_counts for totals,
// splits and months, set_day_counts with area_sets for areas); the incidents table is
// read only for repeats and outcomes, over the days of the period. Counts are raw.
// An unknown level is EINVALID.
func (db *DB) Review(ctx context.Context, q geo.ReviewQuery) (*geo.Review, error) {
	q, err := q.Normalise(time.Now())
	if err != nil {
		return nil, err
	}
	v, err := db.Vocab(ctx)
	if err != nil {
		return nil, err
	}
	levels, err := db.AreaLevels(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgis: review: %w", err)
	}
	if q.Level != "" && !slices.Contains(levels, q.Level) {
		return nil, geo.Errorf(geo.EINVALID, "unknown area level %q: the stored levels are %v", q.Level, levels)
	}
	r := &geo.Review{
		Strands: nonEmpty(v.Strands),
		Sources: nonEmpty(v.Sources),
		Areas:   []geo.ReviewArea{},
	}
	r.Period = newPeriodCounts(q.From, q.To, r.Strands, r.Sources)
	r.YearEarlier = newPeriodCounts(geo.YearEarlier(q.From), geo.YearEarlier(q.To), r.Strands, r.Sources)
	err = pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if q.Level == "" && len(levels) > 0 {
			if err := tx.QueryRow(ctx, `SELECT level FROM areas GROUP BY level ORDER BY count(*) DESC, level LIMIT 1`).Scan(&q.Level); err != nil {
				return fmt.Errorf("the finest level: %w", err)
			}
		}
		for _, step := range []func(context.Context, pgx.Tx, *Vocab, geo.ReviewQuery, *geo.Review) error{
			reviewPeriods, reviewMonthly, reviewAreas, reviewRepeats, reviewAlerts, reviewAssessments, reviewOutcomes,
		} {
			if err := step(ctx, tx, v, q, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if geo.ErrorCode(err) != geo.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("postgis: review: %w", err)
	}
	r.Query = q
	return r, nil
}

// nonEmpty returns the names of a vocabulary list, skipping unused ids.
func nonEmpty(names []string) []string {
	out := []string{}
	for _, n := range names {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

func newPeriodCounts(from, to time.Time, strands, sources []string) geo.PeriodCounts {
	p := geo.PeriodCounts{From: from, To: to, ByStrand: map[string]int{}, BySource: map[string]int{}}
	for _, s := range strands {
		p.ByStrand[s] = 0
	}
	for _, s := range sources {
		p.BySource[s] = 0
	}
	return p
}

// addToPeriod counts n reports of a class into p.
func (v *Vocab) addToPeriod(p *geo.PeriodCounts, class int64, n int) {
	if n == 0 {
		return
	}
	v.addClass(class, n, &p.Reports, &p.Crimes, &p.Incidents, p.ByStrand, p.BySource)
}

// reviewPeriods counts the period and the year-earlier period by class from the
// day roll-ups. The two periods overlap when the period is longer than a year;
// each sum is taken over its own days.
func reviewPeriods(ctx context.Context, tx pgx.Tx, v *Vocab, q geo.ReviewQuery, r *geo.Review) error {
	rows, err := tx.Query(ctx, `SELECT class,
			coalesce(sum(n) FILTER (WHERE day BETWEEN $1 AND $2), 0)::bigint,
			coalesce(sum(n) FILTER (WHERE day BETWEEN $3 AND $4), 0)::bigint
		FROM day_counts WHERE day BETWEEN $1 AND $2 OR day BETWEEN $3 AND $4
		GROUP BY class`, q.From, q.To, r.YearEarlier.From, r.YearEarlier.To)
	if err != nil {
		return fmt.Errorf("periods: %w", err)
	}
	var class, cur, prev int64
	_, err = pgx.ForEachRow(rows, []any{&class, &cur, &prev}, func() error {
		v.addToPeriod(&r.Period, class, int(cur))
		v.addToPeriod(&r.YearEarlier, class, int(prev))
		return nil
	})
	if err != nil {
		return fmt.Errorf("periods: %w", err)
	}
	return nil
}

// reviewMonthly counts the 24 calendar months ending with the month of To, up to
// To, by class from the day roll-ups.
func reviewMonthly(ctx context.Context, tx pgx.Tx, v *Vocab, q geo.ReviewQuery, r *geo.Review) error {
	last := time.Date(q.To.Year(), q.To.Month(), 1, 0, 0, 0, 0, time.UTC)
	first := last.AddDate(0, 1-reviewMonths, 0)
	strands := r.Strands
	r.Months = make([]geo.MonthCount, reviewMonths)
	for i := range r.Months {
		m := geo.MonthCount{Month: first.AddDate(0, i, 0), ByStrand: make(map[string]int, len(strands))}
		for _, s := range strands {
			m.ByStrand[s] = 0
		}
		r.Months[i] = m
	}
	rows, err := tx.Query(ctx, `SELECT date_trunc('month', day)::date, class, sum(n)::bigint
		FROM day_counts WHERE day BETWEEN $1 AND $2 GROUP BY 1, 2`, first, q.To)
	if err != nil {
		return fmt.Errorf("months: %w", err)
	}
	var month time.Time
	var class, n int64
	_, err = pgx.ForEachRow(rows, []any{&month, &class, &n}, func() error {
		i := (month.Year()-first.Year())*12 + int(month.Month()) - int(first.Month())
		if i < 0 || i >= reviewMonths {
			return fmt.Errorf("month %s outside the series", month.Format(time.DateOnly))
		}
		m := &r.Months[i]
		m.Total += int(n)
		_, _, mask := unpackClass(class)
		for _, s := range v.StrandNames(mask) {
			m.ByStrand[s] += int(n)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("months: %w", err)
	}
	return nil
}

// reviewAreas counts every area of the level in both periods: the cell roll-ups
// are summed by set of areas first (a few thousand sets), then each set's sums go
// to its areas, as the area_counts view does row by row.
func reviewAreas(ctx context.Context, tx pgx.Tx, _ *Vocab, q geo.ReviewQuery, r *geo.Review) error {
	if q.Level == "" {
		return nil
	}
	rows, err := tx.Query(ctx, `
		WITH s AS (
			SELECT area_set,
				coalesce(sum(n) FILTER (WHERE day BETWEEN $1 AND $2), 0) AS cur,
				coalesce(sum(n) FILTER (WHERE day BETWEEN $3 AND $4), 0) AS prev
			FROM set_day_counts WHERE area_set <> 0 AND (day BETWEEN $1 AND $2 OR day BETWEEN $3 AND $4)
			GROUP BY area_set),
		a AS (
			SELECT x.area_id, sum(s.cur) AS cur, sum(s.prev) AS prev
			FROM s JOIN area_sets t ON t.id = s.area_set CROSS JOIN unnest(t.areas) AS x(area_id)
			GROUP BY x.area_id)
		SELECT ar.code, ar.name, coalesce(ar.population, 0), coalesce(a.cur, 0)::bigint, coalesce(a.prev, 0)::bigint
		FROM areas ar LEFT JOIN a ON a.area_id = ar.id
		WHERE ar.level = $5
		ORDER BY ar.code`, q.From, q.To, r.YearEarlier.From, r.YearEarlier.To, q.Level)
	if err != nil {
		return fmt.Errorf("areas: %w", err)
	}
	var a geo.ReviewArea
	var pop int32
	var cur, prev int64
	_, err = pgx.ForEachRow(rows, []any{&a.Code, &a.Name, &pop, &cur, &prev}, func() error {
		a.Population, a.Count, a.Previous = int(pop), int(cur), int(prev)
		r.Areas = append(r.Areas, a)
		return nil
	})
	if err != nil {
		return fmt.Errorf("areas: %w", err)
	}
	return nil
}

// reviewRepeats counts the repeat victims and offenders by the rule of package
// cases, the one the worklists and the repeats list follow: two reports or more
// naming a pseudonym in the months (q.RepeatMonths, 12 when 0) ending on the
// period's last day. Only counts leave this function, never a pseudonym.
func reviewRepeats(ctx context.Context, tx pgx.Tx, v *Vocab, q geo.ReviewQuery, r *geo.Review) error {
	rule := cases.DefaultRepeatRule()
	if q.RepeatMonths > 0 {
		rule.WindowMonths = q.RepeatMonths
	}
	from, to := rule.Window(q.To)
	reports, err := repeatReports(ctx, tx, v, from, to)
	if err != nil {
		return fmt.Errorf("repeats: %w", err)
	}
	r.Repeats.Victims = rule.Count(reports, cases.Victim, q.To)
	r.Repeats.Offenders = rule.Count(reports, cases.Offender, q.To)
	return nil
}

// reviewAlerts counts the alerts first seen in the period by method and level.
func reviewAlerts(ctx context.Context, tx pgx.Tx, _ *Vocab, q geo.ReviewQuery, r *geo.Review) error {
	r.Alerts = geo.ReviewAlerts{ByMethod: map[string]int{}, ByLevel: map[string]int{}}
	rows, err := tx.Query(ctx, `SELECT method, tension_level, count(*) FROM alerts
		WHERE first_seen BETWEEN $1 AND $2 GROUP BY 1, 2`, q.From, q.To)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	var method, level string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&method, &level, &n}, func() error {
		r.Alerts.Raised += int(n)
		r.Alerts.ByMethod[method] += int(n)
		r.Alerts.ByLevel[level] += int(n)
		return nil
	})
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	return nil
}

// reviewAssessments counts impact assessments opened, closed, open and overdue, and
// the median days from alert to assessment. The period's days are taken in the
// query's zone: from midnight of From to midnight after To there.
func reviewAssessments(ctx context.Context, tx pgx.Tx, _ *Vocab, q geo.ReviewQuery, r *geo.Review) error {
	start := time.Date(q.From.Year(), q.From.Month(), q.From.Day(), 0, 0, 0, 0, q.Location)
	end := time.Date(q.To.Year(), q.To.Month(), q.To.Day()+1, 0, 0, 0, 0, q.Location)
	a := &r.Assessments
	var opened, closed, open, overdue, overdueActions int64
	err := tx.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE opened_at >= $1 AND opened_at < $2),
			count(*) FILTER (WHERE closed_at >= $1 AND closed_at < $2),
			count(*) FILTER (WHERE status IN ('open', 'under_review')),
			count(*) FILTER (WHERE status IN ('open', 'under_review') AND (review_date < $3
				OR EXISTS (SELECT 1 FROM assessment_actions x WHERE x.assessment_id = s.id AND NOT x.done AND x.due < $3))),
			(SELECT count(*) FROM assessment_actions x JOIN assessments t ON t.id = x.assessment_id
				WHERE t.status IN ('open', 'under_review') AND NOT x.done AND x.due < $3)
		FROM assessments s`, start, end, q.Today).Scan(&opened, &closed, &open, &overdue, &overdueActions)
	if err != nil {
		return fmt.Errorf("assessments: %w", err)
	}
	a.Opened, a.Closed, a.Open, a.Overdue, a.OverdueActions = int(opened), int(closed), int(open), int(overdue), int(overdueActions)

	rows, err := tx.Query(ctx, `SELECT s.opened_at, al.first_seen FROM assessments s JOIN alerts al ON al.id = s.alert_id
		WHERE s.opened_at >= $1 AND s.opened_at < $2`, start, end)
	if err != nil {
		return fmt.Errorf("assessments: %w", err)
	}
	var openedAt, firstSeen time.Time
	var days []float64
	_, err = pgx.ForEachRow(rows, []any{&openedAt, &firstSeen}, func() error {
		d := geo.Day(openedAt.In(q.Location)).Sub(geo.Day(firstSeen))
		days = append(days, float64(d/(24*time.Hour)))
		return nil
	})
	if err != nil {
		return fmt.Errorf("assessments: %w", err)
	}
	if m, ok := geo.Median(days); ok {
		a.DaysToOpen = &m
	}
	a.DaysToOpenOver = len(days)
	return nil
}

// reviewOutcomes counts the police-recorded crimes of the period by their latest
// outcome, as CrimeOutcomes does, within the review's snapshot. Each crime looks up its own latest outcome: the LIMIT keeps the lateral
// subquery from being flattened into a join with the whole view, so the condition
// on crime_ref reaches the outcomes index and the cost follows the period's crimes,
// not every outcome stored.
func reviewOutcomes(ctx context.Context, tx pgx.Tx, v *Vocab, q geo.ReviewQuery, r *geo.Review) error {
	r.Outcomes = geo.OutcomeCounts{ByOutcome: map[string]int{}}
	police, ok := v.SourceID[geo.OutcomeSource]
	if !ok {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT lo.outcome, coalesce(lo.positive, false), count(*)
		FROM incidents i
		LEFT JOIN LATERAL (SELECT l.outcome, l.positive FROM latest_outcomes l WHERE l.crime_ref = i.source_ref LIMIT 1) lo ON true
		WHERE i.occurred_from BETWEEN $1 AND $2 AND i.source_id = $3 AND i.kind = $4
		GROUP BY 1, 2`, q.From, q.To, police, kindCode(geo.KindCrime))
	if err != nil {
		return fmt.Errorf("outcomes: %w", err)
	}
	var outcome *string
	var positive bool
	var n int64
	o := &r.Outcomes
	_, err = pgx.ForEachRow(rows, []any{&outcome, &positive, &n}, func() error {
		o.Crimes += int(n)
		if outcome == nil {
			return nil
		}
		o.WithOutcome += int(n)
		o.ByOutcome[*outcome] += int(n)
		if positive {
			o.Positive += int(n)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outcomes: %w", err)
	}
	return nil
}
