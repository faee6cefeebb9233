package cases

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// easterOudin is Easter Sunday by Oudin's algorithm (1940), a computus written
// independently of the one the table was drawn from.
func easterOudin(y int) time.Time {
	c := y / 100
	n := y - 19*(y/19)
	k := (c - 17) / 25
	i := c - c/4 - (c-k)/3 + 19*n + 15
	i = i - 30*(i/30)
	i = i - (i/28)*(1-(i/28)*(29/(i+1))*((21-n)/11))
	j := y + y/4 + i + 2 - c + c/4
	j = j - 7*(j/7)
	l := i - j
	m := 3 + (l+40)/44
	d := l + 28 - 31*(m/4)
	return day(y, time.Month(m), d)
}

// TestEasterComputus checks the computus on Easter Sundays from almanacs, the
// earliest and latest possible among them.
func TestEasterComputus(t *testing.T) {
	for _, want := range []time.Time{day(1818, 3, 22), day(1943, 4, 25), day(2000, 4, 23), day(2008, 3, 23), day(2011, 4, 24),
		day(2015, 4, 5), day(2016, 3, 27), day(2019, 4, 21), day(2020, 4, 12), day(2022, 4, 17), day(2023, 4, 9),
		day(2024, 3, 31), day(2025, 4, 20), day(2026, 4, 5), day(2027, 3, 28), day(2038, 4, 25), day(2285, 3, 22)} {
		if got := easterOudin(want.Year()); !got.Equal(want) {
			t.Errorf("Easter %d: got %s, want %s", want.Year(), got.Format(time.DateOnly), want.Format(time.DateOnly))
		}
	}
}

// TestEnglandAndWalesTable rebuilds the bank holidays of every year the table
// covers from the standing rules (Easter by computus; substitute days for New
// Year, Christmas and Boxing Day on a weekend) and the one-off changes, and
// compares them with the table, day and name.
func TestEnglandAndWalesTable(t *testing.T) {
	got := EnglandAndWales()
	firstMonday := func(y int, m time.Month) time.Time {
		d := day(y, m, 1)
		for d.Weekday() != time.Monday {
			d = d.AddDate(0, 0, 1)
		}
		return d
	}
	lastMonday := func(y int, m time.Month) time.Time {
		d := day(y, m+1, 1).AddDate(0, 0, -1)
		for d.Weekday() != time.Monday {
			d = d.AddDate(0, 0, -1)
		}
		return d
	}
	var want []Holiday
	h := func(d time.Time, name string) { want = append(want, Holiday{Day: d, Name: name}) }
	for y := 2015; y <= 2030; y++ {
		switch day(y, 1, 1).Weekday() {
		case time.Saturday:
			h(day(y, 1, 3), "New Year’s Day (substitute day)")
		case time.Sunday:
			h(day(y, 1, 2), "New Year’s Day (substitute day)")
		default:
			h(day(y, 1, 1), "New Year’s Day")
		}
		e := easterOudin(y)
		h(e.AddDate(0, 0, -2), "Good Friday")
		h(e.AddDate(0, 0, 1), "Easter Monday")
		switch y {
		case 2020:
			h(day(2020, 5, 8), "Early May bank holiday (VE day)") // moved from 4 May for the 75th anniversary
		default:
			h(firstMonday(y, 5), "Early May bank holiday")
		}
		if y == 2023 {
			h(day(2023, 5, 8), "Bank holiday for the coronation of King Charles III")
		}
		if y == 2022 {
			h(day(2022, 6, 2), "Spring bank holiday") // moved from 30 May
			h(day(2022, 6, 3), "Platinum Jubilee bank holiday")
			h(day(2022, 9, 19), "Bank Holiday for the State Funeral of Queen Elizabeth II")
		} else {
			h(lastMonday(y, 5), "Spring bank holiday")
		}
		h(lastMonday(y, 8), "Summer bank holiday")
		switch day(y, 12, 25).Weekday() {
		case time.Friday:
			h(day(y, 12, 25), "Christmas Day")
			h(day(y, 12, 28), "Boxing Day (substitute day)")
		case time.Saturday:
			h(day(y, 12, 27), "Christmas Day (substitute day)")
			h(day(y, 12, 28), "Boxing Day (substitute day)")
		case time.Sunday:
			h(day(y, 12, 26), "Boxing Day")
			h(day(y, 12, 27), "Christmas Day (substitute day)")
		default:
			h(day(y, 12, 25), "Christmas Day")
			h(day(y, 12, 26), "Boxing Day")
		}
	}
	slices.SortFunc(want, func(a, b Holiday) int { return a.Day.Compare(b.Day) })
	if len(got) != len(want) {
		t.Fatalf("the table has %d days, the rules give %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Day.Equal(want[i].Day) || got[i].Name != want[i].Name {
			t.Errorf("row %d: got %s %q, want %s %q", i+1, got[i].Day.Format(time.DateOnly), got[i].Name,
				want[i].Day.Format(time.DateOnly), want[i].Name)
		}
		if wd := got[i].Day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			t.Errorf("%s is on a %s", got[i].Day.Format(time.DateOnly), wd)
		}
	}
	// The one-off days named in the issue, checked by date on their own.
	cal := DefaultCalendar(time.UTC)
	for _, d := range []time.Time{day(2020, 5, 8), day(2022, 6, 2), day(2022, 6, 3), day(2022, 9, 19), day(2023, 5, 8)} {
		if cal.IsWorkingDay(d) {
			t.Errorf("%s is a working day; want a bank holiday", d.Format(time.DateOnly))
		}
	}
	for _, d := range []time.Time{day(2020, 5, 4), day(2022, 5, 30), day(2023, 5, 9)} {
		if !cal.IsWorkingDay(d) {
			t.Errorf("%s is not a working day; want one (the holiday moved)", d.Format(time.DateOnly))
		}
	}
	if first, last := cal.Years(); first != 2015 || last != 2030 {
		t.Errorf("years: got %d to %d, want 2015 to 2030", first, last)
	}
}

// TestWorkingDaysByHand checks days counted by hand on a calendar, across Easter,
// Christmas and New Year in several years and the one-off days.
func TestWorkingDaysByHand(t *testing.T) {
	cal := DefaultCalendar(time.UTC)
	for _, tt := range []struct {
		name  string
		from  time.Time
		n     int
		want  time.Time
		count int // WorkingDaysBetween(from, want); n unless from is not a working day and n <= 0
	}{
		// 2022: Christmas Day on a Sunday: Mon 26 Boxing Day, Tue 27 Christmas
		// (substitute); 1 Jan 2023 a Sunday: Mon 2 Jan New Year (substitute).
		{"Fri 23 Dec 2022 + 1", day(2022, 12, 23), 1, day(2022, 12, 28), 1},
		{"Fri 30 Dec 2022 + 1", day(2022, 12, 30), 1, day(2023, 1, 3), 1},
		{"Sat 31 Dec 2022 + 1", day(2022, 12, 31), 1, day(2023, 1, 3), 1},
		{"Mon 2 Jan 2023 (bank holiday) + 1", day(2023, 1, 2), 1, day(2023, 1, 3), 1},
		{"Fri 23 Dec 2022 + 10", day(2022, 12, 23), 10, day(2023, 1, 11), 10}, // 28 29 30, 3 4 5 6, 9 10 11
		{"Tue 3 Jan 2023 - 1", day(2023, 1, 3), -1, day(2022, 12, 30), -1},
		{"Wed 28 Dec 2022 - 1", day(2022, 12, 28), -1, day(2022, 12, 23), -1},
		// 2020: Boxing Day on a Saturday: Mon 28 Dec (substitute).
		{"Thu 24 Dec 2020 + 1", day(2020, 12, 24), 1, day(2020, 12, 29), 1},
		{"Thu 24 Dec 2020 + 3", day(2020, 12, 24), 3, day(2020, 12, 31), 3},
		{"Thu 31 Dec 2020 + 1", day(2020, 12, 31), 1, day(2021, 1, 4), 1},
		// 2021: Christmas on a Saturday: Mon 27 and Tue 28 (substitutes); New Year
		// 2022 on a Saturday: Mon 3 Jan (substitute).
		{"Fri 24 Dec 2021 + 1", day(2021, 12, 24), 1, day(2021, 12, 29), 1},
		{"Fri 24 Dec 2021 + 10", day(2021, 12, 24), 10, day(2022, 1, 12), 10}, // 29 30 31, 4 5 6 7, 10 11 12
		// 2027: Christmas on a Saturday again; 2028 New Year on a Saturday.
		{"Fri 24 Dec 2027 + 1", day(2027, 12, 24), 1, day(2027, 12, 29), 1},
		{"Fri 31 Dec 2027 + 1", day(2027, 12, 31), 1, day(2028, 1, 4), 1},
		// Easter 2023 (9 April): Good Friday 7, Easter Monday 10.
		{"Thu 6 Apr 2023 + 1", day(2023, 4, 6), 1, day(2023, 4, 11), 1},
		{"Thu 6 Apr 2023 + 3", day(2023, 4, 6), 3, day(2023, 4, 13), 3},
		{"Tue 11 Apr 2023 - 1", day(2023, 4, 11), -1, day(2023, 4, 6), -1},
		// Easter 2024 (31 March): Good Friday 29 March, Easter Monday 1 April.
		{"Thu 28 Mar 2024 + 1", day(2024, 3, 28), 1, day(2024, 4, 2), 1},
		{"Wed 27 Mar 2024 + 10", day(2024, 3, 27), 10, day(2024, 4, 12), 10}, // 28, 2 3 4 5, 8 9 10 11 12
		// Easter 2016 (27 March), early: Good Friday 25 March.
		{"Thu 24 Mar 2016 + 1", day(2016, 3, 24), 1, day(2016, 3, 29), 1},
		// Easter 2019 (21 April), late, with early May two weeks after.
		{"Thu 18 Apr 2019 + 10", day(2019, 4, 18), 10, day(2019, 5, 7), 10}, // 23 24 25 26, 29 30 1 2 3, (6 May) 7
		// 2020: early May moved to Fri 8 May; Mon 4 May was a working day.
		{"Fri 1 May 2020 + 1", day(2020, 5, 1), 1, day(2020, 5, 4), 1},
		{"Thu 7 May 2020 + 1", day(2020, 5, 7), 1, day(2020, 5, 11), 1},
		// 2022: spring holiday Thu 2 June, jubilee Fri 3 June; state funeral Mon 19 Sep.
		{"Wed 1 Jun 2022 + 1", day(2022, 6, 1), 1, day(2022, 6, 6), 1},
		{"Fri 27 May 2022 + 1", day(2022, 5, 27), 1, day(2022, 5, 30), 1},
		{"Fri 16 Sep 2022 + 1", day(2022, 9, 16), 1, day(2022, 9, 20), 1},
		// 2023: coronation Mon 8 May, a week after early May Mon 1 May.
		{"Fri 28 Apr 2023 + 5", day(2023, 4, 28), 5, day(2023, 5, 9), 5}, // 2 3 4 5, 9
		// No working day is added by zero.
		{"Sun 25 Dec 2022 + 0", day(2022, 12, 25), 0, day(2022, 12, 25), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.AddWorkingDays(tt.from, tt.n); !got.Equal(tt.want) {
				t.Errorf("AddWorkingDays(%s, %d): got %s, want %s", dayWords(tt.from), tt.n, dayWords(got), dayWords(tt.want))
			}
			if got := cal.WorkingDaysBetween(tt.from, tt.want); got != tt.count {
				t.Errorf("WorkingDaysBetween(%s, %s): got %d, want %d", dayWords(tt.from), dayWords(tt.want), got, tt.count)
			}
		})
	}
	for _, tt := range []struct {
		from, to time.Time
		want     int
	}{
		{day(2022, 12, 23), day(2023, 1, 3), 4},   // 28 29 30, 3
		{day(2022, 12, 24), day(2022, 12, 27), 0}, // a weekend and two bank holidays
		{day(2023, 4, 6), day(2023, 4, 10), 0},    // Good Friday to Easter Monday
		{day(2023, 4, 7), day(2023, 4, 11), 1},
		{day(2022, 12, 31), day(2023, 12, 31), 251}, // 2023: 260 weekdays, 9 bank holidays
		{day(2021, 12, 31), day(2022, 12, 31), 250}, // 2022: 260 weekdays, 10 bank holidays
		{day(2023, 1, 9), day(2023, 1, 16), 5},      // Monday to Monday
		{day(2023, 1, 13), day(2023, 1, 14), 0},     // Friday to Saturday
		{day(2023, 1, 13), day(2023, 1, 13), 0},
		{day(2023, 1, 16), day(2023, 1, 9), -5},
	} {
		if got := cal.WorkingDaysBetween(tt.from, tt.to); got != tt.want {
			t.Errorf("WorkingDaysBetween(%s, %s): got %d, want %d", dayWords(tt.from), dayWords(tt.to), got, tt.want)
		}
	}
	// A moment's day is taken in the calendar's zone: 23:30 UTC on 30 June 2023
	// is 00:30 on 1 July in London.
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	if got := DefaultCalendar(london).Day(time.Date(2023, 6, 30, 23, 30, 0, 0, time.UTC)); !got.Equal(day(2023, 7, 1)) {
		t.Errorf("Day: got %s, want 2023-07-01", got)
	}
}

// naive counts working days one day at a time, from the table itself.
type naive map[time.Time]bool

func newNaive() naive {
	n := naive{}
	for _, h := range EnglandAndWales() {
		n[h.Day] = true
	}
	return n
}

func (n naive) working(d time.Time) bool {
	return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday && !n[d]
}

func (n naive) between(a, b time.Time) int {
	sign := 1
	if b.Before(a) {
		a, b, sign = b, a, -1
	}
	c := 0
	for d := a.AddDate(0, 0, 1); !d.After(b); d = d.AddDate(0, 0, 1) {
		if n.working(d) {
			c++
		}
	}
	return sign * c
}

// TestWorkingDaysRoundTrip: adding n working days and counting them back gives
// n; the day reached is a working day; counting agrees with a day-by-day count;
// and adding the count of working days up to a day reaches the last working day
// on or before it.
func TestWorkingDaysRoundTrip(t *testing.T) {
	cal := DefaultCalendar(time.UTC)
	nv := newNaive()
	r := rand.New(rand.NewPCG(14, 2026))
	start := day(2014, 6, 1)
	for i := 0; i < 3000; i++ {
		d := start.AddDate(0, 0, r.IntN(17*365))
		n := r.IntN(601) - 300
		got := cal.AddWorkingDays(d, n)
		want := n
		if n < 0 && !cal.IsWorkingDay(d) {
			want = n + 1 // counting back from a day off: the end counts, and it is not a working day
		}
		if back := cal.WorkingDaysBetween(d, got); back != want {
			t.Fatalf("WorkingDaysBetween(%s, AddWorkingDays(%s, %d) = %s) = %d", dayWords(d), dayWords(d), n, dayWords(got), back)
		}
		if n != 0 && !cal.IsWorkingDay(got) {
			t.Fatalf("AddWorkingDays(%s, %d) = %s, not a working day", dayWords(d), n, dayWords(got))
		}
		if n > 0 && nv.between(d, got.AddDate(0, 0, -1)) != n-1 {
			t.Fatalf("AddWorkingDays(%s, %d) = %s: not the first day reaching %d", dayWords(d), n, dayWords(got), n)
		}
		if n < 0 && nv.between(got, d.AddDate(0, 0, -1)) != -n-1 {
			t.Fatalf("AddWorkingDays(%s, %d) = %s: not the latest day %d working days back", dayWords(d), n, dayWords(got), -n)
		}
		e := d.AddDate(0, 0, r.IntN(801)-400)
		want = nv.between(d, e)
		if got := cal.WorkingDaysBetween(d, e); got != want {
			t.Fatalf("WorkingDaysBetween(%s, %s): got %d, day by day %d", dayWords(d), dayWords(e), got, want)
		}
		if e.After(d) && want > 0 {
			last := e
			for !nv.working(last) {
				last = last.AddDate(0, 0, -1)
			}
			if got := cal.AddWorkingDays(d, want); !got.Equal(last) {
				t.Fatalf("AddWorkingDays(%s, %d): got %s, want the last working day by %s, %s", dayWords(d), want, dayWords(got), dayWords(e), dayWords(last))
			}
		}
	}
}

func TestReadHolidays(t *testing.T) {
	in := "\ufeff# closures agreed by the partnership\nDate, Name, Change\n2024-12-24,Council closure day,\n" +
		"2024-12-31, Council closure day ,add\n2029-05-07,Early May bank holiday moved,remove\n2029-05-14,Early May bank holiday (moved),add\n"
	hs, err := ReadHolidays(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 4 || !hs[0].Day.Equal(day(2024, 12, 24)) || hs[1].Name != "Council closure day" || !hs[2].Remove || hs[2].Line != 5 {
		t.Fatalf("got %+v", hs)
	}
	cal, err := NewCalendar(time.UTC, hs)
	if err != nil {
		t.Fatal(err)
	}
	for d, working := range map[time.Time]bool{day(2024, 12, 24): false, day(2024, 12, 31): false, day(2029, 5, 7): true,
		day(2029, 5, 14): false, day(2024, 12, 23): true} {
		if cal.IsWorkingDay(d) != working {
			t.Errorf("%s: working %v, want %v", dayWords(d), !working, working)
		}
	}
	if n, _ := cal.Holiday(day(2024, 12, 24)); n != "Council closure day" {
		t.Errorf("holiday name: got %q", n)
	}
	// Mon 23 Dec 2024 + 1: 24 closed, 25 and 26 bank holidays, 27 a Friday.
	if got := cal.AddWorkingDays(day(2024, 12, 23), 1); !got.Equal(day(2024, 12, 27)) {
		t.Errorf("with the closure day: got %s, want Fri 27 Dec 2024", dayWords(got))
	}
	if hs := cal.Holidays(day(2024, 12, 20), day(2025, 1, 2)); len(hs) != 5 {
		t.Errorf("holidays over Christmas 2024: got %v, want 24, 25, 26, 31 Dec and 1 Jan", hs)
	}

	for _, tt := range []struct {
		name, in string
		want     []string // each rejected row, as its error reads
	}{
		{"empty", "", []string{"the file is empty"}},
		{"no name column", "date\n2024-01-02\n", []string{"line 1: header: no name column"}},
		{"unknown column", "date,name,area\n", []string{`line 1: header: unknown column "area"`}},
		{"bad rows", "date,name\n2024-13-01,Bad month\n2024-01-02,\n2024-03-09,Saturday\n2024-01-02,Again\n" +
			"2024-01-03,Closure,extra\n02/01/2024,Day first\n2024-01-04,\"x\x01y\"\n",
			[]string{`line 2: date: "2024-13-01" is not a day such as 2024-05-06`, "line 3: name: required",
				"line 4: date: Sat 9 Mar 2024 is a weekend day", "line 6: has 3 fields, the header has 2",
				`line 7: date: "02/01/2024" is not a day`, "line 8: name: holds control characters"}},
		{"duplicate", "date,name\n2024-01-02,A\n\n2024-01-02,B\n", []string{"line 4: date: 2024-01-02 is already on line 2"}},
		{"bad change", "date,name,change\n2024-01-02,A,delete\n", []string{`line 2: change: "delete" is not add or remove`}},
		{"unterminated quote", "date,name\n2024-01-02,\"A\n2024-01-03,B\n", []string{"line 2: a quote is not closed"}},
		{"long name", "date,name\n2024-01-02," + strings.Repeat("x", 101) + "\n", []string{"line 2: name: at most 100 characters"}},
		{"too many rows", "date,name\n" + strings.Repeat("2024-01-02,A\n", 1001), []string{"more than 1000 rows"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadHolidays(strings.NewReader(tt.in))
			if geo.ErrorCode(err) != geo.EINVALID {
				t.Fatalf("got %v, want an invalid-input error", err)
			}
			msg := geo.ErrorMessage(err)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("got %q, want it to say %q", msg, w)
				}
			}
			var fe *FileError
			if errors.As(err, &fe) && len(fe.Rows) != len(tt.want) && tt.name != "duplicate" && tt.name != "too many rows" {
				t.Errorf("got %d rejected rows (%v), want %d", len(fe.Rows), fe, len(tt.want))
			}
		})
	}

	// A removal of a day the table does not hold is refused with its line.
	hs, err = ReadHolidays(strings.NewReader("date,name,change\n2024-01-03,Not a holiday,remove\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewCalendar(time.UTC, hs)
	var re *geo.RowError
	if !errors.As(err, &re) || re.Line != 2 || re.Field != "date" || !strings.Contains(err.Error(), "nothing to remove") {
		t.Errorf("removing a working day: got %v", err)
	}
}
