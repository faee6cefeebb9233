package cases

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

func TestRepeatWindow(t *testing.T) {
	for _, tt := range []struct {
		months   int
		asOf     time.Time
		wantFrom time.Time
	}{
		{12, day(2024, 3, 10), day(2023, 3, 11)},
		{12, day(2024, 2, 29), day(2023, 3, 1)}, // 28 Feb 2023 stands for the 29th
		{12, day(2025, 2, 28), day(2024, 2, 29)},
		{12, day(2024, 1, 1), day(2023, 1, 2)},
		{1, day(2024, 3, 31), day(2024, 3, 1)}, // no 31 February: from the day after the 29th
		{3, day(2024, 5, 31), day(2024, 3, 1)},
		{6, day(2024, 8, 31), day(2024, 3, 1)},
		{24, day(2024, 3, 10), day(2022, 3, 11)},
	} {
		from, to := RepeatRule{WindowMonths: tt.months, MinReports: 2}.Window(tt.asOf)
		if !from.Equal(tt.wantFrom) || !to.Equal(tt.asOf) {
			t.Errorf("%d months to %s: got %s to %s, want %s", tt.months, tt.asOf.Format(time.DateOnly),
				from.Format(time.DateOnly), to.Format(time.DateOnly), tt.wantFrom.Format(time.DateOnly))
		}
	}
	if err := (RepeatRule{WindowMonths: 0, MinReports: 2}).Check(); geo.ErrorCode(err) != geo.EINVALID {
		t.Errorf("a window of 0 months: %v", err)
	}
	if err := (RepeatRule{WindowMonths: 12, MinReports: 1}).Check(); geo.ErrorCode(err) != geo.EINVALID {
		t.Errorf("one report: %v", err)
	}
	if err := DefaultRepeatRule().Check(); err != nil {
		t.Error(err)
	}
}

// TestRepeatsAtTheEdges counts repeats as of Sun 10 March 2024: the window is 11
// March 2023 to 10 March 2024, both days in.
func TestRepeatsAtTheEdges(t *testing.T) {
	k := func(c byte) string { return strings.Repeat(string(c), 32) }
	r := func(ref, victim, offender string, d time.Time, area string, strands ...string) Report {
		return Report{Source: "police", SourceRef: ref, VictimKey: victim, OffenderKey: offender, Day: d, Strands: strands, Areas: []string{area}}
	}
	reports := []Report{
		// v1: the day before the window (out), its first day and its last (in), the day after (out).
		r("1", k('1'), "", day(2023, 3, 10), "E05000001", "race"),
		r("2", k('1'), k('o'), day(2023, 3, 11), "E05000002", "religion"),
		r("3", k('1'), "", day(2024, 3, 10), "E05000001", "race"),
		r("4", k('1'), "", day(2024, 3, 11), "E05000003", "disability"),
		// v2: a year and a day apart, or one in the window: not a repeat.
		r("5", k('2'), "", day(2023, 3, 10), "E05000001", "race"),
		r("6", k('2'), k('o'), day(2024, 3, 1), "E05000001", "race"),
		// v3: three in the window, one of two strands.
		r("7", k('3'), "", day(2024, 1, 2), "E05000004", "race", "religion"),
		r("8", k('3'), "", day(2024, 1, 1), "E05000004", "race"),
		r("9", k('3'), "", day(2024, 2, 5), "E05000005", "sexual_orientation"),
		// No victim named.
		r("10", "", k('p'), day(2024, 2, 5), "E05000005", "race"),
		r("11", "", k('p'), day(2022, 2, 5), "E05000005", "race"),
	}
	rule := DefaultRepeatRule()
	asOf := day(2024, 3, 10)
	got := rule.Find(reports, Victim, asOf)
	if len(got) != 2 {
		t.Fatalf("repeat victims: got %+v, want v3 and v1", got)
	}
	v3, v1 := got[0], got[1]
	if v3.Key != k('3') || v3.Reports != 3 || !v3.First.Equal(day(2024, 1, 1)) || !v3.Last.Equal(day(2024, 2, 5)) ||
		!slices.Equal(v3.Strands, []string{"race", "religion", "sexual_orientation"}) ||
		!slices.Equal(v3.Areas, []string{"E05000004", "E05000005"}) ||
		!slices.Equal(v3.Refs, []ReportRef{{"police", "8"}, {"police", "7"}, {"police", "9"}}) {
		t.Errorf("v3: %+v", v3)
	}
	if v1.Key != k('1') || v1.Reports != 2 || !v1.First.Equal(day(2023, 3, 11)) || !v1.Last.Equal(day(2024, 3, 10)) ||
		!slices.Equal(v1.Strands, []string{"race", "religion"}) || !slices.Equal(v1.Areas, []string{"E05000001", "E05000002"}) {
		t.Errorf("v1: %+v", v1)
	}
	// A day later the report of 11 March 2023 has left the window and that of 11
	// March 2024 entered it.
	if got := rule.Find(reports, Victim, asOf.AddDate(0, 0, 1)); len(got) != 2 || got[1].Key != k('1') ||
		!slices.Equal(got[1].Refs, []ReportRef{{"police", "3"}, {"police", "4"}}) {
		t.Errorf("on 11 March 2024: %+v, want v3, and v1 with reports 3 and 4", got)
	}
	// A day earlier, the reports of 10 March 2023 were in and that of 10 March
	// 2024 not yet: v2's two reports, 10 March 2023 and 1 March 2024, are repeats.
	if got := rule.Find(reports, Victim, asOf.AddDate(0, 0, -1)); len(got) != 3 || got[1].Key != k('2') || got[2].Key != k('1') ||
		!slices.Equal(got[2].Refs, []ReportRef{{"police", "1"}, {"police", "2"}}) {
		t.Errorf("on 9 March 2024: %+v, want v3, v2, and v1 with reports 1 and 2", got)
	}
	// Offenders: o has two reports in the window, p one (the other is older).
	off := rule.Find(reports, Offender, asOf)
	if len(off) != 1 || off[0].Key != k('o') || off[0].Who != Offender || off[0].Reports != 2 {
		t.Errorf("repeat offenders: %+v", off)
	}
	// Three reports or more: v3 only.
	if got := (RepeatRule{WindowMonths: 12, MinReports: 3}).Find(reports, Victim, asOf); len(got) != 1 || got[0].Key != k('3') {
		t.Errorf("three or more: %+v", got)
	}
	// The review's counts by the same rule: 6 keyed reports in the window (v1 2,
	// v2 1, v3 3) name 3 victims, 2 of them repeats with 5 reports.
	if got, want := rule.Count(reports, Victim, asOf), (geo.RepeatCounts{WithKey: 6, People: 3, RepeatPeople: 2, RepeatReports: 5}); got != want {
		t.Errorf("counts: got %+v, want %+v", got, want)
	}
	// v1 has an open case (any partner's), v3 only a closed one: v3 is flagged.
	cs := []*Case{{VictimKey: k('1')}, {VictimKey: k('3'), Closure: &Closure{}}, {VictimKey: k('9')}}
	MarkOpenCases(got, cs)
	if got[0].OpenCase || !got[1].OpenCase {
		t.Errorf("open cases: v3 %v, v1 %v", got[0].OpenCase, got[1].OpenCase)
	}
	if flagged := WithoutOpenCase(got); len(flagged) != 1 || flagged[0].Key != k('3') {
		t.Errorf("flagged: %+v", flagged)
	}
}
