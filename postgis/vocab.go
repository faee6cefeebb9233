package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/tensionmap/tensionmap/geo"
)

// Vocab maps strand and source names to their stored ids. A strand's id is its bit in
// the strands bitmask.
type Vocab struct {
	StrandBit map[string]int
	SourceID  map[string]int16
	Strands   []string // by bit; "" for unused bits
	Sources   []string // by id
}

// Mask returns the bitmask of a set of strand names; unknown names are ignored.
func (v *Vocab) Mask(strands []string) int64 {
	var m int64
	for _, s := range strands {
		if b, ok := v.StrandBit[s]; ok {
			m |= 1 << b
		}
	}
	return m
}

// Class packs an incident's kind, source and strands into the class of its roll-up
// rows: strands in bits 0-47, source id in bits 48-61, kind in bit 62.
func (v *Vocab) Class(in *geo.Incident) int64 {
	return packClass(kindCode(in.Kind), v.SourceID[in.Source], v.Mask(in.Strands))
}

// strandBits are the bits of a class that hold its strands (class_strands).
const strandBits = 1<<48 - 1

func packClass(kind, source int16, strands int64) int64 {
	return int64(kind)<<62 | int64(source)<<48 | strands
}

// unpackClass is the inverse of packClass.
func unpackClass(class int64) (kind, source int16, strands int64) {
	return int16(class >> 62 & 1), int16(class >> 48 & 16383), class & strandBits
}

// addClass counts n incidents of a roll-up class into a tally: in all, by kind, by
// each of its strands, and by source when bySource is not nil.
func (v *Vocab) addClass(class int64, n int, total, crimes, incidents *int, byStrand, bySource map[string]int) {
	kind, source, strands := unpackClass(class)
	*total += n
	if kind == 0 {
		*crimes += n
	} else {
		*incidents += n
	}
	for _, s := range v.StrandNames(strands) {
		byStrand[s] += n
	}
	if bySource != nil && int(source) < len(v.Sources) && v.Sources[source] != "" {
		bySource[v.Sources[source]] += n
	}
}

// StrandNames returns the names of the strands in a bitmask, in bit order.
func (v *Vocab) StrandNames(mask int64) []string {
	var out []string
	for b, name := range v.Strands {
		if mask&(1<<b) != 0 && name != "" {
			out = append(out, name)
		}
	}
	return out
}

// SourceIDs returns the ids of source names; unknown names give an EINVALID error.
func (v *Vocab) SourceIDs(names []string) ([]int16, error) {
	var ids []int16
	for _, n := range names {
		id, ok := v.SourceID[geo.NormaliseName(n)]
		if !ok {
			return nil, geo.Errorf(geo.EINVALID, "unknown source %q", n)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// EnsureVocab registers any strand and source not yet stored (ids are stable once
// given) and returns the whole vocabulary.
func (db *DB) EnsureVocab(ctx context.Context, strands, sources []string) (*Vocab, error) {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "LOCK TABLE strands, sources IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return err
		}
		for _, s := range strands {
			if _, err := tx.Exec(ctx, `INSERT INTO strands (id, name)
				SELECT coalesce(max(id) + 1, 0), $1 FROM strands
				ON CONFLICT (name) DO NOTHING`, geo.NormaliseName(s)); err != nil {
				return fmt.Errorf("strand %q: %w", s, err)
			}
		}
		for _, s := range sources {
			if _, err := tx.Exec(ctx, `INSERT INTO sources (id, name)
				SELECT coalesce(max(id) + 1, 0), $1 FROM sources
				ON CONFLICT (name) DO NOTHING`, geo.NormaliseName(s)); err != nil {
				return fmt.Errorf("source %q: %w", s, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: registering strands and sources: %w", err)
	}
	db.forgetVocab()
	return db.Vocab(ctx)
}

// LoadVocab reads the stored strands and sources.
func (db *DB) LoadVocab(ctx context.Context) (*Vocab, error) {
	v := &Vocab{StrandBit: map[string]int{}, SourceID: map[string]int16{}}
	rows, _ := db.Pool.Query(ctx, "SELECT id, name FROM strands ORDER BY id")
	type idName struct {
		ID   int16
		Name string
	}
	strands, err := pgx.CollectRows(rows, pgx.RowToStructByPos[idName])
	if err != nil {
		return nil, fmt.Errorf("postgis: loading strands: %w", err)
	}
	for _, s := range strands {
		v.StrandBit[s.Name] = int(s.ID)
		for len(v.Strands) <= int(s.ID) {
			v.Strands = append(v.Strands, "")
		}
		v.Strands[s.ID] = s.Name
	}
	rows, _ = db.Pool.Query(ctx, "SELECT id, name FROM sources ORDER BY id")
	sources, err := pgx.CollectRows(rows, pgx.RowToStructByPos[idName])
	if err != nil {
		return nil, fmt.Errorf("postgis: loading sources: %w", err)
	}
	for _, s := range sources {
		v.SourceID[s.Name] = s.ID
		for len(v.Sources) <= int(s.ID) {
			v.Sources = append(v.Sources, "")
		}
		v.Sources[s.ID] = s.Name
	}
	return v, nil
}

// EnsureResolutions records the roll-up resolutions the first time and afterwards
// checks that they have not changed: roll-ups at other resolutions would be
// missing or stale until rebuilt.
func (db *DB) EnsureResolutions(ctx context.Context, res []int) error {
	want, _ := json.Marshal(res)
	var stored []byte
	var first bool
	err := db.Pool.QueryRow(ctx, `INSERT INTO settings (key, value) VALUES ('rollup_resolutions', $1)
		ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING value, xmax = 0`, want).Scan(&stored, &first)
	if err != nil {
		return fmt.Errorf("postgis: roll-up resolutions: %w", err)
	}
	if first && !slices.Equal(res, geo.DefaultResolutions) {
		// Cell populations stored before were at the default resolutions.
		err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error { return storeCellPopulations(ctx, tx, res) })
		if err != nil {
			return fmt.Errorf("postgis: cell populations: %w", err)
		}
	}
	var got []int
	if err := json.Unmarshal(stored, &got); err != nil {
		return fmt.Errorf("postgis: roll-up resolutions: %w", err)
	}
	if !slices.Equal(got, res) {
		return geo.Errorf(geo.ECONFLICT, "the roll-ups are kept at resolutions %v but the configuration says %v: run `tensionmap rollups rebuild` to rebuild them at the new resolutions", got, res)
	}
	return nil
}

// Resolutions returns the stored roll-up resolutions, nil before the first ingest.
func (db *DB) Resolutions(ctx context.Context) ([]int, error) {
	var stored []byte
	err := db.Pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = 'rollup_resolutions'`).Scan(&stored)
	if err == pgx.ErrNoRows {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("postgis: roll-up resolutions: %w", err)
	}
	var res []int
	return res, json.Unmarshal(stored, &res)
}
