package chart

import (
	"math"
	"slices"
	"strconv"
)

// Method is how Classify draws the lines between classes.
type Method int

const (
	// Quantiles makes classes of about equal numbers of values, the breaks rounded
	// to two significant digits: the map's method, so that a printed map and the
	// map on screen agree.
	Quantiles Method = iota
	// NiceIntervals makes classes of equal width at round numbers: 1–9, 10–19...
	NiceIntervals
)

// ClassOptions says how to classify values.
type ClassOptions struct {
	Classes       int      // at most this many classes; 5 when zero
	Method        Method   // Quantiles when zero
	Integer       bool     // counts: breaks are whole numbers and classes read "1–4"
	Palette       []string // the colours, spread over the classes (Pick); Viridis when nil
	WithheldLabel string   // the legend of a withheld value; "Withheld (a small count)" when empty
	NoneLabel     string   // the legend of zero; "None" when empty
}

// Classes splits positive values into classes for a map: the breaks, a colour
// and a label for each class, and legend entries for withheld values (NaN) and
// zero when there were any. Values of zero or less are in no class.
type Classes struct {
	Breaks   []float64 // ascending; each starts a class, the first class starts at Min
	Min, Max float64   // the smallest and largest positive values
	Integer  bool
	Colors   []string // one a class
	Labels   []string // one a class: "1–4", "5–9", "10 or more"
	Withheld bool     // some value was NaN
	Zero     bool     // some value was zero or less
	opts     ClassOptions
}

// Classify classifies values as the options say.
func Classify(values []float64, o ClassOptions) Classes {
	if o.Classes <= 0 {
		o.Classes = 5
	}
	if o.Palette == nil {
		o.Palette = Viridis()
	}
	c := Classes{Integer: o.Integer, opts: o}
	var v []float64
	for _, x := range values {
		switch {
		case math.IsNaN(x):
			c.Withheld = true
		case x > 0 && !math.IsInf(x, 0):
			v = append(v, x)
		default:
			c.Zero = true
		}
	}
	if len(v) == 0 {
		return c
	}
	slices.Sort(v)
	c.Min, c.Max = v[0], v[len(v)-1]
	var breaks []float64
	switch o.Method {
	case NiceIntervals:
		step := niceClassStep(c.Max, o.Classes, o.Integer)
		for b := step; b < c.Max; b += step {
			breaks = append(breaks, roundTo(b, decimals(step)))
		}
	default:
		distinct := slices.Compact(slices.Clone(v))
		if len(distinct) <= o.Classes {
			breaks = distinct[1:]
		} else {
			for i := 1; i < o.Classes; i++ {
				breaks = append(breaks, niceBreak(v[i*len(v)/o.Classes], o.Integer))
			}
		}
	}
	for _, b := range breaks {
		if o.Integer {
			b = math.Round(b)
		} else {
			b, _ = strconv.ParseFloat(strconv.FormatFloat(b, 'g', 6, 64), 64)
		}
		if b > c.Min && (len(c.Breaks) == 0 || b > c.Breaks[len(c.Breaks)-1]) {
			c.Breaks = append(c.Breaks, b)
		}
	}
	c.Colors = Pick(o.Palette, len(c.Breaks)+1)
	c.Labels = classLabels(c.Min, c.Breaks, o.Integer, c.Max)
	return c
}

// niceBreak rounds a quantile to two significant digits (a count up to a whole
// number), as the map does.
func niceBreak(v float64, integer bool) float64 {
	if integer {
		return math.Ceil(v)
	}
	if v <= 0 {
		return v
	}
	p := math.Pow(10, math.Floor(math.Log10(v))-1)
	return math.Round(v/p) * p
}

// niceClassStep is the smallest round step that splits 0 to max into at most n
// intervals.
func niceClassStep(max float64, n int, integer bool) float64 {
	e := math.Floor(math.Log10(max / float64(n)))
	for ; ; e++ {
		p := math.Pow(10, e)
		for _, m := range [...]float64{1, 2, 2.5, 5} {
			step := m * p
			if integer && (step < 1 || step != math.Trunc(step)) {
				continue
			}
			if math.Ceil(max/step-1e-9) <= float64(n) {
				return step
			}
		}
	}
}

// classLabels names the classes a set of breaks makes, as the map's legend does:
// "1–4", "5–9", "10 or more"; "0.50 to under 1.2", "1.2 or more".
func classLabels(min float64, breaks []float64, integer bool, max float64) []string {
	if len(breaks) == 0 && max == min {
		return []string{classNumber(min, integer)}
	}
	out := make([]string, len(breaks)+1)
	lo := append([]float64{min}, breaks...)
	for i, l := range lo {
		if i == len(breaks) {
			out[i] = classNumber(l, integer) + " or more"
			continue
		}
		hi := breaks[i]
		switch {
		case integer && hi-1 > l:
			out[i] = classNumber(l, true) + "–" + classNumber(hi-1, true)
		case integer:
			out[i] = classNumber(l, true)
		default:
			out[i] = classNumber(l, false) + " to under " + classNumber(hi, false)
		}
	}
	return out
}

func classNumber(v float64, integer bool) string {
	switch {
	case integer:
		return formatNumber(v, 0)
	case v >= 10:
		return formatNumber(v, 1)
	default:
		return formatNumber(v, 2)
	}
}

// Class is the class of v: 0 for the first, -1 for NaN and for zero or less.
func (c Classes) Class(v float64) int {
	if math.IsNaN(v) || !(v > 0) || len(c.Colors) == 0 {
		return -1
	}
	i, _ := slices.BinarySearch(c.Breaks, v)
	if i < len(c.Breaks) && c.Breaks[i] == v {
		i++ // a break starts its class
	}
	return i
}

// Color is the fill of v: its class's colour, Withheld for NaN, "" (none) for
// zero or less.
func (c Classes) Color(v float64) string {
	if math.IsNaN(v) {
		return Withheld
	}
	if i := c.Class(v); i >= 0 {
		return c.Colors[i]
	}
	return ""
}

// Style is how a map draws a hexagon of value v: filled with its class's colour,
// hatched grey when withheld, an outline alone for zero.
func (c Classes) Style(v float64) Style {
	return Style{Fill: c.Color(v), Stroke: hexOutline, StrokeWidth: 0.4, Hatch: math.IsNaN(v)}
}

// Legend is the key of the classes under a title, with entries for withheld
// values and zero when there were any.
func (c Classes) Legend(title string) Legend {
	l := Legend{Title: title}
	for i, lab := range c.Labels {
		l.Items = append(l.Items, LegendItem{Label: lab, Fill: c.Colors[i], Stroke: hexOutline, StrokeWidth: 0.4})
	}
	if c.Zero {
		l.Items = append(l.Items, LegendItem{Label: withheldLabel(c.opts.NoneLabel, "None"), Stroke: hexOutline, StrokeWidth: 0.4})
	}
	if c.Withheld {
		l.Items = append(l.Items, LegendItem{Label: withheldLabel(c.opts.WithheldLabel, "Withheld (a small count)"), Fill: Withheld, Stroke: hexOutline, StrokeWidth: 0.4, Hatch: true})
	}
	return l
}
