package synth

import (
	"math"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/geo"
)

// recent is a sample of one day's records (their true places), which later records
// may repeat near: a bounded reservoir, so memory does not grow with the daily rate.
type recent struct {
	day  int
	seen int
	n    int
	rec  [recentPerDay]recentRec
}

type recentRec struct {
	p     orb.Point
	cell  int32
	combo uint8
}

// person is a remembered victim or offender.
type person struct {
	id    uint32
	combo uint8
}

// pools remember the last poolSize people of each source in each area.
type pools struct {
	ncell int
	ring  []person // [source][cell][poolSize]
	n     []uint8  // [source][cell] entries used
	pos   []uint8  // [source][cell] next slot
	next  []uint32 // [source] next new id
}

func newPools(ncell int) *pools {
	ns := len(sources)
	return &pools{
		ncell: ncell,
		ring:  make([]person, ns*ncell*poolSize),
		n:     make([]uint8, ns*ncell),
		pos:   make([]uint8, ns*ncell),
		next:  make([]uint32, ns),
	}
}

// pick returns a random remembered person of a source in a cell.
func (p *pools) pick(r *rng, src, cell int) (person, bool) {
	k := src*p.ncell + cell
	if p.n[k] == 0 {
		return person{}, false
	}
	return p.ring[k*poolSize+r.IntN(int(p.n[k]))], true
}

// fresh returns a new person of a source.
func (p *pools) fresh(src int, combo uint8) person {
	p.next[src]++
	return person{id: p.next[src], combo: combo}
}

// remember puts a person in a cell's ring, unless already the latest there.
func (p *pools) remember(src, cell int, who person) {
	k := src*p.ncell + cell
	base := k * poolSize
	if p.n[k] > 0 && p.ring[base+int((p.pos[k]+poolSize-1)%poolSize)].id == who.id {
		return
	}
	p.ring[base+int(p.pos[k])] = who
	p.pos[k] = (p.pos[k] + 1) % poolSize
	if p.n[k] < poolSize {
		p.n[k]++
	}
}

// stream is the state of one pass over the records.
type stream struct {
	g  *Generator
	t  *town
	tb *tables
	pl *plan
	r  *rng

	index  int
	day    int // current day, -1 before the first
	leftBg int // background records still to emit today
	left   int // all records still to emit today
	active []activeSpike
	nextSp int // next spike (by start) not yet active

	recent    [recentDays]recent
	victims   *pools
	offenders *pools
	seq       [][]int // [source][year index] last sequence number
	refs      [][]uint64
	block     []geo.RawIncident
	buf       []byte
	done      bool
}

type activeSpike struct {
	i    int // index in plan.spikes
	left int // records still to emit today
}

func (g *Generator) newStream() *stream {
	s := &stream{
		g: g, t: g.town, tb: g.tables, pl: g.plan,
		r:         newRNG(g.opts.Seed, streamRecords),
		day:       -1,
		victims:   newPools(len(g.town.cells)),
		offenders: newPools(len(g.town.cells)),
		seq:       make([][]int, len(sources)),
		refs:      make([][]uint64, len(g.plan.spikes)),
		buf:       make([]byte, 0, 128),
	}
	years := g.opts.End.Year() - g.plan.start.Year() + 1
	for i := range s.seq {
		s.seq[i] = make([]int, years)
	}
	for i, sp := range g.plan.spikes {
		s.refs[i] = make([]uint64, 0, sp.Injected)
	}
	for i := range s.recent {
		s.recent[i].day = -1
	}
	return s
}

// startDay moves to the next day that has records; false at the end.
func (s *stream) startDay() bool {
	for s.left == 0 {
		s.day++
		if s.day >= s.pl.days {
			return false
		}
		s.leftBg = s.pl.bg[s.day]
		s.left = s.leftBg
		s.active = s.active[:0]
		for _, i := range s.pl.byStart {
			sp := s.pl.spikes[i]
			if t := s.day - sp.startDay; t >= 0 && t < len(sp.perDay) && sp.perDay[t] > 0 {
				s.active = append(s.active, activeSpike{i, sp.perDay[t]})
				s.left += sp.perDay[t]
			}
		}
		slot := &s.recent[s.day%recentDays]
		slot.day, slot.seen, slot.n = s.day, 0, 0
	}
	return true
}

// next returns the next record, or false after the last.
func (s *stream) next() (*geo.RawIncident, bool) {
	if s.done {
		return nil, false
	}
	if !s.startDay() {
		s.done = true
		s.g.mu.Lock()
		s.g.refs = s.refs
		s.g.mu.Unlock()
		return nil, false
	}
	// Which record comes next: background or one of today's spikes, drawn without
	// replacement so that each kind is spread over the day's order.
	k := s.r.IntN(s.left)
	s.left--
	spike := -1
	if k < s.leftBg {
		s.leftBg--
	} else {
		k -= s.leftBg
		for a := range s.active {
			if k < s.active[a].left {
				s.active[a].left--
				spike = s.active[a].i
				break
			}
			k -= s.active[a].left
		}
	}
	rec := s.record(spike)
	rec.Index = s.index
	rec.Line = s.index + 2
	s.index++
	return rec, true
}

// record draws one record of today: background (spike < 0) or injected.
func (s *stream) record(spike int) *geo.RawIncident {
	r, t, tb := s.r, s.t, s.tb
	var (
		p     orb.Point
		cell  = -1
		combo = -1
		prec  int
	)
	var sp *spikePlan
	if spike >= 0 {
		sp = s.pl.spikes[spike]
	}

	// Place and strands.
	switch {
	case sp != nil && sp.local:
		for try := 0; try < 20 && cell < 0; try++ {
			rad := sp.RadiusM * math.Sqrt(r.Float64())
			th := 2 * math.Pi * r.Float64()
			q := t.offset(sp.center, rad*math.Cos(th), rad*math.Sin(th))
			if t.inside(q) {
				if c := t.locate(q); c >= 0 {
					p, cell = q, c
				}
			}
		}
		if cell < 0 {
			p, cell = sp.center, t.locate(sp.center)
		}
		combo = sp.combos[sp.comboCat.pick(r)]
		prec = tb.located.pick(r)
	case sp != nil:
		p, cell = t.randomPoint(r)
		combo = sp.combos[sp.comboCat.pick(r)]
		prec = tb.precision.pick(r)
	default:
		if r.Bool(nearRepeatShare) {
			p, cell, combo = s.nearRepeat()
		}
		if cell < 0 {
			p, cell = t.randomPoint(r)
			combo = -1
		}
		if combo < 0 {
			combo = tb.comboCat.pick(r)
		}
		prec = tb.precision.pick(r)
	}

	// Who reported it, and as what.
	src := tb.source.pick(r)
	crime := r.Bool(sources[src].crime)

	// Victim and offender, possibly seen before in this or a neighbouring area.
	var victim, offender person
	// An injected record keeps its spike's strands.
	vKeep, oKeep := victimKeepStrand, offenderKeep
	if sp != nil {
		vKeep, oKeep = 0, 0
	}
	hasVictim := r.Bool(victimShare)
	if hasVictim {
		victim, combo = s.person(s.victims, src, cell, combo, repeatVictim, vKeep)
	}
	hasOffender := r.Bool(offenderShare)
	if hasOffender {
		offender, combo = s.person(s.offenders, src, cell, combo, repeatOffender, oKeep)
	}

	var offence string
	switch {
	case prec == precOnline && crime:
		offence = onlineCrime
	case prec == precOnline:
		offence = onlineIncident
	case crime:
		offence = crimeOffences[tb.crimeOff.pick(r)].value
	default:
		offence = incidentOffences[tb.incOff.pick(r)].value
	}

	// Dates: a day, or now and then a range starting on it.
	from, to := s.day, s.day
	if r.Bool(rangeShare) {
		to = min(s.day+1+r.IntN(rangeMaxDays), s.pl.days-1)
	}
	repDay := min(to+tb.lag.pick(r), s.pl.days-1)
	hour := tb.hour.pick(r)
	minsec := r.IntN(3600)

	// Remember the true place for near repeats.
	s.remember(p, cell, combo)

	// Text. Variable fields are written into one buffer and sliced from one string.
	rec := s.alloc()
	rec.Source = sources[src].name
	rec.Kind = string(geo.KindIncident)
	if crime {
		rec.Kind = string(geo.KindCrime)
	}
	rec.Strands = tb.combos[combo]
	rec.Offence = offence
	rec.Precision = precisionMix[prec].value
	if from == to {
		rec.Occurred = s.pl.dayStr[from]
	} else {
		rec.OccurredFrom, rec.OccurredTo = s.pl.dayStr[from], s.pl.dayStr[to]
	}

	repStr := s.pl.dayStr[repDay]
	year := atoi4(repStr)
	yIdx := year - s.pl.start.Year()
	s.seq[src][yIdx]++
	seq := s.seq[src][yIdx]

	b := s.buf[:0]
	b = append(b, sources[src].prefix...)
	b = append(b, '-')
	b = append(b, repStr[:4]...)
	b = append(b, '-')
	b = appendPadded(b, seq, 6)
	iRef := len(b)
	b = append(b, repStr...)
	b = append(b, 'T')
	b = appendPadded(b, hour, 2)
	b = append(b, ':')
	b = appendPadded(b, minsec/60, 2)
	b = append(b, ':')
	b = appendPadded(b, minsec%60, 2)
	b = append(b, 'Z')
	iRep := len(b)
	var q orb.Point
	switch prec {
	case precExact:
		q = p
	case precStreet:
		q = t.snap(p, streetGridM)
	case precPostcode:
		q = t.snap(p, postcodeGridM)
	}
	iLat, iLon := iRep, iRep
	if prec <= precPostcode {
		b = strconv.AppendFloat(b, q[1], 'f', 6, 64) // as geo.FormatCoord
		iLat = len(b)
		b = strconv.AppendFloat(b, q[0], 'f', 6, 64)
		iLon = len(b)
	}
	if hasVictim {
		b = append(b, "V-"...)
		b = appendPadded(b, int(victim.id), 6)
	}
	iVic := len(b)
	if hasOffender {
		b = append(b, "O-"...)
		b = appendPadded(b, int(offender.id), 6)
	}
	iOff := len(b)
	str := string(b)
	s.buf = b
	rec.SourceRef = str[:iRef]
	rec.ReportedAt = str[iRef:iRep]
	switch {
	case prec <= precPostcode:
		rec.Lat, rec.Lon = str[iRep:iLat], str[iLat:iLon]
	case prec == precCentroid:
		c := &t.cells[cell]
		rec.Lat, rec.Lon = c.latStr, c.lonStr
	}
	rec.VictimRef = str[iLon:iVic]
	rec.OffenderRef = str[iVic:iOff]

	if sp != nil {
		s.refs[spike] = append(s.refs[spike], uint64(src)<<61|uint64(yIdx)<<48|uint64(seq))
	}
	return rec
}

// person returns a victim or offender: with probability repeat, one remembered in
// the same area (or, less often, a neighbouring one) for the same source, who keeps
// their strands with probability keep; otherwise someone new. Either way they are
// remembered in this record's area.
func (s *stream) person(p *pools, src, cell, combo int, repeat, keep float64) (person, int) {
	r := s.r
	if r.Bool(repeat) {
		c := cell
		if !r.Bool(repeatSameArea) {
			if nb := s.t.cells[cell].nbrs; len(nb) > 0 {
				c = int(nb[r.IntN(len(nb))])
			}
		}
		if who, ok := p.pick(r, src, c); ok {
			if r.Bool(keep) {
				combo = int(who.combo)
			}
			p.remember(src, cell, who)
			return who, combo
		}
	}
	who := p.fresh(src, uint8(combo))
	p.remember(src, cell, who)
	return who, combo
}

// nearRepeat places a record 50 to 400 m from a record of the last 14 days, or
// returns cell -1 when there is none to repeat or the place falls outside the town.
func (s *stream) nearRepeat() (orb.Point, int, int) {
	r, t := s.r, s.t
	lag := s.tb.nearLag.pick(r)
	if lag > s.day {
		return orb.Point{}, -1, -1
	}
	slot := &s.recent[(s.day-lag)%recentDays]
	if slot.day != s.day-lag || slot.n == 0 {
		return orb.Point{}, -1, -1
	}
	parent := slot.rec[r.IntN(slot.n)]
	for try := 0; try < 3; try++ {
		u := r.Float64()
		d := nearMinM + (nearMaxM-nearMinM)*u*u
		th := 2 * math.Pi * r.Float64()
		q := t.offset(parent.p, d*math.Cos(th), d*math.Sin(th))
		if !t.inside(q) {
			continue
		}
		if c := t.locate(q); c >= 0 {
			combo := -1
			if r.Bool(nearKeepStrand) {
				combo = int(parent.combo)
			}
			return q, c, combo
		}
	}
	return orb.Point{}, -1, -1
}

// remember offers a record to today's reservoir.
func (s *stream) remember(p orb.Point, cell, combo int) {
	slot := &s.recent[s.day%recentDays]
	slot.seen++
	e := recentRec{p: p, cell: int32(cell), combo: uint8(combo)}
	if slot.n < recentPerDay {
		slot.rec[slot.n] = e
		slot.n++
	} else if j := s.r.IntN(slot.seen); j < recentPerDay {
		slot.rec[j] = e
	}
}

// alloc returns a new zeroed record, from a block so that records are allocated a
// few hundred at a time.
func (s *stream) alloc() *geo.RawIncident {
	if len(s.block) == 0 {
		s.block = make([]geo.RawIncident, 128)
	}
	rec := &s.block[0]
	s.block = s.block[1:]
	return rec
}

// appendPadded appends n in decimal, zero-padded to width digits.
func appendPadded(b []byte, n, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for n > 0 || i == len(tmp) {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	for len(tmp)-i < width {
		i--
		tmp[i] = '0'
	}
	return append(b, tmp[i:]...)
}

func atoi4(s string) int {
	return int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
}
