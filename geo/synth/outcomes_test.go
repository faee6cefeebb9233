package synth

import (
	"bytes"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

func allOutcomes(t testing.TB, g *Generator) []geo.Outcome {
	t.Helper()
	var out []geo.Outcome
	if err := g.Outcomes(func(o *geo.Outcome) error { out = append(out, *o); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func allRecords(g *Generator) []geo.RawIncident {
	var out []geo.RawIncident
	g.Incidents(func(r *geo.RawIncident) error { out = append(out, *r); return nil })
	return out
}

func TestOutcomesLeaveRecordsAlone(t *testing.T) {
	want := allRecords(newGen(t, 21, 20000, 2))
	g := newGen(t, 21, 20000, 2)
	allOutcomes(t, g)
	if got := allRecords(g); !reflect.DeepEqual(got, want) {
		t.Error("drawing outcomes changed the records")
	}
}

func TestOutcomesDeterministic(t *testing.T) {
	a, b := allOutcomes(t, newGen(t, 11, 20000, 2)), allOutcomes(t, newGen(t, 11, 20000, 2))
	if !reflect.DeepEqual(a, b) {
		t.Error("two runs with the same seed give different outcomes")
	}
	g := newGen(t, 11, 20000, 2)
	if !reflect.DeepEqual(allOutcomes(t, g), allOutcomes(t, g)) {
		t.Error("a second run of the same generator gives different outcomes")
	}
	if c := allOutcomes(t, newGen(t, 12, 20000, 2)); reflect.DeepEqual(a, c) {
		t.Error("seeds 11 and 12 give the same outcomes")
	}

	// The reader gives the same outcomes.
	rd := newGen(t, 11, 20000, 2).OutcomeReader()
	for i := 0; ; i++ {
		o, err := rd.Next()
		if err == io.EOF {
			if i != len(a) {
				t.Errorf("EOF after %d outcomes, want %d", i, len(a))
			}
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if i >= len(a) || *o != a[i] {
			t.Fatalf("outcome %d: got %+v from the reader, want %+v", i, *o, a[i])
		}
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Errorf("Next after EOF: %v", err)
	}
}

func TestOutcomesArePlausible(t *testing.T) {
	const rows = 60000
	g := newGen(t, 3, rows, 3)
	end := g.Options().End
	endMonth := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	reported := map[string]time.Time{} // police crimes by reference: the month of report
	others := map[string]bool{}
	for _, r := range allRecords(g) {
		if r.Source == "police" && r.Kind == string(geo.KindCrime) {
			rep, err := time.Parse(time.RFC3339, r.ReportedAt)
			if err != nil {
				t.Fatal(err)
			}
			reported[r.SourceRef] = time.Date(rep.Year(), rep.Month(), 1, 0, 0, 0, 0, time.UTC)
		} else {
			others[r.SourceRef] = true
		}
	}
	outcomes := allOutcomes(t, g)
	byCrime := map[string][]geo.Outcome{}
	var order []string
	orphans := 0
	for i, o := range outcomes {
		if o.Index != i || o.Line != i+2 {
			t.Fatalf("outcome %d: index %d line %d", i, o.Index, o.Line)
		}
		if p, known := geo.ClassifyOutcome(o.Type); !known || p != o.Positive || !o.Known {
			t.Errorf("outcome %+v: not a known type, or misclassified", o)
		}
		if o.Month.Day() != 1 || o.Month.After(endMonth) {
			t.Errorf("outcome %+v: month after the last day's", o)
		}
		rep, ok := reported[o.CrimeRef]
		if !ok {
			if others[o.CrimeRef] {
				t.Errorf("outcome %+v belongs to a record that is not a police crime", o)
			}
			orphans++
			continue
		}
		if o.Month.Before(rep) {
			t.Errorf("outcome %+v comes before its crime was reported (%s)", o, rep.Format("2006-01"))
		}
		if len(byCrime[o.CrimeRef]) == 0 {
			order = append(order, o.CrimeRef)
		}
		byCrime[o.CrimeRef] = append(byCrime[o.CrimeRef], o)
	}
	if want := rows / orphanPerCrimes; orphans != want {
		t.Errorf("got %d outcomes of crimes not in the data, want %d", orphans, want)
	}
	positive, twoMonths := 0, 0
	for _, ref := range order {
		list := byCrime[ref]
		for i := 1; i < len(list); i++ {
			if !list[i].Month.After(list[i-1].Month) {
				t.Errorf("%s: outcomes %+v not in month order", ref, list)
			}
		}
		if len(list) > 2 {
			t.Errorf("%s: %d outcomes, want at most 2", ref, len(list))
		}
		if len(list) == 2 {
			twoMonths++
		}
		if list[len(list)-1].Positive {
			positive++
		}
	}
	crimes := len(reported)
	near(t, "crimes with an outcome", share(len(byCrime), crimes), 1-noOutcomeShare, 0.01)
	near(t, "crimes with a positive latest outcome", share(positive, crimes), 0.15, 0.02)
	if s := share(twoMonths, crimes); s < 0.08 || s > 0.25 {
		t.Errorf("%.3f of crimes have two months of outcomes, want some (0.08 to 0.25)", s)
	}
	t.Logf("%d police crimes, %d outcomes, %.3f with an outcome, %.3f positive, %.3f with two months, %d not in the data",
		crimes, len(outcomes), share(len(byCrime), crimes), share(positive, crimes), share(twoMonths, crimes), orphans)
}

func TestWriteOutcomes(t *testing.T) {
	g := newGen(t, 8, 5000, 1)
	var buf bytes.Buffer
	n, err := WriteOutcomes(&buf, g)
	if err != nil {
		t.Fatal(err)
	}
	want := allOutcomes(t, g)
	if n != len(want) {
		t.Errorf("wrote %d rows, want %d", n, len(want))
	}
	content := buf.String()
	if head, _, _ := strings.Cut(content, "\r\n"); head != "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type" {
		t.Errorf("header %q, want police.uk's", head)
	}
	if strings.Count(content, "\r\n") != n+1 {
		t.Errorf("want CRLF line endings on all %d lines", n+1)
	}
	if !strings.Contains(content, ",On or near Demo Town ") || !strings.Contains(content, ",No location,,,") {
		t.Error("want located rows with an lsoa and rows without a place")
	}
	r, err := geo.NewOutcomeReader(strings.NewReader(content), geo.OutcomeReaderOptions{Now: func() time.Time { return testEnd }})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		o, err := r.Next()
		if err == io.EOF {
			if i != len(want) {
				t.Errorf("read %d outcomes back, want %d", i, len(want))
			}
			break
		} else if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if i >= len(want) || *o != want[i] {
			t.Fatalf("row %d: read back %+v, want %+v", i, *o, want[i])
		}
	}

	// WriteDir writes the same bytes, the same for the same seed.
	dirA, dirB := t.TempDir(), t.TempDir()
	fa, err := WriteDir(dirA, newGen(t, 8, 5000, 1))
	if err != nil {
		t.Fatal(err)
	}
	fb, err := WriteDir(dirB, newGen(t, 8, 5000, 1))
	if err != nil {
		t.Fatal(err)
	}
	a, errA := os.ReadFile(fa.Outcomes)
	b, errB := os.ReadFile(fb.Outcomes)
	if errA != nil || errB != nil || !bytes.Equal(a, b) || !bytes.Equal(a, buf.Bytes()) || fa.OutcomeRows != n {
		t.Errorf("outcomes.csv differs between runs or from WriteOutcomes (%v %v, %d rows)", errA, errB, fa.OutcomeRows)
	}
}
