package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
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
	fmt.Fprintln(env.Stderr, "Usage:\n  tensionmap areas import FILE --level NAME --code-field F [--name-field F] [--attribution TEXT]\n  tensionmap areas population FILE --code-field F --population-field F")
	return usageError("want `areas import` or `areas population`")
}

func runAreasImport(ctx context.Context, env *Env, args []string) error {
	var o geo.AreaReadOptions
	var asJSON bool
	fs := newFlagSet(env, "areas import", "areas import FILE --level NAME --code-field F [--name-field F] [--attribution TEXT]")
	fs.StringVar(&o.Level, "level", "", "the level of these areas, e.g. lsoa, ward, beat (required)")
	fs.StringVar(&o.CodeField, "code-field", "", "the property holding each area's code, e.g. LSOA11CD (required)")
	fs.StringVar(&o.NameField, "name-field", "", "the property holding each area's name, e.g. LSOA11NM")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	attribution := fs.String("attribution", "", "the credit the boundaries' licence asks for, shown on the map beside them (replaces the stored one; \"\" removes it)")
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
	file, err := readInput(env, fs.Arg(0), func(r io.Reader) (*geo.AreaFile, []*geo.RowError, error) {
		f, err := geo.ReadAreas(r, o)
		if err != nil {
			return nil, nil, err
		}
		return f, f.Rejected, nil
	})
	if err != nil {
		return err
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
	if flagSet(fs, "attribution") {
		if err := db.SetAreasAttribution(ctx, strings.TrimSpace(*attribution)); err != nil {
			return err
		}
	}
	if err := recordAudit(ctx, db, env, "areas.import", map[string]any{"input": fs.Arg(0), "level": o.Level,
		"inserted": res.Inserted, "updated": res.Updated, "reattributed": res.Reattributed}); err != nil {
		return err
	}
	return reportImport(env, asJSON, len(file.Areas), file.Rejected, res, fmt.Sprintf(
		"%s: %d %s areas: %d new, %d updated, %d rejected, %d repaired (invalid polygons made valid); %d incidents re-attributed; took %s",
		fs.Arg(0), len(file.Areas), o.Level, res.Inserted, res.Updated, len(file.Rejected), res.MadeValid, res.Reattributed, time.Since(start).Round(time.Millisecond)))
}

// readInput opens a file, reads it whole with read, and prints each record read
// rejected, with its line and reason.
func readInput[T any](env *Env, path string, read func(io.Reader) (T, []*geo.RowError, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	v, rejected, err := read(f)
	if err != nil {
		return zero, fmt.Errorf("%s: %s", path, userMessage(err))
	}
	for _, e := range rejected {
		fmt.Fprintf(env.Stderr, "%s: rejected: %v\n", path, e)
	}
	return v, nil
}

// reportImport prints an import's outcome, as text or JSON, and exits 3 when
// records were rejected.
func reportImport(env *Env, asJSON bool, accepted int, rejected []*geo.RowError, result any, text string) error {
	if asJSON {
		if err := json.NewEncoder(env.Stdout).Encode(map[string]any{"read": accepted + len(rejected), "rejected": len(rejected), "result": result}); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(env.Stdout, text)
	}
	if len(rejected) > 0 {
		return &exitError{code: 3, err: fmt.Errorf("%d records rejected", len(rejected))}
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
	file, err := readInput(env, fs.Arg(0), func(r io.Reader) (*geo.PopulationFile, []*geo.RowError, error) {
		f, err := geo.ReadPopulation(r, o)
		if err != nil {
			return nil, nil, err
		}
		return f, f.Rejected, nil
	})
	if err != nil {
		return err
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
	if err := recordAudit(ctx, db, env, "areas.population", map[string]any{"input": fs.Arg(0), "matched": res.Matched}); err != nil {
		return err
	}
	return reportImport(env, asJSON, len(file.Population), file.Rejected, res, fmt.Sprintf(
		"%s: %d populations read, %d rejected; %d areas updated; %d codes have no imported area (e.g. %v); %d areas still without a population",
		fs.Arg(0), len(file.Population), len(file.Rejected), res.Matched, res.Unmatched, res.Examples, res.Missing))
}
