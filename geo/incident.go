package geo

import (
	"time"
)

// Kind separates hate crimes (a criminal offence) from hate incidents (the same
// perception of hostility, no crime). Both count towards tension.
type Kind string

// The two kinds of report.
const (
	KindCrime    Kind = "crime"
	KindIncident Kind = "incident"
)

// Kinds lists every kind in a fixed order; a kind's position is its code in roll-ups.
var Kinds = []Kind{KindCrime, KindIncident}

// Precision says how well a report's location is known, and so at which H3
// resolutions it may be binned.
type Precision string

// Location precisions, finest first. Online and None reports have no place: they are
// kept and counted in totals but never binned.
const (
	PrecisionExact        Precision = "exact"
	PrecisionStreet       Precision = "street"
	PrecisionPostcode     Precision = "postcode"
	PrecisionAreaCentroid Precision = "area_centroid"
	PrecisionOnline       Precision = "online"
	PrecisionNone         Precision = "none"
)

// Precisions lists every precision, finest first.
var Precisions = []Precision{PrecisionExact, PrecisionStreet, PrecisionPostcode, PrecisionAreaCentroid, PrecisionOnline, PrecisionNone}

// Located reports whether a precision carries a place.
func (p Precision) Located() bool {
	return p != PrecisionOnline && p != PrecisionNone && p != ""
}

// LatLon is a WGS84 position in degrees.
type LatLon struct {
	Lat, Lon float64
}

// Incident is one validated hate crime or hate incident report, ready to store.
// Raw victim and offender references never reach it: only their keyed HMACs do.
type Incident struct {
	Source    string // a configured source, e.g. "police" or "third_party"
	SourceRef string // the source's own reference, unique within the source
	Kind      Kind
	Strands   []string // sorted, at least one, each from the configured list
	Offence   string

	// OccurredFrom and OccurredTo are calendar days (midnight UTC), To inclusive and
	// equal to From when the day is known exactly.
	OccurredFrom, OccurredTo time.Time
	ReportedAt               time.Time // zero when unknown

	Location  LatLon // valid only when Precision.Located()
	Precision Precision

	VictimKey, OffenderKey string // hex HMAC pseudonyms, "" when none given

	// Filled by binning and attribution before storing.
	Cell  uint64  // H3 cell at the finest resolution the precision supports; 0 when not located
	Areas []int32 // ids of the areas whose polygons contain Location, ascending
	// Cells are the cells the incident counts in, one per roll-up resolution its
	// precision supports, coarsest first: each is LatLngToCell of Location at that
	// resolution (not a parent of Cell: H3 children do not tile their parent).
	Cells []uint64
}

// Day returns the calendar day an incident counts on in roll-ups: the first day it may
// have occurred.
func (in *Incident) Day() time.Time { return in.OccurredFrom }

// RawIncident is one input record before validation, as text, whatever the format
// it was read from. Empty strings are absent values.
type RawIncident struct {
	Line  int // 1-based line in the input where the record starts, 0 if unknown
	Index int // 0-based position among the input's records

	Source, SourceRef string
	Kind              string
	Strands           string // one or more, separated by ';', '|' or ','
	Offence           string
	Occurred          string // a day, a month ("2022-01"), or a timestamp
	OccurredFrom      string
	OccurredTo        string
	ReportedAt        string
	Lat, Lon          string
	Easting, Northing string
	Precision         string
	VictimRef         string
	OffenderRef       string
}
