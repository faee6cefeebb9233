package synth

import (
	"math"
	"strings"
)

// weighted is one entry of a probability table.
type weighted struct {
	value string
	w     float64
}

// strandMix is the share of records with each strand combination. It follows the
// Home Office hate crime statistics for England and Wales (a record counts towards
// every strand it carries, so strand shares add to more than 100%): race ~69%,
// sexual orientation ~17%, disability ~10%, religion ~7%, transgender ~4%, and the
// common local additions sex ~2% and alternative subculture ~1%. One record in ten
// carries two strands, race with religion the most common pair.
var strandMix = []weighted{
	{"race", 0.622},
	{"sexual_orientation", 0.134},
	{"disability", 0.080},
	{"religion", 0.031},
	{"transgender", 0.018},
	{"sex", 0.008},
	{"alternative_subculture", 0.007},
	{"race;religion", 0.035},
	{"sexual_orientation;transgender", 0.015},
	{"race;sexual_orientation", 0.012},
	{"disability;race", 0.010},
	{"race;sex", 0.008},
	{"disability;sexual_orientation", 0.006},
	{"religion;sex", 0.004},
	{"disability;transgender", 0.004},
	{"alternative_subculture;sexual_orientation", 0.003},
	{"race;transgender", 0.003},
}

// Sources: who reported, their reference prefix and how often they report crimes
// rather than incidents (police record most reports as crimes; third-party centres
// and councils hear more non-crime incidents).
type sourceInfo struct {
	name, prefix string
	share, crime float64
}

var sources = []sourceInfo{
	{"police", "TVP", 0.80, 0.825},
	{"council", "MKC", 0.06, 0.35},
	{"third_party", "TPR", 0.10, 0.50},
	{"anonymous", "ANON", 0.04, 0.40},
}

var crimeOffences = []weighted{
	{"Public order offence", 44},
	{"Harassment", 14},
	{"Common assault", 12},
	{"Malicious communications", 8},
	{"Criminal damage", 8},
	{"Assault occasioning ABH", 6},
	{"Stalking", 3},
	{"Threats to kill", 2},
	{"Robbery", 1.5},
	{"Wounding with intent (GBH)", 1},
	{"Arson", 0.5},
}

var incidentOffences = []weighted{
	{"Verbal abuse", 40},
	{"Intimidation", 15},
	{"Online abuse", 15},
	{"Graffiti", 10},
	{"Anti-social behaviour", 10},
	{"Offensive leaflets or stickers", 5},
	{"Offensive gestures", 5},
}

// What an online report is recorded as.
const (
	onlineCrime    = "Malicious communications"
	onlineIncident = "Online abuse"
)

// Location precisions. Street reports are snapped to a ~150 m grid of street
// points, postcode reports to a ~80 m grid, area-centroid reports to their lsoa's
// centroid; online reports carry no place.
var precisionMix = []weighted{
	{"exact", 0.70},
	{"street", 0.15},
	{"postcode", 0.09},
	{"area_centroid", 0.02},
	{"online", 0.04},
}

const (
	precExact = iota
	precStreet
	precPostcode
	precCentroid
	precOnline
)

const (
	streetGridM   = 150.0
	postcodeGridM = 80.0
)

// Record-level shares.
const (
	rangeShare       = 0.05 // occurred given as a range of days
	rangeMaxDays     = 6
	victimShare      = 0.90
	repeatVictim     = 0.12 / victimShare // of records with a victim: a recent victim again
	victimKeepStrand = 0.8                // a repeat victim is targeted for the same reason
	offenderShare    = 0.35
	repeatOffender   = 0.30 // of records with an offender
	offenderKeep     = 0.5
	repeatSameArea   = 0.7  // else a neighbouring area
	poolSize         = 8    // recent victims (offenders) remembered per source and area
	nearRepeatShare  = 0.12 // of background records: near an earlier record
	nearMinM         = 50.0
	nearMaxM         = 400.0
	nearMaxLag       = 14  // days
	nearLagScale     = 3.0 // days; lags are geometric-like with this scale
	nearKeepStrand   = 0.5 // a near repeat targets the same community
	recentPerDay     = 256 // records remembered per day for near repeats
	recentDays       = nearMaxLag + 1
)

// reportLag is the number of days from the (last) day of occurrence to the report.
var reportLag = []float64{0.55, 0.20, 0.09, 0.05, 0.03, 0.02, 0.02, 0.01, 0.01, 0.005, 0.005, 0.005, 0.005, 0.0025, 0.0025}

// reportHour weights the hour of day a report is made.
var reportHour = []float64{
	1, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.5, 3.5, 4, 4, // 00-11
	4, 4, 4, 4, 4, 4, 3.8, 3.5, 3, 2.5, 2, 1.5, // 12-23
}

// tables are the probability tables of one generator, ready to draw from.
type tables struct {
	combos    []string // strand combinations, canonical text
	comboCat  categorical
	bgCombos  int // the first bgCombos of combos are the background mix
	source    categorical
	crimeOff  categorical
	incOff    categorical
	precision categorical
	located   categorical // precision among exact, street, postcode (local spikes)
	lag       categorical
	hour      categorical
	nearLag   categorical
}

func newTables() *tables {
	tb := &tables{}
	var w []float64
	for _, c := range strandMix {
		tb.combos = append(tb.combos, joinStrands(c.value))
		w = append(w, c.w)
	}
	tb.bgCombos = len(tb.combos)
	tb.comboCat = newCategorical(w)
	w = w[:0]
	for _, s := range sources {
		w = append(w, s.share)
	}
	tb.source = newCategorical(w)
	tb.crimeOff = newCategorical(weights(crimeOffences))
	tb.incOff = newCategorical(weights(incidentOffences))
	pw := weights(precisionMix)
	tb.precision = newCategorical(pw)
	tb.located = newCategorical(pw[:precCentroid])
	tb.lag = newCategorical(reportLag)
	tb.hour = newCategorical(reportHour)
	nl := make([]float64, nearMaxLag+1)
	for i := range nl {
		nl[i] = math.Exp(-float64(i) / nearLagScale)
	}
	tb.nearLag = newCategorical(nl)
	return tb
}

func weights(ws []weighted) []float64 {
	out := make([]float64, len(ws))
	for i, x := range ws {
		out[i] = x.w
	}
	return out
}

// combo returns the index of a strand combination, adding it when it is new.
func (tb *tables) combo(s string) int {
	s = joinStrands(s)
	for i, c := range tb.combos {
		if c == s {
			return i
		}
	}
	tb.combos = append(tb.combos, s)
	return len(tb.combos) - 1
}

// strandShare is the share of background records carrying any of the strands.
func (tb *tables) strandShare(strands []string) float64 {
	share := 0.0
	for i, c := range strandMix {
		for _, s := range strands {
			if containsStrand(tb.combos[i], s) {
				share += c.w
				break
			}
		}
	}
	total := 0.0
	for _, c := range strandMix {
		total += c.w
	}
	return share / total
}

func containsStrand(combo, s string) bool {
	for _, p := range strings.Split(combo, ";") {
		if p == s {
			return true
		}
	}
	return false
}
