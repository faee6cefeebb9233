package synth

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// TestMix checks the shares of 100,000 records against the targets.
func TestMix(t *testing.T) {
	g := newGen(t, 42, 100000, 3)
	recs := collect(t, g)
	n := len(recs)
	strandN := map[string]int{}
	kinds, srcs, precs := map[string]int{}, map[string]int{}, map[string]int{}
	var two, ranges, victims, offenders, repeatV, repeatO, sameDay, lagOver7 int
	seenRef := map[string]bool{}
	seenV, seenO := map[string]bool{}, map[string]bool{}
	for _, x := range recs {
		for i, s := range geo.DefaultStrands {
			if x.strands&(1<<i) != 0 {
				strandN[s]++
			}
		}
		if x.nStrands == 2 {
			two++
		}
		kinds[x.kind]++
		srcs[x.source]++
		precs[x.prec]++
		if x.to != x.day {
			ranges++
		}
		if x.reported == x.to {
			sameDay++
		}
		if x.reported-x.to > 7 {
			lagOver7++
		}
		key := x.source + ":" + x.ref
		if seenRef[key] {
			t.Fatalf("source_ref %s appears twice", key)
		}
		seenRef[key] = true
		if x.victim != "" {
			victims++
			if k := x.source + ":" + x.victim; seenV[k] {
				repeatV++
			} else {
				seenV[k] = true
			}
		}
		if x.offender != "" {
			offenders++
			if k := x.source + ":" + x.offender; seenO[k] {
				repeatO++
			} else {
				seenO[k] = true
			}
		}
		if x.prec == "online" && x.offence != onlineCrime && x.offence != onlineIncident {
			t.Fatalf("online record with offence %q", x.offence)
		}
	}
	// Spikes add race and religion records above the background mix.
	near(t, "race", share(strandN["race"], n), 0.71, 0.03)
	near(t, "sexual_orientation", share(strandN["sexual_orientation"], n), 0.17, 0.02)
	near(t, "disability", share(strandN["disability"], n), 0.10, 0.015)
	near(t, "religion", share(strandN["religion"], n), 0.08, 0.02)
	near(t, "transgender", share(strandN["transgender"], n), 0.04, 0.01)
	near(t, "sex", share(strandN["sex"], n), 0.02, 0.01)
	near(t, "alternative_subculture", share(strandN["alternative_subculture"], n), 0.01, 0.005)
	near(t, "two strands", share(two, n), 0.10, 0.02)
	near(t, "crime", share(kinds["crime"], n), 0.75, 0.02)
	near(t, "incident", share(kinds["incident"], n), 0.25, 0.02)
	near(t, "police", share(srcs["police"], n), 0.80, 0.01)
	near(t, "council", share(srcs["council"], n), 0.06, 0.005)
	near(t, "third_party", share(srcs["third_party"], n), 0.10, 0.007)
	near(t, "anonymous", share(srcs["anonymous"], n), 0.04, 0.005)
	near(t, "exact", share(precs["exact"], n), 0.70, 0.01)
	near(t, "street", share(precs["street"], n), 0.15, 0.01)
	near(t, "postcode", share(precs["postcode"], n), 0.09, 0.01)
	near(t, "area_centroid", share(precs["area_centroid"], n), 0.02, 0.005)
	near(t, "online", share(precs["online"], n), 0.04, 0.005)
	near(t, "date ranges", share(ranges, n), 0.05, 0.005)
	near(t, "reported the same day", share(sameDay, n), 0.55, 0.03)
	near(t, "reported over a week later", share(lagOver7, n), 0.025, 0.015)
	near(t, "victim_ref", share(victims, n), 0.90, 0.01)
	near(t, "repeat victims (of all records)", share(repeatV, n), 0.12, 0.02)
	near(t, "offender_ref", share(offenders, n), 0.35, 0.01)
	near(t, "repeat offenders (of all records)", share(repeatO, n), 0.105, 0.02)

	// Seasonality and trend: mean records per day.
	start := g.Start()
	perDay := make([]int, len(g.plan.dayStr))
	for _, x := range recs {
		perDay[x.day]++
	}
	dayMean := func(keep func(time.Time) bool) float64 {
		s, k := 0, 0
		for d, c := range perDay {
			if keep(start.AddDate(0, 0, d)) {
				s += c
				k++
			}
		}
		return float64(s) / float64(k)
	}
	wd := dayMean(func(d time.Time) bool { return d.Weekday() >= time.Monday && d.Weekday() <= time.Thursday })
	fri := dayMean(func(d time.Time) bool { return d.Weekday() == time.Friday })
	we := dayMean(func(d time.Time) bool { return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday })
	summer := dayMean(func(d time.Time) bool { return d.Month() >= time.June && d.Month() <= time.August })
	winter := dayMean(func(d time.Time) bool { return d.Month() == time.December || d.Month() <= time.February })
	first := dayMean(func(d time.Time) bool { return d.Before(start.AddDate(1, 0, 0)) })
	lastY := dayMean(func(d time.Time) bool { return !d.Before(start.AddDate(2, 0, 0)) })
	t.Logf("per day: Mon-Thu %.1f, Fri %.1f, Sat-Sun %.1f; summer %.1f, winter %.1f; first year %.1f, last %.1f", wd, fri, we, summer, winter, first, lastY)
	if we < 1.1*wd || fri < 1.1*wd {
		t.Errorf("weekends (%.1f) and Fridays (%.1f) are not clearly above Monday-Thursday (%.1f)", we, fri, wd)
	}
	if summer < 1.12*winter {
		t.Errorf("summer (%.1f) is not clearly above winter (%.1f)", summer, winter)
	}
	if lastY < 1.03*first {
		t.Errorf("no upward trend: first year %.1f a day, last %.1f", first, lastY)
	}
}

// TestNearRepeat counts pairs of exact records within 200 m and 7 days, against the
// same count with the days shuffled among the records.
func TestNearRepeat(t *testing.T) {
	g := newGen(t, 8, 100000, 3)
	recs := collect(t, g)
	var pts []rec
	for _, x := range recs {
		if x.prec == "exact" {
			pts = append(pts, x)
		}
	}
	obs := closePairs(g.town, pts, 200, 7)
	r := rand.New(rand.NewPCG(3, 4))
	days := make([]int, len(pts))
	for i, x := range pts {
		days[i] = x.day
	}
	r.Shuffle(len(days), func(i, j int) { days[i], days[j] = days[j], days[i] })
	for i := range pts {
		pts[i].day = days[i]
	}
	base := closePairs(g.town, pts, 200, 7)
	t.Logf("pairs within 200 m and 7 days: %d; with days shuffled: %d (excess %.1f%%)", obs, base, 100*float64(obs-base)/float64(base))
	if float64(obs) < 1.05*float64(base) || float64(obs-base) < 8*math.Sqrt(float64(base)) {
		t.Errorf("no clear near-repeat excess: %d pairs against %d shuffled", obs, base)
	}
}

// closePairs counts unordered pairs within dist metres and days days, with a grid of
// dist-sized squares.
func closePairs(tw *town, pts []rec, dist float64, days int) int {
	type key struct{ i, j int }
	grid := map[key][]int{}
	cellOf := func(x rec) key {
		return key{int(math.Floor((x.lon - townW) * tw.kx / dist)), int(math.Floor((x.lat - townS) * tw.ky / dist))}
	}
	for i, x := range pts {
		k := cellOf(x)
		grid[k] = append(grid[k], i)
	}
	n := 0
	for i, x := range pts {
		k := cellOf(x)
		for di := -1; di <= 1; di++ {
			for dj := -1; dj <= 1; dj++ {
				for _, j := range grid[key{k.i + di, k.j + dj}] {
					if j <= i {
						continue
					}
					y := pts[j]
					if abs(x.day-y.day) > days {
						continue
					}
					if math.Hypot((x.lon-y.lon)*tw.kx, (x.lat-y.lat)*tw.ky) <= dist {
						n++
					}
				}
			}
		}
	}
	return n
}

// TestSpikes checks that every spike stands out in its place and window against
// the same place and window in other years, and that its refs name its records.
func TestSpikes(t *testing.T) {
	g := newGen(t, 2024, 300000, 3)
	recs := collect(t, g)
	spikes := g.Spikes()
	if len(spikes) < 3*eventsMin || len(g.Events()) > 3*eventsMax {
		t.Fatalf("%d spikes and %d events over 3 years", len(spikes), len(g.Events()))
	}
	start := g.Start()
	byRef := map[string]rec{}
	for _, x := range recs {
		byRef[x.source+":"+x.ref] = x
	}
	tw := g.town
	total := 0
	for _, sp := range spikes {
		total += sp.Injected
		var mask uint8
		for _, s := range sp.Strands {
			mask |= strandBit(s)
		}
		d0 := int(math.Round(sp.Start.Sub(start).Hours() / 24))
		d1 := int(math.Round(sp.End.Sub(start).Hours() / 24))
		// within is the place: the disc, or, with slack for street and postcode
		// snapping (up to ~106 m), the disc grown by 110 m.
		within := func(x rec, slack float64) bool {
			if x.strands&mask == 0 {
				return false
			}
			if sp.RadiusM == 0 {
				return true
			}
			return x.located && math.Hypot((x.lon-sp.Center.Lon)*tw.kx, (x.lat-sp.Center.Lat)*tw.ky) <= sp.RadiusM+slack
		}
		perDay := make([]int, len(g.plan.dayStr))
		for _, x := range recs {
			if within(x, 0) {
				perDay[x.day]++
			}
		}
		// The baseline: the mean count of every other window of the same length in
		// the data, clear of every spike with a shared strand by a week.
		busy := make([]bool, len(perDay))
		for _, o := range spikes {
			if !sharesStrand(o.Strands, sp.Strands) {
				continue
			}
			od0 := int(math.Round(o.Start.Sub(start).Hours() / 24))
			od1 := int(math.Round(o.End.Sub(start).Hours() / 24))
			for d := max(0, od0-7); d <= min(len(busy)-1, od1+7); d++ {
				busy[d] = true
			}
		}
		length := d1 - d0 + 1
		got, windows, sum := 0, 0, 0
		for w := d0 % length; w+length <= len(perDay); w += length {
			n, clear := 0, true
			for d := w; d < w+length; d++ {
				n += perDay[d]
				clear = clear && !busy[d]
			}
			if w == d0 {
				got = n
			} else if clear {
				windows++
				sum += n
			}
		}
		b := float64(sum) / float64(windows)
		factor := 1.4
		if sp.RadiusM > 0 {
			factor = 2
		}
		t.Logf("%s %-58s %s..%s r=%3.0f injected %4d: %5d in window, baseline %7.1f (%d windows)", sp.ID, sp.Event.Description, sp.Start.Format(time.DateOnly), sp.End.Format(time.DateOnly), sp.RadiusM, sp.Injected, got, b, windows)
		if windows < 10 || float64(got) < factor*b || float64(got) < b+2*math.Sqrt(b)+2 {
			t.Errorf("%s: %d records in its place and window against a baseline of %.1f: not clearly above", sp.ID, got, b)
		}

		// The refs are the injected records.
		if len(sp.Refs) != sp.Injected {
			t.Errorf("%s: %d refs, %d injected", sp.ID, len(sp.Refs), sp.Injected)
		}
		for _, ref := range sp.Refs {
			x, ok := byRef[ref]
			if !ok {
				t.Fatalf("%s: ref %s is not a record", sp.ID, ref)
			}
			if x.day < d0 || x.day > d1 || x.strands&^mask != 0 || !within(x, 110) {
				t.Fatalf("%s: record %s (%+v) is outside the spike", sp.ID, ref, x)
			}
		}
		if len(sp.Areas) == 0 {
			t.Errorf("%s touches no areas", sp.ID)
		}
	}
	t.Logf("%d spikes injected %d of %d records (%.1f%%)", len(spikes), total, len(recs), 100*share(total, len(recs)))
	if share(total, len(recs)) > maxInjectedShare {
		t.Errorf("injected share %.3f", share(total, len(recs)))
	}
}

func sharesStrand(a, b []string) bool {
	for _, s := range a {
		if slices.Contains(b, s) {
			return true
		}
	}
	return false
}
