package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/tension"
)

// EvalOptions say which generated towns the evaluation scores and how.
type EvalOptions struct {
	Seeds, Rows []int
	Years       int // years of data per town; the last Weeks are evaluated
	Weeks       int
	Replicates  int     // Monte Carlo replicates of the scan
	EARSLevel   string  // "" for the engine's
	EARSAlpha   float64 // 0 for the engine's
	Strands     []string
	Options     tension.EngineOptions
	Town        *synth.Town // the real town to generate in (synth.MiltonKeynes); nil for the synthetic grid
}

// Evaluate scores every detector on generated towns whose injected spikes are known:
// sensitivity, false alarms per area-week and days to detection; and the hot spot
// ranking's Predictive Accuracy Index beside ranking by the last four weeks' counts.
// It writes the tables to w and its progress to progress.
func Evaluate(ctx context.Context, w0, progress io.Writer, eo EvalOptions) error {
	seedList, sizeList, weeks := eo.Seeds, eo.Rows, eo.Weeks
	end := time.Date(2026, 6, 28, 0, 0, 0, 0, time.UTC)
	detectors := []string{tension.MethodFarrington, tension.MethodEARS, tension.MethodScan, tension.MethodUplift}
	w := tabwriter.NewWriter(w0, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "town\tdetector\tspikes\tfound\tlocal\tcitywide\tsensitivity\tfalse alarms\tper area-week\tmedian days\t\n")
	var pai [][3]float64
	for _, rows := range sizeList {
		for _, seed := range seedList {
			start := time.Now()
			res, err := evalTown(ctx, eo, seed, rows, end, detectors)
			if err != nil {
				return err
			}
			town := fmt.Sprintf("%d rows, seed %d", rows, seed)
			for _, sc := range res.scores {
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d/%d\t%d/%d\t%.2f\t%d\t%.4f\t%s\t\n", town, sc.Detector, sc.Spikes, sc.Detected,
					sc.LocalDetected, sc.LocalSpikes, sc.CityDetected, sc.CitySpikes, sc.Sensitivity, sc.FalseAlarms, sc.FalsePerAreaWeek, days(sc.MedianDays))
			}
			pai = append(pai, [3]float64{float64(rows), res.paiGi, res.paiCount})
			fmt.Fprintf(progress, "evaluated %s in %s\n", town, time.Since(start).Round(time.Second))
		}
	}
	w.Flush()
	fmt.Fprintf(w0, "\nhot spot ranking, Predictive Accuracy Index at 5%% of the area for the next week's incidents (mean over %d weeks):\n", weeks)
	w = tabwriter.NewWriter(w0, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "town\tGi* z (last 4 weeks)\tlast 4 weeks' count\t\n")
	for i, p := range pai {
		fmt.Fprintf(w, "%d rows, seed %d\t%.2f\t%.2f\t\n", int(p[0]), seedList[i%len(seedList)], p[1], p[2])
	}
	return w.Flush()
}

func days(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

type evalResult struct {
	scores          []tension.DetectorScore
	paiGi, paiCount float64
}

// evalTown generates one town and runs the detectors over its last weeks: the daily
// ones every day, Farrington and the hot spots once a week.
func evalTown(ctx context.Context, eo EvalOptions, seed, rows int, end time.Time, detectors []string) (evalResult, error) {
	years, weeks, replicates, earsLevel, earsAlpha := eo.Years, eo.Weeks, eo.Replicates, eo.EARSLevel, eo.EARSAlpha
	g, err := synth.New(synth.Options{Seed: int64(seed), Rows: rows, Years: years, End: end, Town: eo.Town})
	if err != nil {
		return evalResult{}, err
	}
	src, areas, err := SynthSource(g, eo.Strands)
	if err != nil {
		return evalResult{}, err
	}
	from := end.AddDate(0, 0, -7*weeks+1)
	var spikes []tension.EvalSpike
	wardOf := map[string]string{}
	for _, a := range g.Areas() {
		wardOf[a.Code] = a.Ward
	}
	for _, sp := range g.Spikes() {
		if sp.End.Before(from) || sp.Start.After(end) {
			continue
		}
		codes := slices.Clone(sp.Areas)
		for _, c := range sp.Areas {
			if w := wardOf[c]; w != "" && !slices.Contains(codes, w) {
				codes = append(codes, w)
			}
		}
		spikes = append(spikes, tension.EvalSpike{ID: sp.ID, Start: sp.Start, End: sp.End, Citywide: sp.RadiusM == 0,
			Center: sp.Center, RadiusM: sp.RadiusM, Areas: codes, Strands: sp.Strands})
	}
	scorer := tension.NewScorer(spikes)
	o := eo.Options
	o.Scan.Replicates = replicates
	if earsLevel != "" {
		o.EARSLevel = earsLevel
	}
	if earsAlpha > 0 {
		o.EARSAlpha = earsAlpha
	}
	daily, weekly := []string{"ears", "scan", "uplift"}, []string{"farrington"}
	var paiGi, paiCount []float64
	for day := from; !day.After(end); day = day.AddDate(0, 0, 1) {
		if err := ctx.Err(); err != nil {
			return evalResult{}, err
		}
		run := slices.Clone(daily)
		if int(end.Sub(day).Hours()/24)%7 == 0 {
			run = append(run, weekly...)
		}
		o.Detectors = run
		rep, err := tension.Run(ctx, src, day, o)
		if err != nil {
			return evalResult{}, err
		}
		ran := []string{tension.MethodEARS, tension.MethodScan, tension.MethodUplift}
		if slices.Contains(run, "farrington") {
			ran = append(ran, tension.MethodFarrington)
		}
		scorer.Add(day, ran, rep.Findings)
		// The hot spot ranking as of each week's end, scored on the week after.
		if int(end.Sub(day).Hours()/24)%7 == 0 && day.Before(end) {
			gi, count, err := weekPAI(ctx, src, day, o)
			if err != nil {
				return evalResult{}, err
			}
			if !math.IsNaN(gi) {
				paiGi, paiCount = append(paiGi, gi), append(paiCount, count)
			}
		}
	}
	lsoas := 0
	for _, a := range areas {
		if a.Level == synth.LevelLSOA {
			lsoas++
		}
	}
	return evalResult{scores: scorer.Scores(detectors, float64(lsoas*weeks)), paiGi: mean(paiGi), paiCount: mean(paiCount)}, nil
}

// weekPAI ranks the cells of the hot spot analysis as of day by Gi* z and by their
// count over the last four weeks, and scores both on the incidents of the next 7 days.
func weekPAI(ctx context.Context, src tension.Source, day time.Time, o tension.EngineOptions) (gi, count float64, err error) {
	o.Detectors = []string{"hotspots"}
	rep, err := tension.Run(ctx, src, day, o)
	if err != nil || len(rep.Hotspots) == 0 {
		return math.NaN(), math.NaN(), err
	}
	cells, s, err := src.CellDays(ctx, o.HotspotRes, day.AddDate(0, 0, 1), day.AddDate(0, 0, 7))
	if err != nil {
		return 0, 0, err
	}
	next := map[uint64]int{}
	for i, c := range cells {
		for _, v := range s.Counts[tension.AllStrands][i] {
			next[c] += int(v)
		}
	}
	hs := rep.Hotspots
	study := make([]uint64, len(hs))
	for i, h := range hs {
		study[i] = h.Cell
	}
	// Incidents next week in cells outside the study area still count in the total.
	byGi := tension.RankCells(study, func(i int) float64 { return hs[i].Z })
	byCount := tension.RankCells(study, func(i int) float64 { return float64(hs[i].Count) })
	return tension.PAI(byGi, next, len(study), 0.05), tension.PAI(byCount, next, len(study), 0.05), nil
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// SynthSource turns a generated town into a MemorySource: its records validated,
// binned and attributed as the ingest does.
func SynthSource(g *synth.Generator, strands []string) (*tension.MemorySource, []geo.Area, error) {
	areas := g.GeoAreas()
	for i := range areas {
		areas[i].ID = int32(i + 1)
	}
	ix := geo.NewAreaIndex(areas)
	end := g.Options().End
	v, err := geo.NewValidator(geo.ValidatorOptions{Strands: strands, Key: []byte("evaluation key, not for real data, 32 bytes"),
		Now: func() time.Time { return end.AddDate(0, 0, 2) }})
	if err != nil {
		return nil, nil, err
	}
	b, err := geo.NewBinner(nil, nil)
	if err != nil {
		return nil, nil, err
	}
	var incidents []tension.MemoryIncident
	r := g.Reader()
	for {
		raw, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, err
		}
		in, err := v.Validate(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("generated record %d: %w", raw.Index, err)
		}
		in.Cell = b.Cell(in)
		if in.Cell != 0 {
			in.Areas = ix.Containing(nil, in.Location)
		}
		incidents = append(incidents, tension.FromIncident(in))
	}
	var events []tension.TriggerEvent
	for i, e := range g.Events() {
		events = append(events, tension.TriggerEvent{ID: int64(i + 1), Day: e.Date, Scope: e.Scope, Description: e.Description, Strands: e.Strands})
	}
	return tension.NewMemorySource(areas, incidents, events, strands), areas, nil
}
