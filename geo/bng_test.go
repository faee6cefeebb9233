package geo

import (
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// TestBNGToWGS84AgainstPROJ compares the conversion with PROJ's EPSG:27700 to
// EPSG:4326 result on points across Great Britain (testdata/bng-proj.csv, written by
// scripts/bng-reference.sh with cs2cs).
func TestBNGToWGS84AgainstPROJ(t *testing.T) {
	f, err := os.Open("../testdata/bng-proj.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 10 {
		t.Fatalf("got %d reference rows, want at least 10", len(rows))
	}
	worst := 0.0
	for _, row := range rows[1:] {
		num := func(i int) float64 {
			v, err := strconv.ParseFloat(row[i], 64)
			if err != nil {
				t.Fatalf("%v: %v", row, err)
			}
			return v
		}
		e, n, wantLat, wantLon := num(0), num(1), num(2), num(3)
		t.Run(row[4], func(t *testing.T) {
			lat, lon := BNGToWGS84(e, n)
			d := Distance(LatLon{lat, lon}, LatLon{wantLat, wantLon})
			worst = max(worst, d)
			if d > 5 {
				t.Errorf("BNGToWGS84(%v, %v) = %.7f, %.7f; PROJ gives %.7f, %.7f: %.3f m apart, want within 5 m", e, n, lat, lon, wantLat, wantLon, d)
			}
		})
	}
	t.Logf("largest difference from PROJ: %.4f m", worst)
}

func TestDistance(t *testing.T) {
	// One degree of latitude on the H3 sphere.
	got := Distance(LatLon{52, -0.76}, LatLon{53, -0.76})
	if want := EarthRadius * 3.141592653589793 / 180; fmt.Sprintf("%.3f", got) != fmt.Sprintf("%.3f", want) {
		t.Errorf("got %.3f m, want %.3f m", got, want)
	}
}

func ExampleBNGToWGS84() {
	lat, lon := BNGToWGS84(485000, 238000) // Milton Keynes
	fmt.Printf("%.5f %.5f\n", lat, lon)
	// Output: 52.03390 -0.76233
}
