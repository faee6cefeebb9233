package geo

import (
	"slices"
	"time"
)

// Filter selects incidents for a count: a range of days (both ends included; zero
// ends are open), and any of the strands, kinds and sources given (all when empty).
type Filter struct {
	From, To time.Time
	Strands  []string
	Kinds    []Kind
	Sources  []string
}

// Check returns an EINVALID error naming what is wrong with the filter.
func (f Filter) Check(strands, sources []string) error {
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return Errorf(EINVALID, "to (%s) is before from (%s)", f.To.Format(time.DateOnly), f.From.Format(time.DateOnly))
	}
	for _, s := range f.Strands {
		if !slices.Contains(strands, s) {
			return Errorf(EINVALID, "unknown strand %q", s)
		}
	}
	for _, s := range f.Sources {
		if !slices.Contains(sources, s) {
			return Errorf(EINVALID, "unknown source %q", s)
		}
	}
	for _, k := range f.Kinds {
		if k != KindCrime && k != KindIncident {
			return Errorf(EINVALID, "unknown kind %q: want crime or incident", k)
		}
	}
	return nil
}

// CellCount is the number of incidents in one H3 cell for a filter, with the split by
// kind and by strand (an incident of two strands counts once in Count and once under
// each of its strands).
type CellCount struct {
	Cell      uint64
	Count     int
	Crimes    int
	Incidents int
	ByStrand  map[string]int
}
