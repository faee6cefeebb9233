package tension

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

// EvalSpike is the ground truth of one injected rise in tension.
type EvalSpike struct {
	ID         string
	Start, End time.Time // days the injected incidents span
	Citywide   bool
	Center     geo.LatLon
	RadiusM    float64
	Areas      []string // codes of the areas it touches, every level
	Strands    []string
}

// Scorer matches findings against injected spikes over many analysis days and scores
// each detector: how many spikes it found, how soon, and how many alarms it raised
// that no spike explains.
type Scorer struct {
	Spikes []EvalSpike
	// Grace is how many days after a spike's last day a finding still counts as
	// finding it.
	Grace int
	// Slack is how many metres beyond a local spike's radius a cell's centre may be
	// and still be part of it.
	Slack float64

	first map[string]map[string]int  // detector → spike → days to detection
	false map[string]map[string]bool // detector → watched thing and week
	days  map[string]int             // analysis days per detector
}

// NewScorer returns a scorer for spikes, a finding counting up to a week after a
// spike's end and within a kilometre of its disc.
func NewScorer(spikes []EvalSpike) *Scorer {
	return &Scorer{Spikes: spikes, Grace: 7, Slack: 1000, first: map[string]map[string]int{}, false: map[string]map[string]bool{}, days: map[string]int{}}
}

// matches reports whether a finding raised on asOf is about a spike.
func (s *Scorer) matches(f *Finding, asOf time.Time, sp *EvalSpike) bool {
	// A finding is about the spike when it was raised during it (or its grace) and
	// its window overlaps it.
	if asOf.Before(sp.Start) || f.WindowFrom.After(sp.End.AddDate(0, 0, s.Grace)) || f.WindowTo.Before(sp.Start) {
		return false
	}
	if len(f.Strands) > 0 && !intersects(f.Strands, sp.Strands) {
		return false
	}
	if sp.Citywide || (len(f.Areas) == 0 && len(f.Cells) == 0) {
		return true
	}
	if intersects(f.Areas, sp.Areas) {
		return true
	}
	for _, c := range f.Cells {
		ll := h3.Cell(c).LatLng()
		if geo.Distance(geo.LatLon{Lat: ll.Lat, Lon: ll.Lng}, sp.Center) <= sp.RadiusM+s.Slack {
			return true
		}
	}
	return false
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// Add scores the findings of detectors run as of one day; ran names the detectors
// that ran that day, whether or not they found anything.
func (s *Scorer) Add(asOf time.Time, ran []string, findings []Finding) {
	for _, d := range ran {
		s.days[d]++
	}
	year, week := asOf.ISOWeek()
	for i := range findings {
		f := &findings[i]
		d := f.Method
		if s.first[d] == nil {
			s.first[d], s.false[d] = map[string]int{}, map[string]bool{}
		}
		explained := false
		for j := range s.Spikes {
			sp := &s.Spikes[j]
			if !s.matches(f, asOf, sp) {
				continue
			}
			explained = true
			days := int(asOf.Sub(sp.Start).Hours() / 24)
			if prev, ok := s.first[d][sp.ID]; !ok || days < prev {
				s.first[d][sp.ID] = days
			}
		}
		if !explained {
			s.false[d][fmt.Sprintf("%s|%d-%02d", f.Key, year, week)] = true
		}
	}
}

// DetectorScore is how one detector did over an evaluation.
type DetectorScore struct {
	Detector         string
	Spikes           int // spikes in the evaluation period
	Detected         int // of which found
	LocalDetected    int // local clusters found, of LocalSpikes
	LocalSpikes      int
	CityDetected     int // citywide rises found, of CitySpikes
	CitySpikes       int
	Sensitivity      float64
	FalseAlarms      int     // watched things with a finding no spike explains, counted once a week
	FalsePerAreaWeek float64 // FalseAlarms per area-week
	MedianDays       float64 // from a spike's first day to its first finding; NaN when none found
}

// Scores returns each detector's score; areaWeeks is the number of areas times the
// weeks evaluated, the false alarms' denominator.
func (s *Scorer) Scores(detectors []string, areaWeeks float64) []DetectorScore {
	var out []DetectorScore
	for _, d := range detectors {
		sc := DetectorScore{Detector: d, Spikes: len(s.Spikes), FalseAlarms: len(s.false[d])}
		var days []int
		for _, sp := range s.Spikes {
			if sp.Citywide {
				sc.CitySpikes++
			} else {
				sc.LocalSpikes++
			}
			n, ok := s.first[d][sp.ID]
			if !ok {
				continue
			}
			sc.Detected++
			if sp.Citywide {
				sc.CityDetected++
			} else {
				sc.LocalDetected++
			}
			days = append(days, n)
		}
		if sc.Spikes > 0 {
			sc.Sensitivity = float64(sc.Detected) / float64(sc.Spikes)
		}
		if areaWeeks > 0 {
			sc.FalsePerAreaWeek = float64(sc.FalseAlarms) / areaWeeks
		}
		sc.MedianDays = median(days)
		out = append(out, sc)
	}
	return out
}

func median(xs []int) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return float64(s[len(s)/2])
	}
	return float64(s[len(s)/2-1]+s[len(s)/2]) / 2
}

// PAI is the Predictive Accuracy Index of a ranking of cells (Chainey, Tompson and
// Uhlig 2008): the share of the next period's incidents in the top-ranked cells
// covering share of the study area, over that share. Cells are equal-area hexagons,
// so the area share is a share of cells. ranked holds cells best first; next the
// next period's incidents per cell; study the number of cells in the study area.
func PAI(ranked []uint64, next map[uint64]int, study int, share float64) float64 {
	total := 0
	for _, n := range next {
		total += n
	}
	if total == 0 || study == 0 {
		return math.NaN()
	}
	top := int(math.Ceil(share * float64(study)))
	top = min(top, len(ranked))
	hits := 0
	for _, c := range ranked[:top] {
		hits += next[c]
	}
	return (float64(hits) / float64(total)) / (float64(top) / float64(study))
}

// RankCells orders cells by score, highest first, ties broken by cell id.
func RankCells(cells []uint64, score func(i int) float64) []uint64 {
	idx := make([]int, len(cells))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		sa, sb := score(idx[a]), score(idx[b])
		if sa != sb {
			return sa > sb
		}
		return cells[idx[a]] < cells[idx[b]]
	})
	out := make([]uint64, len(idx))
	for i, j := range idx {
		out[i] = cells[j]
	}
	return out
}
