package tension

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
)

// knoxDemoEvents returns n located incidents of one year of the demo town (exact
// and street locations, as the engine reads them), projected as the engine projects
// them: the clustering of the demo's population, hot spots, repeat places and near
// repeats. The year holds about 1.2·n records; n of the located ones are kept at
// random.
func knoxDemoEvents(tb testing.TB, n int) []KnoxEvent {
	tb.Helper()
	g, err := synth.New(synth.Options{Seed: 1, Rows: int(float64(n)/0.85*1.03) + 10, Years: 1, End: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		tb.Fatal(err)
	}
	type located struct {
		lat, lon float64
		day      int
	}
	var out []located
	err = g.Incidents(func(r *geo.RawIncident) error {
		if (r.Precision != "exact" && r.Precision != "street") || r.Lat == "" {
			return nil
		}
		lat, err := strconv.ParseFloat(r.Lat, 64)
		if err != nil {
			return err
		}
		lon, err := strconv.ParseFloat(r.Lon, 64)
		if err != nil {
			return err
		}
		d := r.Occurred
		if d == "" {
			d = r.OccurredFrom
		}
		day, err := time.Parse(time.DateOnly, d[:10])
		if err != nil {
			return err
		}
		out = append(out, located{lat, lon, int(day.Unix() / 86400)})
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	out = out[:min(n, len(out))]
	lat0 := 0.0
	for _, l := range out {
		lat0 += l.lat
	}
	lat0 /= float64(len(out))
	kx := geo.EarthRadius * math.Pi / 180 * math.Cos(lat0*math.Pi/180)
	ky := geo.EarthRadius * math.Pi / 180
	ev := make([]KnoxEvent, len(out))
	for i, l := range out {
		ev[i] = KnoxEvent{X: l.lon * kx, Y: l.lat * ky, Day: l.day}
	}
	return ev
}

// BenchmarkNearRepeat builds the near-repeat table (the default bands, 99
// replicates, as the engine runs it) of a year of the demo town's located incidents:
// by the pairwise reference, at 20,000 incidents (the old engine's cap); by the grid
// counting each neighbouring cell on its own (per-cell), as it did before the union
// of cells; by the grid as it counts now, at 20,000 and 200,000 (where the list of
// pairs near in space would exceed its budget); and over the last five weeks of the
// 200,000, by the grid and by the list of pairs. The
// replicates run on one goroutine, so that cpu-s/op (the process's CPU time per
// table, which a busy machine disturbs less than the wall time) is one core's.
func BenchmarkNearRepeat(b *testing.B) {
	o := DefaultNearRepeatOptions()
	o.Replicates = 99
	o.Workers = 1
	grid := func(tune knoxTuning) func([]KnoxEvent, NearRepeatOptions) (NearRepeatTable, error) {
		return func(ev []KnoxEvent, o NearRepeatOptions) (NearRepeatTable, error) { return nearRepeat(ev, o, tune) }
	}
	for _, c := range []struct {
		name string
		n    int
		f    func([]KnoxEvent, NearRepeatOptions) (NearRepeatTable, error)
	}{
		{"pairs/20000", 20000, nearRepeatByPairs},
		{"per-cell/20000", 20000, grid(knoxTuning{perCell: true})},
		{"grid/20000", 20000, NearRepeat},
		{"per-cell/200000", 200000, grid(knoxTuning{perCell: true})},
		{"grid/200000", 200000, NearRepeat},
		// The last five weeks of a year of 200,000: near in space is then nearly
		// always near in time, where the list of pairs is quicker than the grid.
		{"grid/5weeks", -35, grid(knoxTuning{pairs: -1})},
		{"list/5weeks", -35, grid(knoxTuning{pairs: 1})},
	} {
		b.Run(c.name, func(b *testing.B) {
			var events []KnoxEvent
			if c.n > 0 {
				events = knoxDemoEvents(b, c.n)
			} else {
				events = knoxLastDays(knoxDemoEvents(b, 200000), -c.n)
			}
			cpu := 0.0
			for b.Loop() {
				c0 := processCPUSeconds()
				if _, err := c.f(events, o); err != nil {
					b.Fatal(err)
				}
				cpu += processCPUSeconds() - c0
			}
			b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
		})
	}
}

// knoxLastDays keeps the events of the last days days.
func knoxLastDays(ev []KnoxEvent, days int) []KnoxEvent {
	last := ev[0].Day
	for _, e := range ev {
		last = max(last, e.Day)
	}
	var out []KnoxEvent
	for _, e := range ev {
		if e.Day > last-days {
			out = append(out, e)
		}
	}
	return out
}
