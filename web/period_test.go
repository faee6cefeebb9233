package web

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// TestAppendDay: the period header's days are written as time.DateOnly writes them.
func TestAppendDay(t *testing.T) {
	for _, day := range []time.Time{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 0, 0, time.UTC), time.Date(2200, 10, 9, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if got, want := string(appendDay(nil, day)), day.Format(time.DateOnly); got != want {
			t.Errorf("appendDay(%v) = %q; want %q", day, got, want)
		}
	}
	if got := appendDay([]byte("x"), time.Time{}); string(got) != "x" {
		t.Errorf("the zero time appended %q; want nothing", got)
	}
	w := httptest.NewRecorder()
	setPeriodHeader(w, geo.Filter{From: time.Date(2026, 11, 6, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)})
	if got := w.Header().Get(PeriodHeader); got != "2026-11-06..2026-12-03" {
		t.Errorf("period header %q", got)
	}
}
