package web

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// TestPeriodHeader: the period header names the days counted.
func TestPeriodHeader(t *testing.T) {
	w := httptest.NewRecorder()
	setPeriodHeader(w, geo.Filter{From: time.Date(2026, 11, 6, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)})
	if got := w.Header().Get(PeriodHeader); got != "2026-11-06..2026-12-03" {
		t.Errorf("period header %q", got)
	}
}
