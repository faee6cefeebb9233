package geo

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	_ "time/tzdata" // Europe/London without relying on the machine's zoneinfo
)

// fixedNow is the clock of every test validator: mid-June, during British Summer Time.
var fixedNow = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

// testKey is the pseudonymisation key of the test validators.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// buildValidator returns a validator with o's options, the fixed clock when o has no
// clock, and fails the test when the options are rejected.
func buildValidator(tb testing.TB, o ValidatorOptions) *Validator {
	tb.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return fixedNow }
	}
	v, err := NewValidator(o)
	if err != nil {
		tb.Fatalf("NewValidator: got error %v, want none", err)
	}
	return v
}

// london loads Europe/London.
func london(tb testing.TB) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		tb.Fatalf("loading Europe/London: %v", err)
	}
	return loc
}

// day returns a calendar day as the validator represents it: midnight UTC.
func day(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// readResult is everything a Reader returned until io.EOF or a fatal error.
type readResult struct {
	records []*RawIncident
	rowErrs []*RowError
	fatal   error
	calls   int
}

// maxReaderCalls bounds drain, so that a reader that never ends fails a test rather
// than hanging it.
const maxReaderCalls = 1_000_000

// drain calls Next until io.EOF or an error that is not a *RowError.
func drain(tb testing.TB, r Reader) readResult {
	tb.Helper()
	var res readResult
	for res.calls = 1; res.calls <= maxReaderCalls; res.calls++ {
		raw, err := r.Next()
		var re *RowError
		switch {
		case err == io.EOF:
			return res
		case errors.As(err, &re):
			if raw != nil {
				tb.Errorf("Next returned a record and a row error %v; want only the error", err)
			}
			res.rowErrs = append(res.rowErrs, re)
		case err != nil:
			res.fatal = err
			return res
		case raw == nil:
			tb.Fatalf("Next returned neither a record nor an error")
		default:
			res.records = append(res.records, raw)
		}
	}
	tb.Fatalf("reader did not reach io.EOF after %d calls", maxReaderCalls)
	return res
}

// openInput returns NewReader over content, failing the test on error.
func openInput(tb testing.TB, content string, o ReaderOptions) Reader {
	tb.Helper()
	r, err := NewReader(strings.NewReader(content), o)
	if err != nil {
		tb.Fatalf("NewReader: got error %v, want none", err)
	}
	return r
}

// readInput reads content to the end with NewReader and options o.
func readInput(tb testing.TB, content string, o ReaderOptions) readResult {
	tb.Helper()
	res := drain(tb, openInput(tb, content, o))
	if res.fatal != nil {
		tb.Fatalf("reading: got fatal error %v, want none", res.fatal)
	}
	return res
}

// gzipped compresses b.
func gzipped(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// crlf joins lines with CRLF line endings and ends the last with one too.
func crlf(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }

// lf joins lines with LF line endings and ends the last with one too.
func lf(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// wantErrCode checks that err is non-nil, carries code and mentions every substring.
func wantErrCode(tb testing.TB, err error, code string, substrings ...string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want a %s error mentioning %q", code, substrings)
	}
	if got := ErrorCode(err); got != code {
		tb.Errorf("got error code %q (%v), want %q", got, err, code)
	}
	for _, s := range substrings {
		if !strings.Contains(err.Error(), s) {
			tb.Errorf("got error %q, want it to mention %q", err, s)
		}
	}
}

// wantRowError checks that err is a *RowError for field whose reason mentions reason.
func wantRowError(tb testing.TB, err error, line int, field, reason string) *RowError {
	tb.Helper()
	var re *RowError
	if !errors.As(err, &re) {
		tb.Fatalf("got error %v (%T), want a *RowError on field %q", err, err, field)
	}
	if re.Field != field {
		tb.Errorf("got field %q (%v), want %q", re.Field, re, field)
	}
	if line >= 0 && re.Line != line {
		tb.Errorf("got line %d (%v), want %d", re.Line, re, line)
	}
	if !strings.Contains(re.Reason, reason) {
		tb.Errorf("got reason %q, want it to mention %q", re.Reason, reason)
	}
	return re
}

// checkIncident checks the invariants every valid incident satisfies.
func checkIncident(tb testing.TB, in *Incident) {
	tb.Helper()
	if in == nil {
		tb.Fatalf("got a nil incident and no error")
	}
	if in.Precision.Located() {
		if in.Location.Lat < -90 || in.Location.Lat > 90 || in.Location.Lon < -180 || in.Location.Lon > 180 ||
			in.Location.Lat != in.Location.Lat || in.Location.Lon != in.Location.Lon {
			tb.Errorf("got location %v, want latitude in -90..90 and longitude in -180..180", in.Location)
		}
	} else if in.Location != (LatLon{}) {
		tb.Errorf("got location %v with precision %q, want none", in.Location, in.Precision)
	}
	found := false
	for _, p := range Precisions {
		found = found || p == in.Precision
	}
	if !found {
		tb.Errorf("got precision %q, want one of %v", in.Precision, Precisions)
	}
	if in.OccurredFrom.IsZero() || in.OccurredTo.IsZero() {
		tb.Errorf("got occurred %v..%v, want both ends set", in.OccurredFrom, in.OccurredTo)
	}
	if in.OccurredTo.Before(in.OccurredFrom) {
		tb.Errorf("got OccurredTo %v before OccurredFrom %v, want From <= To", in.OccurredTo, in.OccurredFrom)
	}
	for _, d := range []time.Time{in.OccurredFrom, in.OccurredTo} {
		if d != dayOf(d) || d.Location() != time.UTC {
			tb.Errorf("got occurred day %v, want midnight UTC", d)
		}
	}
	if len(in.Strands) == 0 {
		tb.Errorf("got no strands, want at least one")
	}
	for i := 1; i < len(in.Strands); i++ {
		if in.Strands[i-1] >= in.Strands[i] {
			tb.Errorf("got strands %q, want them sorted and unique", in.Strands)
			break
		}
	}
	if in.Kind != KindCrime && in.Kind != KindIncident {
		tb.Errorf("got kind %q, want crime or incident", in.Kind)
	}
	if in.Source == "" || in.SourceRef == "" {
		tb.Errorf("got source %q ref %q, want both", in.Source, in.SourceRef)
	}
}
