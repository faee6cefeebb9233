package chart

import "strings"

// okabeIto is Okabe and Ito's colour-blind safe palette, ordered so that the
// first colours are the most distinct, also in greyscale (blue is dark, orange
// light), and yellow, faint on white paper, comes last.
var okabeIto = [...]string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"}

// Categorical returns the colour of the i-th series or category: Okabe and Ito's
// palette in a fixed order, starting again after eight.
func Categorical(i int) string {
	n := len(okabeIto)
	return okabeIto[((i%n)+n)%n]
}

// dashes are the dash patterns of line series, in the order of Categorical.
var dashes = [...]string{"", "7 3", "2 2.5", "10 3 2 3", "4 4", "1 3", "12 4 4 4", "6 2 1 2 1 2"}

// Dash returns the stroke-dasharray of the i-th line series ("" is solid), so
// that lines differ in greyscale too.
func Dash(i int) string {
	n := len(dashes)
	return dashes[((i%n)+n)%n]
}

// The sequential palettes, the same as the map's: perceptually uniform, with
// lightness rising from the first colour to the last.
var (
	viridis = [...]string{"#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#fde725"}
	plasma  = [...]string{"#0d0887", "#6a00a8", "#b12a90", "#e16462", "#fca636", "#f0f921"}
)

// Viridis returns the map's palette for counts, six colours from dark purple to
// yellow.
func Viridis() []string { return append([]string(nil), viridis[:]...) }

// Plasma returns the map's palette for rates, six colours from dark blue to
// yellow.
func Plasma() []string { return append([]string(nil), plasma[:]...) }

// Withheld is the fill of a place whose count is withheld: a light neutral grey
// none of the palettes uses (maps hatch it as well).
const Withheld = "#d4d4d4"

// Pick returns n colours spread evenly over a palette, from its first colour to
// its last, as the map picks them; one colour is the palette's middle.
func Pick(palette []string, n int) []string {
	if len(palette) == 0 || n <= 0 {
		return nil
	}
	if n == 1 {
		return []string{palette[len(palette)/2]}
	}
	out := make([]string, n)
	for i := range out {
		// Math.round in the map's code rounds halves up; the values are positive.
		out[i] = palette[int(float64(i*(len(palette)-1))/float64(n-1)+0.5)]
	}
	return out
}

// confidence is the diverging scale of Gi* hot and cold spots, hottest first, as
// the map draws it.
var confidence = [...]struct {
	value  int
	colour string
	label  string
}{
	{99, "#a63603", "Hot spot, 99% confidence"},
	{95, "#e6550d", "Hot spot, 95% confidence"},
	{90, "#fdae6b", "Hot spot, 90% confidence"},
	{0, "#efefef", "Not significant"},
	{-90, "#9ecae1", "Cold spot, 90% confidence"},
	{-95, "#4292c6", "Cold spot, 95% confidence"},
	{-99, "#08519c", "Cold spot, 99% confidence"},
}

// ConfidenceColor returns the fill of a Gi* result by its confidence: 90, 95 or
// 99 for hot spots, the same negated for cold spots, anything else not
// significant.
func ConfidenceColor(conf int) string {
	for _, c := range confidence {
		if c.value == conf {
			return c.colour
		}
	}
	return confidence[3].colour
}

// ConfidenceLegend is the legend of ConfidenceColor, hottest first.
func ConfidenceLegend() Legend {
	l := Legend{Title: "Hot and cold spots (Gi* z)"}
	for _, c := range confidence {
		l.Items = append(l.Items, LegendItem{Label: c.label, Fill: c.colour})
	}
	return l
}

// categories are the emerging hot spot patterns (tension/emerging.go) with the
// map's colours. Cold spots of every pattern share one colour, as on the map.
var categories = [...]struct{ name, colour, label string }{
	{"new_hot_spot", "#D55E00", "New hot spot"},
	{"consecutive_hot_spot", "#E69F00", "Consecutive hot spot"},
	{"intensifying_hot_spot", "#CC79A7", "Intensifying hot spot"},
	{"persistent_hot_spot", "#000000", "Persistent hot spot"},
	{"diminishing_hot_spot", "#F0E442", "Diminishing hot spot"},
	{"sporadic_hot_spot", "#009E73", "Sporadic hot spot"},
	{"oscillating_hot_spot", "#56B4E9", "Oscillating hot spot"},
	{"historical_hot_spot", "#a6761d", "Historical hot spot"},
}

const (
	coldCategoryColour = "#0072B2"
	coldCategoryLabel  = "Cold spot (any pattern)"
	noPatternLabel     = "No pattern"
)

var coldPatterns = [...]string{"new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating", "historical"}

// CategoryColor returns the fill of an emerging hot spot category named as in
// package tension ("new_hot_spot", "persistent_cold_spot", "no_pattern"...):
// the map's colour, one colour for every cold spot pattern, and "" (no fill) for
// no pattern or a name it does not know.
func CategoryColor(name string) string {
	for _, c := range categories {
		if c.name == name {
			return c.colour
		}
	}
	if isColdCategory(name) {
		return coldCategoryColour
	}
	return ""
}

// CategoryLabel names a category in words: "New hot spot", "Persistent cold
// spot", "No pattern".
func CategoryLabel(name string) string {
	for _, c := range categories {
		if c.name == name {
			return c.label
		}
	}
	if name == "no_pattern" || name == "" {
		return noPatternLabel
	}
	return humanise(name)
}

func isColdCategory(name string) bool {
	for _, p := range coldPatterns {
		if name == p+"_cold_spot" {
			return true
		}
	}
	return false
}

// CategoryStyle is the style of a hexagon of the category: its fill with a thin
// outline, an outline alone for no pattern.
func CategoryStyle(name string) Style {
	return Style{Fill: CategoryColor(name), Stroke: hexOutline, StrokeWidth: 0.4}
}

// CategoryLegend is the legend of the emerging hot spot patterns, as the map
// shows it.
func CategoryLegend() Legend {
	l := Legend{Title: "Emerging hot spot pattern"}
	for _, c := range categories {
		l.Items = append(l.Items, LegendItem{Label: c.label, Fill: c.colour})
	}
	l.Items = append(l.Items,
		LegendItem{Label: coldCategoryLabel, Fill: coldCategoryColour},
		LegendItem{Label: noPatternLabel, Stroke: hexOutline})
	return l
}

// tension colours alerts by their tension level, as the map outlines them.
var tensionLevels = [...]struct {
	level  string
	colour string
	width  float64
}{
	{"low", "#56B4E9", 2},
	{"medium", "#E69F00", 2.5},
	{"high", "#D55E00", 3.5},
	{"critical", "#B4005A", 4.5},
}

// TensionStyle is the outline of an alert of a tension level (low, medium,
// high, critical), wider as the tension rises, as on the map.
func TensionStyle(level string) Style {
	for _, t := range tensionLevels {
		if t.level == level {
			return Style{Stroke: t.colour, StrokeWidth: t.width}
		}
	}
	return Style{Stroke: "#555555", StrokeWidth: 2}
}

// TensionLegend is the legend of TensionStyle.
func TensionLegend() Legend {
	l := Legend{Title: "Tension of open alerts"}
	for _, t := range tensionLevels {
		l.Items = append(l.Items, LegendItem{Label: humanise(t.level), Stroke: t.colour, StrokeWidth: t.width, Line: true})
	}
	return l
}

// hexOutline is the outline of hexagons, a dark grey (the map draws it at 55%
// opacity over its background; on paper it is solid).
const hexOutline = "#8a8a8a"

// humanise turns a configured name such as sexual_orientation into words.
func humanise(s string) string {
	t := strings.ReplaceAll(s, "_", " ")
	if t == "" {
		return t
	}
	return strings.ToUpper(t[:1]) + t[1:]
}
