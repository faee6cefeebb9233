package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tensionmap/tensionmap/cases"
	"github.com/tensionmap/tensionmap/geo"
)

// caseColumns are read by scanCase, in its order.
const caseColumns = `c.id, c.partner, c.ref, c.victim_key, c.reports, coalesce(c.officer, 0), c.opened_at, c.first_contact_at,
	c.victims_code_at, c.risk, c.referral, c.actions, c.contacts, c.closed_at, c.outcome, c.closure_reason, c.survey_at,
	c.satisfied_outcome, c.satisfied_handling, c.survey_declined, c.erased_at, c.version, c.created_at, c.updated_at`

func scanCase(row pgx.Row) (*cases.Case, error) {
	var c cases.Case
	var reports, actions, contacts []byte
	var first, code, closed, surveyed, erased *time.Time
	var outcome *string
	var reason string
	var satOutcome, satHandling *bool
	var declined bool
	err := row.Scan(&c.ID, &c.Partner, &c.Ref, &c.VictimKey, &reports, &c.Officer, &c.OpenedAt, &first, &code,
		&c.Risk, &c.Referral, &actions, &contacts, &closed, &outcome, &reason, &surveyed, &satOutcome, &satHandling, &declined,
		&erased, &c.Version, &c.CreatedAt, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geo.Errorf(geo.ENOTFOUND, "no such case")
	}
	if err != nil {
		return nil, fmt.Errorf("postgis: reading a case: %w", err)
	}
	for _, x := range []struct {
		b []byte
		v any
	}{{reports, &c.Reports}, {actions, &c.Actions}, {contacts, &c.Contacts}} {
		if err := json.Unmarshal(x.b, x.v); err != nil {
			return nil, fmt.Errorf("postgis: reading case %d: %w", c.ID, err)
		}
	}
	c.Reports, c.Actions, c.Contacts = nonNilSlice(c.Reports), nonNilSlice(c.Actions), nonNilSlice(c.Contacts)
	c.FirstContactAt, c.VictimsCodeAt, c.ErasedAt = deref(first), deref(code), deref(erased)
	if closed != nil && outcome != nil {
		c.Closure = &cases.Closure{At: *closed, Outcome: *outcome, Reason: reason}
	}
	if surveyed != nil {
		c.Survey = &cases.Survey{At: *surveyed, SatisfiedOutcome: satOutcome != nil && *satOutcome,
			SatisfiedHandling: satHandling != nil && *satHandling, Declined: declined}
	}
	return &c, nil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// caseArgs are the values of a case's stored columns, from partner to erased_at.
func caseArgs(c *cases.Case) []any {
	js := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			return []byte("[]")
		}
		return b
	}
	var officer any
	if c.Officer != 0 {
		officer = c.Officer
	}
	var closed, outcome, surveyed, satOutcome, satHandling any
	declined := false
	reason := ""
	if c.Closure != nil {
		closed, outcome, reason = c.Closure.At, c.Closure.Outcome, c.Closure.Reason
	}
	if c.Survey != nil {
		surveyed, satOutcome, satHandling, declined = c.Survey.At, c.Survey.SatisfiedOutcome, c.Survey.SatisfiedHandling, c.Survey.Declined
	}
	return []any{c.Partner, c.Ref, c.VictimKey, js(nonNilSlice(c.Reports)), officer, c.OpenedAt, dateArg(c.FirstContactAt),
		dateArg(c.VictimsCodeAt), c.Risk, c.Referral, js(nonNilSlice(c.Actions)), js(nonNilSlice(c.Contacts)), closed, outcome,
		reason, surveyed, satOutcome, satHandling, declined, dateArg(c.ErasedAt)}
}

// caseHistory appends a case's history entries.
func caseHistory(ctx context.Context, tx pgx.Tx, id int64, entries []cases.HistoryEntry) error {
	for _, e := range entries {
		js, _, err := safeJSON(orEmpty(e.Changes))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_history (case_id, at, actor, action, changes) VALUES ($1, $2, $3, $4, $5)`,
			id, e.At, e.Actor, e.Action, js); err != nil {
			return err
		}
	}
	return nil
}

func caseErr(what string, err error) error {
	var ge *geo.Error
	if err == nil || errors.As(err, &ge) {
		return err
	}
	if isUniqueViolation(err) {
		return geo.Errorf(geo.ECONFLICT, "a case with this partner and reference is already stored")
	}
	return fmt.Errorf("postgis: %s: %w", what, err)
}

// CreateCase stores a new case with its first history entries and sets its ID,
// Version and times. A case with the same partner and reference gives ECONFLICT.
func (db *DB) CreateCase(ctx context.Context, c *cases.Case, entries ...cases.HistoryEntry) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO cases (partner, ref, victim_key, reports, officer, opened_at, first_contact_at,
			victims_code_at, risk, referral, actions, contacts, closed_at, outcome, closure_reason, survey_at, satisfied_outcome,
			satisfied_handling, survey_declined, erased_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
			RETURNING id, version, created_at, updated_at`, caseArgs(c)...).Scan(&c.ID, &c.Version, &c.CreatedAt, &c.UpdatedAt)
		if err != nil {
			return err
		}
		return caseHistory(ctx, tx, c.ID, entries)
	})
	return caseErr("storing a case", err)
}

// UpdateCase saves every field of a stored case whose stored version is
// c.Version, appends the entries to its history and bumps c.Version. A case
// changed since it was read gives ECONFLICT; the partner, reference and victim
// key never change.
func (db *DB) UpdateCase(ctx context.Context, c *cases.Case, entries ...cases.HistoryEntry) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		return updateCase(ctx, tx, c, entries)
	})
	return caseErr("saving a case", err)
}

func updateCase(ctx context.Context, tx pgx.Tx, c *cases.Case, entries []cases.HistoryEntry) error {
	args := append([]any{c.ID, c.Version}, caseArgs(c)[3:]...)
	err := tx.QueryRow(ctx, `UPDATE cases SET reports = $3, officer = $4, opened_at = $5, first_contact_at = $6,
		victims_code_at = $7, risk = $8, referral = $9, actions = $10, contacts = $11, closed_at = $12, outcome = $13,
		closure_reason = $14, survey_at = $15, satisfied_outcome = $16, satisfied_handling = $17, survey_declined = $18, erased_at = $19,
		version = version + 1, updated_at = now()
		WHERE id = $1 AND version = $2 RETURNING version, updated_at`, args...).Scan(&c.Version, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		var v int
		if err := tx.QueryRow(ctx, `SELECT version FROM cases WHERE id = $1`, c.ID).Scan(&v); errors.Is(err, pgx.ErrNoRows) {
			return geo.Errorf(geo.ENOTFOUND, "no such case")
		}
		return geo.Errorf(geo.ECONFLICT, "case %d was changed by someone else since it was read (version %d, now %d): read it again", c.ID, c.Version, v)
	}
	if err != nil {
		return err
	}
	return caseHistory(ctx, tx, c.ID, entries)
}

// Case returns a stored case with its history, oldest first; ENOTFOUND when there
// is none.
func (db *DB) Case(ctx context.Context, id int64) (*cases.Case, error) {
	c, err := scanCase(db.Pool.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.id = $1`, id))
	if err != nil {
		return nil, err
	}
	return c, db.fillCaseHistory(ctx, c)
}

// CaseByRef returns the case a partner keys by its reference, with its history.
func (db *DB) CaseByRef(ctx context.Context, partner, ref string) (*cases.Case, error) {
	c, err := scanCase(db.Pool.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.partner = $1 AND c.ref = $2`, partner, ref))
	if err != nil {
		return nil, err
	}
	return c, db.fillCaseHistory(ctx, c)
}

func (db *DB) fillCaseHistory(ctx context.Context, c *cases.Case) error {
	rows, err := db.Pool.Query(ctx, `SELECT at, actor, action, changes FROM case_history WHERE case_id = $1 ORDER BY id`, c.ID)
	if err != nil {
		return fmt.Errorf("postgis: a case's history: %w", err)
	}
	var e cases.HistoryEntry
	var ch []byte
	c.History = []cases.HistoryEntry{}
	_, err = pgx.ForEachRow(rows, []any{&e.At, &e.Actor, &e.Action, &ch}, func() error {
		x := e
		x.Changes = nil
		if err := json.Unmarshal(ch, &x.Changes); err != nil {
			return err
		}
		c.History = append(c.History, x)
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgis: a case's history: %w", err)
	}
	return nil
}

// Cases lists the cases the filter selects, without their history, most recently
// opened first.
func (db *DB) Cases(ctx context.Context, f cases.Filter) ([]*cases.Case, error) {
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	var partners any
	if len(f.Partners) > 0 {
		partners = f.Partners
	}
	var areas any
	if len(f.Areas) > 0 {
		areas = f.Areas
	}
	// A case lies in an area when one of the reports it follows does.
	rows, err := db.Pool.Query(ctx, `SELECT `+caseColumns+` FROM cases c
		WHERE ($1::text[] IS NULL OR c.partner = ANY($1)) AND ($2 = 0 OR c.officer = $2 OR ($6 AND c.officer IS NULL))
		  AND (NOT $3 OR c.closed_at IS NULL) AND ($4 = '' OR c.victim_key = $4) AND ($8 = 0 OR c.id = $8)
		  AND ($7::text[] IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements(c.reports) r
		      JOIN sources s ON s.name = r->>'source'
		      JOIN incidents i ON i.source_id = s.id AND i.source_ref = r->>'ref'
		      JOIN areas a ON a.id = ANY(i.areas)
		      WHERE a.code = ANY($7::text[])))
		ORDER BY c.opened_at DESC, c.id DESC LIMIT $5`, partners, f.Officer, f.Open, f.VictimKey, limit, f.OrUnassigned, areas, f.ID)
	if err != nil {
		return nil, fmt.Errorf("postgis: cases: %w", err)
	}
	out, err := pgx.CollectRows(rows, rowToCase)
	if err != nil {
		return nil, fmt.Errorf("postgis: cases: %w", err)
	}
	return out, nil
}

// rowToCase reads a row of caseColumns, for pgx.CollectRows.
func rowToCase(row pgx.CollectableRow) (*cases.Case, error) { return scanCase(row) }

// CasesForFigures lists every case that may count in the figures of the days
// from one day to another: those opened by the last day and not closed before
// the first.
func (db *DB) CasesForFigures(ctx context.Context, from, to time.Time) ([]*cases.Case, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+caseColumns+` FROM cases c
		WHERE c.opened_at < $2::date + 2 AND (c.closed_at IS NULL OR c.closed_at >= $1::date - 1) ORDER BY c.id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgis: cases for figures: %w", err)
	}
	out, err := pgx.CollectRows(rows, rowToCase)
	if err != nil {
		return nil, fmt.Errorf("postgis: cases for figures: %w", err)
	}
	return out, nil
}

// EraseVictim removes the free text of every case of a victim key (contact
// notes, action text, closure reasons) and records the erasure in each case's
// history; dates, outcomes and survey answers stay. It returns the cases erased.
func (db *DB) EraseVictim(ctx context.Context, victimKey, actor string, now time.Time) ([]int64, error) {
	erased, err := db.EraseVictimCases(ctx, victimKey, actor, now)
	var ids []int64
	for _, x := range erased {
		ids = append(ids, x.ID)
	}
	return ids, err
}

// EraseVictimCases is EraseVictim saying what it removed from each case, in
// the order of the cases' ids.
func (db *DB) EraseVictimCases(ctx context.Context, victimKey, actor string, now time.Time) ([]cases.Erased, error) {
	var out []cases.Erased
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.victim_key = $1 ORDER BY c.id FOR UPDATE`, victimKey)
		if err != nil {
			return err
		}
		list, err := pgx.CollectRows(rows, rowToCase)
		if err != nil {
			return err
		}
		for _, c := range list {
			e, x := cases.EraseCase(c, actor, now)
			if err := updateCase(ctx, tx, c, []cases.HistoryEntry{e}); err != nil {
				return err
			}
			out = append(out, x)
		}
		return nil
	})
	if err != nil {
		return nil, caseErr("erasing a complainant's text", err)
	}
	return out, nil
}

// RepeatReports reads what the repeat rule needs of the reports whose days fall
// from one day to another and that name a victim or an offender: source and
// reference, the pseudonyms, the day, the strands and the codes of the areas.
func (db *DB) RepeatReports(ctx context.Context, from, to time.Time) ([]cases.Report, error) {
	v, err := db.Vocab(ctx)
	if err != nil {
		return nil, err
	}
	return repeatReports(ctx, db.Pool, v, from, to)
}

func repeatReports(ctx context.Context, q querier, v *Vocab, from, to time.Time) ([]cases.Report, error) {
	rows, err := q.Query(ctx, `SELECT i.source_id, i.source_ref, coalesce(i.victim_key, ''), coalesce(i.offender_key, ''),
		i.occurred_from, i.strands,
		coalesce((SELECT array_agg(a.code ORDER BY a.code) FROM areas a WHERE a.id = ANY(i.areas)), '{}')
		FROM incidents i WHERE i.occurred_from BETWEEN $1 AND $2
		  AND (coalesce(i.victim_key, '') <> '' OR coalesce(i.offender_key, '') <> '')`, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgis: reports for repeats: %w", err)
	}
	var out []cases.Report
	var src int16
	var mask int64
	var r cases.Report
	_, err = pgx.ForEachRow(rows, []any{&src, &r.SourceRef, &r.VictimKey, &r.OffenderKey, &r.Day, &mask, &r.Areas}, func() error {
		x := r
		if int(src) < len(v.Sources) {
			x.Source = v.Sources[src]
		}
		x.Strands = v.StrandNames(mask)
		x.Areas = slices.Clone(r.Areas)
		out = append(out, x)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: reports for repeats: %w", err)
	}
	return out, nil
}

// ReportForCase names a stored report by its id, for a case that follows it: its
// source, its reference, its victim key ("" when it names no victim) and the
// codes of the areas it falls in.
func (db *DB) ReportForCase(ctx context.Context, incidentID int64) (source, ref, victimKey string, areas []string, err error) {
	v, err := db.Vocab(ctx)
	if err != nil {
		return "", "", "", nil, err
	}
	var src int16
	err = db.Pool.QueryRow(ctx, `SELECT i.source_id, i.source_ref, coalesce(i.victim_key, ''),
		coalesce((SELECT array_agg(a.code ORDER BY a.code) FROM areas a WHERE a.id = ANY(i.areas)), '{}')
		FROM incidents i WHERE i.id = $1`, incidentID).Scan(&src, &ref, &victimKey, &areas)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", "", nil, geo.Errorf(geo.ENOTFOUND, "no such report")
	}
	if err != nil {
		return "", "", "", nil, fmt.Errorf("postgis: a report for a case: %w", err)
	}
	if int(src) < len(v.Sources) {
		source = v.Sources[src]
	}
	return source, ref, victimKey, areas, nil
}

// ReportsInAreas says whether at least one of the stored reports refs names lies
// in one of the areas of the given codes: the test a case must pass for a police
// team scoped to those areas to open or keep it.
func (db *DB) ReportsInAreas(ctx context.Context, refs []cases.ReportRef, areas []string) (bool, error) {
	if len(refs) == 0 || len(areas) == 0 {
		return false, nil
	}
	srcs := make([]string, len(refs))
	ids := make([]string, len(refs))
	for i, r := range refs {
		srcs[i], ids[i] = r.Source, r.Ref
	}
	var in bool
	err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM unnest($1::text[], $2::text[]) AS r(source, ref)
		JOIN sources s ON s.name = r.source
		JOIN incidents i ON i.source_id = s.id AND i.source_ref = r.ref
		JOIN areas a ON a.id = ANY(i.areas)
		WHERE a.code = ANY($3::text[]))`, srcs, ids, areas).Scan(&in)
	if err != nil {
		return false, fmt.Errorf("postgis: reports in areas: %w", err)
	}
	return in, nil
}

// CreateCases stores many new cases with their histories in one transaction, as
// the demo and a load do; a case already stored (by partner and reference) is
// left as it is. It returns how many were stored.
func (db *DB) CreateCases(ctx context.Context, cs []*cases.Case) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		n = 0
		for _, c := range cs {
			err := tx.QueryRow(ctx, `INSERT INTO cases (partner, ref, victim_key, reports, officer, opened_at, first_contact_at,
				victims_code_at, risk, referral, actions, contacts, closed_at, outcome, closure_reason, survey_at, satisfied_outcome,
				satisfied_handling, survey_declined, erased_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
				ON CONFLICT (partner, ref) DO NOTHING
				RETURNING id, version, created_at, updated_at`, caseArgs(c)...).Scan(&c.ID, &c.Version, &c.CreatedAt, &c.UpdatedAt)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("case %s %s: %w", c.Partner, c.Ref, err)
			}
			if err := caseHistory(ctx, tx, c.ID, c.History); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, caseErr("storing cases", err)
}
