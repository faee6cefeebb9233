package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// squaresTown writes a GeoJSON of 2 x 3 squares of about 1 km named as ONS names
// LSOAs ("Testham 001A"...), and a population CSV with the given header.
func squaresTown(t *testing.T, popHeader string) (geojson, csv string) {
	t.Helper()
	var b, p strings.Builder
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	p.WriteString(popHeader + "\n")
	x := func(u int) float64 { return -1.2 + float64(u)*0.0146 }
	y := func(v int) float64 { return 51.5 + float64(v)*0.009 }
	for j := 0; j < 2; j++ {
		for i := 0; i < 3; i++ {
			if i+j > 0 {
				b.WriteString(",")
			}
			code, name := fmt.Sprintf("E0188%d%d", j, i), fmt.Sprintf("Testham %03d%c", j+1, 'A'+i)
			fmt.Fprintf(&b, `{"type":"Feature","properties":{"code":%q,"name":%q},"geometry":{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}}`,
				code, name, x(i), y(j), x(i+1), y(j), x(i+1), y(j+1), x(i), y(j+1), x(i), y(j))
			fmt.Fprintf(&p, "%s,\"1,%03d\"\n", code, 100*i+j)
		}
	}
	b.WriteString("]}")
	return writeFile(t, "town.geojson", b.String(), false), writeFile(t, "population.csv", p.String(), false)
}

func TestDemoInMiltonKeynes(t *testing.T) {
	c := newCLI(t)
	code, stdout, errOut := c.run("demo", "--rows", "2000", "--years", "2", "--end", "2026-01-31", "--load")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, errOut)
	}
	for _, want := range []string{"the demo town: Milton Keynes, 152 LSOAs in 32 MSOAs", "Open Government Licence v3.0", "Contains OS data © Crown copyright"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the demo does not say %q:\n%s", want, stdout)
		}
	}
	if got, err := c.db().AreasAttribution(context.Background()); err != nil || !strings.Contains(got, "Source: Office for National Statistics") {
		t.Errorf("the credit stored with Milton Keynes's areas: %q, %v", got, err)
	}
	if n := c.count("SELECT count(*) FROM areas WHERE level = 'lsoa' AND code LIKE 'E01%' AND name LIKE 'Milton Keynes ___%' AND population > 0"); n != 152 {
		t.Errorf("%d Milton Keynes LSOAs stored, want 152", n)
	}
	if n := c.count("SELECT sum(population) FROM areas WHERE level = 'msoa'"); n != 262828 {
		t.Errorf("the MSOAs hold %d people, want 262,828", n)
	}
	if n := c.count("SELECT count(*) FROM areas WHERE NOT ST_IsValid(geom)"); n != 0 {
		t.Errorf("%d areas have invalid geometry", n)
	}
	// Every located report is in an LSOA and an MSOA.
	if n := c.count(`SELECT count(*) FROM incidents i WHERE i.lon IS NOT NULL AND (
		NOT EXISTS (SELECT 1 FROM areas a WHERE a.id = ANY(i.areas) AND a.level = 'lsoa') OR
		NOT EXISTS (SELECT 1 FROM areas a WHERE a.id = ANY(i.areas) AND a.level = 'msoa'))`); n != 0 {
		t.Errorf("%d located reports are outside an LSOA or an MSOA", n)
	}
	if n := c.count("SELECT count(*) FROM trigger_events WHERE description LIKE 'Local: % in %'"); n == 0 {
		t.Errorf("no local trigger event names its place")
	}
}

func TestDemoInYourOwnTown(t *testing.T) {
	c := newCLI(t)
	gj, pop := squaresTown(t, "code,population")
	out := t.TempDir()
	code, stdout, errOut := c.run("demo", "--areas", gj, "--population", pop, "--rows", "2000", "--years", "2", "--end", "2026-01-31", "--out", out, "--load",
		"--attribution", "Testham boundaries © Testham Council")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, errOut)
	}
	if !strings.Contains(stdout, "the demo town: town.geojson, 6 LSOAs in 2 MSOAs") || strings.Contains(stdout, "Ordnance") ||
		strings.Contains(stdout, "Office for National Statistics") || !strings.Contains(stdout, "Testham boundaries © Testham Council") {
		t.Errorf("the demo's summary:\n%s", stdout)
	}
	if got, err := c.db().AreasAttribution(context.Background()); err != nil || got != "Testham boundaries © Testham Council" {
		t.Errorf("the credit stored with the town's areas: %q, %v", got, err)
	}
	if n := c.count("SELECT count(*) FROM areas WHERE level = 'lsoa' AND code LIKE 'E0188%'"); n != 6 {
		t.Errorf("%d of the town's areas stored, want 6", n)
	}
	if n := c.count("SELECT count(*) FROM areas WHERE level = 'msoa' AND name IN ('Testham 001', 'Testham 002') AND population IN (3300, 3303)"); n != 2 {
		t.Errorf("%d MSOAs with their summed populations, want 2", n)
	}
	if n := c.count("SELECT count(*) FROM incidents WHERE lon IS NOT NULL AND cardinality(areas) = 0"); n != 0 {
		t.Errorf("%d located reports fall in no area of the town", n)
	}
	if n := c.count("SELECT count(*) FROM incidents WHERE lon IS NOT NULL"); n < 1800 {
		t.Errorf("only %d of 2000 reports located", n)
	}

	// The Indices of Deprivation's columns are found too; the grid needs no files.
	gj2, pop2 := squaresTown(t, "LSOA code (2011),Total population: mid 2015 (excluding prisoners)")
	if code, stdout, errOut := c.run("demo", "--areas", gj2, "--population", pop2, "--rows", "1000", "--out", t.TempDir()); code != 0 {
		t.Errorf("IoD columns: exit %d: %s %s", code, stdout, errOut)
	}
	if code, stdout, errOut := c.run("demo", "--town", "grid", "--rows", "1000", "--out", filepath.Join(t.TempDir(), "grid")); code != 0 || strings.Contains(stdout, "the demo town") {
		t.Errorf("--town grid: exit %d: %s %s", code, stdout, errOut)
	}

	short := writeFile(t, "short.csv", "code,population\nE018800,5\n", false)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--areas", gj}, "--areas and --population go together"},
		{[]string{"--areas", gj, "--population", pop, "--town", "grid"}, "either --town or --areas"},
		{[]string{"--town", "atlantis"}, `--town: milton-keynes or grid, not "atlantis"`},
		{[]string{"--areas", gj, "--population", short}, "no population for 5 of the 6 areas, such as E018801"},
		{[]string{"--areas", gj, "--population", pop, "--population-field", "people"}, `no column "people"`},
		{[]string{"--areas", filepath.Join(t.TempDir(), "none.geojson"), "--population", pop}, "none.geojson"},
	} {
		code, stdout, errOut := c.run(append([]string{"demo", "--rows", "1000", "--out", t.TempDir()}, tt.args...)...)
		if code == 0 || !strings.Contains(stdout+errOut, tt.want) {
			t.Errorf("demo %v: exit %d, %q; want a failure saying %q", tt.args, code, stdout+errOut, tt.want)
		}
	}
}
