package cases

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tensionmap/tensionmap/geo"
)

//go:embed bank_holidays_england_wales.csv
var englandWalesCSV []byte

// Holiday is a weekday that is not a working day, with its name; in a file of
// extra holidays it may instead take a day out of the table (Remove), for a bank
// holiday moved by proclamation after the table was written.
type Holiday struct {
	Day    time.Time `json:"day"` // midnight UTC
	Name   string    `json:"name"`
	Remove bool      `json:"remove,omitempty"`
	Line   int       `json:"-"` // the line of the file it was read from, for errors
}

// EnglandAndWales returns the bank holidays of England and Wales the service
// ships, 2015 to 2030, in date order. The table is part of the binary; a test
// checks every row against the standing rules, Easter by computus, and the
// one-off days.
func EnglandAndWales() []Holiday {
	h, err := ReadHolidays(bytes.NewReader(englandWalesCSV))
	if err != nil {
		panic("cases: the shipped bank holiday table does not read: " + err.Error())
	}
	return h
}

// Calendar knows the working days: Monday to Friday except the bank holidays of
// England and Wales and any extra holidays a partnership adds. Its zone says on
// which day a moment falls. A Calendar is immutable and safe for concurrent use.
//
// Outside the years its table covers (Covers) a Calendar knows only weekends.
type Calendar struct {
	loc         *time.Location
	days        []int64 // weekday holidays as days since 1970-01-01, ascending
	names       map[int64]string
	first, last int // the years the shipped table covers
}

// NewCalendar returns the England and Wales calendar in zone loc (nil is UTC),
// with extra holidays added and, where an extra says Remove, table days taken
// out. It returns an EINVALID error naming the extra's line when it removes a
// day the table does not hold or adds a weekend.
func NewCalendar(loc *time.Location, extra []Holiday) (*Calendar, error) {
	if loc == nil {
		loc = time.UTC
	}
	base := EnglandAndWales()
	c := &Calendar{loc: loc, names: make(map[int64]string, len(base)+len(extra)),
		first: base[0].Day.Year(), last: base[len(base)-1].Day.Year()}
	for _, h := range base {
		c.names[epochDay(h.Day)] = h.Name
	}
	var rejected []*geo.RowError
	for _, h := range extra {
		d := epochDay(h.Day)
		switch {
		case h.Remove && c.names[d] == "":
			rejected = append(rejected, &geo.RowError{Line: h.Line, Field: "date",
				Reason: fmt.Sprintf("%s is not a bank holiday in the table, so there is nothing to remove", dayWords(h.Day))})
		case h.Remove:
			delete(c.names, d)
		case isWeekend(d):
			rejected = append(rejected, &geo.RowError{Line: h.Line, Field: "date",
				Reason: fmt.Sprintf("%s is a weekend day, never a working day", dayWords(h.Day))})
		default:
			c.names[d] = h.Name
		}
	}
	if len(rejected) > 0 {
		return nil, &FileError{What: "holidays", Rows: rejected}
	}
	for d := range c.names {
		c.days = append(c.days, d)
	}
	slices.Sort(c.days)
	return c, nil
}

// DefaultCalendar is the England and Wales calendar in zone loc with no extras.
func DefaultCalendar(loc *time.Location) *Calendar {
	c, err := NewCalendar(loc, nil)
	if err != nil {
		panic("cases: " + err.Error()) // cannot happen: there are no extras to reject
	}
	return c
}

// Location is the zone whose days the calendar counts.
func (c *Calendar) Location() *time.Location { return c.loc }

// Day returns the day a moment falls on in the calendar's zone, as midnight UTC.
func (c *Calendar) Day(t time.Time) time.Time { return geo.Day(t.In(c.loc)) }

// Covers reports whether the day is in a year the bank holiday table covers.
func (c *Calendar) Covers(day time.Time) bool {
	y := day.Year()
	return y >= c.first && y <= c.last
}

// Years returns the first and last year the bank holiday table covers.
func (c *Calendar) Years() (first, last int) { return c.first, c.last }

// Holiday returns the name of the bank holiday on a day, and whether there is one.
// A day is its calendar date as written (Year, Month, Day), whatever its zone.
func (c *Calendar) Holiday(day time.Time) (string, bool) {
	n, ok := c.names[epochDay(day)]
	return n, ok
}

// Holidays lists the holidays from one day to another, both included.
func (c *Calendar) Holidays(from, to time.Time) []Holiday {
	a, b := epochDay(from), epochDay(to)
	i := sort.Search(len(c.days), func(i int) bool { return c.days[i] >= a })
	var out []Holiday
	for ; i < len(c.days) && c.days[i] <= b; i++ {
		out = append(out, Holiday{Day: dayOfEpoch(c.days[i]), Name: c.names[c.days[i]]})
	}
	return out
}

// IsWorkingDay reports whether a day is a working day: Monday to Friday and not a
// holiday. A day is its calendar date as written, whatever its zone.
func (c *Calendar) IsWorkingDay(day time.Time) bool {
	d := epochDay(day)
	return !isWeekend(d) && c.names[d] == ""
}

// AddWorkingDays returns the day on which the n-th working day after a day falls:
// the day itself does not count, whether or not it is a working day. With n = 1,
// a case opened on Friday 30 December 2022 (or on the Saturday, Sunday or the
// bank holiday Monday after it) gives Tuesday 3 January 2023. n = 0 returns the
// day itself; a negative n counts back, to the |n|-th working day before it.
//
// For any day d and n ≥ 0, WorkingDaysBetween(d, AddWorkingDays(d, n)) == n; for
// n < 0 the same holds when d is a working day (counting back from a Sunday, the
// Sunday is not counted, so the count back is one short).
func (c *Calendar) AddWorkingDays(day time.Time, n int) time.Time {
	return dayOfEpoch(c.add(epochDay(day), n))
}

func (c *Calendar) add(d int64, n int) int64 {
	step := int64(1)
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		if n >= 10 {
			// Any seven days in a row hold five weekdays: jump whole weeks and take
			// off the holidays among them; the rest is walked a day at a time.
			// Fewer than n are jumped, so the walk always ends on a working day.
			next := d + step*7*int64((n-1)/5)
			var got int
			if step > 0 {
				got = c.between(d, next) // (d, next]
			} else {
				got = c.between(next-1, d-1) // [next, d)
			}
			d, n = next, n-got
			continue
		}
		d += step
		if !isWeekend(d) && c.names[d] == "" {
			n--
		}
	}
	return d
}

// WorkingDaysBetween counts the working days after from, up to and including to:
// the start does not count and the end does. Monday to the next Monday is 5 in a
// week without holidays; Friday to Saturday is 0; a day to itself is 0. When to is
// before from the count is negative: -WorkingDaysBetween(to, from).
func (c *Calendar) WorkingDaysBetween(from, to time.Time) int {
	a, b := epochDay(from), epochDay(to)
	if b < a {
		return -c.between(b, a)
	}
	return c.between(a, b)
}

// between counts the working days in (a, b], a <= b.
func (c *Calendar) between(a, b int64) int {
	n := weekdaysBefore(b+1) - weekdaysBefore(a+1)
	lo := sort.Search(len(c.days), func(i int) bool { return c.days[i] > a })
	hi := sort.Search(len(c.days), func(i int) bool { return c.days[i] > b })
	return int(n) - (hi - lo)
}

// weekdaysBefore counts the weekdays before day d, from the Monday 1969-12-29
// (day -3): a whole week holds five, and the days of a part week after its
// Monday are weekdays up to five.
func weekdaysBefore(d int64) int64 {
	m := d + 3
	w, r := floorDiv(m, 7)
	return 5*w + min(r, 5)
}

func floorDiv(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q, r = q-1, r+b
	}
	return q, r
}

// isWeekend reports whether a day (since 1970-01-01, a Thursday) is a Saturday or
// a Sunday.
func isWeekend(d int64) bool {
	_, r := floorDiv(d+3, 7) // 0 is a Monday
	return r >= 5
}

func epochDay(t time.Time) int64 {
	return geo.Day(t).Unix() / 86400
}

func dayOfEpoch(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// Limits on a holidays file.
const (
	maxHolidayFile = 1 << 20
	maxHolidayRows = 1000
	maxHolidayName = 100
	maxRowErrors   = 20
)

// ReadHolidays reads a CSV of holidays: a header naming the columns date and name,
// and optionally change; then one row a day. A date is written 2024-05-06; a name
// says what the day is ("Council closure day"); change is add (the default: the
// day is not a working day) or remove (the table's bank holiday on that day is a
// working day after all). Lines starting with # are comments.
//
// The whole file is read or nothing: a bad row makes the result an error listing
// each rejected row with its line, field and reason (a *FileError, with code
// EINVALID), up to 20 of them. The file may hold at most 1,000 rows and 1 MiB.
func ReadHolidays(r io.Reader) ([]Holiday, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxHolidayFile+1))
	if err != nil {
		return nil, fmt.Errorf("cases: reading holidays: %w", err)
	}
	if len(data) > maxHolidayFile {
		return nil, geo.Errorf(geo.EINVALID, "holidays: the file is larger than 1 MiB")
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	fe := &FileError{What: "holidays"}
	reject := func(line int, field, format string, args ...any) {
		if len(fe.Rows) < maxRowErrors {
			fe.Rows = append(fe.Rows, &geo.RowError{Line: line, Field: field, Reason: fmt.Sprintf(format, args...)})
		} else {
			fe.More++
		}
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, geo.Errorf(geo.EINVALID, "holidays: the file is empty; it needs a header line: date,name")
	}
	if err != nil {
		return nil, geo.Errorf(geo.EINVALID, "holidays: %s", csvErr(err))
	}
	col := map[string]int{"date": -1, "name": -1, "change": -1}
	hline, _ := cr.FieldPos(0)
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		j, known := col[h]
		switch {
		case !known:
			reject(hline, "header", "unknown column %q; the columns are date, name and (optionally) change", h)
		case j >= 0:
			reject(hline, "header", "the column %q appears twice", h)
		default:
			col[h] = i
		}
	}
	for _, need := range []string{"date", "name"} {
		if col[need] < 0 {
			reject(hline, "header", "no %s column; the header is date,name (and optionally change)", need)
		}
	}
	if len(fe.Rows) > 0 {
		return nil, fe
	}
	var out []Holiday
	seen := map[int64]int{}
	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			reject(pe.StartLine, "", "%s", csvErr(pe.Err))
			if pe.Err != csv.ErrFieldCount {
				break // an unterminated quote swallows the rest
			}
			continue
		} else if err != nil {
			return nil, fmt.Errorf("cases: reading holidays: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if rows++; rows > maxHolidayRows {
			return nil, geo.Errorf(geo.EINVALID, "holidays: line %d: more than %d rows; a holidays file lists days, not years of them", line, maxHolidayRows)
		}
		if len(rec) != len(header) {
			reject(line, "", "has %d fields, the header has %d", len(rec), len(header))
			continue
		}
		get := func(k string) string {
			if col[k] < 0 {
				return ""
			}
			return strings.TrimSpace(rec[col[k]])
		}
		h := Holiday{Line: line, Name: get("name")}
		ok := true
		ds := get("date")
		day, err := time.Parse(time.DateOnly, ds)
		switch {
		case ds == "":
			reject(line, "date", "required, a day such as 2024-05-06")
			ok = false
		case err != nil:
			reject(line, "date", "%q is not a day such as 2024-05-06", ds)
			ok = false
		case day.Year() < 1900 || day.Year() > 2200:
			reject(line, "date", "%s is outside the years 1900 to 2200", ds)
			ok = false
		}
		h.Day = day
		switch change := strings.ToLower(get("change")); change {
		case "", "add":
		case "remove":
			h.Remove = true
		default:
			reject(line, "change", "%q is not add or remove", change)
			ok = false
		}
		if msg := checkText(h.Name, maxHolidayName, false); h.Name == "" {
			reject(line, "name", "required: say what the day is")
			ok = false
		} else if msg != "" {
			reject(line, "name", "%s", msg)
			ok = false
		}
		if !ok {
			continue
		}
		d := epochDay(day)
		if first, dup := seen[d]; dup {
			reject(line, "date", "%s is already on line %d", ds, first)
			continue
		}
		seen[d] = line
		if !h.Remove && isWeekend(d) {
			reject(line, "date", "%s is a weekend day, never a working day", dayWords(day))
			continue
		}
		out = append(out, h)
	}
	if len(fe.Rows) > 0 {
		return nil, fe
	}
	slices.SortFunc(out, func(a, b Holiday) int { return a.Day.Compare(b.Day) })
	return out, nil
}

func csvErr(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, csv.ErrQuote), errors.Is(err, csv.ErrBareQuote):
		return "a quote is not closed or is misplaced"
	case errors.Is(err, csv.ErrFieldCount):
		return "the number of fields differs from the header's"
	}
	return err.Error()
}

// FileError lists the rejected rows of a file that is read whole or not at all.
// Its code is EINVALID: errors.As finds a *geo.Error carrying the message.
type FileError struct {
	What string // what the file holds, e.g. "holidays"
	Rows []*geo.RowError
	More int // rejected rows beyond those listed
}

func (e *FileError) Error() string {
	parts := make([]string, len(e.Rows))
	for i, r := range e.Rows {
		parts[i] = r.Error()
	}
	s := e.What + ": " + strings.Join(parts, "; ")
	if e.More > 0 {
		s += fmt.Sprintf("; and %d more", e.More)
	}
	return s
}

// Unwrap gives the service's error with code EINVALID first, then each row.
func (e *FileError) Unwrap() []error {
	out := []error{geo.Errorf(geo.EINVALID, "%s", e.Error())}
	for _, r := range e.Rows {
		out = append(out, r)
	}
	return out
}

// checkText returns why a text is not acceptable, or "": valid UTF-8, at most max
// characters, and no control characters (line breaks and tabs too when multiline).
func checkText(s string, max int, multiline bool) string {
	if !utf8.ValidString(s) {
		return "not valid text (UTF-8)"
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Sprintf("at most %d characters (this has %d)", max, n)
	}
	if strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r'))
	}) >= 0 {
		return "holds control characters"
	}
	return ""
}

// dayWords writes a day as a person reads it: "Tue 3 Jan 2023".
func dayWords(t time.Time) string { return t.Format("Mon 2 Jan 2006") }
