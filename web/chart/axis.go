package chart

import (
	"math"
	"sort"
	"strings"
	"time"
)

// xAxis holds the positions along a chart's category axis: each position's name
// in full (for the description) and the label drawn under it, if any, in one or
// two lines (the second a year).
type xAxis struct {
	n      int
	full   []string
	labels [][]string // nil where no label is drawn
	unit   string     // what a position is: month, week, day or point
}

// lineCount is the most lines a drawn label has.
func (a xAxis) lineCount() int {
	m := 0
	for _, l := range a.labels {
		m = max(m, len(l))
	}
	return m
}

// newXAxis names n positions from the strings x or, when x is empty, the times
// ts, and chooses the labels to draw so that they do not collide when positions
// are slot units apart.
func newXAxis(n int, x []string, ts []time.Time, slot float64) xAxis {
	a := xAxis{n: n, full: make([]string, n), labels: make([][]string, n), unit: "point"}
	if len(x) == 0 && len(ts) >= n && n > 0 {
		timeAxis(&a, ts[:n], slot)
		return a
	}
	short := make([]string, n)
	for i := range n {
		if i < len(x) {
			a.full[i] = x[i]
		} else {
			a.full[i] = formatNumber(float64(i+1), 0)
		}
		short[i] = a.full[i]
	}
	widest := 0.0
	for _, s := range short {
		widest = max(widest, textWidth(s, smallSize))
	}
	k := stepFor([]int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}, widest+6, slot)
	for i := 0; i < n; i += k {
		a.labels[i] = []string{short[i]}
	}
	return a
}

// wrappedAxis labels every position with its name in up to two lines.
func wrappedAxis(n int, x []string, slot float64) xAxis {
	a := xAxis{n: n, full: make([]string, n), labels: make([][]string, n), unit: "category"}
	for i := range n {
		if i < len(x) {
			a.full[i] = x[i]
		}
		a.labels[i] = wrap(a.full[i], slot-4, smallSize, 2)
	}
	return a
}

// stepFor is the first step of steps whose positions are at least need apart.
func stepFor(steps []int, need, slot float64) int {
	for _, k := range steps {
		if float64(k)*slot >= need {
			return k
		}
	}
	return steps[len(steps)-1]
}

// timeAxis names positions that are days (or weeks) or months: months when every
// time is the first of its month and they are a month or more apart.
func timeAxis(a *xAxis, ts []time.Time, slot float64) {
	monthly := true
	for i, t := range ts {
		if t.Day() != 1 || i > 0 && t.Sub(ts[i-1]) < 27*24*time.Hour {
			monthly = false
			break
		}
	}
	if monthly {
		a.unit = "month"
		for i, t := range ts {
			a.full[i] = t.Format("Jan 2006")
		}
		k := stepFor([]int{1, 2, 3, 4, 6, 12, 24, 60, 120}, textWidth("May", smallSize)+8, slot)
		monthLabels(a, ts, func(i int) bool { return monthIndex(ts[i])%k == 0 })
		return
	}
	for i, t := range ts {
		a.full[i] = t.Format("2 Jan 2006")
	}
	if len(ts) > 1 {
		switch step := ts[1].Sub(ts[0]); step {
		case 24 * time.Hour:
			a.unit = "day"
		case 7 * 24 * time.Hour:
			a.unit = "week"
		}
	}
	// Days (or weeks) labelled one by one while they fit, else the first of
	// every month or every few months.
	need := textWidth("30 Sep", smallSize) + 8
	if len(ts) < 2 || slot*14 >= need || slot*float64(len(ts)) < need*3 {
		k := stepFor([]int{1, 2, 4, 7, 14}, need, slot)
		shown := 0
		lastYear := -1
		for i := 0; i < len(ts); i += k {
			l := []string{ts[i].Format("2 Jan")}
			if shown == 0 || ts[i].Year() != lastYear {
				l = append(l, ts[i].Format("2006"))
			}
			lastYear = ts[i].Year()
			a.labels[i] = l
			shown++
		}
		return
	}
	days := ts[len(ts)-1].Sub(ts[0]).Hours() / 24 / float64(len(ts)-1)
	monthSlot := slot * 30.4 / math.Max(days, 1e-9)
	k := stepFor([]int{1, 2, 3, 6, 12, 24, 60}, textWidth("May", smallSize)+8, monthSlot)
	monthLabels(a, ts, func(i int) bool {
		first := i == 0 || monthIndex(ts[i]) != monthIndex(ts[i-1])
		return first && monthIndex(ts[i])%k == 0
	})
}

// monthLabels labels the chosen positions with their month, and the year under
// the first label and under the first label of each year.
func monthLabels(a *xAxis, ts []time.Time, shown func(int) bool) {
	lastYear := -1
	for i, t := range ts {
		if !shown(i) {
			continue
		}
		l := []string{t.Format("Jan")}
		if lastYear == -1 || t.Year() != lastYear {
			l = append(l, t.Format("2006"))
		}
		lastYear = t.Year()
		a.labels[i] = l
	}
}

func monthIndex(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }

// note is a label above the plot: a marker's or a band's, placed at x in the
// row given by place.
type note struct {
	x      float64
	text   string
	row    int
	right  bool // the text ends at x rather than starting there
	marker bool // a marker's, whose line rises to it
}

// placeNotes puts notes in rows, counted from the top, so that none overlaps
// another nor the line of a marker whose note is in a row above, and returns
// the number of rows. A note that would run past right ends at its x instead.
func placeNotes(ns []note, right float64) int {
	order := make([]int, len(ns))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ns[order[a]].x < ns[order[b]].x })
	type span struct {
		lo, hi float64
		row    int
		i      int
	}
	var placed []span
	rows := 0
	for _, i := range order {
		w := textWidth(ns[i].text, smallSize)
		lo, hi := ns[i].x+3, ns[i].x+3+w
		if hi > right {
			ns[i].right = true
			lo, hi = ns[i].x-3-w, ns[i].x-3
		}
		row := 0
		for ; ; row++ {
			free := true
			for _, s := range placed {
				switch {
				case s.row == row && lo < s.hi+6 && hi > s.lo-6:
					free = false
				case ns[s.i].marker && s.row < row && ns[s.i].x > lo-4 && ns[s.i].x < hi+4:
					free = false // the marker's line would cross this note
				case ns[i].marker && s.row > row && ns[i].x > s.lo-4 && ns[i].x < s.hi+4:
					free = false // this marker's line would cross that note
				}
			}
			if free {
				break
			}
		}
		placed = append(placed, span{lo, hi, row, i})
		ns[i].row = row
		rows = max(rows, row+1)
	}
	return rows
}

// count writes n things: "1 month", "24 months", "3 categories", "34 days", "2 series".
func count(n int, unit string) string {
	s := formatNumber(float64(n), 0) + " " + unit
	switch {
	case n == 1 || unit == "series":
	case len(unit) > 1 && unit[len(unit)-1] == 'y' && !strings.ContainsRune("aeiou", rune(unit[len(unit)-2])):
		s = s[:len(s)-1] + "ies"
	default:
		s += "s"
	}
	return s
}
