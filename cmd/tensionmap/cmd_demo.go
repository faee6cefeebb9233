package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tensionmap/tensionmap/cases"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/tension"
)

func runDemo(ctx context.Context, env *Env, args []string) error {
	var o synth.Options
	var end, out, town, areasFile, popFile, attribution string
	var load, ifEmpty bool
	var to synth.TownOptions
	fs := newFlagSet(env, "demo", "demo [--rows N --years N --seed S --end YYYY-MM-DD --latest-event DAYS] [--town milton-keynes|grid | --areas FILE.geojson --population FILE.csv] [--out DIR] [--load [--if-empty]]")
	fs.IntVar(&o.Rows, "rows", 50000, "number of incidents, from a thousand to ten million")
	fs.IntVar(&o.Years, "years", 5, "years of incidents, ending on --end")
	fs.Int64Var(&o.Seed, "seed", 1, "random seed: the same seed and options give the same data")
	fs.StringVar(&end, "end", "", "last day of the data (default: today)")
	fs.IntVar(&o.LatestEvent, "latest-event", 5, "days before --end of a national trigger event whose rise is still under way, for the engine to alert on (0: events only where the seed puts them)")
	fs.StringVar(&out, "out", "", "write incidents.csv.gz, areas.geojson, population.csv, trigger-events.csv, truth.json and outcomes.csv here")
	fs.BoolVar(&load, "load", false, "load the areas, populations, incidents and outcomes straight into the database")
	fs.BoolVar(&ifEmpty, "if-empty", false, "with --load: do nothing when the database already holds incidents")
	fs.StringVar(&town, "town", "milton-keynes", "the built-in town: milton-keynes (its 152 LSOAs and 32 MSOAs) or grid (a synthetic grid of lsoas and wards)")
	fs.StringVar(&areasFile, "areas", "", "a GeoJSON of your own small areas to put the demo in, instead of --town (needs --population)")
	fs.StringVar(&popFile, "population", "", "a CSV of the --areas' populations: a code column and a population column (see --population-field)")
	fs.StringVar(&attribution, "attribution", "", "with --areas: the credit their licence asks for, shown on the map (e.g. the Open Government Licence's statements)")
	fs.StringVar(&to.Level, "level", "lsoa", "with --areas: the areas' level")
	fs.StringVar(&to.CodeField, "code-field", "", "with --areas: the property holding the code (default: the first of LSOA21CD, LSOA11CD, code)")
	fs.StringVar(&to.NameField, "name-field", "", "with --areas: the property holding the name (default: the first of LSOA21NM, LSOA11NM, name; else the code)")
	fs.StringVar(&to.PopulationCodeField, "population-code-field", "", "with --population: the code column (default: the first of code, \"LSOA code (2011)\", \"LSOA 2021 Code\", LSOA21CD, LSOA11CD, \"LSOA Code\")")
	fs.StringVar(&to.PopulationField, "population-field", "", "with --population: the population column (default: the first of population, \"Total population: mid 2015 (excluding prisoners)\", Total, \"All Ages\")")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if out == "" && !load {
		return usageError("say where the demo goes: --out DIR, --load, or both")
	}
	if end != "" {
		t, err := time.Parse(time.DateOnly, end)
		if err != nil {
			return usageError("--end %q: want a day such as 2024-03-31", end)
		}
		o.End = t
	}
	townSet := false
	fs.Visit(func(f *flag.Flag) { townSet = townSet || f.Name == "town" })
	var err error
	switch {
	case (areasFile == "") != (popFile == ""):
		return usageError("--areas and --population go together: the boundaries and their populations")
	case areasFile != "" && townSet:
		return usageError("say either --town or --areas, not both")
	case areasFile != "":
		if o.Town, err = readTown(areasFile, popFile, to); err != nil {
			return usageError("%s", userMessage(err))
		}
	case town == "milton-keynes":
		if o.Town, err = synth.MiltonKeynes(); err != nil {
			return err
		}
	case town == "grid":
	default:
		return usageError("--town: milton-keynes or grid, not %q", town)
	}
	if o.Town != nil {
		fmt.Fprintf(env.Stdout, "the demo town: %s\n", o.Town.Describe())
	}
	g, err := synth.New(o)
	if err != nil {
		return usageError("%s", userMessage(err))
	}
	if out != "" {
		start := time.Now()
		files, err := synth.WriteDir(out, g)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "wrote %d incidents, %d outcomes, %d areas, %d trigger events and %d spikes to %s in %s\n",
			files.Rows, files.OutcomeRows, len(g.Areas()), len(g.Events()), len(g.Spikes()), out, time.Since(start).Round(time.Millisecond))
	}
	if !load {
		return nil
	}
	cfg := &env.Config
	db, err := openDB(ctx, cfg, 4)
	if err != nil {
		return err
	}
	defer db.Close()
	if ifEmpty {
		st, err := db.Stats(ctx)
		if err != nil {
			return err
		}
		if st.Incidents > 0 {
			fmt.Fprintf(env.Stdout, "the database already holds %d incidents: demo not loaded\n", st.Incidents)
			return nil
		}
	}
	if len(cfg.key) == 0 {
		return fmt.Errorf("the demo carries victim and offender references, and no pseudonymisation key is configured: set TENSIONMAP_PSEUDONYM_KEY_FILE (`tensionmap db up` creates one)")
	}
	start := time.Now()
	areas := g.GeoAreas()
	if _, err := db.ImportAreas(ctx, areas); err != nil {
		return err
	}
	if _, err := db.SetPopulation(ctx, g.Populations()); err != nil {
		return err
	}
	credit := attribution
	if o.Town != nil && credit == "" {
		credit = o.Town.Attribution
	}
	if err := db.SetAreasAttribution(ctx, credit); err != nil {
		return err
	}
	// The trigger events the generated spikes follow, so that the engine measures the
	// uplift after each.
	for _, e := range g.Events() {
		te := tension.TriggerEvent{Day: e.Date, Scope: e.Scope, Description: e.Description, Strands: e.Strands}
		if err := db.CreateTriggerEvent(ctx, &te, cliActor(env)); err != nil {
			return err
		}
	}
	ing, err := newIngester(ctx, db, cfg)
	if err != nil {
		return err
	}
	v, err := geo.NewValidator(geo.ValidatorOptions{Strands: cfg.Strands, Sources: cfg.Sources, Key: cfg.key, Location: cfg.location,
		Now: func() time.Time { return g.Options().End.Add(36 * time.Hour) }})
	if err != nil {
		return err
	}
	counter := &countingReader{}
	prog := newProgress(env.Stderr, "auto", "demo", -1, counter, cfg.Logger())
	demoInput := fmt.Sprintf("demo seed %d rows %d years %d", o.Seed, o.Rows, o.Years)
	sum, err := ing.run(ctx, "demo", "", demoInput, g.Reader(), v, 0, prog.update, nil)
	prog.done()
	// The outcomes of the police-recorded crimes, after the crimes, so that they match.
	var osum geo.OutcomeSummary
	if err == nil {
		osum, err = loadOutcomes(ctx, db, "demo", "", demoInput+" outcomes", g.OutcomeReader(), 0, nil, nil)
	}
	if aerr := recordAudit(context.WithoutCancel(ctx), db, env, "demo.load", map[string]any{"rows": o.Rows, "years": o.Years,
		"seed": o.Seed, "inserted": sum.Inserted, "outcomes": osum.Inserted, "failed": err != nil}); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		return err
	}
	cs, err := loadDemoCases(ctx, db, cfg, o.Seed, g.Options().End)
	if err != nil {
		return err
	}
	if credit != "" {
		fmt.Fprintf(env.Stdout, "%s\n", credit)
	}
	fmt.Fprintf(env.Stdout, "loaded the demo: %d areas; %s (%.0f incidents/s); %s in all\n",
		len(areas), sum, float64(sum.Read)/sum.Elapsed.Seconds(), time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(env.Stdout, "loaded the demo's outcomes: %d stored, %d matched to their crime, %d of crimes not in the demo, %d sanction detections\n",
		osum.Inserted, osum.Matched, osum.NotYetMatched, osum.Positive)
	fmt.Fprintf(env.Stdout, "loaded the demo's victim cases: %d opened for the complainants of police, council and third-party reports\n", cs)
	if sum.Rejected > 0 {
		return fmt.Errorf("%d demo records were rejected: %v", sum.Rejected, sum.Examples)
	}
	return nil
}

// loadDemoCases makes up the cases that follow the demo's reports (most first
// contacts on time, some late, a few closed cases never surveyed) and stores
// them with their histories.
func loadDemoCases(ctx context.Context, db *postgis.DB, cfg *Config, seed int64, end time.Time) (int, error) {
	reports, err := db.RepeatReports(ctx, end.AddDate(-3, 0, 0), end)
	if err != nil {
		return 0, err
	}
	// Nothing on a case after the moment the demo is loaded: a demo ending today
	// has no contact or closure later today.
	now := end.Add(36 * time.Hour)
	if t := time.Now(); t.Before(now) {
		now = t
	}
	cs, err := cases.Synthesize(cases.SynthOptions{Seed: seed, Now: now, Calendar: cfg.cases.Calendar,
		Reports: reports, Share: 0.5})
	if err != nil {
		return 0, err
	}
	return db.CreateCases(ctx, cs)
}

// readTown reads a user's boundaries and populations for the demo.
func readTown(areasFile, popFile string, o synth.TownOptions) (*synth.Town, error) {
	af, err := os.Open(areasFile)
	if err != nil {
		return nil, err
	}
	defer af.Close()
	pf, err := os.Open(popFile)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	o.Name = filepath.Base(areasFile)
	return synth.ReadTown(af, pf, o)
}
