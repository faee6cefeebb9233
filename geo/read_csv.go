package geo

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// csvReader reads the project's own CSV layout, or a partner's export through a
// column mapping.
type csvReader struct {
	r        *csvScanner
	cols     []string // project column for each input column, "" for unused
	width    int
	index    int
	warnings []string
}

func newCSVReader(in io.Reader, mapping map[string]string, lim Limits) (*csvReader, error) {
	r := newCSVScanner(in, lim)
	header, err := readHeader(r)
	if err == io.EOF {
		return nil, Errorf(EINVALID, "line 1: the file is empty: want a header line naming the columns")
	} else if err != nil {
		return nil, err
	}
	byName := columnsByName(mapping) // input column -> project column
	cr := &csvReader{r: r, width: len(header), cols: make([]string, len(header))}
	var unused []string
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		field := byName[name]
		if field == "" {
			unused = append(unused, h)
			continue
		}
		if seen[field] {
			return nil, Errorf(EINVALID, "line 1: column %q appears twice", h)
		}
		seen[field] = true
		cr.cols[i] = field
	}
	if len(seen) == 0 {
		return nil, Errorf(EINVALID, "line 1: no known column in the header (want some of %s, or a --map for each field)", strings.Join(Columns, ", "))
	}
	for _, field := range Columns {
		if col, ok := mapping[field]; ok && !seen[field] {
			return nil, Errorf(EINVALID, "line 1: the mapping names column %q for %s, but the header has no such column", col, field)
		}
	}
	if len(unused) > 0 {
		slices.Sort(unused)
		cr.warnings = append(cr.warnings, fmt.Sprintf("columns not used: %s", strings.Join(unused, ", ")))
	}
	return cr, nil
}

func (cr *csvReader) Warnings() []string { return cr.warnings }

func (cr *csvReader) Next() (*RawIncident, error) {
	rec, err := cr.r.read()
	if err == io.EOF {
		return nil, io.EOF
	}
	index := cr.index
	cr.index++
	var rowErr *RowError
	if errors.As(err, &rowErr) {
		rowErr.Index = index
		if f := cr.column(rowErr.Field); f != "" {
			rowErr.Field = f
		}
		return nil, rowErr
	} else if err != nil {
		return nil, fmt.Errorf("geo: reading CSV: %w", err)
	}
	raw := &RawIncident{Line: rec.line, Index: index}
	for i, v := range rec.fields {
		if f := cr.cols[i]; f != "" {
			*raw.field(f) = v
		}
	}
	return raw, nil
}

// column returns the project column an input column's header name maps to, "" for
// none.
func (cr *csvReader) column(name string) string {
	for i, n := range cr.r.names {
		if n == name && cr.cols[i] != "" {
			return cr.cols[i]
		}
	}
	return ""
}

// readHeader reads a CSV header line and sets the scanner's width and field names;
// errors are *Error values that end the input.
func readHeader(r *csvScanner) ([]string, error) {
	rec, err := r.read()
	var rowErr *RowError
	if errors.As(err, &rowErr) {
		return nil, Errorf(EINVALID, "line %d: reading the header: %s", rowErr.Line, rowErr.Reason)
	} else if err != nil {
		return nil, err
	}
	r.width, r.names = len(rec.fields), rec.fields
	return rec.fields, nil
}

// csvErrReason states an encoding/csv parse error without repeating its position.
func csvErrReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "malformed CSV: " + pe.Err.Error()
	}
	return err.Error()
}
