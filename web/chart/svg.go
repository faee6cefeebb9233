package chart

import (
	"fmt"
	"hash/fnv"
	"html/template"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Colours of the chart furniture, the same as the pages' (web/static/app.css).
const (
	inkColour   = "#1b1b1b"
	mutedColour = "#555555"
	axisColour  = "#444444"
	gridColour  = "#e6e6e6"
	frameColour = "#d0d0d0"
	bandColour  = "#ececec"
	hatchColour = "#6b6b6b"
)

// Font sizes in viewBox units.
const (
	titleSize = 15
	textSize  = 12
	smallSize = 11
)

// svg builds one SVG document. Attributes are given as name, value pairs; every
// value and every text goes through escape.
type svg struct {
	b  []byte
	id string // prefix of the element ids, unique to the chart
}

// start writes the root element with its title and description. width and
// height are the viewBox's; kind names the chart in its class.
func (w *svg) start(kind string, width, height float64, title, desc string) {
	w.b = append(w.b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-`...)
	w.b = append(w.b, kind...)
	w.b = append(w.b, `" viewBox="0 0 `...)
	w.b = append(w.b, num(width)...)
	w.b = append(w.b, ' ')
	w.b = append(w.b, num(height)...)
	w.b = append(w.b, `" width="100%" role="img" aria-labelledby="`...)
	w.b = append(w.b, w.id...)
	w.b = append(w.b, `-title `...)
	w.b = append(w.b, w.id...)
	w.b = append(w.b, `-desc" font-family="sans-serif" font-size="`...)
	w.b = append(w.b, strconv.Itoa(textSize)...)
	w.b = append(w.b, `" fill="`+inkColour+`">`...)
	w.b = append(w.b, "\n<title id=\""...)
	w.b = append(w.b, w.id...)
	w.b = append(w.b, `-title">`...)
	w.b = appendEscaped(w.b, title)
	w.b = append(w.b, "</title>\n<desc id=\""...)
	w.b = append(w.b, w.id...)
	w.b = append(w.b, `-desc">`...)
	w.b = appendEscaped(w.b, desc)
	w.b = append(w.b, "</desc>\n"...)
}

// end closes the root element and returns the document.
func (w *svg) end() template.HTML {
	w.b = append(w.b, "</svg>\n"...)
	return template.HTML(w.b)
}

func (w *svg) attrs(kv []string) {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		w.b = append(w.b, ' ')
		w.b = append(w.b, kv[i]...)
		w.b = append(w.b, `="`...)
		w.b = appendEscaped(w.b, kv[i+1])
		w.b = append(w.b, '"')
	}
}

// elem writes an empty element. An attribute with an empty value is left out.
func (w *svg) elem(name string, kv ...string) {
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.attrs(kv)
	w.b = append(w.b, "/>\n"...)
}

// open writes a start tag; close the element with close.
func (w *svg) open(name string, kv ...string) {
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.attrs(kv)
	w.b = append(w.b, ">\n"...)
}

func (w *svg) close(name string) {
	w.b = append(w.b, "</"...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ">\n"...)
}

// path writes a path whose data d the chart built itself (numbers and
// commands only, which need no escaping).
func (w *svg) path(d []byte, kv ...string) {
	w.b = append(w.b, `<path d="`...)
	w.b = append(w.b, d...)
	w.b = append(w.b, '"')
	w.attrs(kv)
	w.b = append(w.b, "/>\n"...)
}

// text writes a text element at x, y.
func (w *svg) text(x, y float64, s string, kv ...string) {
	w.b = append(w.b, `<text x="`...)
	w.b = append(w.b, num(x)...)
	w.b = append(w.b, `" y="`...)
	w.b = append(w.b, num(y)...)
	w.b = append(w.b, '"')
	w.attrs(kv)
	w.b = append(w.b, '>')
	w.b = appendEscaped(w.b, s)
	w.b = append(w.b, "</text>\n"...)
}

// lines writes a text of several lines, the first at x, y.
func (w *svg) lines(x, y, lineHeight float64, ls []string, kv ...string) {
	if len(ls) == 1 {
		w.text(x, y, ls[0], kv...)
		return
	}
	w.b = append(w.b, `<text x="`...)
	w.b = append(w.b, num(x)...)
	w.b = append(w.b, `" y="`...)
	w.b = append(w.b, num(y)...)
	w.b = append(w.b, '"')
	w.attrs(kv)
	w.b = append(w.b, '>')
	for i, l := range ls {
		w.b = append(w.b, `<tspan x="`...)
		w.b = append(w.b, num(x)...)
		w.b = append(w.b, `" y="`...)
		w.b = append(w.b, num(y+float64(i)*lineHeight)...)
		w.b = append(w.b, `">`...)
		w.b = appendEscaped(w.b, l)
		w.b = append(w.b, "</tspan>"...)
	}
	w.b = append(w.b, "</text>\n"...)
}

// rect writes a rectangle.
func (w *svg) rect(x, y, width, height float64, kv ...string) {
	w.elem("rect", append([]string{"x", num(x), "y", num(y), "width", num(width), "height", num(height)}, kv...)...)
}

// line writes a line segment.
func (w *svg) line(x1, y1, x2, y2 float64, kv ...string) {
	w.elem("line", append([]string{"x1", num(x1), "y1", num(y1), "x2", num(x2), "y2", num(y2)}, kv...)...)
}

// hatchID is the id of the chart's hatching pattern, defined by defs.
func (w *svg) hatchID() string { return w.id + "-hatch" }

// hatchDefs defines the hatching that marks withheld values.
func (w *svg) hatchDefs() {
	w.open("defs")
	w.open("pattern", "id", w.hatchID(), "patternUnits", "userSpaceOnUse", "width", "5", "height", "5", "patternTransform", "rotate(45)")
	w.elem("line", "x1", "0", "y1", "0", "x2", "0", "y2", "5", "stroke", hatchColour, "stroke-width", "1.6")
	w.close("pattern")
	w.close("defs")
}

// num writes a coordinate or length rounded to a tenth, with no needless digits.
func num(v float64) string {
	return string(appendTenths(nil, tenths(v)))
}

// tenths rounds v to a whole number of tenths.
func tenths(v float64) int64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return int64(math.Round(v * 10))
}

// appendTenths writes a number of tenths as a decimal: 123 as 12.3, 120 as 12,
// -5 as -.5.
func appendTenths(b []byte, t int64) []byte {
	if t < 0 {
		b = append(b, '-')
		t = -t
	}
	whole, frac := t/10, t%10
	if whole != 0 || frac == 0 {
		b = strconv.AppendInt(b, whole, 10)
	}
	if frac != 0 {
		b = append(b, '.', byte('0'+frac))
	}
	return b
}

// appendEscaped writes s escaped for XML text and attribute values. Runes XML
// does not allow become U+FFFD.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '&':
			b = append(b, "&amp;"...)
		case r == '<':
			b = append(b, "&lt;"...)
		case r == '>':
			b = append(b, "&gt;"...)
		case r == '"':
			b = append(b, "&quot;"...)
		case r == '\'':
			b = append(b, "&#39;"...)
		case r == '\n' || r == '\r' || r == '\t':
			b = append(b, ' ')
		case r == utf8.RuneError && size == 1, !xmlChar(r):
			b = append(b, "\uFFFD"...)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// xmlChar reports whether XML 1.0 allows r in a document.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// chartID returns the prefix of a chart's element ids: the caller's id made safe,
// or one derived from what the chart shows, so that charts on one page differ.
func chartID(given, kind, title, desc string) string {
	if given != "" {
		var b strings.Builder
		for _, r := range given {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
				b.WriteRune(r)
			default:
				b.WriteByte('_')
			}
		}
		s := b.String()
		if s[0] < 'A' || s[0] > 'z' || (s[0] > 'Z' && s[0] < 'a') {
			s = "c" + s
		}
		return s
	}
	h := fnv.New64a()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(title))
	h.Write([]byte{0})
	h.Write([]byte(desc))
	return fmt.Sprintf("chart-%x", h.Sum64())
}

// textWidth estimates the width of s in a sans-serif font of the given size.
// The estimate is generous so that labels laid out with it do not collide.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case strings.ContainsRune("ilj.,;:'|!() []", r):
			w += 0.3
		case strings.ContainsRune("ftrI-", r):
			w += 0.4
		case r >= '0' && r <= '9':
			w += 0.56
		case strings.ContainsRune("mwMW@", r):
			w += 0.86
		case r >= 'A' && r <= 'Z':
			w += 0.68
		default:
			w += 0.56
		}
	}
	return w * size
}

// truncate shortens s with an ellipsis to fit in width.
func truncate(s string, width, size float64) string {
	if textWidth(s, size) <= width {
		return s
	}
	rs := []rune(s)
	for len(rs) > 1 {
		rs = rs[:len(rs)-1]
		t := strings.TrimRight(string(rs), " ") + "…"
		if textWidth(t, size) <= width {
			return t
		}
	}
	return "…"
}

// wrap breaks s at spaces into at most maxLines lines of at most width; the last
// line is truncated when the words do not fit.
func wrap(s string, width, size float64, maxLines int) []string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return []string{""}
	}
	var out []string
	cur := words[0]
	for _, word := range words[1:] {
		if textWidth(cur+" "+word, size) <= width {
			cur += " " + word
			continue
		}
		out = append(out, cur)
		cur = word
	}
	out = append(out, cur)
	if len(out) > maxLines {
		out[maxLines-1] = strings.Join(out[maxLines-1:], " ")
		out = out[:maxLines]
	}
	for i := range out {
		out[i] = truncate(out[i], width, size)
	}
	return out
}

// Paints and dash patterns come from code, but a chart draws only what it can
// vouch for: a colour (#rgb to #rrggbbaa, a name, rgb(), rgba(), hsl(), hsla())
// and a list of numbers. Anything else, a url() to somewhere else above all, is
// drawn as neutralPaint or solid.
var (
	paintPattern = regexp.MustCompile(`^(#[0-9A-Fa-f]{3,8}|[A-Za-z]{3,20}|(rgb|rgba|hsl|hsla)\([0-9., %]{1,40}\))$`)
	dashPattern  = regexp.MustCompile(`^[0-9., ]{1,60}$`)
)

const neutralPaint = "#808080"

// paint returns a colour fit for a fill or stroke attribute; "" stays "".
func paint(s string) string {
	if s == "" || paintPattern.MatchString(s) {
		return s
	}
	return neutralPaint
}

// dash returns a dash pattern fit for stroke-dasharray; "" (solid) stays "".
func dash(s string) string {
	if s == "" || dashPattern.MatchString(s) {
		return s
	}
	return ""
}
