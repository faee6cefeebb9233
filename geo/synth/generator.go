package synth

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// Limits on Options.
const (
	MaxRows  = 1_000_000_000
	MaxYears = 100
)

// Options configures a Generator.
type Options struct {
	Seed  int64
	Rows  int       // total records, injected spikes included; at least 1
	Years int       // years of data ending on End; at least 1
	End   time.Time // the last day (its calendar day is used); zero means today (UTC)

	// LatestEvent, when positive, puts a national trigger event this many days
	// before End (events within three weeks of it give way), so that the last days
	// carry a citywide rise still under way: the demo's live alert. Zero leaves the
	// events where the seed puts them.
	LatestEvent int

	// Town is the real place the records are put in (MiltonKeynes, ReadTown); nil
	// draws the synthetic grid town from the seed.
	Town *Town
}

// Generator produces one synthetic town and its incidents. Everything it returns is
// a function of its Options alone. Its methods may be called from several
// goroutines; each stream (Incidents, Reader) has its own state.
type Generator struct {
	opts   Options
	town   *town
	tables *tables
	plan   *plan

	mu   sync.Mutex
	refs [][]uint64 // injected records of each spike, once a stream has run to its end
}

// Random streams derived from the seed, one per purpose, so that the town does not
// change with Rows or Years and the plan does not shift the records.
const (
	streamTown uint64 = iota + 1
	streamPlan
	streamRecords
)

// New checks the options and plans the town, the events and the spikes.
func New(o Options) (*Generator, error) {
	switch {
	case o.Rows < 1:
		return nil, geo.Errorf(geo.EINVALID, "synth: rows must be at least 1, got %d", o.Rows)
	case o.Rows > MaxRows:
		return nil, geo.Errorf(geo.EINVALID, "synth: rows must be at most %d, got %d", MaxRows, o.Rows)
	case o.Years < 1:
		return nil, geo.Errorf(geo.EINVALID, "synth: years must be at least 1, got %d", o.Years)
	case o.Years > MaxYears:
		return nil, geo.Errorf(geo.EINVALID, "synth: years must be at most %d, got %d", MaxYears, o.Years)
	case o.LatestEvent < 0 || o.LatestEvent > 60:
		return nil, geo.Errorf(geo.EINVALID, "synth: the latest event must be from 1 to 60 days before the end (0 for none), got %d", o.LatestEvent)
	}
	if o.End.IsZero() {
		o.End = time.Now().UTC()
	}
	y, m, d := o.End.Date()
	o.End = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if first := o.End.AddDate(-o.Years, 0, 1); first.Year() < 1900 || o.End.Year() > 9999 {
		return nil, geo.Errorf(geo.EINVALID, "synth: %d years ending %s start before 1900 or end after 9999", o.Years, o.End.Format(time.DateOnly))
	}
	g := &Generator{opts: o, tables: newTables()}
	var err error
	if o.Town != nil {
		g.town, err = newPolyTown(o.Town, newRNG(o.Seed, streamTown))
	} else {
		g.town, err = newTown(newRNG(o.Seed, streamTown))
	}
	if err != nil {
		return nil, err
	}
	g.plan = newPlan(o, g.town, g.tables, newRNG(o.Seed, streamPlan))
	return g, nil
}

// Options returns the options the generator runs with, End set to a day.
func (g *Generator) Options() Options { return g.opts }

// Start returns the first day of the data.
func (g *Generator) Start() time.Time { return g.plan.start }

// Areas returns the lsoas (in code order) and then the wards.
func (g *Generator) Areas() []Area {
	out := slices.Clone(g.town.areas)
	for i := range out {
		out[i].Polygon = out[i].Polygon.Clone()
		out[i].Geometry = out[i].Geometry.Clone()
	}
	return out
}

// Hotspots returns the lsoas with a raised rate: the town centre and a few others.
func (g *Generator) Hotspots() []Hotspot {
	var out []Hotspot
	for _, c := range g.town.cells {
		if c.risk != 1 {
			out = append(out, Hotspot{Code: g.town.areas[c.area].Code, Risk: c.risk})
		}
	}
	slices.SortFunc(out, func(a, b Hotspot) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// Events returns the trigger events in date order. Not every event need have a
// spike: at very small Rows some are left without records.
func (g *Generator) Events() []TriggerEvent {
	out := slices.Clone(g.plan.events)
	for i := range out {
		out[i].Strands = slices.Clone(out[i].Strands)
	}
	return out
}

// Spikes returns the ground truth of the injected spikes in date order. Everything
// but Refs is planned up front; Refs is nil until a stream of this generator
// (Incidents, or a Reader read to io.EOF) has run to its end, and the same on every
// run.
func (g *Generator) Spikes() []Spike {
	g.mu.Lock()
	refs := g.refs
	g.mu.Unlock()
	out := make([]Spike, len(g.plan.spikes))
	for i, sp := range g.plan.spikes {
		s := sp.Spike
		s.Event.Strands = slices.Clone(s.Event.Strands)
		s.Strands = slices.Clone(s.Strands)
		s.Areas = slices.Clone(s.Areas)
		if refs != nil {
			s.Refs = make([]string, len(refs[i]))
			for j, r := range refs[i] {
				s.Refs[j] = g.formatRef(r)
			}
		}
		out[i] = s
	}
	return out
}

// Incidents streams every record in date order (by the first day it may have
// occurred) to yield, stopping at yield's first error and returning it. Each record
// is new and may be kept. Line is Index+2, the record's line in incidents.csv.gz.
func (g *Generator) Incidents(yield func(*geo.RawIncident) error) error {
	s := g.newStream()
	for {
		r, ok := s.next()
		if !ok {
			return nil
		}
		if err := yield(r); err != nil {
			return err
		}
	}
}

// Reader returns the same stream as Incidents as a pull-style geo.Reader: Next
// returns each record in turn and then io.EOF. It is a plain state machine with no
// goroutine, so a caller may stop at any point without leaking anything.
func (g *Generator) Reader() geo.Reader { return &Stream{s: g.newStream()} }

// Stream is a pull-style reader of a generator's records; see Generator.Reader.
type Stream struct{ s *stream }

// Next returns the next record, or io.EOF after the last.
func (st *Stream) Next() (*geo.RawIncident, error) {
	r, ok := st.s.next()
	if !ok {
		return nil, io.EOF
	}
	return r, nil
}

// Len returns the number of records the stream yields in all.
func (st *Stream) Len() int { return st.s.g.opts.Rows }

func (g *Generator) formatRef(r uint64) string {
	src := sources[r>>61]
	year := g.plan.start.Year() + int(r>>48&0x1fff)
	seq := int(r & (1<<48 - 1))
	return fmt.Sprintf("%s:%s-%d-%06d", src.name, src.prefix, year, seq)
}

// GeoAreas returns the areas of both levels as geo.Areas, to store or index.
func (g *Generator) GeoAreas() []geo.Area {
	var out []geo.Area
	for _, a := range g.Areas() {
		out = append(out, geo.Area{Level: a.Level, Code: a.Code, Name: a.Name, Geometry: a.Geometry, Population: a.Population})
	}
	return out
}

// Populations returns the population of every area by code.
func (g *Generator) Populations() map[string]int {
	out := map[string]int{}
	for _, a := range g.Areas() {
		out[a.Code] = a.Population
	}
	return out
}
