package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/tension"
)

var update = flag.Bool("update", false, "rewrite the golden SVG files in testdata/chart")

const goldenDir = "../../testdata/chart"

func TestGolden(t *testing.T) {
	for _, e := range append(examples(), hostileCharts()...) {
		t.Run(e.name, func(t *testing.T) {
			got := []byte(e.chart.SVG())
			path := filepath.Join(goldenDir, e.name+".svg")
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./web/chart -update writes it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (%d bytes against %d); if the change is meant, run go test ./web/chart -update and look at the charts", e.name, len(got), len(want))
			}
		})
	}
}

// element is what checkSVG learns of an element.
type element struct {
	name  string
	attrs map[string]string
	text  string
}

// checkSVG parses a chart as XML, all of it, and checks what every chart must
// be: one svg root with a viewBox, width 100%, role img, labelled by its title
// and description; no style, no script, no event handler, no reference outside
// itself. It returns the elements in document order.
func checkSVG(t *testing.T, svg string) []element {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	d.Strict = true
	var els []element
	var stack []int
	depth, roots := 0, 0
	ids := map[string]bool{}
	var refs []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			e := element{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				name := a.Name.Local
				if a.Name.Space != "" && a.Name.Space != "http://www.w3.org/2000/svg" {
					name = a.Name.Space + ":" + name
				}
				e.attrs[name] = a.Value
				switch {
				case name == "style":
					t.Errorf("a style attribute on <%s>", e.name)
				case strings.HasPrefix(strings.ToLower(name), "on"):
					t.Errorf("an event handler %s on <%s>", name, e.name)
				case name == "href" || strings.HasSuffix(name, ":href"):
					t.Errorf("a reference %s=%q on <%s>", name, a.Value, e.name)
				case name == "id":
					if ids[a.Value] {
						t.Errorf("id %q twice", a.Value)
					}
					ids[a.Value] = true
				}
				if strings.Contains(a.Value, "url(") {
					m := regexp.MustCompile(`^url\(#([A-Za-z][\w-]*)\)$`).FindStringSubmatch(a.Value)
					if m == nil {
						t.Errorf("%s=%q on <%s> is not a reference within the chart", name, a.Value, e.name)
					} else {
						refs = append(refs, m[1])
					}
				}
			}
			switch e.name {
			case "style", "script", "foreignObject", "image", "use", "a", "iframe":
				t.Errorf("a <%s> element", e.name)
			}
			if ns := tok.Name.Space; ns != "http://www.w3.org/2000/svg" {
				t.Errorf("<%s> in namespace %q", e.name, ns)
			}
			els = append(els, e)
			stack = append(stack, len(els)-1)
		case xml.EndElement:
			depth--
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				els[stack[len(stack)-1]].text += string(tok)
			} else if strings.TrimSpace(string(tok)) != "" {
				t.Errorf("text outside the root: %q", tok)
			}
		case xml.ProcInst, xml.Directive:
			t.Errorf("unexpected %T", tok)
		}
	}
	if roots != 1 || len(els) == 0 || els[0].name != "svg" {
		t.Fatalf("want one <svg> root, got %d roots", roots)
	}
	root := els[0].attrs
	if root["role"] != "img" || root["width"] != "100%" || !regexp.MustCompile(`^0 0 \d+(\.\d)? \d+(\.\d)?$`).MatchString(root["viewBox"]) {
		t.Errorf("root attributes %v", root)
	}
	if root["font-family"] != "sans-serif" {
		t.Errorf("font-family %q", root["font-family"])
	}
	label := strings.Fields(root["aria-labelledby"])
	if len(label) != 2 {
		t.Fatalf("aria-labelledby %q", root["aria-labelledby"])
	}
	if els[1].name != "title" || els[1].attrs["id"] != label[0] || els[2].name != "desc" || els[2].attrs["id"] != label[1] {
		t.Errorf("the title and desc do not come first with the ids aria-labelledby names")
	}
	if strings.TrimSpace(els[2].text) == "" {
		t.Errorf("an empty description")
	}
	for _, r := range refs {
		if !ids[r] {
			t.Errorf("url(#%s) refers to nothing in the chart", r)
		}
	}
	return els
}

func TestEveryChartIsSafeSVG(t *testing.T) {
	for _, e := range append(examples(), hostileCharts()...) {
		t.Run(e.name, func(t *testing.T) {
			s := string(e.chart.SVG())
			checkSVG(t, s)
			if strings.Contains(strings.ToLower(s), "<script") || strings.Contains(s, "http://") && strings.Count(s, "http://") != 1 {
				t.Errorf("a script or an outside reference")
			}
		})
	}
}

func TestEmptyChartsAreValid(t *testing.T) {
	for _, c := range []example{
		{"line", LineChart{}}, {"bar", BarChart{}}, {"horizontal", BarChart{Horizontal: true}},
		{"observed", ObservedExpected{}}, {"map", Map{}},
		{"line-nan", LineChart{Series: []Series{{Values: []float64{nan, nan}}}}},
		{"bar-nan", BarChart{Categories: []string{"a"}, Series: []Series{{Values: []float64{nan}}}}},
		{"observed-nan", ObservedExpected{Observed: []float64{nan}}},
		{"map-point", Map{Layers: []Layer{{Features: []Feature{{Geometry: orb.Point{-0.76, 52.04}, Style: Style{Fill: "#000000"}}}}}}},
	} {
		t.Run(c.name, func(t *testing.T) { checkSVG(t, string(c.chart.SVG())) })
	}
}

// TestHostileText puts markup and quotes in every text a chart draws: each
// comes back as the same text, and nothing of it becomes markup.
func TestHostileText(t *testing.T) {
	for _, e := range hostileCharts() {
		t.Run(e.name, func(t *testing.T) {
			s := string(e.chart.SVG())
			els := checkSVG(t, s)
			if strings.Contains(s, "<script") || strings.Contains(s, "</svg><") || strings.Contains(s, "<b>") {
				t.Errorf("markup from the text got through:\n%s", s)
			}
			if els[1].text != hostile {
				t.Errorf("title %q", els[1].text)
			}
			for _, el := range els {
				if el.name == "script" || el.name == "b" {
					t.Errorf("a <%s> element", el.name)
				}
				for k, v := range el.attrs {
					if k != "id" && k != "aria-labelledby" && strings.Contains(v, "script") {
						t.Errorf("%s=%q", k, v)
					}
				}
			}
			texts := 0
			for _, el := range els {
				if (el.name == "text" || el.name == "tspan") && strings.Contains(el.text, "alert(") {
					texts++
				}
			}
			if texts == 0 {
				t.Errorf("the hostile text is not drawn as text")
			}
		})
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		`a<b>&"c'`:         "a&lt;b&gt;&amp;&quot;c&#39;",
		"line\nbreak\ttab": "line break tab",
		"nul\x00 \ufffe":   "nul\ufffd \ufffd",
		"bad \xff utf-8":   "bad \ufffd utf-8",
		"Ward – Sør":       "Ward – Sør",
	} {
		if got := string(appendEscaped(nil, in)); got != want {
			t.Errorf("%q: %q; want %q", in, got, want)
		}
	}
	if got := chartID(`"><script>`, "", "", ""); got != "c___script_" {
		t.Errorf("id %q", got)
	}
}

func TestNumbers(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 12.34: "12.3", 12: "12", -0.04: "0", -0.5: "-.5", 0.25: ".3", 1234.56: "1234.6", math.NaN(): "0"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q; want %q", v, got, want)
		}
	}
	for _, c := range []struct {
		v    float64
		d    int
		want string
	}{{12345, 0, "12,345"}, {1234567.891, 2, "1,234,567.89"}, {-1500, 0, "-1,500"}, {999, 0, "999"}, {0.5, 1, "0.5"}, {-0.001, 1, "0.0"}} {
		if got := formatNumber(c.v, c.d); got != c.want {
			t.Errorf("formatNumber(%v, %d) = %q; want %q", c.v, c.d, got, c.want)
		}
	}
}

func TestTicks(t *testing.T) {
	for _, c := range []struct {
		max     float64
		integer bool
		want    []float64
		labels  string
	}{
		{0, true, []float64{0, 1}, "0 1"},
		{math.NaN(), true, []float64{0, 1}, "0 1"},
		{1, true, []float64{0, 1}, "0 1"},
		{1, false, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}, "0.0 0.2 0.4 0.6 0.8 1.0"},
		{7, true, []float64{0, 2, 4, 6, 8}, "0 2 4 6 8"},
		{999, true, []float64{0, 200, 400, 600, 800, 1000}, "0 200 400 600 800 1,000"},
		{12345, true, []float64{0, 2500, 5000, 7500, 10000, 12500}, "0 2,500 5,000 7,500 10,000 12,500"},
		{3, true, []float64{0, 1, 2, 3}, "0 1 2 3"},
		{0.37, false, []float64{0, 0.1, 0.2, 0.3, 0.4}, "0.0 0.1 0.2 0.3 0.4"},
		{2.5, true, []float64{0, 1, 2, 3}, "0 1 2 3"},
		{23, false, []float64{0, 5, 10, 15, 20, 25}, "0 5 10 15 20 25"},
	} {
		got := Ticks(c.max, c.integer)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Ticks(%v, %v) = %v; want %v", c.max, c.integer, got, c.want)
		}
		if l := strings.Join(tickLabels(got), " "); l != c.labels {
			t.Errorf("labels of %v: %q; want %q", c.max, l, c.labels)
		}
	}
	// Every maximum is covered in at most six intervals starting at 0.
	for i := 0; i < 2000; i++ {
		m := math.Pow(10, noise(i, 1)*8-2)
		tk := Ticks(m, false)
		if tk[0] != 0 || tk[len(tk)-1] < m || len(tk)-1 > 6 || len(tk) < 2 {
			t.Fatalf("Ticks(%v) = %v", m, tk)
		}
	}
}

// TestWithheldIsNotZero draws NaN as gaps and hatched outlines, never as a
// value of zero, and says so in the legend.
func TestWithheldIsNotZero(t *testing.T) {
	t.Run("line", func(t *testing.T) {
		c := LineChart{X: []string{"a", "b", "c", "d", "e"}, Series: []Series{{Name: "s", Values: []float64{4, 5, nan, 6, 7}}}}
		els := checkSVG(t, string(c.SVG()))
		var line string
		for _, el := range els {
			if el.name == "path" && el.attrs["fill"] == "none" && el.attrs["stroke"] == Categorical(0) {
				line = el.attrs["d"]
			}
		}
		if strings.Count(line, "M") != 2 || strings.Count(line, "L") != 2 {
			t.Errorf("want two runs of two points, got %q", line)
		}
		if !hasText(els, "Gap: withheld or missing") {
			t.Errorf("no legend entry for the gap")
		}
	})
	t.Run("bar", func(t *testing.T) {
		c := BarChart{ID: "b", Categories: []string{"a", "b"}, Series: []Series{{Name: "s", Values: []float64{4, nan}}}, ValueLabels: true}
		els := checkSVG(t, string(c.SVG()))
		bars, hatched := 0, 0
		for _, el := range els {
			if el.name == "rect" && el.attrs["fill"] == Categorical(0) && el.attrs["height"] != "11" {
				bars++
			}
			if el.name == "rect" && el.attrs["fill"] == "url(#b-hatch)" {
				hatched++
			}
		}
		if bars != 1 || hatched != 2 { // the bar's and the legend's
			t.Errorf("%d bars and %d hatched outlines; want 1 and 2", bars, hatched)
		}
		if !hasText(els, "Withheld (a small count)") || hasText(els, "0") && !hasText(els, "4") {
			t.Errorf("legend or labels wrong")
		}
		for _, el := range els {
			if el.name == "text" && el.text == "0" && el.attrs["text-anchor"] == "middle" && el.attrs["font-size"] == "11" && !strings.HasPrefix(el.attrs["y"], "3") {
				// Tick labels are end-anchored; a value label of 0 would be middle-anchored above the bars.
				t.Errorf("a withheld value labelled 0")
			}
		}
	})
	t.Run("observed", func(t *testing.T) {
		c := ObservedExpected{ID: "o", X: []string{"a", "b", "c"}, Observed: []float64{1, nan, 3}, Expected: []float64{2, nan, 2}}
		els := checkSVG(t, string(c.SVG()))
		hatched := 0
		var expected string
		for _, el := range els {
			if el.name == "rect" && el.attrs["fill"] == "url(#o-hatch)" {
				hatched++
			}
			if el.name == "path" && el.attrs["stroke"] == expectedColour {
				expected = el.attrs["d"]
			}
		}
		if hatched != 2 || strings.Count(expected, "M") != 2 {
			t.Errorf("%d hatched, expected line %q", hatched, expected)
		}
	})
	t.Run("map", func(t *testing.T) {
		cl := Classify([]float64{1, 2, 3, nan}, ClassOptions{Integer: true})
		s := cl.Style(nan)
		if !s.Hatch || s.Fill != Withheld {
			t.Errorf("withheld style %+v", s)
		}
		l := cl.Legend("Counts")
		if last := l.Items[len(l.Items)-1]; !last.Hatch || !strings.Contains(last.Label, "Withheld") {
			t.Errorf("legend %+v", l)
		}
	})
}

func hasText(els []element, s string) bool {
	for _, el := range els {
		if el.name == "text" && el.text == s {
			return true
		}
	}
	return false
}

func TestTimeLabels(t *testing.T) {
	ms := months(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), 24)
	a := newXAxis(24, nil, ms, 30)
	if a.full[0] != "Jan 2023" || a.full[23] != "Dec 2024" {
		t.Errorf("full names %q %q", a.full[0], a.full[23])
	}
	if !reflect.DeepEqual(a.labels[0], []string{"Jan", "2023"}) || !reflect.DeepEqual(a.labels[1], []string{"Feb"}) || !reflect.DeepEqual(a.labels[12], []string{"Jan", "2024"}) {
		t.Errorf("monthly labels %q", a.labels)
	}
	// Narrower: every third month, at the quarters.
	a = newXAxis(24, nil, ms, 12)
	for i, l := range a.labels {
		if (l != nil) != (i%3 == 0) {
			t.Errorf("month %d labelled %q", i, l)
		}
	}
	// Two years of days: the firsts of months, every month or every other.
	for _, c := range []struct {
		slot float64
		step int
	}{{1, 1}, {0.8, 2}} {
		d := newXAxis(730, nil, days(time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC), 730, 1), c.slot)
		n := 0
		for i, l := range d.labels {
			if l == nil {
				continue
			}
			n++
			day := time.Date(2023, 3, 1+i, 0, 0, 0, 0, time.UTC)
			if day.Day() != 1 || monthIndex(day)%c.step != 0 || l[0] != day.Format("Jan") {
				t.Errorf("slot %v: day %d labelled %q", c.slot, i, l)
			}
		}
		if want := 24 / c.step; n != want {
			t.Errorf("slot %v: %d labels; want %d", c.slot, n, want)
		}
		if d.full[0] != "1 Mar 2023" || !reflect.DeepEqual(d.labels[0], []string{"Mar", "2023"}) {
			t.Errorf("daily %q %q", d.full[0], d.labels[0])
		}
	}
	// A few weeks: every day or week labelled, the year under the first.
	w := newXAxis(6, nil, days(time.Date(2024, 12, 16, 0, 0, 0, 0, time.UTC), 6, 7), 60)
	if !reflect.DeepEqual(w.labels[0], []string{"16 Dec", "2024"}) || !reflect.DeepEqual(w.labels[3], []string{"6 Jan", "2025"}) || !reflect.DeepEqual(w.labels[4], []string{"13 Jan"}) {
		t.Errorf("weekly labels %q", w.labels)
	}
}

func TestProject(t *testing.T) {
	m := Map{Width: 212, Margin: 10, HideTitle: true, NoScaleBar: true, Bounds: orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}}}
	for _, c := range []struct {
		p    orb.Point
		x, y float64
	}{
		// Web Mercator: y = ln tan(45° + lat/2); a degree of longitude is π/180, so 180 units
		// (212 less the padding of 6 and the margin of 10 each side) span 0.0174533.
		{orb.Point{0, 0}, 16, 196.009},
		{orb.Point{1, 1}, 196, 16},
		{orb.Point{0.5, 0.5}, 106, 106.008},
	} {
		x, y := m.Project(c.p)
		if math.Abs(x-c.x) > 0.001 || math.Abs(y-c.y) > 0.001 {
			t.Errorf("%v at %.3f, %.3f; want %.3f, %.3f", c.p, x, y, c.x, c.y)
		}
	}
	// A dot drawn there: a path starting 3 units to the left of the point.
	m.Layers = []Layer{{Features: []Feature{{Geometry: orb.Point{0.5, 0.5}, Style: Style{Fill: "#000000"}}}}}
	if s := string(m.SVG()); !strings.Contains(s, `d="M103 106a3 3 0 1 0 6 0a3 3 0 1 0-6 0z"`) {
		t.Errorf("the dot is not at 106, 106:\n%s", s)
	}
	// A single point is drawn in the middle.
	p := Map{Width: 212, Height: 212, Margin: 10, HideTitle: true, NoScaleBar: true,
		Layers: []Layer{{Features: []Feature{{Geometry: orb.Point{-0.76, 52.04}, Style: Style{Fill: "#000000"}}}}}}
	if x, y := p.Project(orb.Point{-0.76, 52.04}); math.Abs(x-106) > 1e-9 || math.Abs(y-106) > 1e-9 {
		t.Errorf("a lone point at %v, %v; want 106, 106", x, y)
	}
	// Symmetric bounds put their centre in the middle of the frame.
	c := countMap(3)
	c.Bounds = orb.Bound{Min: orb.Point{-0.8, 52.0}, Max: orb.Point{-0.72, 52.08}}
	f := c.frame()
	x, y := c.Project(orb.Point{-0.76, 52.04})
	mx, my := mercator(orb.Point{-0.76, 52.04})
	_, top := mercator(c.Bounds.Max)
	_, bottom := mercator(c.Bounds.Min)
	if math.Abs(x-f.width/2) > 1e-9 || math.Abs(y-(f.y0+(top-my)*f.scale)) > 1e-9 || math.Abs(mx+0.76*math.Pi/180) > 1e-12 || !(my < top && my > bottom) {
		t.Errorf("centre at %v, %v", x, y)
	}
}

func TestHole(t *testing.T) {
	els := checkSVG(t, string(holeMap().SVG()))
	found := false
	for _, el := range els {
		if el.name == "path" && el.attrs["fill"] == Categorical(0) {
			found = true
			d := el.attrs["d"]
			if el.attrs["fill-rule"] != "evenodd" || strings.Count(d, "z") != 2 || strings.Count(d, "M")+strings.Count(d, "m") != 2 {
				t.Errorf("want two closed rings filled even-odd: %v", el.attrs)
			}
			// The square is 225 units wide; the hole's ring starts a quarter of the way in.
			if !regexp.MustCompile(`^M[\d.]+ [\d.]+l[-\d. ]+zm[-\d. ]+l[-\d. ]+z$`).MatchString(d) || !strings.Contains(d, "l225 0 0-225-225 0zm56.3-56.2l") {
				t.Errorf("rings %q", d)
			}
		}
	}
	if !found {
		t.Fatal("no polygon drawn")
	}
}

func TestDeterministic(t *testing.T) {
	var wg sync.WaitGroup
	out := make([][]string, 4)
	for r := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, e := range examples() {
				out[r] = append(out[r], string(e.chart.SVG()))
			}
		}()
	}
	wg.Wait()
	for r := 1; r < len(out); r++ {
		if !reflect.DeepEqual(out[0], out[r]) {
			t.Fatal("two renderings of the same charts differ")
		}
	}
	// Two charts with different data on one page have different ids.
	a, b := yearsBar(), yearsBar()
	b.Series[0].Values = []float64{1, 2, 3, 4, 5, 6, 7}
	if chartIDOf(string(a.SVG())) == chartIDOf(string(b.SVG())) {
		t.Error("two charts share their ids")
	}
}

func chartIDOf(s string) string {
	return regexp.MustCompile(`aria-labelledby="([^ "]+)`).FindStringSubmatch(s)[1]
}

func TestClassify(t *testing.T) {
	v := make([]float64, 100)
	for i := range v {
		v[i] = float64(i + 1)
	}
	c := Classify(v, ClassOptions{Integer: true})
	if !reflect.DeepEqual(c.Breaks, []float64{21, 41, 61, 81}) {
		t.Errorf("quantile breaks %v", c.Breaks)
	}
	if want := []string{"1–20", "21–40", "41–60", "61–80", "81 or more"}; !reflect.DeepEqual(c.Labels, want) {
		t.Errorf("labels %q", c.Labels)
	}
	// Five of viridis's six, as the map picks them (Math.round(2.5) is 3).
	if want := []string{"#440154", "#414487", "#22a884", "#7ad151", "#fde725"}; !reflect.DeepEqual(c.Colors, want) {
		t.Errorf("colours %q", c.Colors)
	}
	for v, want := range map[float64]int{1: 0, 20: 0, 21: 1, 80.5: 3, 81: 4, 500: 4, 0: -1, -3: -1, math.NaN(): -1} {
		if got := c.Class(v); got != want {
			t.Errorf("class of %v: %d; want %d", v, got, want)
		}
	}
	if c.Withheld || c.Zero || c.Color(0) != "" || c.Color(math.NaN()) != Withheld {
		t.Errorf("%+v", c)
	}

	few := Classify([]float64{1, 1, 2, 3, 0, math.NaN()}, ClassOptions{Integer: true})
	if !reflect.DeepEqual(few.Labels, []string{"1", "2", "3 or more"}) || !few.Withheld || !few.Zero {
		t.Errorf("few: %+v", few)
	}
	if l := few.Legend("Reports"); len(l.Items) != 5 || l.Items[3].Label != "None" || !l.Items[4].Hatch {
		t.Errorf("legend %+v", l)
	}

	rates := Classify([]float64{0.12, 0.5, 0.77, 1.234, 2.5, 3.1, 8.8, 12.5, 40}, ClassOptions{Classes: 3, Palette: Plasma()})
	// The quantiles 1.234 and 8.8 rounded to two significant digits.
	if !reflect.DeepEqual(rates.Breaks, []float64{1.2, 8.8}) || !reflect.DeepEqual(rates.Labels, []string{"0.12 to under 1.20", "1.20 to under 8.80", "8.80 or more"}) {
		t.Errorf("rates %v %q", rates.Breaks, rates.Labels)
	}
	if !reflect.DeepEqual(rates.Colors, []string{"#0d0887", "#e16462", "#f0f921"}) {
		t.Errorf("rate colours %q", rates.Colors)
	}

	nice := Classify([]float64{1, 4, 9, 15, 22, 37}, ClassOptions{Method: NiceIntervals, Integer: true})
	if !reflect.DeepEqual(nice.Breaks, []float64{10, 20, 30}) || !reflect.DeepEqual(nice.Labels, []string{"1–9", "10–19", "20–29", "30 or more"}) {
		t.Errorf("nice %v %q", nice.Breaks, nice.Labels)
	}
	one := Classify([]float64{5, 5}, ClassOptions{Integer: true})
	if !reflect.DeepEqual(one.Labels, []string{"5"}) || !reflect.DeepEqual(one.Colors, []string{"#22a884"}) {
		t.Errorf("one class %+v", one)
	}
	if none := Classify(nil, ClassOptions{}); len(none.Labels) != 0 || none.Color(3) != "" {
		t.Errorf("no values %+v", none)
	}
}

func TestPalettes(t *testing.T) {
	seen := map[string]bool{}
	for i := range 8 {
		seen[Categorical(i)] = true
		if Categorical(i+8) != Categorical(i) || Categorical(i-8) != Categorical(i) {
			t.Errorf("Categorical(%d) does not repeat after eight", i)
		}
	}
	if len(seen) != 8 || Categorical(0) != "#0072B2" || Categorical(1) != "#E69F00" {
		t.Errorf("Okabe-Ito order changed")
	}
	if Dash(0) != "" || Dash(1) == Dash(2) {
		t.Errorf("dashes")
	}
	v := Viridis()
	v[0] = "x"
	if Viridis()[0] != "#440154" {
		t.Error("Viridis shares its array")
	}
	if ConfidenceColor(99) != "#a63603" || ConfidenceColor(-95) != "#4292c6" || ConfidenceColor(42) != "#efefef" {
		t.Error("confidence colours")
	}
	hot := map[tension.Category]string{
		tension.CategoryNewHotSpot: "#D55E00", tension.CategoryConsecutiveHotSpot: "#E69F00", tension.CategoryIntensifyingHotSpot: "#CC79A7",
		tension.CategoryPersistentHotSpot: "#000000", tension.CategoryDiminishingHotSpot: "#F0E442", tension.CategorySporadicHotSpot: "#009E73",
		tension.CategoryOscillatingHotSpot: "#56B4E9", tension.CategoryHistoricalHotSpot: "#a6761d",
	}
	for c, want := range hot {
		if got := CategoryColor(string(c)); got != want {
			t.Errorf("%s: %q; want %q", c, got, want)
		}
		if l := CategoryLabel(string(c)); !strings.HasSuffix(l, "hot spot") {
			t.Errorf("%s: label %q", c, l)
		}
	}
	for _, c := range []tension.Category{tension.CategoryNewColdSpot, tension.CategoryConsecutiveColdSpot, tension.CategoryIntensifyingColdSpot,
		tension.CategoryPersistentColdSpot, tension.CategoryDiminishingColdSpot, tension.CategorySporadicColdSpot,
		tension.CategoryOscillatingColdSpot, tension.CategoryHistoricalColdSpot} {
		if got := CategoryColor(string(c)); got != "#0072B2" {
			t.Errorf("%s: %q", c, got)
		}
		if l := CategoryLabel(string(c)); !strings.HasSuffix(l, "cold spot") {
			t.Errorf("%s: label %q", c, l)
		}
	}
	if CategoryColor(string(tension.CategoryNoPattern)) != "" || CategoryLabel(string(tension.CategoryNoPattern)) != "No pattern" || CategoryColor("nonsense") != "" {
		t.Error("no pattern")
	}
	if l := CategoryLegend(); len(l.Items) != 10 {
		t.Errorf("category legend has %d items", len(l.Items))
	}
	if TensionStyle("high").Stroke != "#D55E00" || TensionStyle("?").Stroke != "#555555" {
		t.Error("tension")
	}
}

// TestMapSize reports the size of a map of about 3,000 hexagons.
func TestMapSize(t *testing.T) {
	m := bigMap(31)
	s := m.SVG()
	n := len(m.Layers[0].Features)
	if n < 2500 {
		t.Fatalf("only %d hexagons", n)
	}
	per := float64(len(s)) / float64(n)
	t.Logf("%d hexagons: %d bytes, %.0f a hexagon", n, len(s), per)
	if per > 80 {
		t.Errorf("%.0f bytes a hexagon", per)
	}
	checkSVG(t, string(s))
}

func ExampleBarChart() {
	c := BarChart{
		Title:      "Reports by strand",
		Categories: []string{"Race", "Religion"},
		Series:     []Series{{Name: "Last year", Values: []float64{412, 131}}, {Name: "This year", Values: []float64{465, math.NaN()}}},
	}
	s := string(c.SVG())
	fmt.Println(s[:strings.Index(s, "</desc>")+7])
	// Output:
	// <svg xmlns="http://www.w3.org/2000/svg" class="chart chart-bar" viewBox="0 0 720 360" width="100%" role="img" aria-labelledby="chart-f6ec50abc54058bb-title chart-f6ec50abc54058bb-desc" font-family="sans-serif" font-size="12" fill="#1b1b1b">
	// <title id="chart-f6ec50abc54058bb-title">Reports by strand</title>
	// <desc id="chart-f6ec50abc54058bb-desc">Bar chart of 2 series over 2 categories. Last year: Race 412, Religion 131. This year: Race 465, Religion withheld.</desc>
}

func ExampleMap() {
	// Counts of three hexagons of resolution 8, one withheld, classed as the map classes them.
	hexagon := func(lon, lat float64) orb.Polygon {
		r := orb.Ring{}
		for i := range 7 {
			a := float64(i%6) * math.Pi / 3
			r = append(r, orb.Point{lon + 0.004*math.Cos(a), lat + 0.0025*math.Sin(a)})
		}
		return orb.Polygon{r}
	}
	counts := []float64{3, 12, math.NaN()}
	classes := Classify(counts, ClassOptions{Classes: 5, Integer: true})
	var hexagons Layer
	for i, n := range counts {
		hexagons.Features = append(hexagons.Features, Feature{Geometry: hexagon(-0.76+0.006*float64(i), 52.04), Style: classes.Style(n)})
	}
	hexagons.Name = "hexagons"
	m := Map{Title: "Reports per hexagon", Layers: []Layer{hexagons}, Legend: classes.Legend("Reports per hexagon")}
	s := string(m.SVG())
	fmt.Println(s[strings.Index(s, "<desc"):strings.Index(s, "</desc>")])
	// Output:
	// <desc id="chart-a31bc5ef92b117ed-desc">Map of 3 hexagons. Reports per hexagon: 3–11, 1; 12 or more, 1; Withheld (a small count), 1.
}
