package synth

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/geo"
)

// streamOutcomes is the random stream of the outcomes: apart from the records', so
// that drawing outcomes leaves every record as it was.
const streamOutcomes = streamRecords + 1

// outcomeMix is the share of each final outcome of a police-recorded crime, close to
// what police.uk publishes for public order and violent crime: most crimes end
// without a suspect prosecuted, and about 15% end in a sanction detection
// (a charge, a caution, a penalty notice, or a court result after a charge).
var outcomeMix = []weighted{
	{"Unable to prosecute suspect", 40},
	{"Investigation complete; no suspect identified", 20},
	{"Suspect charged", 7},
	{"Local resolution", 6},
	{"Under investigation", 5},
	{"Action to be taken by another organisation", 4},
	{"Further investigation is not in the public interest", 2},
	{"Formal action is not in the public interest", 1.5},
	{"Further action is not in the public interest", 1},
	{"Offender given a caution", 3},
	{"Offender given penalty notice", 0.5},
	{"Suspect charged as part of another case", 0.5},
	// Court results, each after a charge.
	{"Offender fined", 1.2},
	{"Offender given community sentence", 0.8},
	{"Awaiting court outcome", 0.6},
	{"Offender given conditional discharge", 0.5},
	{"Defendant found not guilty", 0.5},
	{"Offender sent to prison", 0.4},
	{"Offender given suspended prison sentence", 0.4},
	{"Offender ordered to pay compensation", 0.3},
	{"Court result unavailable", 0.3},
}

// Months from a crime's report to its outcome (0: the same month), and from a
// charge to the court's result.
var (
	outcomeLagMix = []float64{40, 25, 15, 8, 6, 4, 2}
	courtLagMix   = []float64{0, 45, 35, 20}
)

const (
	noOutcomeShare  = 0.05 // police crimes with no outcome published at all
	openFirstShare  = 0.3  // of outcomes a month or more after the report: "Under investigation" first
	orphanPerCrimes = 600  // one outcome of a crime not in the data per this many rows
	orphanSeqBase   = 900000
	underInvestig   = "Under investigation"
	charged         = "Suspect charged"
	outcomeForce    = "Thames Valley Police"
	awaitingCourt   = "Awaiting court outcome"
)

// The columns of a police.uk outcomes file, as WriteOutcomes writes them.
var outcomeColumns = []string{"Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location", "LSOA code", "LSOA name", "Outcome type"}

// outcomeRec is one outcome with the place police.uk repeats from its crime.
type outcomeRec struct {
	geo.Outcome
	lat, lon string
	area     int // index of the lsoa among the areas, -1 when the crime has no place
}

// outcomeStream draws the outcomes of one pass over the records.
type outcomeStream struct {
	g        *Generator
	s        *stream
	r        *rng
	mix      categorical
	lag      categorical
	court    categorical
	endMonth int // months since year 0 of the last day's month
	orphans  int // outcomes of crimes not in the data still to emit
	queue    []outcomeRec
	index    int
	done     bool
}

func (g *Generator) newOutcomeStream() *outcomeStream {
	w := make([]float64, len(outcomeMix))
	for i, m := range outcomeMix {
		w[i] = m.w
	}
	return &outcomeStream{
		g: g, s: g.newStream(), r: newRNG(g.opts.Seed, streamOutcomes),
		mix: newCategorical(w), lag: newCategorical(outcomeLagMix), court: newCategorical(courtLagMix),
		endMonth: monthIndex(g.opts.End),
		orphans:  max(1, g.opts.Rows/orphanPerCrimes),
	}
}

func monthIndex(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }

func monthTime(m int) time.Time { return time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC) }

// next returns the next outcome, or false after the last.
func (ost *outcomeStream) next() (outcomeRec, bool) {
	for len(ost.queue) == 0 {
		if ost.done {
			return outcomeRec{}, false
		}
		switch {
		case ost.orphans > 0:
			ost.orphan()
		default:
			rec, ok := ost.s.next()
			if !ok {
				ost.done = true
				continue
			}
			if rec.Source == sources[0].name && rec.Kind == string(geo.KindCrime) {
				ost.crime(rec)
			}
		}
	}
	o := ost.queue[0]
	ost.queue = ost.queue[1:]
	o.Index = ost.index
	o.Line = ost.index + 2
	ost.index++
	return o, true
}

// orphan queues an outcome of a crime reported the year before the data begin,
// which is therefore not in the data: the load keeps it, unmatched.
func (ost *outcomeStream) orphan() {
	ost.orphans--
	first := monthIndex(ost.g.plan.start)
	year := ost.g.plan.start.Year() - 1
	m := min(first+ost.r.IntN(3), ost.endMonth)
	ref := sources[0].prefix + "-" + strconv.Itoa(year) + "-" + string(appendPadded(nil, orphanSeqBase+ost.orphans, 6))
	ost.push(ref, m, outcomeMix[ost.mix.pick(ost.r)].value, "", "")
}

// crime queues the outcomes of one police-recorded crime: nothing, its final
// outcome, or an earlier one first ("Under investigation", or the charge before a
// court's result). Outcomes that would fall after the last day are not yet known: a
// crime whose final outcome is still to come is under investigation.
func (ost *outcomeStream) crime(rec *geo.RawIncident) {
	r := ost.r
	if r.Bool(noOutcomeShare) {
		return
	}
	reported := atoi4(rec.ReportedAt)*12 + int(rec.ReportedAt[5]-'0')*10 + int(rec.ReportedAt[6]-'0') - 1
	final := outcomeMix[ost.mix.pick(r)].value
	m := reported + ost.lag.pick(r)
	court := 0
	if isCourt(final) && final != awaitingCourt {
		court = ost.court.pick(r)
	}
	openFirst := m > reported && r.Bool(openFirstShare)
	switch {
	case final == underInvestig || m > ost.endMonth:
		ost.push(rec.SourceRef, reported, underInvestig, rec.Lat, rec.Lon)
	case court > 0:
		ost.push(rec.SourceRef, m, charged, rec.Lat, rec.Lon)
		if m+court <= ost.endMonth {
			ost.push(rec.SourceRef, m+court, final, rec.Lat, rec.Lon)
		}
	case openFirst:
		ost.push(rec.SourceRef, reported, underInvestig, rec.Lat, rec.Lon)
		ost.push(rec.SourceRef, m, final, rec.Lat, rec.Lon)
	default:
		ost.push(rec.SourceRef, m, final, rec.Lat, rec.Lon)
	}
}

// isCourt reports whether an outcome type is a court's.
func isCourt(outcome string) bool {
	for _, t := range geo.OutcomeTypes {
		if t.Name == outcome {
			return t.Stage == "court"
		}
	}
	return false
}

func (ost *outcomeStream) push(ref string, month int, outcome, lat, lon string) {
	o := outcomeRec{Outcome: geo.Outcome{CrimeRef: ref, Month: monthTime(month), Type: outcome}, lat: lat, lon: lon, area: -1}
	o.Positive, o.Known = geo.ClassifyOutcome(outcome)
	if lat != "" && lon != "" {
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(lon, 64)
		if err1 == nil && err2 == nil {
			if c := ost.g.town.locate(orb.Point{lo, la}); c >= 0 {
				o.area = ost.g.town.cells[c].area
			}
		}
	}
	ost.queue = append(ost.queue, o)
}

// Outcomes streams the outcomes of the police-recorded crimes (source police, kind
// crime) to yield, as police.uk would publish them by the last day: about 15% of
// crimes with a sanction detection, some with two months of outcomes (under
// investigation, then closed; charged, then the court's result), a few under
// investigation still, a few without any. It begins with a few outcomes of crimes
// reported before the data begin, which are not in the data. Outcomes come crime
// by crime in the records' order, each crime's in month order; Line is Index+2,
// the row's line in outcomes.csv. Drawing them changes no record, and the same
// options give the same outcomes.
func (g *Generator) Outcomes(yield func(*geo.Outcome) error) error {
	ost := g.newOutcomeStream()
	for {
		o, ok := ost.next()
		if !ok {
			return nil
		}
		out := o.Outcome
		if err := yield(&out); err != nil {
			return err
		}
	}
}

// OutcomeReader returns the same outcomes as Outcomes as a pull-style
// geo.OutcomeReader, with no goroutine.
func (g *Generator) OutcomeReader() geo.OutcomeReader {
	return &OutcomeStream{s: g.newOutcomeStream()}
}

// OutcomeStream is a pull-style reader of a generator's outcomes; see
// Generator.OutcomeReader.
type OutcomeStream struct{ s *outcomeStream }

// Next returns the next outcome, or io.EOF after the last.
func (st *OutcomeStream) Next() (*geo.Outcome, error) {
	o, ok := st.s.next()
	if !ok {
		return nil, io.EOF
	}
	out := o.Outcome
	return &out, nil
}

// WriteOutcomes writes the generator's outcomes as a police.uk outcomes CSV (CRLF
// line endings, police.uk's columns, "No location" for crimes without a place) and
// returns the number of rows.
func WriteOutcomes(w io.Writer, g *Generator) (int, error) {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(outcomeColumns); err != nil {
		return 0, err
	}
	ost := g.newOutcomeStream()
	n := 0
	row := make([]string, len(outcomeColumns))
	for {
		o, ok := ost.next()
		if !ok {
			break
		}
		location, code, name := "No location", "", ""
		if o.area >= 0 {
			a := &g.town.areas[o.area]
			location, code, name = "On or near "+a.Name, a.Code, a.Name
		}
		row[0], row[1], row[2], row[3] = o.CrimeRef, o.Month.Format("2006-01"), outcomeForce, outcomeForce
		row[4], row[5], row[6], row[7], row[8], row[9] = o.lon, o.lat, location, code, name, o.Type
		if err := cw.Write(row); err != nil {
			return n, err
		}
		n++
	}
	cw.Flush()
	return n, cw.Error()
}
