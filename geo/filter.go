package geo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
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

// Place is where a weekly series is counted: one H3 cell at its resolution, or one
// area by its code.
type Place struct {
	Cell uint64
	Area string
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

// AreaCount is the number of incidents in one area for a filter, with its split by
// kind, strand and source.
type AreaCount struct {
	Area      Area // without geometry
	Count     int
	Crimes    int
	Incidents int
	ByStrand  map[string]int
	BySource  map[string]int
}

// Bound is a WGS84 box, [west, south] to [east, north], in degrees.
type Bound struct {
	West, South, East, North float64
}

// Contains reports whether the box holds a position (edges included).
func (b Bound) Contains(p LatLon) bool {
	return p.Lon >= b.West && p.Lon <= b.East && p.Lat >= b.South && p.Lat <= b.North
}

// IncidentQuery selects incident records for reading, newest first, a page at a time.
type IncidentQuery struct {
	Filter
	BBox  *Bound
	Areas []string // codes: incidents in any of these areas
	// Scope limits the answer to incidents in any of these areas (a police team's),
	// whatever else the query asks; nil means no limit.
	Scope []string
	// After continues a listing after the record with this cursor (see
	// StoredIncident.Cursor); "" starts at the newest.
	After string
	Limit int
}

// StoredIncident is an incident as read back: its id and the codes of its areas.
type StoredIncident struct {
	ID int64
	Incident
	AreaCodes []string
}

// Cursor returns the position of a record in a newest-first listing.
func (s *StoredIncident) Cursor() string {
	return fmt.Sprintf("%s.%d", s.OccurredFrom.Format(time.DateOnly), s.ID)
}

// ParseCursor splits a cursor made by Cursor.
func ParseCursor(c string) (time.Time, int64, error) {
	d, id, ok := strings.Cut(c, ".")
	if !ok {
		return time.Time{}, 0, Errorf(EINVALID, "after: %q is not a cursor from a previous page", c)
	}
	day, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return time.Time{}, 0, Errorf(EINVALID, "after: %q is not a cursor from a previous page", c)
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, 0, Errorf(EINVALID, "after: %q is not a cursor from a previous page", c)
	}
	return day, n, nil
}
