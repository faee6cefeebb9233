package tension

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkNearRepeat builds the near-repeat table of a year of 20,000 incidents in
// a dense town (8 km square), as the engine's run does at its cap.
func BenchmarkNearRepeat(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	events := make([]KnoxEvent, 20000)
	for i := range events {
		events[i] = KnoxEvent{X: r.Float64() * 8000, Y: r.Float64() * 8000, Day: r.IntN(365)}
	}
	o := DefaultNearRepeatOptions()
	o.Replicates = 99
	for b.Loop() {
		if _, err := NearRepeat(events, o); err != nil {
			b.Fatal(err)
		}
	}
}
