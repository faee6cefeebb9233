package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/paulmach/orb/geojson"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

func runExport(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "cells" {
		fmt.Fprintln(env.Stderr, "Usage: tensionmap export cells --res R [--from D --to D --strand S --kind K --source S] --format csv|geojson [--out FILE]")
		return usageError("want `export cells`")
	}
	var res int
	var from, to, format, out string
	var strands, kinds, sources multiFlag
	fs := newFlagSet(env, "export cells", "export cells --res R [--from D --to D --strand S --kind K --source S] --format csv|geojson [--out FILE]")
	fs.IntVar(&res, "res", -1, "H3 resolution (one of the roll-up resolutions; required)")
	fs.StringVar(&from, "from", "", "first day, YYYY-MM-DD (default: the first with incidents)")
	fs.StringVar(&to, "to", "", "last day, YYYY-MM-DD (default: the last with incidents)")
	fs.Var(&strands, "strand", "count incidents of any of these strands (repeatable)")
	fs.Var(&kinds, "kind", "crime or incident (repeatable)")
	fs.Var(&sources, "source", "count incidents from these sources (repeatable)")
	fs.StringVar(&format, "format", "csv", "csv or geojson")
	fs.StringVar(&out, "out", "", "write to this file instead of standard output")
	if err := parse(env, fs, args[1:]); err != nil {
		return err
	}
	cfg := &env.Config
	if res < 0 {
		return usageError("--res is required: one of %v", cfg.Resolutions)
	}
	if format != "csv" && format != "geojson" {
		return usageError("--format %q: want csv or geojson", format)
	}
	var f geo.Filter
	var err error
	if f.From, err = parseDay("from", from); err != nil {
		return err
	}
	if f.To, err = parseDay("to", to); err != nil {
		return err
	}
	for _, s := range strands {
		f.Strands = append(f.Strands, geo.NormaliseName(s))
	}
	for _, k := range kinds {
		f.Kinds = append(f.Kinds, geo.Kind(k))
	}
	for _, s := range sources {
		f.Sources = append(f.Sources, geo.NormaliseName(s))
	}
	if err := f.Check(cfg.Strands, cfg.Sources); err != nil {
		return usageError("%s", userMessage(err))
	}
	db, err := openDB(ctx, cfg, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	stored, err := db.Resolutions(ctx)
	if err != nil {
		return err
	}
	if !containsInt(stored, res) {
		return usageError("--res %d: the roll-ups are kept at resolutions %v", res, stored)
	}
	counts, err := db.CellCounts(ctx, res, f)
	if err != nil {
		return err
	}
	w := env.Stdout
	if out != "" {
		file, err := os.Create(out)
		if err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	if format == "csv" {
		err = writeCellsCSV(w, res, counts, cfg.Strands)
	} else {
		err = writeCellsGeoJSON(w, res, counts, cfg.Strands)
	}
	if err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintf(env.Stderr, "wrote %d cells to %s\n", len(counts), out)
	}
	return nil
}

func parseDay(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, usageError("--%s %q: want a day such as 2024-03-31", name, s)
	}
	return t, nil
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func writeCellsCSV(w io.Writer, res int, counts []geo.CellCount, strands []string) error {
	cw := csv.NewWriter(w)
	header := []string{"cell", "resolution", "lat", "lon", "count", "crimes", "incidents"}
	for _, s := range strands {
		header = append(header, "strand_"+s)
	}
	cw.Write(header)
	for _, c := range counts {
		ll := h3.Cell(c.Cell).LatLng()
		row := []string{geo.CellString(c.Cell), strconv.Itoa(res), geo.FormatCoord(ll.Lat), geo.FormatCoord(ll.Lng),
			strconv.Itoa(c.Count), strconv.Itoa(c.Crimes), strconv.Itoa(c.Incidents)}
		for _, s := range strands {
			row = append(row, strconv.Itoa(c.ByStrand[s]))
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

func writeCellsGeoJSON(w io.Writer, res int, counts []geo.CellCount, strands []string) error {
	fc := geojson.NewFeatureCollection()
	for _, c := range counts {
		f := geojson.NewFeature(geo.CellPolygon(c.Cell))
		f.Properties["cell"] = geo.CellString(c.Cell)
		f.Properties["resolution"] = res
		f.Properties["count"] = c.Count
		f.Properties["crimes"] = c.Crimes
		f.Properties["incidents"] = c.Incidents
		for _, s := range strands {
			f.Properties["strand_"+s] = c.ByStrand[s]
		}
		fc.Append(f)
	}
	enc := json.NewEncoder(w)
	return enc.Encode(fc)
}
