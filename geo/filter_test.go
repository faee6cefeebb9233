package geo

import (
	"testing"
)

func TestFilterCheck(t *testing.T) {
	tests := []struct {
		name string
		f    Filter
		want string // "" when valid
	}{
		{"empty", Filter{}, ""},
		{"open ends", Filter{From: day(2024, 1, 1)}, ""},
		{"one day", Filter{From: day(2024, 1, 1), To: day(2024, 1, 1)}, ""},
		{"everything given", Filter{From: day(2024, 1, 1), To: day(2024, 2, 1), Strands: []string{"race", "sex"}, Kinds: []Kind{KindCrime, KindIncident}, Sources: []string{"police"}}, ""},
		{"to before from", Filter{From: day(2024, 1, 2), To: day(2024, 1, 1)}, "to (2024-01-01) is before from (2024-01-02)"},
		{"unknown strand", Filter{Strands: []string{"race", "weather"}}, `unknown strand "weather"`},
		{"strand not normalised", Filter{Strands: []string{"Race"}}, `unknown strand "Race"`},
		{"unknown source", Filter{Sources: []string{"press"}}, `unknown source "press"`},
		{"unknown kind", Filter{Kinds: []Kind{"hate crime"}}, `unknown kind "hate crime"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Check(DefaultStrands, DefaultSources)
			if tt.want == "" {
				if err != nil {
					t.Errorf("got %v, want no error", err)
				}
				return
			}
			wantErrCode(t, err, EINVALID, tt.want)
		})
	}
}

func TestPrecisionLocated(t *testing.T) {
	want := map[Precision]bool{
		PrecisionExact: true, PrecisionStreet: true, PrecisionPostcode: true, PrecisionAreaCentroid: true,
		PrecisionOnline: false, PrecisionNone: false, "": false,
	}
	for p, w := range want {
		t.Run(string(p), func(t *testing.T) {
			if got := p.Located(); got != w {
				t.Errorf("got %v, want %v", got, w)
			}
		})
	}
}
