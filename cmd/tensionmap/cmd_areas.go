package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

func runAreas(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "import":
			return runAreasImport(ctx, env, args[1:])
		case "population":
			return runAreasPopulation(ctx, env, args[1:])
		}
	}
	fmt.Fprintln(env.Stderr, "Usage:\n  tensionmap areas import FILE --level NAME --code-field F [--name-field F]\n  tensionmap areas population FILE --code-field F --population-field F")
	return usageError("want `areas import` or `areas population`")
}

func runAreasImport(ctx context.Context, env *Env, args []string) error {
	var o geo.AreaReadOptions
	var asJSON bool
	fs := newFlagSet(env, "areas import", "areas import FILE --level NAME --code-field F [--name-field F]")
	fs.StringVar(&o.Level, "level", "", "the level of these areas, e.g. lsoa, ward, beat (required)")
	fs.StringVar(&o.CodeField, "code-field", "", "the property holding each area's code, e.g. LSOA11CD (required)")
	fs.StringVar(&o.NameField, "name-field", "", "the property holding each area's name, e.g. LSOA11NM")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("name one GeoJSON file")
	}
	if o.Level == "" || o.CodeField == "" {
		return usageError("--level and --code-field are required")
	}
	start := time.Now()
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	file, err := geo.ReadAreas(f, o)
	if err != nil {
		return fmt.Errorf("%s: %s", fs.Arg(0), userMessage(err))
	}
	for _, e := range file.Rejected {
		fmt.Fprintf(env.Stderr, "%s: rejected: %v\n", fs.Arg(0), e)
	}
	db, err := openDB(ctx, &env.Config, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.ImportAreas(ctx, file.Areas)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(env.Stdout).Encode(map[string]any{"read": len(file.Areas) + len(file.Rejected), "rejected": len(file.Rejected), "result": res})
	}
	fmt.Fprintf(env.Stdout, "%s: %d %s areas: %d new, %d updated, %d rejected, %d repaired (invalid polygons made valid); %d incidents re-attributed; took %s\n",
		fs.Arg(0), len(file.Areas), o.Level, res.Inserted, res.Updated, len(file.Rejected), res.MadeValid, res.Reattributed, time.Since(start).Round(time.Millisecond))
	if len(file.Rejected) > 0 {
		return &exitError{code: 3, err: fmt.Errorf("%d features rejected", len(file.Rejected))}
	}
	return nil
}

func runAreasPopulation(ctx context.Context, env *Env, args []string) error {
	var o geo.PopulationOptions
	var asJSON bool
	fs := newFlagSet(env, "areas population", "areas population FILE --code-field F --population-field F")
	fs.StringVar(&o.CodeField, "code-field", "", "the column holding area codes (required)")
	fs.StringVar(&o.PopulationField, "population-field", "", "the column holding populations (required)")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("name one CSV file")
	}
	if o.CodeField == "" || o.PopulationField == "" {
		return usageError("--code-field and --population-field are required")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	file, err := geo.ReadPopulation(f, o)
	if err != nil {
		return fmt.Errorf("%s: %s", fs.Arg(0), userMessage(err))
	}
	for _, e := range file.Rejected {
		fmt.Fprintf(env.Stderr, "%s: rejected: %v\n", fs.Arg(0), e)
	}
	db, err := openDB(ctx, &env.Config, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.SetPopulation(ctx, file.Population)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(env.Stdout).Encode(map[string]any{"read": len(file.Population) + len(file.Rejected), "rejected": len(file.Rejected), "result": res})
	}
	fmt.Fprintf(env.Stdout, "%s: %d populations read, %d rejected; %d areas updated; %d codes have no imported area (e.g. %v); %d areas still without a population\n",
		fs.Arg(0), len(file.Population), len(file.Rejected), res.Matched, res.Unmatched, res.Examples, res.Missing)
	if len(file.Rejected) > 0 {
		return &exitError{code: 3, err: fmt.Errorf("%d rows rejected", len(file.Rejected))}
	}
	return nil
}
