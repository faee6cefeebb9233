package tension

import (
	"context"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// AllStrands is the strand key of counts over every strand.
const AllStrands = ""

// Series are daily counts of several units (areas or cells) over a period, per
// strand: Counts[strand][unit][day], strand AllStrands for every strand together
// (an incident of two strands counts once there, and once under each of its
// strands).
type Series struct {
	From, To time.Time // days, both included
	Counts   map[string][][]float64
}

// Days returns the number of days the series cover.
func (s *Series) Days() int { return int(s.To.Sub(s.From).Hours()/24) + 1 }

// Located is one located incident, for near-repeat analysis.
type Located struct {
	At  geo.LatLon
	Day time.Time
}

// TriggerEvent is a local, national or international event likely to raise tension.
type TriggerEvent struct {
	ID          int64     `json:"id"`
	Day         time.Time `json:"day"`
	Scope       string    `json:"scope"` // local, national, international
	Description string    `json:"description"`
	Strands     []string  `json:"strands"`
}

// Source gives the engine the counts and events it analyses: the database's
// roll-ups in the service, generated data in the evaluation.
type Source interface {
	// AreaLevels lists the levels of the imported areas.
	AreaLevels(ctx context.Context) ([]string, error)
	// AreaDays returns the areas of a level and their daily counts over [from, to].
	AreaDays(ctx context.Context, level string, from, to time.Time) ([]geo.Area, *Series, error)
	// CellDays returns the H3 cells at res with any incident over [from, to] and
	// their daily counts.
	CellDays(ctx context.Context, res int, from, to time.Time) ([]uint64, *Series, error)
	// CityDays returns the daily counts of every incident, located or not, as a
	// series of one unit.
	CityDays(ctx context.Context, from, to time.Time) (*Series, error)
	// LocatedIncidents returns the located incidents over [from, to].
	LocatedIncidents(ctx context.Context, from, to time.Time) ([]Located, error)
	// TriggerEvents returns the trigger events recorded over [from, to].
	TriggerEvents(ctx context.Context, from, to time.Time) ([]TriggerEvent, error)
}

// NullReasoner is a value that says why one of its float fields is not a number
// (NaN or infinite): the store writes such a value as null with this reason beside
// it. field is the Go field's name, index the position within it when it is a slice
// (nil otherwise); "" lets the store say "not a number".
type NullReasoner interface {
	NullReason(field string, index []int) string
}

// NullValue is a value that was not a number (NaN or an infinity) and was stored as
// null: in which part of a run's record, where in it (a JSON path such as
// table.Ratio[0][0]) and why.
type NullValue struct {
	Part   string `json:"part,omitempty"`
	Path   string `json:"path"`
	Reason string `json:"reason"`
}
