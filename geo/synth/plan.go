package synth

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/geo"
)

// Scopes of a trigger event.
const (
	ScopeLocal         = "local"
	ScopeNational      = "national"
	ScopeInternational = "international"
)

// TriggerEvent is something that raises community tension: a conflict abroad, a
// terror attack, a contested march in the town.
type TriggerEvent struct {
	Date        time.Time // the day it happened (midnight UTC)
	Scope       string    // ScopeLocal, ScopeNational or ScopeInternational
	Description string    // e.g. "National: terror attack"
	Strands     []string  // the strands it may inflame, e.g. religion and race
}

// Spike is the ground truth of one injected rise in tension: which records were
// added, when and where, so that a detector can be scored.
type Spike struct {
	ID      string // spike-01, spike-02, … in date order
	Event   TriggerEvent
	Start   time.Time  // first day with injected records (midnight UTC)
	End     time.Time  // last day of the window, inclusive
	Center  geo.LatLon // the cluster's centre; the town centre for citywide spikes
	RadiusM float64    // the cluster's radius in metres; 0 for citywide spikes
	Strands []string   // the strands of the injected records
	// Areas are the codes of the lsoas the spike's place touches: those a local
	// cluster's disc overlaps, every lsoa for a citywide spike.
	Areas    []string
	Injected int // records injected, part of Options.Rows
	// Refs are "source:source_ref" of each injected record, in stream order. They
	// are filled once a stream of the generator has run to its end.
	Refs []string
}

type dayJSON struct{ time.Time }

func (d dayJSON) MarshalJSON() ([]byte, error) { return json.Marshal(d.Format(time.DateOnly)) }

func (d *dayJSON) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t, err := time.Parse(time.DateOnly, s)
	d.Time = t
	return err
}

type eventJSON struct {
	Date        dayJSON  `json:"date"`
	Scope       string   `json:"scope"`
	Description string   `json:"description"`
	Strands     []string `json:"strands"`
}

type latLonJSON struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

type spikeJSON struct {
	ID       string     `json:"id"`
	Event    eventJSON  `json:"event"`
	Start    dayJSON    `json:"start"`
	End      dayJSON    `json:"end"`
	Center   latLonJSON `json:"center"`
	RadiusM  float64    `json:"radius_m"`
	Strands  []string   `json:"strands"`
	Areas    []string   `json:"areas"`
	Injected int        `json:"injected"`
	Refs     []string   `json:"refs"`
}

// MarshalJSON writes the date as 2006-01-02 and snake_case keys.
func (e TriggerEvent) MarshalJSON() ([]byte, error) { return json.Marshal(e.toJSON()) }

// UnmarshalJSON reads what MarshalJSON writes.
func (e *TriggerEvent) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = TriggerEvent{Date: j.Date.Time, Scope: j.Scope, Description: j.Description, Strands: j.Strands}
	return nil
}

func (e TriggerEvent) toJSON() eventJSON {
	return eventJSON{dayJSON{e.Date}, e.Scope, e.Description, e.Strands}
}

// MarshalJSON writes dates as 2006-01-02, the centre as {"lat", "lon"} and snake_case keys.
func (s Spike) MarshalJSON() ([]byte, error) {
	return json.Marshal(spikeJSON{
		ID: s.ID, Event: s.Event.toJSON(), Start: dayJSON{s.Start}, End: dayJSON{s.End},
		Center: latLonJSON{s.Center.Lat, s.Center.Lon}, RadiusM: s.RadiusM, Strands: s.Strands,
		Areas: s.Areas, Injected: s.Injected, Refs: s.Refs,
	})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Spike) UnmarshalJSON(b []byte) error {
	var j spikeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Spike{
		ID: j.ID, Event: TriggerEvent{Date: j.Event.Date.Time, Scope: j.Event.Scope, Description: j.Event.Description, Strands: j.Event.Strands},
		Start: j.Start.Time, End: j.End.Time, Center: geo.LatLon{Lat: j.Center.Lat, Lon: j.Center.Lon}, RadiusM: j.RadiusM,
		Strands: j.Strands, Areas: j.Areas, Injected: j.Injected, Refs: j.Refs,
	}
	return nil
}

// eventTemplate is a kind of trigger event.
type eventTemplate struct {
	scope, description string
	strands            []string
}

var eventTemplates = []eventTemplate{
	{ScopeInternational, "International: conflict abroad", []string{"religion", "race"}},
	{ScopeInternational, "International: terror attack abroad", []string{"religion", "race"}},
	{ScopeInternational, "International: football tournament defeat", []string{"race"}},
	{ScopeInternational, "International: coverage of a refugee crisis", []string{"race", "religion"}},
	{ScopeNational, "National: terror attack", []string{"religion", "race"}},
	{ScopeNational, "National: riots after a fatal stabbing", []string{"race", "religion"}},
	{ScopeNational, "National: referendum result", []string{"race"}},
	{ScopeNational, "National: televised row over gender identity", []string{"transgender", "sexual_orientation"}},
	{ScopeNational, "National: campaign against disability benefit claimants", []string{"disability"}},
	{ScopeLocal, "Local: contested march", []string{"race", "religion"}},
	{ScopeLocal, "Local: arson at a place of worship", []string{"religion"}},
	{ScopeLocal, "Local: Pride event", []string{"sexual_orientation", "transgender"}},
	{ScopeLocal, "Local: protest outside an asylum hotel", []string{"race", "religion"}},
	{ScopeLocal, "Local: viral video of a street assault", []string{"race"}},
	{ScopeLocal, "Local: vandalism at a disability day centre", []string{"disability"}},
}

var scopeWeights = map[string]float64{ScopeInternational: 0.25, ScopeNational: 0.30, ScopeLocal: 0.45}

// Spike sizes. Local clusters add 2 to 4 times the expected count of their strands in
// their disc and window; citywide spikes add 0.5 to 1.2 times the expected count of
// their strands over their window, front-loaded, so that the first days are 2 to 4
// times the usual count and the window as a whole 1.5 to 2.2 times. Where the
// expected count E is small, a spike still adds at least floor + 4 sqrt(E) records,
// so that it stands out of the Poisson noise. Injected records never exceed
// maxInjectedShare of Rows.
const (
	eventsMin, eventsMax = 4, 6 // per year
	eventGapDays         = 21   // between any two events
	localMultMin         = 2.0  // injected / expected, local
	localMultMax         = 4.0  //
	cityMultMin          = 0.5  // injected / expected, citywide
	cityMultMax          = 1.2  //
	localFloor           = 6    // injected at least localFloor + 4 sqrt(expected)
	cityFloor            = 8    // injected at least cityFloor + 4 sqrt(expected)
	maxInjectedShare     = 0.2  // of Rows, at most
	dayNoiseSigma        = 0.08 // log-normal day-to-day overdispersion
	seasonAmp            = 0.12 // summer peak and winter trough around the mean
	seasonPeakDOY        = 196  // mid-July
	trendPerYear         = 0.04 // mild upward trend
)

// weekday multipliers, Sunday first: Fridays and weekends are higher.
var weekdayRate = [7]float64{1.02, 0.92, 0.90, 0.92, 0.96, 1.10, 1.18}

// spikePlan is a spike and how its records are drawn.
type spikePlan struct {
	Spike
	local    bool
	center   orb.Point // [lon, lat]
	startDay int       // day index of Start
	perDay   []int     // injected records on each day from startDay
	combos   []int     // strand combinations of its records, indexes into the generator's table
	comboCat categorical
}

// plan holds what is decided before the first record: days, events and spikes.
type plan struct {
	start   time.Time // first day
	days    int
	dayStr  []string // 2006-01-02 of each day
	bg      []int    // background records on each day
	events  []TriggerEvent
	spikes  []*spikePlan
	byStart []int // spike indexes by startDay
	bgTotal int
}

// newPlan draws the daily counts, the events and the spikes.
func newPlan(o Options, t *town, tb *tables, r *rng) *plan {
	p := &plan{}
	p.start = o.End.AddDate(-o.Years, 0, 1)
	p.days = int(o.End.Sub(p.start).Hours()/24+0.5) + 1
	p.dayStr = make([]string, p.days)
	for d := range p.dayStr {
		p.dayStr[d] = p.start.AddDate(0, 0, d).Format(time.DateOnly)
	}

	// Relative background rate of each day.
	share := make([]float64, p.days)
	sum := 0.0
	for d := range share {
		day := p.start.AddDate(0, 0, d)
		season := 1 + seasonAmp*math.Cos(2*math.Pi*float64(day.YearDay()-seasonPeakDOY)/365.25)
		trend := 1 + trendPerYear*float64(d)/365.25
		noise := math.Exp(dayNoiseSigma*r.Norm() - dayNoiseSigma*dayNoiseSigma/2)
		share[d] = weekdayRate[day.Weekday()] * season * trend * noise
		sum += share[d]
	}
	for d := range share {
		share[d] /= sum
	}

	p.planEvents(o, r)

	// Spikes: each event's expected count of its strands in its place and window,
	// per background record; then B = Rows / (1 + sum of multiples).
	totalW := 0.0
	for _, w := range t.weight {
		totalW += w
	}
	type sized struct {
		sp     *spikePlan
		perRow float64 // injected records per background record
		expRow float64 // expected records of its strands in its place and window, per background record
		dayW   []float64
	}
	var sz []sized
	perRowSum := 0.0
	for ei, ev := range p.events {
		sp := &spikePlan{Spike: Spike{Event: ev, Strands: slices.Clone(ev.Strands)}}
		evDay := int(ev.Date.Sub(p.start).Hours()/24 + 0.5)
		var length int
		var mult, tau float64
		placeShare := 1.0
		if ev.Scope == ScopeLocal {
			sp.local = true
			sp.startDay = evDay
			length = 2 + r.IntN(9)
			var c orb.Point
			switch {
			case t.pg == nil:
				k := t.place.pick(r)
				c = t.pointIn(k, r.Uniform(0.2, 0.8), r.Uniform(0.2, 0.8))
			case len(t.pg.events) > 0: // one of the town's named places, named in the event
				i := r.IntN(len(t.pg.named))
				c = t.pg.named[i]
				p.events[ei].Description += " in " + t.pg.names[i]
				sp.Event.Description = p.events[ei].Description
			default:
				c = t.pointInCell(r, t.place.pick(r))
			}
			sp.center = orb.Point{round6(c[0]), round6(c[1])}
			sp.RadiusM = math.Round(r.Uniform(300, 900))
			ds := t.discShare(sp.center, sp.RadiusM)
			placeShare = 0
			for k, s := range ds {
				placeShare += s * t.weight[k]
			}
			placeShare /= totalW
			for _, k := range t.discCells(sp.center, sp.RadiusM) {
				sp.Areas = append(sp.Areas, t.areas[t.cells[k].area].Code)
			}
			mult = r.Uniform(localMultMin, localMultMax)
			tau = float64(length) / 1.5
		} else {
			sp.startDay = evDay + r.IntN(2)
			length = 7 + r.IntN(8)
			sp.center = t.centre
			for _, a := range t.areas[:t.nLSOA] {
				sp.Areas = append(sp.Areas, a.Code)
			}
			mult = r.Uniform(cityMultMin, cityMultMax)
			tau = float64(length) / 3
		}
		sp.Center = geo.LatLon{Lat: sp.center[1], Lon: sp.center[0]}
		if sp.startDay >= p.days {
			continue
		}
		length = min(length, p.days-sp.startDay)
		sp.Start = p.start.AddDate(0, 0, sp.startDay)
		sp.End = sp.Start.AddDate(0, 0, length-1)

		// Strand combinations of the injected records.
		var w []float64
		if len(ev.Strands) == 1 {
			sp.combos, w = []int{tb.combo(ev.Strands[0])}, []float64{1}
		} else {
			a, b := ev.Strands[0], ev.Strands[1]
			sp.combos = []int{tb.combo(a), tb.combo(b), tb.combo(a + ";" + b)}
			w = []float64{0.55, 0.30, 0.15}
		}
		sp.comboCat = newCategorical(w)

		dayW := make([]float64, length)
		expected := 0.0
		for t := range dayW {
			expected += share[sp.startDay+t]
			dayW[t] = share[sp.startDay+t] * math.Exp(-float64(t)/tau)
		}
		expect := expected * tb.strandShare(ev.Strands) * placeShare
		sz = append(sz, sized{sp, mult * expect, expect, dayW})
		perRowSum += mult * expect
	}

	// Injected counts, within the floor and the cap.
	bgf := float64(o.Rows) / (1 + perRowSum)
	counts := make([]int, len(sz))
	total := 0
	for i, s := range sz {
		floor := cityFloor
		if s.sp.local {
			floor = localFloor
		}
		n := int(math.Round(max(s.perRow*bgf, float64(floor)+4*math.Sqrt(s.expRow*bgf))))
		counts[i] = n
		total += n
	}
	if limit := int(maxInjectedShare * float64(o.Rows)); total > limit {
		f := float64(limit) / float64(total)
		total = 0
		for i := range counts {
			counts[i] = int(float64(counts[i]) * f)
			total += counts[i]
		}
	}
	for i, s := range sz {
		if counts[i] == 0 {
			continue
		}
		s.sp.Injected = counts[i]
		s.sp.perDay = multinomial(r, counts[i], s.dayW)
		p.spikes = append(p.spikes, s.sp)
		s.sp.ID = fmt.Sprintf("spike-%02d", len(p.spikes))
	}
	p.bgTotal = o.Rows - total
	p.bg = multinomial(r, p.bgTotal, share)
	for i := range p.spikes {
		p.byStart = append(p.byStart, i)
	}
	slices.SortStableFunc(p.byStart, func(a, b int) int { return p.spikes[a].startDay - p.spikes[b].startDay })
	return p
}

// planEvents draws 4 to 6 events a year, at least eventGapDays apart, none in the
// first two weeks and none on the last day.
func (p *plan) planEvents(o Options, r *rng) {
	scopes := []string{ScopeInternational, ScopeNational, ScopeLocal}
	sw := make([]float64, len(scopes))
	for i, s := range scopes {
		sw[i] = scopeWeights[s]
	}
	scopeCat := newCategorical(sw)
	var days []int
	for y := 0; y < o.Years; y++ {
		lo := max(14, y*p.days/o.Years)
		hi := min(p.days-2, (y+1)*p.days/o.Years-1)
		if hi < lo {
			continue
		}
		want := eventsMin + r.IntN(eventsMax-eventsMin+1)
		for n, tries := 0, 0; n < want && tries < 1000; tries++ {
			d := lo + r.IntN(hi-lo+1)
			ok := true
			for _, e := range days {
				if abs(e-d) < eventGapDays {
					ok = false
					break
				}
			}
			if ok {
				days = append(days, d)
				n++
			}
		}
	}
	latest := -1
	if o.LatestEvent > 0 && p.days-1-o.LatestEvent >= 14 {
		latest = p.days - 1 - o.LatestEvent
		days = slices.DeleteFunc(days, func(e int) bool { return e > latest || abs(e-latest) < eventGapDays })
		days = append(days, latest)
	}
	slices.Sort(days)
	var recentDesc []string // the last few events' descriptions, not to be repeated
	for _, d := range days {
		scope := scopes[scopeCat.pick(r)]
		if d == latest {
			scope = ScopeNational
		}
		var tpl []eventTemplate
		for _, e := range eventTemplates {
			if d == latest && !slices.Contains(e.strands, "race") {
				continue // the demo's live rise is in the largest strand, plain on the map
			}
			if e.scope == scope && !slices.Contains(recentDesc, e.description) {
				tpl = append(tpl, e)
			}
		}
		e := tpl[r.IntN(len(tpl))]
		recentDesc = append(recentDesc, e.description)
		if len(recentDesc) > 3 { // fewer than the templates of any scope
			recentDesc = recentDesc[1:]
		}
		p.events = append(p.events, TriggerEvent{
			Date: p.start.AddDate(0, 0, d), Scope: e.scope, Description: e.description, Strands: slices.Clone(e.strands),
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// multinomial spreads n over len(w) bins in proportion to w, by a chain of binomial
// draws, so that the bins sum to n exactly.
func multinomial(r *rng, n int, w []float64) []int {
	out := make([]int, len(w))
	rest := 0.0
	for _, x := range w {
		rest += x
	}
	for i, x := range w {
		if n == 0 {
			break
		}
		if i == len(w)-1 || rest <= 0 {
			out[i] = n
			break
		}
		k := r.Binomial(n, x/rest)
		out[i] = k
		n -= k
		rest -= x
	}
	return out
}

// joinStrands returns the canonical text of a strand combination: sorted, ';'-joined.
func joinStrands(s string) string {
	parts := strings.Split(s, ";")
	slices.Sort(parts)
	return strings.Join(parts, ";")
}
