package cases

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

var csvNow = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)

func csvOptions() CSVOptions {
	return CSVOptions{Partner: "council", Mapping: map[string]string{"ref": "Case No", "opened_at": "Date opened", "victim_ref": "Client"},
		Pseudonymise: func(p, r string) string {
			return geo.Pseudonym([]byte("a test key of at least thirty-two bytes"), p, r)
		},
		Today: csvNow, Now: csvNow, Actor: "cli:test"}
}

// TestReadCSV reads an export with its own column names: good rows become cases
// with their contacts, closure and survey; each bad row is rejected with its
// line, field and reason, and the good ones are kept.
func TestReadCSV(t *testing.T) {
	in := strings.Join([]string{
		"Case No,Date opened,Client,first_contact_at,contacts,victims_code_at,risk,closed_at,outcome,survey_at,satisfied_outcome,satisfied_handling,reports,Notes",
		"ASB-1,2026-04-03 10:00,C-17,2026-04-07 10:00,2026-04-14 11:00;2026-04-16 09:00,2026-04-07 10:00,medium,2026-04-16 15:00,resolved,20/05/2026,yes,yes,R1;police:P9,kept out",
		"ASB-2,2026-05-04,C-18,,,,high,,,,,,,",
		"ASB-3,not a date,C-19,,,,,,,,,,,",
		"ASB-4,2026-05-04,,,,,,,,,,,,",
		"ASB-5,2026-05-04,C-20,,,,severe,,,,,,,",
		"ASB-6,2026-05-04,C-21,,,,,2026-05-03 10:00,resolved,,,,,",
		"ASB-1,2026-05-04,C-22,,,,,,,,,,,",
		"ASB-7,2026-05-04,C-23,,,,,,,,maybe,,,",
		"ASB-8,2026-06-01,C-24,2026-06-02 09:00,,,,2026-06-05 10:00,not resolved,2026-06-10,,,,",
	}, "\n")
	cs, rejects, err := ReadCSV(strings.NewReader(in), csvOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 {
		t.Fatalf("read %d cases, want ASB-1, ASB-2 and ASB-8: %+v", len(cs), rejects)
	}
	want := []struct {
		line   int
		field  string
		reason string
	}{{4, "opened_at", "not a day"}, {5, "victim_ref", "required"}, {6, "risk", "severe"}, {7, "closure at", "before"},
		{8, "ref", "also on line 2"}, {9, "survey_at", "required when the survey's answers"}}
	if len(rejects) != len(want) {
		t.Fatalf("rejected %d rows, want %d: %v", len(rejects), len(want), rejects)
	}
	for i, w := range want {
		r := rejects[i]
		if r.Line != w.line || r.Field != w.field || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("rejection %d: got line %d %s %q, want line %d %s with %q", i, r.Line, r.Field, r.Reason, w.line, w.field, w.reason)
		}
	}
	c := cs[0]
	if c.Ref != "ASB-1" || c.Partner != "council" || !IsVictimKey(c.VictimKey) || c.Risk != RiskMedium {
		t.Errorf("ASB-1: %+v", c)
	}
	if n := len(c.ContactTimes()); n != 3 || !c.FirstContactAt.Equal(time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("ASB-1 contacts: %d, first %v", n, c.FirstContactAt)
	}
	if c.Closure == nil || c.Closure.Outcome != OutcomeResolved || c.Survey == nil || !c.Survey.SatisfiedOutcome ||
		c.Survey.At.Day() != 20 || len(c.Reports) != 2 || c.Reports[1] != (ReportRef{Source: "police", Ref: "P9"}) {
		t.Errorf("ASB-1 closure, survey, reports: %+v %+v %v", c.Closure, c.Survey, c.Reports)
	}
	if len(c.History) != 1 || c.History[0].Actor != "cli:test" {
		t.Errorf("history: %+v", c.History)
	}
	if c8 := cs[2]; c8.Closure.Outcome != OutcomeNotResolved || c8.Closure.Reason == "" || c8.Survey == nil || c8.Survey.SatisfiedOutcome {
		t.Errorf("ASB-8: %+v %+v", c8.Closure, c8.Survey)
	}
}

// TestReadCSVFile refuses a file it cannot read as cases, saying why.
func TestReadCSVFile(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "empty"},
		{"ref,victim_ref\nA,B\n", "no opened_at column"},
		{"ref,opened_at\nA,2026-01-01\n", "no victim_ref or victim_key"},
		{"ref,opened_at,victim_key,ref\n", "appears twice"},
	} {
		o := csvOptions()
		o.Mapping = nil
		_, _, err := ReadCSV(strings.NewReader(c.in), o)
		if geo.ErrorCode(err) != geo.EINVALID || !strings.Contains(geo.ErrorMessage(err), c.want) {
			t.Errorf("%q: got %v, want an invalid-input error with %q", c.in, err, c.want)
		}
	}
}

// FuzzReadCSV: any input reads as checked cases with rejected rows, or is refused
// with an invalid-input error; every case read passes the rules, every rejection
// names a line and a field.
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("ref,opened_at,victim_ref,contacts\nA,2026-01-01,V,2026-01-02 10:00\n"))
	f.Add([]byte("ref,opened_at,victim_key,closed_at,outcome,survey_at\nA,2026-01-01," + strings.Repeat("a", 32) + ",2026-01-02,withdrawn,2026-01-03\n"))
	f.Add([]byte("ref,opened_at,victim_ref\n\"A,2026-01-01\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		o := csvOptions()
		o.Mapping = nil
		cs, rejects, err := ReadCSV(bytes.NewReader(in), o)
		if err != nil {
			if geo.ErrorCode(err) != geo.EINVALID || strings.TrimSpace(geo.ErrorMessage(err)) == "" {
				t.Fatalf("got %v, want an invalid-input error with a message", err)
			}
		}
		for _, c := range cs {
			if err := o.Rules.Check(c, csvNow); err != nil {
				t.Fatalf("a case read fails the rules: %v", err)
			}
		}
		for _, r := range rejects {
			if r.Line < 1 || r.Field == "" || r.Reason == "" {
				t.Fatalf("a rejection without its line, field or reason: %+v", r)
			}
		}
	})
}
