package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// query reads typed, allow-listed query parameters: an unknown parameter, a repeated
// single-valued one or a malformed value is an EINVALID error naming it.
type query struct {
	v    url.Values
	errs []string
}

func newQuery(v url.Values, allowed ...string) *query {
	q := &query{v: v}
	for name := range v {
		if !slices.Contains(allowed, name) {
			q.errs = append(q.errs, fmt.Sprintf("unknown parameter %q (this route takes %s)", name, strings.Join(allowed, ", ")))
		}
	}
	slices.Sort(q.errs)
	return q
}

func (q *query) fail(name, format string, args ...any) {
	q.errs = append(q.errs, name+": "+fmt.Sprintf(format, args...))
}

// err returns every problem found, as one EINVALID error.
func (q *query) err() error {
	if len(q.errs) == 0 {
		return nil
	}
	return geo.Errorf(geo.EINVALID, "%s", strings.Join(q.errs, "; "))
}

func (q *query) single(name string) string {
	vs := q.v[name]
	if len(vs) > 1 {
		q.fail(name, "given %d times; give it once", len(vs))
	}
	if len(vs) == 0 {
		return ""
	}
	if len(vs[0]) > 200 {
		q.fail(name, "too long")
		return ""
	}
	return strings.TrimSpace(vs[0])
}

// list reads a parameter that may repeat or hold comma-separated values.
func (q *query) list(name string) []string {
	var out []string
	for _, v := range q.v[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	if len(out) > 64 {
		q.fail(name, "too many values")
		return nil
	}
	return out
}

func (q *query) day(name string) time.Time {
	s := q.single(name)
	if s == "" {
		return time.Time{}
	}
	t, ok := geo.ParseDay(s)
	if !ok || t.Year() < 1900 || t.Year() > 2200 {
		q.fail(name, "%q is not a day such as 2024-03-31", s)
		return time.Time{}
	}
	return t
}

func (q *query) intIn(name string, def, lo, hi int) int {
	s := q.single(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		q.fail(name, "%q is not a whole number from %d to %d", s, lo, hi)
		return def
	}
	return n
}

// bbox reads west,south,east,north in WGS84 degrees.
func (q *query) bbox(name string) *geo.Bound {
	s := q.single(name)
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		q.fail(name, "want west,south,east,north in degrees")
		return nil
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f != f {
			q.fail(name, "%q is not a number", p)
			return nil
		}
		v[i] = f
	}
	b := &geo.Bound{West: v[0], South: v[1], East: v[2], North: v[3]}
	if b.West < -180 || b.East > 180 || b.South < -90 || b.North > 90 || b.West > b.East || b.South > b.North {
		q.fail(name, "want west ≤ east within -180..180 and south ≤ north within -90..90")
		return nil
	}
	return b
}

// filterParams are the parameters of a count filter.
var filterParams = []string{"from", "to", "strand", "kind", "source"}

// filter reads from, to, strand, kind and source, checking names against the
// configured strands and sources.
func (q *query) filter(strands, sources []string) geo.Filter {
	f := geo.Filter{From: q.day("from"), To: q.day("to")}
	for _, s := range q.list("strand") {
		n := geo.NormaliseName(s)
		if !slices.Contains(strands, n) {
			q.fail("strand", "%q is not one of %s", s, strings.Join(strands, ", "))
			continue
		}
		f.Strands = append(f.Strands, n)
	}
	for _, k := range q.list("kind") {
		switch geo.Kind(strings.ToLower(k)) {
		case geo.KindCrime, geo.KindIncident:
			f.Kinds = append(f.Kinds, geo.Kind(strings.ToLower(k)))
		default:
			q.fail("kind", "%q is not crime or incident", k)
		}
	}
	for _, s := range q.list("source") {
		n := geo.NormaliseName(s)
		if !slices.Contains(sources, n) {
			q.fail("source", "%q is not one of %s", s, strings.Join(sources, ", "))
			continue
		}
		f.Sources = append(f.Sources, n)
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		q.fail("to", "is before from")
	}
	return f
}

// defaultDays is the period a count answers when the request names none.
const defaultDays = 28

// defaultPeriod bounds a count's period when the request leaves it open: no from and
// no to is the last 28 days to today, a to alone the 28 days ending on it; a from
// alone runs to today.
func (s *Server) defaultPeriod(f *geo.Filter) {
	if f.To.IsZero() && (f.From.IsZero() || !f.From.After(s.today())) {
		f.To = s.today()
	}
	if f.From.IsZero() {
		f.From = f.To.AddDate(0, 0, -(defaultDays - 1))
	}
}

// today is the current day, UTC.
func (s *Server) today() time.Time {
	n := s.opts.Now().UTC()
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}
