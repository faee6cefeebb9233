package geo

import (
	"encoding/csv"
	"io"
	"strconv"
)

// Columns are the header names of the project's own CSV layout, in the order
// WriteCSV writes them. Every column is optional in a file except those the
// validator needs (source unless defaulted, source_ref, kind unless defaulted,
// strands unless defaulted, a date) and a file may hold them in any order:
//
//	source         police | council | third_party | anonymous | other (or a configured source)
//	source_ref     the source's own reference, unique within the source
//	kind           crime | incident
//	strands        one or more of the configured strands, separated by ';'
//	offence        free text, at most 200 characters
//	occurred       a day (2024-03-31 or 31/03/2024), a month (2024-03) or a timestamp
//	occurred_from  with occurred_to: a date range, when the day is not known
//	occurred_to
//	reported_at    a timestamp (RFC 3339, or local UK time without an offset)
//	lat, lon       WGS84 degrees
//	easting, northing  British National Grid metres, when lat and lon are absent
//	precision      exact | street | postcode | area_centroid | online | none
//	victim_ref     the source's own reference for the victim (pseudonymised at ingest)
//	offender_ref   the source's own reference for the offender (pseudonymised at ingest)
var Columns = []string{
	"source", "source_ref", "kind", "strands", "offence", "occurred", "occurred_from", "occurred_to",
	"reported_at", "lat", "lon", "easting", "northing", "precision", "victim_ref", "offender_ref",
}

// columnsByName maps the lower-cased names of input columns (or JSON keys) to the
// project columns they hold: each project column under its own name unless the
// mapping names another column for it, and each mapped column to its field.
func columnsByName(mapping map[string]string) map[string]string {
	byName := make(map[string]string, len(Columns)+len(mapping))
	for _, c := range Columns {
		if _, mapped := mapping[c]; !mapped {
			byName[c] = c
		}
	}
	for field, col := range mapping {
		byName[col] = field
	}
	return byName
}

// field returns a pointer to the RawIncident field of a column name, or nil.
func (r *RawIncident) field(column string) *string {
	switch column {
	case "source":
		return &r.Source
	case "source_ref":
		return &r.SourceRef
	case "kind":
		return &r.Kind
	case "strands":
		return &r.Strands
	case "offence":
		return &r.Offence
	case "occurred":
		return &r.Occurred
	case "occurred_from":
		return &r.OccurredFrom
	case "occurred_to":
		return &r.OccurredTo
	case "reported_at":
		return &r.ReportedAt
	case "lat":
		return &r.Lat
	case "lon":
		return &r.Lon
	case "easting":
		return &r.Easting
	case "northing":
		return &r.Northing
	case "precision":
		return &r.Precision
	case "victim_ref":
		return &r.VictimRef
	case "offender_ref":
		return &r.OffenderRef
	}
	return nil
}

// CSVWriter writes raw incidents in the project's own CSV layout.
type CSVWriter struct {
	w   *csv.Writer
	row []string
}

// NewCSVWriter writes the header line and returns a writer; call Flush when done.
func NewCSVWriter(w io.Writer) (*CSVWriter, error) {
	cw := &CSVWriter{w: csv.NewWriter(w), row: make([]string, len(Columns))}
	return cw, cw.w.Write(Columns)
}

// Write writes one record.
func (cw *CSVWriter) Write(r *RawIncident) error {
	for i, c := range Columns {
		cw.row[i] = *r.field(c)
	}
	return cw.w.Write(cw.row)
}

// Values returns the record's fields in the order of Columns.
func (r *RawIncident) Values() []string {
	out := make([]string, len(Columns))
	for i, c := range Columns {
		out[i] = *r.field(c)
	}
	return out
}

// Flush writes buffered rows and returns any write error.
func (cw *CSVWriter) Flush() error {
	cw.w.Flush()
	return cw.w.Error()
}

// FormatCoord formats a coordinate in degrees with 6 decimals (about 0.1 m).
func FormatCoord(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
