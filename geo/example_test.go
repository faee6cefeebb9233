package geo_test

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

func ExampleDateLayout() {
	layout, err := geo.DateLayout("DD/MM/YYYY HH:mm")
	if err != nil {
		panic(err)
	}
	t, _ := time.Parse(layout, "31/03/2024 14:05")
	fmt.Println(layout)
	fmt.Println(t.Format(time.RFC3339))

	_, err = geo.DateLayout("DD/MM")
	fmt.Println(err)
	// Output:
	// 02/01/2006 15:04
	// 2024-03-31T14:05:00Z
	// invalid: date format "DD/MM" has no year (YYYY)
}

func ExampleParseCount() {
	for _, s := range []string{"1,296", "1 296", "12a"} {
		n, err := geo.ParseCount(s)
		fmt.Println(n, err)
	}
	// Output:
	// 1296 <nil>
	// 1296 <nil>
	// 0 "12a" is not a whole number
}

func ExampleCellParent() {
	b, err := geo.NewBinner(nil, nil)
	if err != nil {
		panic(err)
	}
	// A street-level report in Milton Keynes is binned at resolution 9 ...
	cell := b.Cell(&geo.Incident{Precision: geo.PrecisionStreet, Location: geo.LatLon{Lat: 52.0339, Lon: -0.7623}})
	fmt.Println(geo.CellString(cell), geo.CellRes(cell))
	// ... and counts in its parents at the coarser roll-up resolutions.
	for _, res := range b.CellResolutions(cell) {
		fmt.Println(res, geo.CellString(geo.CellParent(cell, res)))
	}
	parsed, err := geo.ParseCell(geo.CellString(cell))
	fmt.Println(parsed == cell, err)
	// Output:
	// 89195d88eabffff 9
	// 6 86195d88fffffff
	// 7 87195d88effffff
	// 8 88195d88ebfffff
	// 9 89195d88eabffff
	// true <nil>
}

func ExampleNewReader() {
	const input = "source,source_ref,kind,strands,occurred,lat,lon\r\n" +
		"police,TV-1,hate crime,Race;Religion,2024-03-31,52.0339,-0.7623\r\n" +
		"council,C-7,incident,disability,2024-03,,\r\n" +
		"police,TV-2,crime,weather,2024-04-01,,\r\n"
	r, err := geo.NewReader(strings.NewReader(input), geo.ReaderOptions{})
	if err != nil {
		panic(err)
	}
	v, err := geo.NewValidator(geo.ValidatorOptions{Now: func() time.Time { return time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		panic(err)
	}
	fmt.Println("format:", geo.ReaderFormat(r))
	for {
		raw, err := r.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			fmt.Println("unreadable:", err)
			continue
		}
		in, err := v.Validate(raw)
		if err != nil {
			fmt.Println("rejected:", err)
			continue
		}
		fmt.Println(in.Source, in.SourceRef, in.Kind, in.Strands, in.OccurredFrom.Format(time.DateOnly), in.OccurredTo.Format(time.DateOnly), in.Precision)
	}
	// Output:
	// format: csv
	// police TV-1 crime [race religion] 2024-03-31 2024-03-31 exact
	// council C-7 incident [disability] 2024-03-01 2024-03-31 none
	// rejected: line 4: strands: "weather" is not one of the configured strands
}
