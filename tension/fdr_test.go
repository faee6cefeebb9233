package tension

import (
	"math"
	"slices"
	"testing"
)

// TestBenjaminiHochbergByHand checks the BH step-up on values worked out by hand
// (R: p.adjust(c(0.01, NA, 0.04, 0.03), "BH") is 0.03 NA 0.04 0.04).
func TestBenjaminiHochbergByHand(t *testing.T) {
	got := BenjaminiHochberg([]float64{0.01, math.NaN(), 0.04, 0.03})
	want := []float64{0.03, math.NaN(), 0.04, 0.04}
	for i := range want {
		if ok, _ := earsSame(got[i], want[i], 1e-15); !ok {
			t.Errorf("[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if got := BenjaminiHochberg(nil); len(got) != 0 {
		t.Errorf("empty: %v", got)
	}
	if got := BenjaminiHochberg([]float64{0.3}); got[0] != 0.3 {
		t.Errorf("single: %v", got)
	}
	// Never above 1, monotone in p.
	got = BenjaminiHochberg([]float64{0.9, 0.95, 0.99, 0.5})
	for _, v := range got {
		if v > 1 {
			t.Errorf("adjusted p %v above 1", v)
		}
	}
	if !(got[3] <= got[0] && got[0] <= got[1] && got[1] <= got[2]) {
		t.Errorf("not monotone: %v", got)
	}
}

func TestHotspotBin(t *testing.T) {
	for _, tc := range []struct {
		z, p float64
		want int
	}{
		{3, 0.001, 3}, {3, 0.01, 3}, {2.5, 0.0100001, 2}, {2, 0.05, 2}, {1.7, 0.07, 1}, {1.7, 0.10, 1},
		{1.6, 0.1000001, 0}, {-3, 0.005, -3}, {-2, 0.03, -2}, {-1.7, 0.09, -1}, {-1, 0.3, 0},
		{0, 0.001, 0}, {2, math.NaN(), 0}, {math.NaN(), 0.01, 0},
	} {
		if got := HotspotBin(tc.z, tc.p); got != tc.want {
			t.Errorf("HotspotBin(%v, %v) = %d, want %d", tc.z, tc.p, got, tc.want)
		}
	}
}

// TestHotspotBins checks that the FDR correction makes the bins stricter than raw
// p-values: with many tests a z of 1.7 (p 0.089) is no longer significant.
func TestHotspotBins(t *testing.T) {
	z := []float64{4, -3.5, 1.7, 0.2, -0.1, 0.3, 0.5, -0.4, 0.05, 0.6}
	bins, adj := HotspotBins(z)
	if !slices.Equal(bins, []int{3, -3, 0, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("bins %v (adjusted p %v)", bins, adj)
	}
	raw := GiPValues(z)
	for i := range adj {
		if adj[i] < raw[i] {
			t.Errorf("[%d] adjusted p %v below raw %v", i, adj[i], raw[i])
		}
	}
	// A single test is not adjusted.
	bins, _ = HotspotBins([]float64{1.7})
	if bins[0] != 1 {
		t.Errorf("single z 1.7: bin %d", bins[0])
	}
}
