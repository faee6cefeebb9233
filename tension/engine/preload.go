package engine

import (
	"context"
	"sync"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

// Preload is a tension.Source for runs over many days up to Through, as a backfill
// makes: it reads each kind of count (the areas of a level, the cells of a
// resolution, the city) once, from the earliest day asked for to Through, and answers
// every later question inside that span by slicing it, with the same counts as Src
// would give. A question reaching past Through goes to Src. Located incidents and
// trigger events go to Src each time.
//
// The series it returns share their memory with its own: they are read only, as the
// detectors treat them.
type Preload struct {
	Src     tension.Source
	Through time.Time
	// CellsFrom, when set, makes the first read of the cells of a resolution start
	// no later than its day, so that a later question reaching further back (hot
	// spots' year after the scan's half year) is answered from the same read.
	CellsFrom map[int]time.Time

	mu     sync.Mutex
	levels []string
	areas  map[string]*preloaded
	cells  map[int]*preloaded
	city   *preloaded
}

// preloaded is one kind of count over [s.From, s.To].
type preloaded struct {
	areas []geo.Area
	cells []uint64
	s     *tension.Series
}

var _ tension.Source = (*Preload)(nil)

// NewPreload returns a Preload over src for runs up to through.
func NewPreload(src tension.Source, through time.Time) *Preload {
	return &Preload{Src: src, Through: day(through), areas: map[string]*preloaded{}, cells: map[int]*preloaded{}}
}

func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// covers reports whether p holds [from, to].
func (p *preloaded) covers(from, to time.Time) bool {
	return p != nil && !from.Before(p.s.From) && !to.After(p.s.To)
}

// load makes sure *slot holds [from, Through], reading it with read when it does not.
func (p *Preload) load(slot **preloaded, from time.Time, read func(from, to time.Time) (*preloaded, error)) error {
	if (*slot).covers(from, p.Through) {
		return nil
	}
	if *slot != nil && (*slot).s.From.Before(from) {
		from = (*slot).s.From
	}
	got, err := read(from, p.Through)
	if err != nil {
		return err
	}
	*slot = got
	return nil
}

// slice returns the rows of s over [from, to], shared with s; keep selects the units
// (all when nil).
func slice(s *tension.Series, from, to time.Time, keep []int) *tension.Series {
	a := int(from.Sub(s.From).Hours() / 24)
	b := int(to.Sub(s.From).Hours()/24) + 1
	out := &tension.Series{From: from, To: to, Counts: make(map[string][][]float64, len(s.Counts))}
	for strand, rows := range s.Counts {
		var part [][]float64
		if keep == nil {
			part = make([][]float64, len(rows))
			for i, r := range rows {
				part[i] = r[a:b:b]
			}
		} else {
			part = make([][]float64, len(keep))
			for j, i := range keep {
				part[j] = rows[i][a:b:b]
			}
		}
		out.Counts[strand] = part
	}
	return out
}

// AreaLevels lists the levels of the imported areas, read once.
func (p *Preload) AreaLevels(ctx context.Context) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.levels == nil {
		levels, err := p.Src.AreaLevels(ctx)
		if err != nil {
			return nil, err
		}
		p.levels = append([]string{}, levels...)
	}
	return append([]string(nil), p.levels...), nil
}

// AreaDays returns the areas of a level and their daily counts over [from, to].
func (p *Preload) AreaDays(ctx context.Context, level string, from, to time.Time) ([]geo.Area, *tension.Series, error) {
	from, to = day(from), day(to)
	if to.After(p.Through) {
		return p.Src.AreaDays(ctx, level, from, to)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	slot := p.areas[level]
	err := p.load(&slot, from, func(from, to time.Time) (*preloaded, error) {
		areas, s, err := p.Src.AreaDays(ctx, level, from, to)
		return &preloaded{areas: areas, s: s}, err
	})
	if err != nil {
		return nil, nil, err
	}
	p.areas[level] = slot
	return slot.areas, slice(slot.s, from, to, nil), nil
}

// CellDays returns the cells at res with any incident over [from, to] and their
// daily counts.
func (p *Preload) CellDays(ctx context.Context, res int, from, to time.Time) ([]uint64, *tension.Series, error) {
	from, to = day(from), day(to)
	if to.After(p.Through) {
		return p.Src.CellDays(ctx, res, from, to)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	slot := p.cells[res]
	start := from
	if f, ok := p.CellsFrom[res]; ok && slot == nil && day(f).Before(start) {
		start = day(f)
	}
	err := p.load(&slot, start, func(from, to time.Time) (*preloaded, error) {
		cells, s, err := p.Src.CellDays(ctx, res, from, to)
		return &preloaded{cells: cells, s: s}, err
	})
	if err != nil {
		return nil, nil, err
	}
	p.cells[res] = slot
	a := int(from.Sub(slot.s.From).Hours() / 24)
	b := int(to.Sub(slot.s.From).Hours()/24) + 1
	all := slot.s.Counts[tension.AllStrands]
	keep := []int{}
	var cells []uint64
	for i, c := range slot.cells {
		for _, v := range all[i][a:b] {
			if v > 0 {
				keep = append(keep, i)
				cells = append(cells, c)
				break
			}
		}
	}
	return cells, slice(slot.s, from, to, keep), nil
}

// CityDays returns the daily counts of every incident over [from, to].
func (p *Preload) CityDays(ctx context.Context, from, to time.Time) (*tension.Series, error) {
	from, to = day(from), day(to)
	if to.After(p.Through) {
		return p.Src.CityDays(ctx, from, to)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.load(&p.city, from, func(from, to time.Time) (*preloaded, error) {
		s, err := p.Src.CityDays(ctx, from, to)
		return &preloaded{s: s}, err
	})
	if err != nil {
		return nil, err
	}
	return slice(p.city.s, from, to, nil), nil
}

// LocatedIncidents asks Src.
func (p *Preload) LocatedIncidents(ctx context.Context, from, to time.Time) ([]tension.Located, error) {
	return p.Src.LocatedIncidents(ctx, from, to)
}

// TriggerEvents asks Src.
func (p *Preload) TriggerEvents(ctx context.Context, from, to time.Time) ([]tension.TriggerEvent, error) {
	return p.Src.TriggerEvents(ctx, from, to)
}
