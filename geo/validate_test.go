package geo

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// validRaw is a record every test validator accepts; cases change one thing at a time.
func validRaw() *RawIncident {
	return &RawIncident{
		Line: 7, Index: 5,
		Source: "police", SourceRef: "TV-2024-0001", Kind: "crime", Strands: "race",
		Offence: "Public order", Occurred: "2024-03-31",
		Lat: "52.0339", Lon: "-0.7623",
	}
}

func TestValidateRejects(t *testing.T) {
	long := strings.Repeat("x", 201)
	tests := []struct {
		name   string
		mod    func(r *RawIncident)
		field  string
		reason string
	}{
		{"source missing", func(r *RawIncident) { r.Source = "  " }, "source", "required"},
		{"source unknown", func(r *RawIncident) { r.Source = "police force" }, "source", `"police force" is not one of the configured sources`},
		{"source_ref missing", func(r *RawIncident) { r.SourceRef = " \t" }, "source_ref", "required"},
		{"source_ref too long", func(r *RawIncident) { r.SourceRef = long }, "source_ref", "longer than 200 characters"},
		{"source_ref control char", func(r *RawIncident) { r.SourceRef = "TV\x00001" }, "source_ref", "control character"},
		{"source_ref newline inside", func(r *RawIncident) { r.SourceRef = "TV\n001" }, "source_ref", "control character"},
		{"source_ref invalid UTF-8", func(r *RawIncident) { r.SourceRef = "TV\xff" }, "source_ref", "not valid UTF-8"},
		{"kind missing", func(r *RawIncident) { r.Kind = "" }, "kind", "required"},
		{"kind unknown", func(r *RawIncident) { r.Kind = "misdemeanour" }, "kind", `"misdemeanour" is not crime or incident`},
		{"strands missing", func(r *RawIncident) { r.Strands = "" }, "strands", "at least one strand"},
		{"strands only separators", func(r *RawIncident) { r.Strands = " ; | , " }, "strands", "at least one strand"},
		{"strand unknown", func(r *RawIncident) { r.Strands = "race; weather" }, "strands", `"weather" is not one of the configured strands`},
		{"offence too long", func(r *RawIncident) { r.Offence = long }, "offence", "longer than 200 characters"},
		{"offence control char", func(r *RawIncident) { r.Offence = "assault\x07" }, "offence", "control character"},
		{"occurred missing", func(r *RawIncident) { r.Occurred = "" }, "occurred", "required"},
		{"occurred unparseable", func(r *RawIncident) { r.Occurred = "last Tuesday" }, "occurred", `"last Tuesday" is not a date`},
		{"occurred 30 February", func(r *RawIncident) { r.Occurred = "2024-02-30" }, "occurred", "is not a date"},
		{"occurred month first US", func(r *RawIncident) { r.Occurred = "12/31/2023" }, "occurred", "is not a date"},
		{"occurred before 1900", func(r *RawIncident) { r.Occurred = "1899-12-31" }, "occurred", "before 1900"},
		{"occurred month before 1900", func(r *RawIncident) { r.Occurred = "1899-12" }, "occurred", "before 1900"},
		{"occurred in the future", func(r *RawIncident) { r.Occurred = "2024-06-17" }, "occurred", "2024-06-17 is in the future"},
		{"occurred month in the future", func(r *RawIncident) { r.Occurred = "2024-08" }, "occurred", "in the future"},
		{"occurred_from before 1900", func(r *RawIncident) { r.Occurred, r.OccurredFrom, r.OccurredTo = "", "1899-12", "1900-01-05" }, "occurred_from", "1899-12-01 is before 1900"},
		{"occurred_from in the future", func(r *RawIncident) { r.Occurred, r.OccurredFrom = "", "2025-01-01" }, "occurred_from", "2025-01-01 is in the future"},
		{"occurred_from unparseable", func(r *RawIncident) { r.Occurred, r.OccurredFrom = "", "soon" }, "occurred_from", `"soon" is not a date`},
		{"occurred_to unparseable", func(r *RawIncident) { r.Occurred, r.OccurredFrom, r.OccurredTo = "", "2024-03-01", "later" }, "occurred_to", `"later" is not a date`},
		{"occurred_to before occurred_from", func(r *RawIncident) { r.Occurred, r.OccurredFrom, r.OccurredTo = "", "2024-03-05", "2024-03-01" }, "occurred_to", "2024-03-01 is before occurred_from 2024-03-05"},
		{"occurred_to alone", func(r *RawIncident) { r.Occurred, r.OccurredTo = "", "2024-03-05" }, "occurred", "required"},
		{"reported_at unparseable", func(r *RawIncident) { r.ReportedAt = "31.03.2024" }, "reported_at", "is not a date or time"},
		{"reported_at before occurred", func(r *RawIncident) { r.ReportedAt = "2024-03-30T10:00:00Z" }, "reported_at", "before the incident occurred (2024-03-31)"},
		{"reported_at in the future", func(r *RawIncident) { r.ReportedAt = "2024-06-16T12:00:01Z" }, "reported_at", "in the future"},
		{"lat above 90", func(r *RawIncident) { r.Lat = "90.5" }, "lat", "90.5 is outside -90 to 90"},
		{"lat below -90", func(r *RawIncident) { r.Lat = "-91" }, "lat", "outside -90 to 90"},
		{"lon above 180", func(r *RawIncident) { r.Lon = "180.000001" }, "lon", "outside -180 to 180"},
		{"lon below -180", func(r *RawIncident) { r.Lon = "-200" }, "lon", "outside -180 to 180"},
		{"lat without lon", func(r *RawIncident) { r.Lon = " " }, "lon", "required when lat is given"},
		{"lon without lat", func(r *RawIncident) { r.Lat = "" }, "lat", "required when lon is given"},
		{"zero zero", func(r *RawIncident) { r.Lat, r.Lon = "0", "0.0" }, "lat", "0,0"},
		{"negative zero zero", func(r *RawIncident) { r.Lat, r.Lon = "-0", "0" }, "lat", "0,0"},
		{"lat not a number", func(r *RawIncident) { r.Lat = "52N" }, "lat", `"52N" is not a number`},
		{"lat decimal comma", func(r *RawIncident) { r.Lat = "52,03" }, "lat", "is not a number"},
		{"lat NaN", func(r *RawIncident) { r.Lat = "NaN" }, "lat", `"NaN" is not a number`},
		{"lon Inf", func(r *RawIncident) { r.Lon = "Inf" }, "lon", `"Inf" is not a number`},
		{"lon -Infinity", func(r *RawIncident) { r.Lon = "-Infinity" }, "lon", "is not a number"},
		{"lat overflows", func(r *RawIncident) { r.Lat = "1e400" }, "lat", "is not a number"},
		{"easting out of grid", func(r *RawIncident) { r.Lat, r.Lon, r.Easting, r.Northing = "", "", "700001", "238000" }, "easting", "outside the British National Grid"},
		{"negative easting", func(r *RawIncident) { r.Lat, r.Lon, r.Easting, r.Northing = "", "", "-1", "238000" }, "easting", "outside the British National Grid"},
		{"northing out of grid", func(r *RawIncident) { r.Lat, r.Lon, r.Easting, r.Northing = "", "", "485000", "1300001" }, "northing", "outside the British National Grid"},
		{"easting without northing", func(r *RawIncident) { r.Lat, r.Lon, r.Easting = "", "", "485000" }, "northing", "required when easting is given"},
		{"northing without easting", func(r *RawIncident) { r.Lat, r.Lon, r.Northing = "", "", "238000" }, "easting", "required when northing is given"},
		{"easting northing zero", func(r *RawIncident) { r.Lat, r.Lon, r.Easting, r.Northing = "", "", "0", "0" }, "easting", "false origin"},
		{"easting not a number", func(r *RawIncident) { r.Lat, r.Lon, r.Easting, r.Northing = "", "", "485 000", "238000" }, "easting", "is not a number"},
		{"northing NaN", func(r *RawIncident) { r.Lat, r.Lon, r.Easting, r.Northing = "", "", "485000", "nan" }, "northing", "is not a number"},
		{"precision unknown", func(r *RawIncident) { r.Precision = "rooftop" }, "precision", `"rooftop" is not one of`},
		{"located precision without coordinates", func(r *RawIncident) { r.Lat, r.Lon, r.Precision = "", "", "street" }, "precision", "is street but no location was given"},
		{"victim_ref too long", func(r *RawIncident) { r.VictimRef = long }, "victim_ref", "longer than 200 characters"},
		{"offender_ref control char", func(r *RawIncident) { r.OffenderRef = "P\x1b[31m" }, "offender_ref", "control character"},
	}
	v := buildValidator(t, ValidatorOptions{Key: testKey})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRaw()
			tt.mod(r)
			in, err := v.Validate(r)
			if in != nil {
				t.Errorf("got incident %+v, want nil", in)
			}
			re := wantRowError(t, err, 7, tt.field, tt.reason)
			if re.Index != 5 {
				t.Errorf("got index %d, want 5", re.Index)
			}
			if got := re.Error(); !strings.Contains(got, "line 7") || !strings.Contains(got, tt.field) {
				t.Errorf("got Error() %q, want it to name line 7 and field %s", got, tt.field)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(r *RawIncident)
		check func(tb testing.TB, in *Incident)
	}{
		{"as given", func(r *RawIncident) {}, func(tb testing.TB, in *Incident) {
			if in.Source != "police" || in.SourceRef != "TV-2024-0001" || in.Kind != KindCrime || in.Offence != "Public order" {
				tb.Errorf("got %q %q %q %q, want police TV-2024-0001 crime Public order", in.Source, in.SourceRef, in.Kind, in.Offence)
			}
			if !in.ReportedAt.IsZero() {
				tb.Errorf("got ReportedAt %v, want zero when not given", in.ReportedAt)
			}
			if in.VictimKey != "" || in.OffenderKey != "" {
				tb.Errorf("got keys %q %q, want none", in.VictimKey, in.OffenderKey)
			}
		}},
		{"source normalised", func(r *RawIncident) { r.Source = " Third Party " }, wantSource("third_party")},
		{"source hyphenated", func(r *RawIncident) { r.Source = "third-party" }, wantSource("third_party")},
		{"source_ref trimmed", func(r *RawIncident) { r.SourceRef = "  R 1 \t" }, func(tb testing.TB, in *Incident) {
			if in.SourceRef != "R 1" {
				tb.Errorf("got source ref %q, want %q", in.SourceRef, "R 1")
			}
		}},
		{"source_ref 200 characters", func(r *RawIncident) { r.SourceRef = strings.Repeat("é", 200) }, func(tb testing.TB, in *Incident) {
			if n := len([]rune(in.SourceRef)); n != 200 {
				tb.Errorf("got %d characters, want 200", n)
			}
		}},
		{"kind hate crime", func(r *RawIncident) { r.Kind = "Hate Crime" }, wantKind(KindCrime)},
		{"kind incident", func(r *RawIncident) { r.Kind = " INCIDENT " }, wantKind(KindIncident)},
		{"kind hate incident", func(r *RawIncident) { r.Kind = "hate incident" }, wantKind(KindIncident)},
		{"kind non-crime hate incident", func(r *RawIncident) { r.Kind = "Non-crime hate incident" }, wantKind(KindIncident)},
		{"strand with space", func(r *RawIncident) { r.Strands = "Sexual orientation" }, wantStrands("sexual_orientation")},
		{"strand with hyphen", func(r *RawIncident) { r.Strands = "sexual-orientation" }, wantStrands("sexual_orientation")},
		{"strands deduplicated", func(r *RawIncident) { r.Strands = "race;Race; RACE " }, wantStrands("race")},
		{"strands sorted across separators", func(r *RawIncident) { r.Strands = "transgender|disability, race;religion" }, wantStrands("disability", "race", "religion", "transgender")},
		{"strands empty parts skipped", func(r *RawIncident) { r.Strands = ";;race||" }, wantStrands("race")},
		{"offence 200 characters", func(r *RawIncident) { r.Offence = strings.Repeat("ü", 200) }, func(tb testing.TB, in *Incident) {
			if n := len([]rune(in.Offence)); n != 200 {
				tb.Errorf("got %d characters, want 200", n)
			}
		}},
		{"offence empty", func(r *RawIncident) { r.Offence = "" }, func(tb testing.TB, in *Incident) {
			if in.Offence != "" {
				tb.Errorf("got offence %q, want empty", in.Offence)
			}
		}},
		{"day ISO", func(r *RawIncident) { r.Occurred = " 2024-02-29 " }, wantOccurred(day(2024, 2, 29), day(2024, 2, 29))},
		{"day UK", func(r *RawIncident) { r.Occurred = "31/03/2024" }, wantOccurred(day(2024, 3, 31), day(2024, 3, 31))},
		{"day UK short", func(r *RawIncident) { r.Occurred = "5/3/2024" }, wantOccurred(day(2024, 3, 5), day(2024, 3, 5))},
		{"day UK with time", func(r *RawIncident) { r.Occurred = "31/03/2024 14:05" }, wantOccurred(day(2024, 3, 31), day(2024, 3, 31))},
		{"day slashes ISO order", func(r *RawIncident) { r.Occurred = "2024/03/31" }, wantOccurred(day(2024, 3, 31), day(2024, 3, 31))},
		{"day 1900", func(r *RawIncident) { r.Occurred = "1900-01-01" }, wantOccurred(day(1900, 1, 1), day(1900, 1, 1))},
		{"today", func(r *RawIncident) { r.Occurred = "2024-06-15" }, wantOccurred(day(2024, 6, 15), day(2024, 6, 15))},
		{"tomorrow within the day of slack", func(r *RawIncident) { r.Occurred = "2024-06-16" }, wantOccurred(day(2024, 6, 16), day(2024, 6, 16))},
		{"month ISO", func(r *RawIncident) { r.Occurred = "2022-01" }, wantOccurred(day(2022, 1, 1), day(2022, 1, 31))},
		{"month UK", func(r *RawIncident) { r.Occurred = "01/2022" }, wantOccurred(day(2022, 1, 1), day(2022, 1, 31))},
		{"month leap February", func(r *RawIncident) { r.Occurred = "2024-02" }, wantOccurred(day(2024, 2, 1), day(2024, 2, 29))},
		{"month in progress clamped to today", func(r *RawIncident) { r.Occurred = "2024-06" }, wantOccurred(day(2024, 6, 1), day(2024, 6, 15))},
		{"timestamp UTC", func(r *RawIncident) { r.Occurred = "2024-03-31T23:30:00Z" }, wantOccurred(day(2024, 3, 31), day(2024, 3, 31))},
		{"timestamp with offset", func(r *RawIncident) { r.Occurred = "2024-04-01T00:30:00+02:00" }, wantOccurred(day(2024, 3, 31), day(2024, 3, 31))},
		{"range", func(r *RawIncident) { r.Occurred, r.OccurredFrom, r.OccurredTo = "", "2024-03-01", "05/03/2024" }, wantOccurred(day(2024, 3, 1), day(2024, 3, 5))},
		{"range of months", func(r *RawIncident) { r.Occurred, r.OccurredFrom, r.OccurredTo = "", "2024-02", "2024-03" }, wantOccurred(day(2024, 2, 1), day(2024, 3, 31))},
		{"range within a day", func(r *RawIncident) { r.Occurred, r.OccurredFrom, r.OccurredTo = "", "2024-03-01", "2024-03-01" }, wantOccurred(day(2024, 3, 1), day(2024, 3, 1))},
		{"from alone is a day", func(r *RawIncident) { r.Occurred, r.OccurredFrom = "", "2024-03-01" }, wantOccurred(day(2024, 3, 1), day(2024, 3, 1))},
		{"from alone a month is the month", func(r *RawIncident) { r.Occurred, r.OccurredFrom = "", "2024-02" }, wantOccurred(day(2024, 2, 1), day(2024, 2, 29))},
		{"range to today clamped", func(r *RawIncident) { r.Occurred, r.OccurredFrom, r.OccurredTo = "", "2024-06-01", "2024-06-16" }, wantOccurred(day(2024, 6, 1), day(2024, 6, 15))},
		{"occurred wins over range", func(r *RawIncident) { r.OccurredFrom, r.OccurredTo = "garbage", "garbage" }, wantOccurred(day(2024, 3, 31), day(2024, 3, 31))},
		{"reported same day", func(r *RawIncident) { r.ReportedAt = "2024-03-31T08:00:00Z" }, wantReported(time.Date(2024, 3, 31, 8, 0, 0, 0, time.UTC))},
		{"reported with offset", func(r *RawIncident) { r.ReportedAt = "2024-04-02T10:15:00+01:00" }, wantReported(time.Date(2024, 4, 2, 9, 15, 0, 0, time.UTC))},
		{"reported naive is UTC by default", func(r *RawIncident) { r.ReportedAt = "2024-04-02 10:15" }, wantReported(time.Date(2024, 4, 2, 10, 15, 0, 0, time.UTC))},
		{"reported UK form", func(r *RawIncident) { r.ReportedAt = "02/04/2024 10:15:30" }, wantReported(time.Date(2024, 4, 2, 10, 15, 30, 0, time.UTC))},
		{"reported within a day ahead", func(r *RawIncident) { r.ReportedAt = "2024-06-16T11:59:59Z" }, wantReported(time.Date(2024, 6, 16, 11, 59, 59, 0, time.UTC))},
		{"lat lon trimmed", func(r *RawIncident) { r.Lat, r.Lon = " 52.5 ", "\t-1.25 " }, wantLocated(PrecisionExact, 52.5, -1.25)},
		{"lat lon extremes", func(r *RawIncident) { r.Lat, r.Lon = "-90", "180" }, wantLocated(PrecisionExact, -90, 180)},
		{"lat zero alone is a place", func(r *RawIncident) { r.Lat, r.Lon = "0", "-0.5" }, wantLocated(PrecisionExact, 0, -0.5)},
		{"lat lon win over easting northing", func(r *RawIncident) { r.Easting, r.Northing = "bad", "bad" }, wantLocated(PrecisionExact, 52.0339, -0.7623)},
		{"precision given", func(r *RawIncident) { r.Precision = " Postcode " }, wantLocated(PrecisionPostcode, 52.0339, -0.7623)},
		{"online with coordinates kept, not located", func(r *RawIncident) { r.Precision = "online" }, wantUnlocated(PrecisionOnline)},
		{"none with coordinates kept, not located", func(r *RawIncident) { r.Precision = "none" }, wantUnlocated(PrecisionNone)},
		{"online without coordinates", func(r *RawIncident) { r.Lat, r.Lon, r.Precision = "", "", "ONLINE" }, wantUnlocated(PrecisionOnline)},
		{"no coordinates no precision", func(r *RawIncident) { r.Lat, r.Lon = "", "" }, wantUnlocated(PrecisionNone)},
		{"victim and offender pseudonymised", func(r *RawIncident) { r.VictimRef, r.OffenderRef = " V-17 ", "O-3" }, func(tb testing.TB, in *Incident) {
			if want := Pseudonym(testKey, "police", "V-17"); in.VictimKey != want {
				tb.Errorf("got victim key %q, want %q", in.VictimKey, want)
			}
			if want := Pseudonym(testKey, "police", "O-3"); in.OffenderKey != want {
				tb.Errorf("got offender key %q, want %q", in.OffenderKey, want)
			}
			if len(in.VictimKey) != 32 {
				tb.Errorf("got victim key of %d hex digits, want 32", len(in.VictimKey))
			}
		}},
	}
	v := buildValidator(t, ValidatorOptions{Key: testKey})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRaw()
			tt.mod(r)
			in, err := v.Validate(r)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			checkIncident(t, in)
			tt.check(t, in)
		})
	}
}

func wantSource(s string) func(testing.TB, *Incident) {
	return func(tb testing.TB, in *Incident) {
		tb.Helper()
		if in.Source != s {
			tb.Errorf("got source %q, want %q", in.Source, s)
		}
	}
}

func wantKind(k Kind) func(testing.TB, *Incident) {
	return func(tb testing.TB, in *Incident) {
		tb.Helper()
		if in.Kind != k {
			tb.Errorf("got kind %q, want %q", in.Kind, k)
		}
	}
}

func wantStrands(s ...string) func(testing.TB, *Incident) {
	return func(tb testing.TB, in *Incident) {
		tb.Helper()
		if !slices.Equal(in.Strands, s) {
			tb.Errorf("got strands %q, want %q", in.Strands, s)
		}
	}
}

func wantOccurred(from, to time.Time) func(testing.TB, *Incident) {
	return func(tb testing.TB, in *Incident) {
		tb.Helper()
		if !in.OccurredFrom.Equal(from) || !in.OccurredTo.Equal(to) {
			tb.Errorf("got occurred %s..%s, want %s..%s", in.OccurredFrom.Format(time.DateOnly), in.OccurredTo.Format(time.DateOnly),
				from.Format(time.DateOnly), to.Format(time.DateOnly))
		}
		if !in.Day().Equal(from) {
			tb.Errorf("got Day() %v, want %v", in.Day(), from)
		}
	}
}

func wantReported(at time.Time) func(testing.TB, *Incident) {
	return func(tb testing.TB, in *Incident) {
		tb.Helper()
		if !in.ReportedAt.Equal(at) || in.ReportedAt.Location() != time.UTC {
			tb.Errorf("got reported at %v, want %v in UTC", in.ReportedAt, at)
		}
	}
}

func wantLocated(p Precision, lat, lon float64) func(testing.TB, *Incident) {
	return func(tb testing.TB, in *Incident) {
		tb.Helper()
		if in.Precision != p {
			tb.Errorf("got precision %q, want %q", in.Precision, p)
		}
		if in.Location != (LatLon{lat, lon}) {
			tb.Errorf("got location %v, want %v", in.Location, LatLon{lat, lon})
		}
	}
}

func wantUnlocated(p Precision) func(testing.TB, *Incident) {
	return func(tb testing.TB, in *Incident) {
		tb.Helper()
		if in.Precision != p {
			tb.Errorf("got precision %q, want %q", in.Precision, p)
		}
		if in.Precision.Located() {
			tb.Errorf("got Located() true for %q, want false", in.Precision)
		}
		if in.Location != (LatLon{}) {
			tb.Errorf("got location %v, want none", in.Location)
		}
	}
}

func TestValidateEastingNorthing(t *testing.T) {
	tests := []struct {
		name     string
		e, n     string
		lat, lon float64
	}{
		{"Milton Keynes", "485000", "238000", 52.0339, -0.7623},
		{"Milton Keynes with decimals", " 485000.0 ", "238000.00", 52.0339, -0.7623},
		{"Ordnance Survey worked example", "651409.903", "313177.270", 52.6580, 1.7161},
	}
	v := buildValidator(t, ValidatorOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRaw()
			r.Lat, r.Lon, r.Easting, r.Northing = "", "", tt.e, tt.n
			in, err := v.Validate(r)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			checkIncident(t, in)
			if in.Precision != PrecisionExact {
				t.Errorf("got precision %q, want exact", in.Precision)
			}
			if d := Distance(in.Location, LatLon{tt.lat, tt.lon}); d > 5 {
				t.Errorf("got %v, %.1f m from %v, want within 5 m", in.Location, d, LatLon{tt.lat, tt.lon})
			}
		})
	}
}

func TestValidateTimeZones(t *testing.T) {
	tests := []struct {
		name             string
		loc              *time.Location
		occurred         string
		reported         string
		wantDay          time.Time
		wantReported     time.Time
		wantReportedFail bool
	}{
		{
			name: "naive evening in BST is that day", loc: london(t),
			occurred: "2024-06-14 23:30", reported: "2024-06-14 23:45",
			wantDay: day(2024, 6, 14), wantReported: time.Date(2024, 6, 14, 22, 45, 0, 0, time.UTC),
		},
		{
			name: "UTC evening is the next day in BST", loc: london(t),
			occurred: "2024-06-14T23:30:00Z", reported: "2024-06-14T23:45:00Z",
			wantDay: day(2024, 6, 15), wantReported: time.Date(2024, 6, 14, 23, 45, 0, 0, time.UTC),
		},
		{
			name: "UTC evening stays in UTC", loc: time.UTC,
			occurred: "2024-06-14T23:30:00Z", reported: "2024-06-14T23:45:00Z",
			wantDay: day(2024, 6, 14), wantReported: time.Date(2024, 6, 14, 23, 45, 0, 0, time.UTC),
		},
		{
			name: "naive in GMT winter", loc: london(t),
			occurred: "2024-01-14 23:30", reported: "14/01/2024 23:45",
			wantDay: day(2024, 1, 14), wantReported: time.Date(2024, 1, 14, 23, 45, 0, 0, time.UTC),
		},
		{
			name: "report just after BST midnight is not before the day", loc: london(t),
			occurred: "2024-06-15", reported: "2024-06-14T23:30:00Z",
			wantDay: day(2024, 6, 15), wantReported: time.Date(2024, 6, 14, 23, 30, 0, 0, time.UTC),
		},
		{
			name: "same instant in UTC is before the day", loc: time.UTC,
			occurred: "2024-06-15", reported: "2024-06-14T23:30:00Z",
			wantReportedFail: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := buildValidator(t, ValidatorOptions{Location: tt.loc})
			r := validRaw()
			r.Occurred, r.ReportedAt = tt.occurred, tt.reported
			in, err := v.Validate(r)
			if tt.wantReportedFail {
				wantRowError(t, err, 7, "reported_at", "before the incident occurred")
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !in.OccurredFrom.Equal(tt.wantDay) || !in.OccurredTo.Equal(tt.wantDay) {
				t.Errorf("got occurred %v..%v, want %v", in.OccurredFrom, in.OccurredTo, tt.wantDay)
			}
			if !in.ReportedAt.Equal(tt.wantReported) {
				t.Errorf("got reported at %v, want %v", in.ReportedAt, tt.wantReported)
			}
		})
	}
}

// TestValidateMonthAtEndOfMonth checks that the day of slack for a date that is not
// yet today cannot produce a span ending before it starts.
func TestValidateMonthAtEndOfMonth(t *testing.T) {
	tests := []struct {
		name     string
		now      time.Time
		occurred string
		from, to time.Time
	}{
		{"month in progress on its last day", time.Date(2024, 6, 30, 12, 0, 0, 0, time.UTC), "2024-06", day(2024, 6, 1), day(2024, 6, 30)},
		{"next month on the last day", time.Date(2024, 6, 30, 12, 0, 0, 0, time.UTC), "2024-07", day(2024, 7, 1), day(2024, 7, 1)},
		{"tomorrow", time.Date(2024, 6, 30, 12, 0, 0, 0, time.UTC), "2024-07-01", day(2024, 7, 1), day(2024, 7, 1)},
		{"month in progress on its first day", time.Date(2024, 6, 1, 0, 30, 0, 0, time.UTC), "2024-06", day(2024, 6, 1), day(2024, 6, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := buildValidator(t, ValidatorOptions{Now: func() time.Time { return tt.now }})
			r := validRaw()
			r.Occurred = tt.occurred
			in, err := v.Validate(r)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			checkIncident(t, in)
			if !in.OccurredFrom.Equal(tt.from) || !in.OccurredTo.Equal(tt.to) {
				t.Errorf("got %v..%v, want %v..%v", in.OccurredFrom, in.OccurredTo, tt.from, tt.to)
			}
		})
	}
}

func TestValidatePseudonyms(t *testing.T) {
	t.Run("no key", func(t *testing.T) {
		v := buildValidator(t, ValidatorOptions{})
		for _, mod := range []func(r *RawIncident){
			func(r *RawIncident) { r.VictimRef = "V1" },
			func(r *RawIncident) { r.OffenderRef = "O1" },
		} {
			r := validRaw()
			mod(r)
			in, err := v.Validate(r)
			if !errors.Is(err, ErrNoKey) || in != nil {
				t.Errorf("got %v, %v; want nil, ErrNoKey", in, err)
			}
		}
		if got := ErrorCode(ErrNoKey); got != EINVALID {
			t.Errorf("got ErrNoKey code %q, want %q", got, EINVALID)
		}
		// Without references, no key is needed.
		if _, err := v.Validate(validRaw()); err != nil {
			t.Errorf("got error %v without references, want none", err)
		}
	})

	v := buildValidator(t, ValidatorOptions{Key: testKey})
	other := buildValidator(t, ValidatorOptions{Key: []byte("another key entirely")})
	key := func(tb testing.TB, v *Validator, source, ref string) string {
		tb.Helper()
		r := validRaw()
		r.Source, r.VictimRef = source, ref
		in, err := v.Validate(r)
		if err != nil {
			tb.Fatalf("got error %v, want none", err)
		}
		if strings.Contains(fmt.Sprintf("%+v", *in), ref) {
			tb.Errorf("got incident %+v, want the raw reference %q nowhere in it", *in, ref)
		}
		return in.VictimKey
	}
	tests := []struct {
		name     string
		a, b     func(tb testing.TB) string
		wantSame bool
	}{
		{"same source and ref", func(tb testing.TB) string { return key(tb, v, "police", "VIC-981") },
			func(tb testing.TB) string { return key(tb, v, "police", "VIC-981") }, true},
		{"ref trimmed and source normalised", func(tb testing.TB) string { return key(tb, v, "third_party", "VIC-981") },
			func(tb testing.TB) string { return key(tb, v, "Third Party", " VIC-981 ") }, true},
		{"different source", func(tb testing.TB) string { return key(tb, v, "police", "VIC-981") },
			func(tb testing.TB) string { return key(tb, v, "council", "VIC-981") }, false},
		{"different ref", func(tb testing.TB) string { return key(tb, v, "police", "VIC-981") },
			func(tb testing.TB) string { return key(tb, v, "police", "VIC-982") }, false},
		{"different key", func(tb testing.TB) string { return key(tb, v, "police", "VIC-981") },
			func(tb testing.TB) string { return key(tb, other, "police", "VIC-981") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.a(t), tt.b(t)
			if a == "" || b == "" {
				t.Fatalf("got keys %q and %q, want both set", a, b)
			}
			if (a == b) != tt.wantSame {
				t.Errorf("got keys %q and %q equal=%v, want equal=%v", a, b, a == b, tt.wantSame)
			}
		})
	}
}

func TestValidateDefaults(t *testing.T) {
	v := buildValidator(t, ValidatorOptions{Defaults: Defaults{
		Source: "Police", Kind: KindIncident, Strands: []string{"Religion", "race", "race"}, Precision: PrecisionStreet,
	}})
	tests := []struct {
		name  string
		mod   func(r *RawIncident)
		check func(tb testing.TB, in *Incident)
	}{
		{"all defaulted", func(r *RawIncident) { r.Source, r.Kind, r.Strands = "", "", "" }, func(tb testing.TB, in *Incident) {
			wantSource("police")(tb, in)
			wantKind(KindIncident)(tb, in)
			wantStrands("race", "religion")(tb, in)
			wantLocated(PrecisionStreet, 52.0339, -0.7623)(tb, in)
		}},
		{"record's own values win", func(r *RawIncident) {
			r.Source, r.Kind, r.Strands, r.Precision = "council", "crime", "disability", "exact"
		}, func(tb testing.TB, in *Incident) {
			wantSource("council")(tb, in)
			wantKind(KindCrime)(tb, in)
			wantStrands("disability")(tb, in)
			wantLocated(PrecisionExact, 52.0339, -0.7623)(tb, in)
		}},
		{"default precision without coordinates is none", func(r *RawIncident) { r.Lat, r.Lon = "", "" }, wantUnlocated(PrecisionNone)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRaw()
			tt.mod(r)
			in, err := v.Validate(r)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			checkIncident(t, in)
			tt.check(t, in)
		})
	}

	t.Run("default online", func(t *testing.T) {
		v := buildValidator(t, ValidatorOptions{Defaults: Defaults{Precision: PrecisionOnline}})
		r := validRaw()
		r.Lat, r.Lon = "", ""
		in, err := v.Validate(r)
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		wantUnlocated(PrecisionOnline)(t, in)
	})
}

func TestNewValidatorRejectsBadDefaults(t *testing.T) {
	tests := []struct {
		name string
		o    ValidatorOptions
		want string
	}{
		{"source", ValidatorOptions{Defaults: Defaults{Source: "press"}}, `default source "press"`},
		{"source outside custom list", ValidatorOptions{Sources: []string{"helpline"}, Defaults: Defaults{Source: "police"}}, `default source "police"`},
		{"strand", ValidatorOptions{Defaults: Defaults{Strands: []string{"race", "weather"}}}, `default strand "weather"`},
		{"empty strand", ValidatorOptions{Defaults: Defaults{Strands: []string{""}}}, `default strand ""`},
		{"kind", ValidatorOptions{Defaults: Defaults{Kind: "hate crime"}}, `default kind "hate crime"`},
		{"precision", ValidatorOptions{Defaults: Defaults{Precision: "rooftop"}}, `default precision "rooftop"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewValidator(tt.o)
			if v != nil {
				t.Errorf("got a validator, want nil")
			}
			wantErrCode(t, err, EINVALID, tt.want)
		})
	}
}

func TestValidateCustomLists(t *testing.T) {
	v := buildValidator(t, ValidatorOptions{
		Strands: []string{"Anti-Roma", "race"}, Sources: []string{"Helpline"},
		Defaults: Defaults{Source: "helpline", Strands: []string{"anti roma"}},
	})
	tests := []struct {
		name      string
		mod       func(r *RawIncident)
		wantErr   string // field, "" when accepted
		strands   []string
		wantSrc   string
		reasonSub string
	}{
		{"custom strand and source", func(r *RawIncident) { r.Source, r.Strands = "HELPLINE", "anti-roma;race" }, "", []string{"anti_roma", "race"}, "helpline", ""},
		{"defaults", func(r *RawIncident) { r.Source, r.Strands = "", "" }, "", []string{"anti_roma"}, "helpline", ""},
		{"default strand list replaced", func(r *RawIncident) { r.Source, r.Strands = "", "religion" }, "strands", nil, "", `"religion" is not one of`},
		{"default source list replaced", func(r *RawIncident) { r.Source = "police" }, "source", nil, "", `"police" is not one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRaw()
			tt.mod(r)
			in, err := v.Validate(r)
			if tt.wantErr != "" {
				wantRowError(t, err, 7, tt.wantErr, tt.reasonSub)
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			wantStrands(tt.strands...)(t, in)
			wantSource(tt.wantSrc)(t, in)
		})
	}
}

func TestValidateDateLayouts(t *testing.T) {
	mustLayout := func(tb testing.TB, pattern string) string {
		tb.Helper()
		l, err := DateLayout(pattern)
		if err != nil {
			tb.Fatalf("DateLayout(%q): got error %v, want none", pattern, err)
		}
		return l
	}
	tests := []struct {
		name     string
		patterns []string
		occurred string
		reported string
		wantDay  time.Time
		wantRep  time.Time
		wantErr  string // field when rejected
	}{
		{"DD/MM/YYYY HH:mm", []string{"DD/MM/YYYY HH:mm"}, "31/03/2024 23:59", "", day(2024, 3, 31), time.Time{}, ""},
		{"YYYY-MM-DD", []string{"YYYY-MM-DD"}, "2024-03-31", "", day(2024, 3, 31), time.Time{}, ""},
		{"dotted", []string{"YYYY.MM.DD"}, "2024.03.31", "", day(2024, 3, 31), time.Time{}, ""},
		{"dotted not built in", nil, "2024.03.31", "", time.Time{}, time.Time{}, "occurred"},
		{"month name", []string{"D MMM YYYY"}, "5 Mar 2024", "", day(2024, 3, 5), time.Time{}, ""},
		{"long month and 12-hour clock", []string{"D MMMM YYYY hh:mm A"}, "5 March 2024 09:30 PM", "5 March 2024 11:15 PM",
			day(2024, 3, 5), time.Date(2024, 3, 5, 23, 15, 0, 0, time.UTC), ""},
		{"configured layout tried before built-ins", []string{"MM/DD/YYYY"}, "03/04/2024", "", day(2024, 3, 4), time.Time{}, ""},
		{"configured layout tried before ISO days", []string{"YYYY-DD-MM"}, "2024-05-03", "", day(2024, 3, 5), time.Time{}, ""},
		{"ISO days still read with a configured layout", []string{"DD.MM.YYYY"}, "2024-05-03", "", day(2024, 5, 3), time.Time{}, ""},
		{"months still read with a configured layout", []string{"DD.MM.YYYY"}, "2024-02", "", time.Time{}, time.Time{}, ""},
		{"built-ins still tried", []string{"YYYY.MM.DD"}, "04/03/2024", "", day(2024, 3, 4), time.Time{}, ""},
		{"Go layout as is", []string{"02.01.2006"}, "31.03.2024", "", day(2024, 3, 31), time.Time{}, ""},
		{"offset", []string{"YYYY-MM-DD HH:mm:ss Z"}, "2024-03-31 23:30:00 -02:00", "", day(2024, 4, 1), time.Time{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var layouts []string
			for _, p := range tt.patterns {
				layouts = append(layouts, mustLayout(t, p))
			}
			v := buildValidator(t, ValidatorOptions{DateLayouts: layouts})
			r := validRaw()
			r.Occurred, r.ReportedAt = tt.occurred, tt.reported
			in, err := v.Validate(r)
			if tt.wantErr != "" {
				wantRowError(t, err, 7, tt.wantErr, "is not a date")
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			from, to := tt.wantDay, tt.wantDay
			if tt.wantDay.IsZero() { // a month
				from, to = day(2024, 2, 1), day(2024, 2, 29)
			}
			if !in.OccurredFrom.Equal(from) || !in.OccurredTo.Equal(to) {
				t.Errorf("got occurred %v..%v, want %v..%v", in.OccurredFrom, in.OccurredTo, from, to)
			}
			if !in.ReportedAt.Equal(tt.wantRep) {
				t.Errorf("got reported at %v, want %v", in.ReportedAt, tt.wantRep)
			}
		})
	}
}

func TestRowErrorText(t *testing.T) {
	tests := []struct {
		name string
		e    RowError
		want string
	}{
		{"line and field", RowError{Line: 12, Index: 10, Field: "lat", Reason: "bad"}, "line 12: lat: bad"},
		{"line only", RowError{Line: 3, Reason: "malformed CSV"}, "line 3: malformed CSV"},
		{"index and field", RowError{Index: 4, Field: "geometry", Reason: "is a Polygon"}, "record 4: geometry: is a Polygon"},
		{"index only", RowError{Index: 0, Reason: "too long"}, "record 0: too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorHelpers(t *testing.T) {
	wrapped := fmt.Errorf("outer: %w", Errorf(ENOTFOUND, "no area %q", "E01"))
	tests := []struct {
		name     string
		err      error
		wantCode string
		wantMsg  string
	}{
		{"nil", nil, "", ""},
		{"service error", Errorf(EINVALID, "bad %d", 1), EINVALID, "bad 1"},
		{"wrapped", wrapped, ENOTFOUND, `no area "E01"`},
		{"other", errors.New("disk on fire at /secret/path"), EINTERNAL, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("got code %q, want %q", got, tt.wantCode)
			}
			if got := ErrorMessage(tt.err); got != tt.wantMsg {
				t.Errorf("got message %q, want %q", got, tt.wantMsg)
			}
		})
	}
	if got, want := Errorf(EINVALID, "x").Error(), "invalid: x"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNormaliseName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Sexual orientation", "sexual_orientation"},
		{" sexual-orientation ", "sexual_orientation"},
		{"RACE", "race"},
		{"", ""},
		{"alternative_subculture", "alternative_subculture"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := NormaliseName(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestValidateConcurrent runs one validator from several goroutines (meaningful under
// -race) and checks each gets what a lone caller gets.
func TestValidateConcurrent(t *testing.T) {
	v := buildValidator(t, ValidatorOptions{Key: testKey, Location: london(t)})
	const n = 200
	raws := make([]*RawIncident, n)
	want := make([]*Incident, n)
	wantErr := make([]string, n)
	for i := range raws {
		r := validRaw()
		r.SourceRef = fmt.Sprintf("R%d", i)
		r.VictimRef = fmt.Sprintf("V%d", i%17)
		r.OffenderRef = fmt.Sprintf("O%d", i%5)
		r.Occurred = fmt.Sprintf("2023-%02d-%02d 23:30", i%12+1, i%28+1)
		if i%11 == 0 {
			r.Lat = "100" // rejected
		}
		raws[i] = r
		in, err := v.Validate(r)
		want[i] = in
		if err != nil {
			wantErr[i] = err.Error()
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*n)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range n {
				i := (k + g*31) % n
				in, err := v.Validate(raws[i])
				switch {
				case err != nil && err.Error() != wantErr[i]:
					errs <- fmt.Sprintf("record %d: got error %v, want %q", i, err, wantErr[i])
				case err == nil && wantErr[i] != "":
					errs <- fmt.Sprintf("record %d: got no error, want %q", i, wantErr[i])
				case err == nil && (in.VictimKey != want[i].VictimKey || in.OffenderKey != want[i].OffenderKey || !in.OccurredFrom.Equal(want[i].OccurredFrom)):
					errs <- fmt.Sprintf("record %d: got %+v, want %+v", i, in, want[i])
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if rejected := strings.Count(strings.Join(wantErr, "\n"), "lat"); rejected != 19 {
		t.Errorf("got %d rejected records, want 19", rejected)
	}
}
