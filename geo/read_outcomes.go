package geo

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// FormatPoliceUKOutcomes is a police.uk outcomes CSV: one row per outcome recorded
// for a crime in a month. Its rows are outcomes, not incidents, so NewOutcomeReader
// reads it, not NewReader.
const FormatPoliceUKOutcomes = "police-uk-outcomes"

// The columns of a police.uk outcomes file the reader uses; the others (force,
// location, lsoa) repeat what the crime's own row says.
const (
	OutcomeColCrimeID = "Crime ID"
	OutcomeColMonth   = "Month"
	OutcomeColType    = "Outcome type"
)

// OutcomeReader reads outcomes one at a time from a stream. Next returns the next
// valid outcome, or io.EOF at the end. A *RowError rejects one row (its line, the
// column at fault and why): the reader has moved past it and Next may be called
// again. Any other error is fatal and ends the input.
type OutcomeReader interface {
	Next() (*Outcome, error)
}

// OutcomeReaderOptions configures NewOutcomeReader.
type OutcomeReaderOptions struct {
	// Now is the clock that months after the current one are rejected by;
	// time.Now when nil.
	Now func() time.Time

	// Limits caps a line, a field, a record and the decompressed size (see Limits).
	Limits Limits
}

// outcomesReader reads a police.uk outcomes CSV.
type outcomesReader struct {
	r      *csvScanner
	crime  int
	month  int
	typ    int
	index  int
	latest time.Time // the first day of the current month: later months are rejected
}

// NewOutcomeReader returns a streaming reader of a police.uk outcomes CSV. Gzip
// input is decompressed and a UTF-8 byte order mark dropped; CRLF line endings and
// quoted fields are read as CSV allows. The header must name the Crime ID, Month and
// Outcome type columns, in any order.
func NewOutcomeReader(in io.Reader, o OutcomeReaderOptions) (OutcomeReader, error) {
	lim := o.Limits.withDefaults()
	br, err := decompress(in, lim.Decompressed)
	if err != nil {
		return nil, err
	}
	r := newCSVScanner(br, lim)
	header, err := readHeader(r)
	if err == io.EOF {
		return nil, Errorf(EINVALID, "line 1: the file is empty: want a police.uk outcomes header")
	} else if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		if _, dup := col[strings.TrimSpace(h)]; !dup {
			col[strings.TrimSpace(h)] = i
		}
	}
	for _, c := range []string{OutcomeColCrimeID, OutcomeColMonth, OutcomeColType} {
		if _, ok := col[c]; !ok {
			return nil, Errorf(EINVALID, "line 1: not a police.uk outcomes file: no %q column", c)
		}
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	y, m, _ := now().UTC().Date()
	return &outcomesReader{r: r, crime: col[OutcomeColCrimeID], month: col[OutcomeColMonth],
		typ: col[OutcomeColType], latest: time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)}, nil
}

// Next returns the next outcome, a *RowError for a row it rejects, or io.EOF.
func (or *outcomesReader) Next() (*Outcome, error) {
	r, err := or.r.read()
	if err == io.EOF {
		return nil, io.EOF
	}
	index := or.index
	or.index++
	var rowErr *RowError
	if errors.As(err, &rowErr) {
		rowErr.Index = index
		if f := rowErr.Field; f != OutcomeColCrimeID && f != OutcomeColMonth && f != OutcomeColType {
			rowErr.Field = "" // a column the reader does not use: the record as a whole
		}
		return nil, rowErr
	} else if err != nil {
		return nil, fmt.Errorf("geo: reading police.uk outcomes: %w", err)
	}
	rec, line := r.fields, r.line
	bad := func(field, format string, args ...any) (*Outcome, error) {
		return nil, &RowError{Line: line, Index: index, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	out := &Outcome{Line: line, Index: index}

	out.CrimeRef = strings.TrimSpace(rec[or.crime])
	if out.CrimeRef == "" {
		return bad(OutcomeColCrimeID, "required: an outcome belongs to a crime")
	} else if msg := checkText(out.CrimeRef, maxRefLen); msg != "" {
		return bad(OutcomeColCrimeID, "%s", msg)
	}

	month := strings.TrimSpace(rec[or.month])
	switch t, ok := parseMonth(month); {
	case month == "":
		return bad(OutcomeColMonth, "required: the month the outcome was recorded in, e.g. 2022-01")
	case !ok:
		if msg := checkText(month, 40); msg != "" {
			return bad(OutcomeColMonth, "not a month: %s", msg)
		}
		return bad(OutcomeColMonth, "%q is not a month: want YYYY-MM, e.g. 2022-01", month)
	case t.Before(earliest):
		return bad(OutcomeColMonth, "%s is before 1900", month)
	case t.After(or.latest):
		return bad(OutcomeColMonth, "%s is in the future", month)
	default:
		out.Month = t
	}

	out.Type = strings.Join(strings.Fields(rec[or.typ]), " ")
	if out.Type == "" {
		return bad(OutcomeColType, "required")
	} else if msg := checkText(out.Type, maxOffenceLen); msg != "" {
		return bad(OutcomeColType, "%s", msg)
	}
	out.Positive, out.Known = ClassifyOutcome(out.Type)
	return out, nil
}

// parseMonth reads YYYY-MM, as police.uk writes months, into its first day.
func parseMonth(s string) (time.Time, bool) {
	if len(s) != 7 || s[4] != '-' {
		return time.Time{}, false
	}
	y, m := 0, 0
	for i, c := range []byte(s) {
		switch {
		case i == 4:
		case c < '0' || c > '9':
			return time.Time{}, false
		case i < 4:
			y = y*10 + int(c-'0')
		default:
			m = m*10 + int(c-'0')
		}
	}
	if m < 1 || m > 12 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC), true
}

// OutcomesName reports whether a file name says it holds police.uk outcomes, as
// police.uk names them ("2022-01-thames-valley-outcomes.csv").
func OutcomesName(name string) bool {
	return strings.Contains(strings.ToLower(filepath.Base(name)), "outcomes")
}

// SniffOutcomes looks at the header of r's content and reports whether it is a
// police.uk outcomes file: it names an Outcome type column and no Crime type
// column (a street-level file has Crime type and Last outcome category). The
// returned reader gives the whole content, gunzipped and without a byte order mark,
// for NewOutcomeReader or NewReader, gunzipped up to DefaultMaxDecompressed bytes.
func SniffOutcomes(r io.Reader) (io.Reader, bool, error) {
	return SniffOutcomesCapped(r, DefaultMaxDecompressed)
}

// SniffOutcomesCapped is SniffOutcomes with a cap on the bytes a gzip input may
// decompress to (see Limits.Decompressed); past it, reading fails with EINVALID.
func SniffOutcomesCapped(r io.Reader, maxDecompressed int64) (io.Reader, bool, error) {
	br, err := decompress(r, maxDecompressed)
	if err != nil {
		return nil, false, err
	}
	head, err := br.Peek(4096)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		var e *Error
		if errors.As(err, &e) {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("geo: reading input: %w", err)
	}
	firstLine, _, _ := bytes.Cut(head, []byte("\n"))
	header, err := csv.NewReader(bytes.NewReader(firstLine)).Read()
	if err != nil {
		return br, false, nil
	}
	var outcome, crimeType bool
	for _, h := range header {
		switch strings.TrimSpace(h) {
		case OutcomeColType:
			outcome = true
		case "Crime type":
			crimeType = true
		}
	}
	return br, outcome && !crimeType, nil
}
