package geo

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// FuzzOutcomeReader reads arbitrary bytes as a police.uk outcomes file, and sniffs
// them, checking that nothing panics, that reading ends, that every error is one the
// OutcomeReader contract allows, and that every outcome read is one the database
// can store. Run it with:
//
//	go test -run='^$' -fuzz=FuzzOutcomeReader -fuzztime=20s ./geo/
func FuzzOutcomeReader(f *testing.F) {
	f.Add([]byte(outcomesFixture))
	f.Add([]byte(strings.ReplaceAll(outcomesFixture, "\r\n", "\n")))
	f.Add(gzipped(f, append(append([]byte{}, bom...), outcomesFixture...)))
	f.Add([]byte(crlf("Outcome type,Month,Crime ID", "Offender fined,2022-01,X1", `,"`, "a,b,c", ",2022-13,", "x,1899-12,y")))
	f.Add([]byte(policeUKFixture))
	f.Add([]byte(""))
	now := func() time.Time { return fixedNow }
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzOutcomes(t, data, OutcomeReaderOptions{Now: now})
		fuzzOutcomes(t, data, OutcomeReaderOptions{Now: now, Limits: fuzzLimits})
		sniffed, outcomes, err := SniffOutcomes(bytes.NewReader(data))
		if err != nil {
			checkFuzzFatal(t, "SniffOutcomes", err)
			return
		}
		if outcomes {
			// A file sniffed as outcomes has the columns the reader needs, or says why not.
			if _, err := NewOutcomeReader(sniffed, OutcomeReaderOptions{Now: now}); err != nil {
				checkFuzzFatal(t, "NewOutcomeReader after SniffOutcomes", err)
			}
		}
	})
}

func fuzzOutcomes(t *testing.T, data []byte, opts OutcomeReaderOptions) {
	r, err := NewOutcomeReader(bytes.NewReader(data), opts)
	if err != nil {
		checkFuzzFatal(t, "NewOutcomeReader", err)
		if r != nil {
			t.Fatalf("NewOutcomeReader: got reader %T with error %v, want nil", r, err)
		}
		return
	}
	limit := 1100*len(data) + 1024 // as fuzzRead: no honest reader needs more calls
	lastIndex, lastLine := -1, 0
	for calls := 0; ; calls++ {
		if calls > limit {
			t.Fatalf("reader returned more than %d results from %d bytes: it does not end", limit, len(data))
		}
		o, err := r.Next()
		if err == io.EOF {
			if o != nil {
				t.Fatalf("got an outcome with io.EOF")
			}
			if _, again := r.Next(); again != io.EOF {
				t.Fatalf("got %v after io.EOF, want io.EOF again", again)
			}
			return
		}
		var re *RowError
		if errors.As(err, &re) {
			if o != nil {
				t.Fatalf("got an outcome with row error %v", err)
			}
			if re.Line < 1 || re.Index <= lastIndex || re.Line < lastLine {
				t.Fatalf("got row error at line %d index %d after line %d index %d, want line >= 1 and both advancing", re.Line, re.Index, lastLine, lastIndex)
			}
			if re.Field != "" && re.Field != OutcomeColCrimeID && re.Field != OutcomeColMonth && re.Field != OutcomeColType {
				t.Fatalf("got row error on %q, which is not a column the reader uses", re.Field)
			}
			if re.Reason == "" || !strings.HasPrefix(re.Error(), "line ") {
				t.Fatalf("got row error %q, want a line and a reason", re.Error())
			}
			lastIndex, lastLine = re.Index, re.Line
			continue
		}
		if err != nil {
			checkFuzzFatal(t, "Next", err)
			if o != nil {
				t.Fatalf("got an outcome with fatal error %v", err)
			}
			return
		}
		if o == nil {
			t.Fatalf("got neither an outcome nor an error")
		}
		if o.Line < 1 || o.Index <= lastIndex || o.Line < lastLine {
			t.Fatalf("got outcome at line %d index %d after line %d index %d, want line >= 1 and both advancing", o.Line, o.Index, lastLine, lastIndex)
		}
		lastIndex, lastLine = o.Index, o.Line
		checkOutcome(t, o, opts.Now())
	}
}

// checkOutcome checks what the database relies on: text it can store, a month that
// is a first day in range, and a classification that agrees with the table.
func checkOutcome(t *testing.T, o *Outcome, now time.Time) {
	for _, s := range []string{o.CrimeRef, o.Type} {
		if s == "" || s != strings.TrimSpace(s) || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) || utf8.RuneCountInString(s) > 200 {
			t.Fatalf("got text %q, want trimmed, non-empty UTF-8 without control characters, at most 200 characters", s)
		}
	}
	if strings.Contains(o.Type, "  ") {
		t.Fatalf("got outcome type %q with a run of spaces", o.Type)
	}
	if o.Month.Day() != 1 || o.Month.Location() != time.UTC || o.Month.Hour() != 0 || o.Month.Before(earliest) || o.Month.After(now) {
		t.Fatalf("got month %v, want the first day of a month from 1900 to now, midnight UTC", o.Month)
	}
	if positive, known := ClassifyOutcome(o.Type); positive != o.Positive || known != o.Known || (o.Positive && !o.Known) {
		t.Fatalf("got positive %v known %v for %q, want %v %v", o.Positive, o.Known, o.Type, positive, known)
	}
}
