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
	r        *csv.Reader
	cols     []string // project column for each input column, "" for unused
	width    int
	index    int
	warnings []string
}

func newCSVReader(in io.Reader, mapping map[string]string) (*csvReader, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return nil, Errorf(EINVALID, "line 1: the file is empty: want a header line naming the columns")
	} else if err != nil {
		return nil, Errorf(EINVALID, "line 1: reading the header: %v", csvErrReason(err))
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
	rec, err := cr.r.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	index := cr.index
	cr.index++
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &RowError{Line: pe.StartLine, Index: index, Reason: csvErrReason(err)}
		}
		return nil, fmt.Errorf("geo: reading CSV: %w", err)
	}
	line, _ := cr.r.FieldPos(0)
	if len(rec) != cr.width {
		return nil, &RowError{Line: line, Index: index, Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), cr.width)}
	}
	raw := &RawIncident{Line: line, Index: index}
	for i, v := range rec {
		if f := cr.cols[i]; f != "" {
			*raw.field(f) = v
		}
	}
	return raw, nil
}

// csvErrReason states a CSV parse error without repeating its position.
func csvErrReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "malformed CSV: " + pe.Err.Error()
	}
	return err.Error()
}
