package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/tension/engine"
)

// runEval scores every detector on generated towns whose injected spikes are known:
// sensitivity, false alarms per area-week and days to detection; and the hot spot
// ranking's Predictive Accuracy Index beside ranking by the last four weeks' counts.
func runEval(ctx context.Context, env *Env, args []string) error {
	var seeds, sizes, scenario, rscript, town string
	var years, weeks, replicates int
	fs := newFlagSet(env, "eval", "eval [--scenario towns|national] [--town grid|milton-keynes] [--seeds 1,2] [--rows 3000,30000] [--years 3] [--weeks 52]")
	fs.StringVar(&scenario, "scenario", "towns", "towns: generated towns with local and citywide spikes; national: 33 boroughs through a national event, beside R")
	fs.StringVar(&rscript, "rscript", "", "the R interpreter for the national scenario's farringtonFlexible column (default Rscript on the path; none to leave R out)")
	fs.StringVar(&town, "town", "grid", "towns scenario: where the towns are generated: grid (a synthetic grid drawn from each seed) or milton-keynes (the demo's real town)")
	fs.StringVar(&seeds, "seeds", "1,2", "seeds of the generated towns, comma-separated")
	fs.StringVar(&sizes, "rows", "3000,30000", "incidents per town, comma-separated (sizes to compare)")
	fs.IntVar(&years, "years", 3, "years of data per town; the last --weeks are evaluated")
	fs.IntVar(&weeks, "weeks", 52, "weeks evaluated, ending on the towns' last day")
	fs.IntVar(&replicates, "replicates", 99, "Monte Carlo replicates of the scan")
	var earsLevel string
	var earsAlpha float64
	fs.Float64Var(&earsAlpha, "ears-alpha", 0, "EARS's tail probability (0: the engine's)")
	fs.StringVar(&earsLevel, "ears-level", "", "area level EARS also watches (none: citywide only; default: the engine's)")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	seedList, err := intList2(seeds)
	if err != nil {
		return usageError("--seeds: %v", err)
	}
	switch scenario {
	case "national":
		o := engine.DefaultNationalOptions()
		o.Options = engine.NationalEngineOptions(env.Config.engineOptions())
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "seeds":
				o.Seeds = seedList
			case "years":
				o.Years = years
			}
		})
		o.Rscript = rscript
		return o.Evaluate(ctx, env.Stdout, env.Stderr)
	case "towns":
	default:
		return usageError("--scenario: towns or national, not %q", scenario)
	}
	sizeList, err := intList2(sizes)
	if err != nil {
		return usageError("--rows: %v", err)
	}
	if weeks < 1 || weeks > 52*(years-1) {
		return usageError("--weeks: 1 to %d (a year of history must come before the evaluation)", 52*(years-1))
	}
	var real *synth.Town
	switch town {
	case "grid":
	case "milton-keynes":
		if real, err = synth.MiltonKeynes(); err != nil {
			return err
		}
	default:
		return usageError("--town: grid or milton-keynes, not %q", town)
	}
	return engine.Evaluate(ctx, env.Stdout, env.Stderr, engine.EvalOptions{Seeds: seedList, Rows: sizeList, Years: years, Weeks: weeks,
		Replicates: replicates, EARSLevel: earsLevel, EARSAlpha: earsAlpha, Strands: env.Config.Strands, Options: env.Config.engineOptions(), Town: real})
}

func intList2(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive whole number", p)
		}
		out = append(out, n)
	}
	return out, nil
}
