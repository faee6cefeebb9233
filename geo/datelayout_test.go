package geo

import (
	"testing"
	"time"
)

func TestDateLayout(t *testing.T) {
	tests := []struct {
		pattern string
		want    string
		wantErr bool
	}{
		{"DD/MM/YYYY HH:mm", "02/01/2006 15:04", false},
		{"YYYY-MM-DD", "2006-01-02", false},
		{"YYYY-MM-DDTHH:mm:ssZ", "2006-01-02T15:04:05Z07:00", false},
		{"D MMMM YYYY", "2 January 2006", false},
		{"DD-MMM-YY", "02-Jan-06", false},
		{"M/D/YYYY hh:mm A", "1/2/2006 03:04 PM", false},
		{"YYYYMMDD", "20060102", false},
		{"02/01/2006", "02/01/2006", false}, // a Go layout is kept
		{"DD/MM/YYYY (2006)", "DD/MM/YYYY (2006)", false},
		{"DD/MM", "", true},
		{"HH:mm", "", true},
		{"", "", true},
		{"Y/MM/DD", "", true}, // a lone Y is not a year
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := DateLayout(tt.pattern)
			if tt.wantErr {
				if got != "" {
					t.Errorf("got %q, want empty", got)
				}
				wantErrCode(t, err, EINVALID, "has no year (YYYY)")
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestDateLayoutParses checks that the layouts DateLayout makes parse what the
// patterns describe.
func TestDateLayoutParses(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           time.Time
	}{
		{"DD/MM/YYYY HH:mm", "31/03/2024 14:05", time.Date(2024, 3, 31, 14, 5, 0, 0, time.UTC)},
		{"D MMM YY", "5 Mar 24", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"MMMM D, YYYY hh:mm:ss A", "March 5, 2024 02:30:15 PM", time.Date(2024, 3, 5, 14, 30, 15, 0, time.UTC)},
		{"YYYY-MM-DD HH:mm Z", "2024-03-05 23:30 +01:00", time.Date(2024, 3, 5, 22, 30, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			layout, err := DateLayout(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			got, err := time.Parse(layout, tt.value)
			if err != nil || !got.Equal(tt.want) {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
