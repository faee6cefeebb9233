package cases

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// FuzzReadHolidays: any input reads as holidays or is refused with an invalid-input
// error; what is read is in date order, once each, on weekdays unless removed,
// and makes a calendar unless it removes a day the table does not hold.
func FuzzReadHolidays(f *testing.F) {
	f.Add([]byte("date,name\n2024-12-24,Council closure day\n"))
	f.Add([]byte("date,name,change\n2029-05-07,Moved,remove\n2029-05-14,Early May,add\n"))
	f.Add([]byte("# note\nDATE , Name\n2024-01-02,\"A, quoted\"\n"))
	f.Add([]byte("date,name\n2024-01-02,\"A\n"))
	f.Add(englandWalesCSV)
	f.Fuzz(func(t *testing.T, in []byte) {
		hs, err := ReadHolidays(bytes.NewReader(in))
		if err != nil {
			if geo.ErrorCode(err) != geo.EINVALID || strings.TrimSpace(geo.ErrorMessage(err)) == "" {
				t.Fatalf("got %v, want an invalid-input error with a message", err)
			}
			return
		}
		removes := false
		for i, h := range hs {
			if i > 0 && !hs[i-1].Day.Before(h.Day) {
				t.Fatalf("not in date order or twice: %v", hs)
			}
			if wd := h.Day.Weekday(); !h.Remove && (wd == time.Saturday || wd == time.Sunday) {
				t.Fatalf("a weekend holiday: %v", h)
			}
			if h.Name == "" || h.Line < 1 {
				t.Fatalf("no name or line: %+v", h)
			}
			removes = removes || h.Remove
		}
		if _, err := NewCalendar(time.UTC, hs); err != nil && !removes {
			t.Fatalf("holidays that read make no calendar: %v", err)
		}
	})
}
