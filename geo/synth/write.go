package synth

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/geo"
)

// The files WriteDir writes.
const (
	FileIncidents     = "incidents.csv.gz"
	FileAreas         = "areas.geojson"
	FilePopulation    = "population.csv"
	FileTriggerEvents = "trigger-events.csv"
	FileTruth         = "truth.json"
	FileOutcomes      = "outcomes.csv"
)

// Files are the paths WriteDir wrote and the number of incident rows.
type Files struct {
	Incidents     string // the records in the project's CSV layout, gzipped
	Areas         string // a GeoJSON FeatureCollection of both levels
	Population    string // code,name,level,population
	TriggerEvents string // date,scope,description,strands
	Truth         string // the spikes, with their records' references
	Outcomes      string // the police-recorded crimes' outcomes, as a police.uk outcomes CSV
	Rows          int
	OutcomeRows   int
}

// WriteDir writes the generator's demo into dir (created if missing):
// incidents.csv.gz, areas.geojson, population.csv, trigger-events.csv,
// truth.json and outcomes.csv. The same options always give byte-identical files. Each file is
// written under a temporary name and renamed when complete.
func WriteDir(dir string, g *Generator) (Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, err
	}
	f := Files{
		Incidents:     filepath.Join(dir, FileIncidents),
		Areas:         filepath.Join(dir, FileAreas),
		Population:    filepath.Join(dir, FilePopulation),
		TriggerEvents: filepath.Join(dir, FileTriggerEvents),
		Truth:         filepath.Join(dir, FileTruth),
		Outcomes:      filepath.Join(dir, FileOutcomes),
	}
	if err := writeFile(f.Areas, func(w io.Writer) error { return WriteAreas(w, g.Areas()) }); err != nil {
		return f, err
	}
	if err := writeFile(f.Population, func(w io.Writer) error { return WritePopulation(w, g.Areas()) }); err != nil {
		return f, err
	}
	if err := writeFile(f.TriggerEvents, func(w io.Writer) error { return WriteEvents(w, g.Events()) }); err != nil {
		return f, err
	}
	if err := writeFile(f.Incidents, func(w io.Writer) error {
		n, err := WriteIncidents(w, g)
		f.Rows = n
		return err
	}); err != nil {
		return f, err
	}
	// After the stream: the spikes' references are known now.
	if err := writeFile(f.Truth, func(w io.Writer) error { return WriteTruth(w, g.Spikes()) }); err != nil {
		return f, err
	}
	if err := writeFile(f.Outcomes, func(w io.Writer) error {
		n, err := WriteOutcomes(w, g)
		f.OutcomeRows = n
		return err
	}); err != nil {
		return f, err
	}
	return f, nil
}

// writeFile writes path through a buffer via a temporary file renamed at the end.
func writeFile(path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	fh, err := os.Create(tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(fh, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("synth: writing %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// WriteIncidents writes every record of g, gzipped, in the project's CSV layout
// (geo.NewCSVWriter), and returns the number of rows. The gzip header carries no
// name or time, so the output depends on the options alone.
func WriteIncidents(w io.Writer, g *Generator) (int, error) {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return 0, err
	}
	cw, err := geo.NewCSVWriter(zw)
	if err != nil {
		return 0, err
	}
	n := 0
	err = g.Incidents(func(r *geo.RawIncident) error {
		n++
		return cw.Write(r)
	})
	if err == nil {
		err = cw.Flush()
	}
	if err == nil {
		err = zw.Close()
	}
	return n, err
}

// WriteAreas writes areas as a GeoJSON FeatureCollection, one feature a line, with
// the properties code, name, level and population.
func WriteAreas(w io.Writer, areas []Area) error {
	type props struct {
		Code       string `json:"code"`
		Name       string `json:"name"`
		Level      string `json:"level"`
		Population int    `json:"population"`
	}
	type geometry struct {
		Type        string `json:"type"`
		Coordinates any    `json:"coordinates"`
	}
	type feature struct {
		Type       string   `json:"type"`
		Properties props    `json:"properties"`
		Geometry   geometry `json:"geometry"`
	}
	if _, err := io.WriteString(w, "{\"type\":\"FeatureCollection\",\"features\":[\n"); err != nil {
		return err
	}
	for i, a := range areas {
		polys := a.Geometry
		if len(polys) == 0 {
			polys = orb.MultiPolygon{a.Polygon}
		}
		coords := make([][][][2]float64, len(polys))
		for i, poly := range polys {
			for _, ring := range poly {
				rr := make([][2]float64, len(ring))
				for k, p := range ring {
					rr[k] = [2]float64(p)
				}
				coords[i] = append(coords[i], rr)
			}
		}
		geom := geometry{Type: "Polygon", Coordinates: coords[0]}
		if len(coords) > 1 {
			geom = geometry{Type: "MultiPolygon", Coordinates: coords}
		}
		b, err := json.Marshal(feature{"Feature", props{a.Code, a.Name, a.Level, a.Population}, geom})
		if err != nil {
			return err
		}
		if i < len(areas)-1 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]}\n")
	return err
}

// WritePopulation writes code,name,level,population with populations over 999
// written with a thousands separator ("1,296", quoted), as official UK files do.
func WritePopulation(w io.Writer, areas []Area) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"code", "name", "level", "population"}); err != nil {
		return err
	}
	for _, a := range areas {
		if err := cw.Write([]string{a.Code, a.Name, a.Level, thousands(a.Population)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// thousands formats n with a comma every three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// WriteEvents writes date,scope,description,strands, strands joined with ';'.
func WriteEvents(w io.Writer, events []TriggerEvent) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"date", "scope", "description", "strands"}); err != nil {
		return err
	}
	for _, e := range events {
		if err := cw.Write([]string{e.Date.Format(time.DateOnly), e.Scope, e.Description, strings.Join(e.Strands, ";")}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTruth writes the spikes as an indented JSON array.
func WriteTruth(w io.Writer, spikes []Spike) error {
	if spikes == nil {
		spikes = []Spike{}
	}
	b, err := json.MarshalIndent(spikes, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
