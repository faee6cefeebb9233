package postgis

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/tension"
)

// TestSafeJSON: non-finite floats become null with a reason and a path; the rest is
// what encoding/json writes.
func TestSafeJSON(t *testing.T) {
	table := tension.NearRepeatTable{Distances: []float64{0, 100}, Days: []int{0, 7}, Events: 3,
		Observed: [][]int{{0, 1}}, Expected: [][]float64{{0, 2}}, Ratio: [][]float64{{math.NaN(), 0.5}}, P: [][]float64{{1, 0.4}}}
	type point struct {
		Day   time.Time `json:"day"`
		Ratio float64   `json:"ratio"`
		Skip  float64   `json:"skip,omitempty"`
		Hide  float64   `json:"-"`
	}
	for _, c := range []struct {
		name      string
		in        any
		want      string
		wantNulls []tension.NullValue
	}{
		{"finite values as encoding/json", map[string]any{"a": 1.5, "b": []int{1, 2}, "c": nil}, `{"a":1.5,"b":[1,2],"c":null}`, nil},
		{"a NaN field gets a reason", point{Day: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), Ratio: math.NaN(), Hide: math.NaN()},
			`{"day":"2024-01-02T00:00:00Z","ratio":null,"ratio_reason":"not a number"}`, []tension.NullValue{{Path: "ratio", Reason: "not a number"}}},
		{"infinities in a map", map[string]float64{"x": math.Inf(1)}, `{"x":null}`, []tension.NullValue{{Path: "x", Reason: "infinite"}}},
		{"near-repeat cell with no pairs expected", map[string]any{"table": table},
			`{"table":{"Days":[0,7],"Distances":[0,100],"Events":3,"Expected":[[0,2]],"Observed":[[0,1]],"P":[[1,0.4]],"Pairs":0,"Ratio":[[null,0.5]],"Replicates":0}}`,
			[]tension.NullValue{{Path: "table.Ratio[0][0]", Reason: "no pairs expected"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, nulls, err := safeJSON(c.in)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			json.Unmarshal(got, &a)
			json.Unmarshal([]byte(c.want), &b)
			ga, _ := json.Marshal(a)
			gb, _ := json.Marshal(b)
			if string(ga) != string(gb) {
				t.Errorf("got %s, want %s", got, c.want)
			}
			if len(nulls) != len(c.wantNulls) {
				t.Fatalf("nulls %v, want %v", nulls, c.wantNulls)
			}
			for i := range nulls {
				if nulls[i] != c.wantNulls[i] {
					t.Errorf("null %d: %+v, want %+v", i, nulls[i], c.wantNulls[i])
				}
			}
		})
	}
}
