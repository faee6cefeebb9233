package geo

import (
	"testing"
	"time"
)

// TestAppendDay: days are written as time.DateOnly writes them.
func TestAppendDay(t *testing.T) {
	for _, day := range []time.Time{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 0, 0, time.UTC), time.Date(2200, 10, 9, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if got, want := string(AppendDay(nil, day)), day.Format(time.DateOnly); got != want {
			t.Errorf("AppendDay(%v) = %q; want %q", day, got, want)
		}
	}
	if got := AppendDay([]byte("x"), time.Time{}); string(got) != "x" {
		t.Errorf("the zero time appended %q; want nothing", got)
	}
}

// TestParseDay: ParseDay reads what time.Parse(time.DateOnly) reads, and refuses
// what it refuses.
func TestParseDay(t *testing.T) {
	for _, s := range []string{"2024-02-29", "2023-02-29", "2026-12-03", "1900-01-01", "2026-04-31", "2026-13-01",
		"2026-00-10", "2026-01-00", "2026-1-01", "26-01-01", "2026/01/01", "2026-01-0a", "+026-01-01", " 2026-01-01",
		"2026-01-01 ", "", "0000-01-01", "9999-12-31", "2026-01-32"} {
		want, err := time.Parse(time.DateOnly, s)
		got, ok := ParseDay(s)
		if ok != (err == nil) || !got.Equal(want) {
			t.Errorf("ParseDay(%q) = %v, %v; time.Parse gives %v, %v", s, got, ok, want, err)
		}
	}
}

func FuzzParseDay(f *testing.F) {
	f.Add("2024-02-29")
	f.Add("2026-04-31")
	f.Fuzz(func(t *testing.T, s string) {
		want, err := time.Parse(time.DateOnly, s)
		got, ok := ParseDay(s)
		if ok != (err == nil) || !got.Equal(want) {
			t.Errorf("ParseDay(%q) = %v, %v; time.Parse gives %v, %v", s, got, ok, want, err)
		}
	})
}
