package tension

import (
	"context"
	"slices"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// MemoryIncident is an incident as MemorySource counts it.
type MemoryIncident struct {
	Day     time.Time
	Strands []string
	Cell    uint64     // H3 cell at the finest resolution it supports, 0 when not located
	Areas   []int32    // ids of the areas containing it
	At      geo.LatLon // valid when Cell != 0
	Exact   bool       // exact or street precision: used for near repeats
}

// MemorySource is a Source over incidents held in memory, for the evaluation and the
// tests: it counts as the database's roll-ups do.
type MemorySource struct {
	areas     []geo.Area
	incidents []MemoryIncident
	events    []TriggerEvent
	strands   []string
}

var _ Source = (*MemorySource)(nil)

// NewMemorySource returns a source over areas, incidents and trigger events; strands
// are the strands counted on their own.
func NewMemorySource(areas []geo.Area, incidents []MemoryIncident, events []TriggerEvent, strands []string) *MemorySource {
	return &MemorySource{areas: areas, incidents: incidents, events: events, strands: strands}
}

func (m *MemorySource) series(n int, from, to time.Time) *Series {
	s := &Series{From: dayOf(from), To: dayOf(to), Counts: map[string][][]float64{}}
	for _, strand := range append([]string{AllStrands}, m.strands...) {
		rows := make([][]float64, n)
		for i := range rows {
			rows[i] = make([]float64, s.Days())
		}
		s.Counts[strand] = rows
	}
	return s
}

func (m *MemorySource) add(s *Series, unit int, in *MemoryIncident) {
	d := int(dayOf(in.Day).Sub(s.From).Hours() / 24)
	if d < 0 || d >= s.Days() {
		return
	}
	s.Counts[AllStrands][unit][d]++
	for _, st := range in.Strands {
		if rows, ok := s.Counts[st]; ok {
			rows[unit][d]++
		}
	}
}

// AreaLevels lists the levels of the areas.
func (m *MemorySource) AreaLevels(context.Context) ([]string, error) {
	var out []string
	for _, a := range m.areas {
		if !slices.Contains(out, a.Level) {
			out = append(out, a.Level)
		}
	}
	slices.Sort(out)
	return out, nil
}

// AreaDays counts incidents per area of a level and day.
func (m *MemorySource) AreaDays(_ context.Context, level string, from, to time.Time) ([]geo.Area, *Series, error) {
	var areas []geo.Area
	index := map[int32]int{}
	for _, a := range m.areas {
		if a.Level == level {
			index[a.ID] = len(areas)
			areas = append(areas, a)
		}
	}
	s := m.series(len(areas), from, to)
	for i := range m.incidents {
		for _, id := range m.incidents[i].Areas {
			if u, ok := index[id]; ok {
				m.add(s, u, &m.incidents[i])
			}
		}
	}
	return areas, s, nil
}

// CellDays counts incidents per cell at res and day, for cells with any. An
// incident counts in the cell that contains its place at res (LatLngToCell), when
// its own cell is at res or finer, as the database's roll-ups do.
func (m *MemorySource) CellDays(_ context.Context, res int, from, to time.Time) ([]uint64, *Series, error) {
	var cells []uint64
	index := map[uint64]int{}
	from, to = dayOf(from), dayOf(to)
	for i := range m.incidents {
		in := &m.incidents[i]
		if in.Cell == 0 || geo.CellRes(in.Cell) < res || in.Day.Before(from) || in.Day.After(to) {
			continue
		}
		c := geo.CellAt(in.At, res)
		if _, ok := index[c]; !ok {
			index[c] = len(cells)
			cells = append(cells, c)
		}
	}
	s := m.series(len(cells), from, to)
	for i := range m.incidents {
		in := &m.incidents[i]
		if in.Cell == 0 || geo.CellRes(in.Cell) < res {
			continue
		}
		if u, ok := index[geo.CellAt(in.At, res)]; ok {
			m.add(s, u, in)
		}
	}
	return cells, s, nil
}

// CityDays counts every incident per day.
func (m *MemorySource) CityDays(_ context.Context, from, to time.Time) (*Series, error) {
	s := m.series(1, from, to)
	for i := range m.incidents {
		m.add(s, 0, &m.incidents[i])
	}
	return s, nil
}

// LocatedIncidents returns the exactly located incidents over [from, to].
func (m *MemorySource) LocatedIncidents(_ context.Context, from, to time.Time) ([]Located, error) {
	var out []Located
	from, to = dayOf(from), dayOf(to)
	for _, in := range m.incidents {
		if in.Cell != 0 && in.Exact && !in.Day.Before(from) && !in.Day.After(to) {
			out = append(out, Located{At: in.At, Day: in.Day})
		}
	}
	return out, nil
}

// TriggerEvents returns the events over [from, to].
func (m *MemorySource) TriggerEvents(_ context.Context, from, to time.Time) ([]TriggerEvent, error) {
	var out []TriggerEvent
	for _, e := range m.events {
		if !e.Day.Before(dayOf(from)) && !e.Day.After(dayOf(to)) {
			out = append(out, e)
		}
	}
	return out, nil
}

// FromIncident returns a validated, binned and attributed incident as MemorySource
// counts it.
func FromIncident(in *geo.Incident) MemoryIncident {
	return MemoryIncident{Day: in.Day(), Strands: in.Strands, Cell: in.Cell, Areas: in.Areas, At: in.Location,
		Exact: in.Precision == geo.PrecisionExact || in.Precision == geo.PrecisionStreet}
}

var _ CellPlacer = (*MemorySource)(nil)

// CellAreas returns, for each cell at res with incidents over [from, to], the codes
// of the areas of level its incidents fall in.
func (m *MemorySource) CellAreas(_ context.Context, res int, level string, from, to time.Time) (map[uint64][]string, error) {
	code := map[int32]string{}
	for _, a := range m.areas {
		if a.Level == level {
			code[a.ID] = a.Code
		}
	}
	out := map[uint64][]string{}
	from, to = dayOf(from), dayOf(to)
	for i := range m.incidents {
		in := &m.incidents[i]
		if in.Cell == 0 || geo.CellRes(in.Cell) < res || in.Day.Before(from) || in.Day.After(to) {
			continue
		}
		c := geo.CellAt(in.At, res)
		for _, id := range in.Areas {
			if k, ok := code[id]; ok && !slices.Contains(out[c], k) {
				out[c] = append(out[c], k)
			}
		}
	}
	return out, nil
}
