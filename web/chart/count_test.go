package chart

import "testing"

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		unit string
		want string
	}{
		{1, "day", "1 day"},
		{34, "day", "34 days"},
		{3, "category", "3 categories"},
		{24, "month", "24 months"},
		{2, "series", "2 series"},
		{1200, "week", "1,200 weeks"},
		{2, "y", "2 ys"},
	} {
		if got := count(c.n, c.unit); got != c.want {
			t.Errorf("count(%d, %q) = %q, want %q", c.n, c.unit, got, c.want)
		}
	}
}
