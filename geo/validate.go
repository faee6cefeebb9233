package geo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultStrands are the five nationally monitored strands and the two common local
// additions (misogyny and alternative subculture).
var DefaultStrands = []string{"race", "religion", "sexual_orientation", "disability", "transgender", "sex", "alternative_subculture"}

// DefaultSources are the reporting routes a partnership usually receives reports through.
var DefaultSources = []string{"police", "council", "third_party", "anonymous", "other"}

// ErrNoKey is returned by Validate when a record carries a victim or offender
// reference and no pseudonymisation key is configured: raw references are never stored.
var ErrNoKey = Errorf(EINVALID, "a record carries a victim or offender reference but no pseudonymisation key is configured (set TENSIONMAP_PSEUDONYM_KEY_FILE)")

// Defaults fill fields an input leaves empty, for formats that lack them (police.uk
// carries no hate flag, so its strands and kind come from here).
type Defaults struct {
	Source    string
	Kind      Kind
	Strands   []string
	Precision Precision
}

// Validator turns raw records into incidents, rejecting out-of-range and impossible
// values with the field and the reason. It is safe for concurrent use once built.
type Validator struct {
	strands  map[string]bool
	sources  map[string]bool
	key      []byte
	layouts  []string
	custom   bool // layouts begins with configured ones
	loc      *time.Location
	now      func() time.Time
	defaults Defaults
	macs     sync.Pool // of keyed HMACs, which are costly to set up
}

// ValidatorOptions configures a Validator. Zero values take the defaults.
type ValidatorOptions struct {
	Strands     []string       // allowed strands; DefaultStrands when empty
	Sources     []string       // allowed sources; DefaultSources when empty
	Key         []byte         // HMAC key for victim and offender references
	DateLayouts []string       // Go time layouts tried before the built-in ones
	Location    *time.Location // zone of timestamps without an offset; UTC when nil
	Now         func() time.Time
	Defaults    Defaults
}

// NewValidator returns a Validator, or an error naming a default that is not allowed.
func NewValidator(o ValidatorOptions) (*Validator, error) {
	v := &Validator{
		strands: map[string]bool{}, sources: map[string]bool{},
		key: o.Key, layouts: append(slices.Clone(o.DateLayouts), builtinLayouts...),
		custom: len(o.DateLayouts) > 0, loc: o.Location, now: o.Now, defaults: o.Defaults,
	}
	if v.loc == nil {
		v.loc = time.UTC
	}
	v.macs.New = func() any { return hmac.New(sha256.New, v.key) }
	if v.now == nil {
		v.now = time.Now
	}
	strands, sources := o.Strands, o.Sources
	if len(strands) == 0 {
		strands = DefaultStrands
	}
	if len(sources) == 0 {
		sources = DefaultSources
	}
	for _, s := range strands {
		v.strands[NormaliseName(s)] = true
	}
	for _, s := range sources {
		v.sources[NormaliseName(s)] = true
	}
	if d := o.Defaults.Source; d != "" && !v.sources[NormaliseName(d)] {
		return nil, Errorf(EINVALID, "default source %q is not one of the configured sources", d)
	}
	for _, s := range o.Defaults.Strands {
		if !v.strands[NormaliseName(s)] {
			return nil, Errorf(EINVALID, "default strand %q is not one of the configured strands", s)
		}
	}
	if d := o.Defaults.Kind; d != "" && d != KindCrime && d != KindIncident {
		return nil, Errorf(EINVALID, "default kind %q is not crime or incident", d)
	}
	if d := o.Defaults.Precision; d != "" && !slices.Contains(Precisions, d) {
		return nil, Errorf(EINVALID, "default precision %q is not one of %v", d, Precisions)
	}
	return v, nil
}

// NormaliseName lower-cases a strand or source name and turns spaces and hyphens into
// underscores, so "Sexual orientation" and "sexual-orientation" are the same strand.
func NormaliseName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, s)
}

// Limits on free text, so that a runaway field cannot fill the database.
const (
	maxRefLen     = 200
	maxOffenceLen = 200
)

var earliest = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// Validate checks one raw record and returns the incident, a *RowError naming the
// field and reason, or ErrNoKey.
func (v *Validator) Validate(r *RawIncident) (*Incident, error) {
	in := &Incident{}
	bad := func(field, format string, args ...any) (*Incident, error) {
		return nil, &RowError{Line: r.Line, Index: r.Index, Field: field, Reason: fmt.Sprintf(format, args...)}
	}

	// Source and reference.
	src := NormaliseName(r.Source)
	if src == "" {
		src = NormaliseName(v.defaults.Source)
	}
	if src == "" {
		return bad("source", "required")
	} else if !v.sources[src] {
		return bad("source", "%q is not one of the configured sources", r.Source)
	}
	in.Source = src
	ref := strings.TrimSpace(r.SourceRef)
	if ref == "" {
		return bad("source_ref", "required, so that loading the same report twice stores it once")
	} else if msg := checkText(ref, maxRefLen); msg != "" {
		return bad("source_ref", "%s", msg)
	}
	in.SourceRef = ref

	// Kind.
	switch k := Kind(strings.ToLower(strings.TrimSpace(r.Kind))); {
	case k == "" && v.defaults.Kind != "":
		in.Kind = v.defaults.Kind
	case k == "":
		return bad("kind", "required: crime or incident")
	case k == KindCrime || k == KindIncident:
		in.Kind = k
	case k == "hate crime":
		in.Kind = KindCrime
	case k == "hate incident" || k == "non-crime hate incident":
		in.Kind = KindIncident
	default:
		return bad("kind", "%q is not crime or incident", r.Kind)
	}

	// Strands.
	if strings.TrimSpace(r.Strands) == "" {
		if len(v.defaults.Strands) == 0 {
			return bad("strands", "at least one strand is required")
		}
		for _, s := range v.defaults.Strands {
			in.Strands = append(in.Strands, NormaliseName(s))
		}
	} else {
		for _, s := range strings.FieldsFunc(r.Strands, func(c rune) bool { return c == ';' || c == '|' || c == ',' }) {
			n := NormaliseName(s)
			if n == "" {
				continue
			}
			if !v.strands[n] {
				return bad("strands", "%q is not one of the configured strands", strings.TrimSpace(s))
			}
			in.Strands = append(in.Strands, n)
		}
		if len(in.Strands) == 0 {
			return bad("strands", "at least one strand is required")
		}
	}
	slices.Sort(in.Strands)
	in.Strands = slices.Compact(in.Strands)

	// Offence.
	in.Offence = strings.TrimSpace(r.Offence)
	if msg := checkText(in.Offence, maxOffenceLen); msg != "" {
		return bad("offence", "%s", msg)
	}

	// Dates.
	today := dayOf(v.now().In(v.loc))
	latest := today.AddDate(0, 0, 1)
	switch {
	case strings.TrimSpace(r.Occurred) != "":
		from, to, err := v.parseSpan(r.Occurred)
		if err != nil {
			return bad("occurred", "%v", err)
		}
		in.OccurredFrom, in.OccurredTo = from, to
	case strings.TrimSpace(r.OccurredFrom) != "":
		// Without occurred_to, a month in occurred_from spans the month, as in occurred.
		from, to, err := v.parseSpan(r.OccurredFrom)
		if err != nil {
			return bad("occurred_from", "%v", err)
		}
		if strings.TrimSpace(r.OccurredTo) != "" {
			_, t, err := v.parseSpan(r.OccurredTo)
			if err != nil {
				return bad("occurred_to", "%v", err)
			}
			to = t
		}
		in.OccurredFrom, in.OccurredTo = from, to
	default:
		return bad("occurred", "required: a date, a month or a date range")
	}
	fromField := "occurred" // the field the first day came from, to blame
	if strings.TrimSpace(r.Occurred) == "" {
		fromField = "occurred_from"
	}
	if in.OccurredFrom.Before(earliest) {
		return bad(fromField, "%s is before 1900", in.OccurredFrom.Format(time.DateOnly))
	}
	if in.OccurredTo.Before(in.OccurredFrom) {
		return bad("occurred_to", "%s is before occurred_from %s", in.OccurredTo.Format(time.DateOnly), in.OccurredFrom.Format(time.DateOnly))
	}
	if in.OccurredFrom.After(latest) {
		return bad(fromField, "%s is in the future", in.OccurredFrom.Format(time.DateOnly))
	}
	if in.OccurredTo.After(today) {
		// A month still in progress ends today, not at the month's end; a span that
		// starts tomorrow (within the day of slack) ends on its first day.
		in.OccurredTo = today
		if in.OccurredTo.Before(in.OccurredFrom) {
			in.OccurredTo = in.OccurredFrom
		}
	}
	if s := strings.TrimSpace(r.ReportedAt); s != "" {
		t, err := v.parseTime(s)
		if err != nil {
			return bad("reported_at", "%v", err)
		}
		if dayOf(t.In(v.loc)).Before(in.OccurredFrom) {
			return bad("reported_at", "%s is before the incident occurred (%s)", t.Format(time.RFC3339), in.OccurredFrom.Format(time.DateOnly))
		}
		if t.After(v.now().Add(24 * time.Hour)) {
			return bad("reported_at", "%s is in the future", t.Format(time.RFC3339))
		}
		in.ReportedAt = t.UTC()
	}

	// Location.
	prec := Precision(strings.ToLower(strings.TrimSpace(r.Precision)))
	precGiven := prec != ""
	if !precGiven {
		prec = v.defaults.Precision
	}
	if prec != "" && !slices.Contains(Precisions, prec) {
		return bad("precision", "%q is not one of exact, street, postcode, area_centroid, online, none", r.Precision)
	}
	ll, has, field, err := parseLocation(r)
	if err != nil {
		return bad(field, "%v", err)
	}
	switch {
	case has && !prec.Located() && prec != "":
		// An online report may carry a place (the victim's home, say), but is not binned.
		in.Precision = prec
	case has:
		if prec == "" {
			prec = PrecisionExact
		}
		in.Precision, in.Location = prec, ll
	case precGiven && prec.Located():
		return bad("precision", "is %s but no location was given", prec)
	case prec == PrecisionOnline:
		in.Precision = PrecisionOnline
	default:
		in.Precision = PrecisionNone
	}

	// Pseudonyms.
	for _, p := range []struct {
		field, raw string
		dst        *string
	}{{"victim_ref", r.VictimRef, &in.VictimKey}, {"offender_ref", r.OffenderRef, &in.OffenderKey}} {
		raw := strings.TrimSpace(p.raw)
		if raw == "" {
			continue
		}
		if msg := checkText(raw, maxRefLen); msg != "" {
			return bad(p.field, "%s", msg)
		}
		if len(v.key) == 0 {
			return nil, ErrNoKey
		}
		m := v.macs.Get().(hash.Hash)
		*p.dst = pseudonym(m, in.Source, raw)
		v.macs.Put(m)
	}
	return in, nil
}

// Pseudonym returns the keyed HMAC-SHA256 of a source's own reference for a person,
// as 32 hex digits. The same person referenced by the same source always gets the
// same pseudonym; without the key the reference cannot be recovered or tested.
func Pseudonym(key []byte, source, ref string) string {
	return pseudonym(hmac.New(sha256.New, key), source, ref)
}

func pseudonym(m hash.Hash, source, ref string) string {
	m.Reset()
	m.Write([]byte(source))
	m.Write([]byte{0})
	m.Write([]byte(strings.TrimSpace(ref)))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func checkText(s string, max int) string {
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	if utf8.RuneCountInString(s) > max {
		return fmt.Sprintf("longer than %d characters", max)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "contains a control character"
	}
	return ""
}

// parseLocation reads WGS84 lat/lon, or failing that BNG easting/northing, and
// returns the field to blame on error.
func parseLocation(r *RawIncident) (LatLon, bool, string, error) {
	lat, lon := strings.TrimSpace(r.Lat), strings.TrimSpace(r.Lon)
	e, n := strings.TrimSpace(r.Easting), strings.TrimSpace(r.Northing)
	switch {
	case lat != "" || lon != "":
		if lat == "" {
			return LatLon{}, false, "lat", errors.New("required when lon is given")
		}
		if lon == "" {
			return LatLon{}, false, "lon", errors.New("required when lat is given")
		}
		la, err := parseFloat(lat)
		if err != nil {
			return LatLon{}, false, "lat", err
		}
		lo, err := parseFloat(lon)
		if err != nil {
			return LatLon{}, false, "lon", err
		}
		if la < -90 || la > 90 {
			return LatLon{}, false, "lat", fmt.Errorf("%s is outside -90 to 90", lat)
		}
		if lo < -180 || lo > 180 {
			return LatLon{}, false, "lon", fmt.Errorf("%s is outside -180 to 180", lon)
		}
		if la == 0 && lo == 0 {
			return LatLon{}, false, "lat", errors.New("0,0 is not a place in the service's reach: a missing location written as zeros")
		}
		return LatLon{la, lo}, true, "", nil
	case e != "" || n != "":
		if e == "" {
			return LatLon{}, false, "easting", errors.New("required when northing is given")
		}
		if n == "" {
			return LatLon{}, false, "northing", errors.New("required when easting is given")
		}
		ev, err := parseFloat(e)
		if err != nil {
			return LatLon{}, false, "easting", err
		}
		nv, err := parseFloat(n)
		if err != nil {
			return LatLon{}, false, "northing", err
		}
		if ev < 0 || ev > 700000 {
			return LatLon{}, false, "easting", fmt.Errorf("%s is outside the British National Grid (0 to 700000)", e)
		}
		if nv < 0 || nv > 1300000 {
			return LatLon{}, false, "northing", fmt.Errorf("%s is outside the British National Grid (0 to 1300000)", n)
		}
		if ev == 0 && nv == 0 {
			return LatLon{}, false, "easting", errors.New("0,0 is the grid's false origin at sea: a missing location written as zeros")
		}
		la, lo := BNGToWGS84(ev, nv)
		return LatLon{la, lo}, true, "", nil
	}
	return LatLon{}, false, "", nil
}

func parseFloat(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return f, nil
}

// builtinLayouts are tried after any configured layouts. Day-first UK forms only:
// a partnership in the UK never writes month-first dates.
var builtinLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	time.DateOnly,
	"02/01/2006 15:04:05",
	"02/01/2006 15:04",
	"02/01/2006",
	"2/1/2006",
	"02-01-2006",
	"2006/01/02",
}

// parseSpan parses a day, a month ("2006-01" or "01/2006") or a timestamp into the
// span of days it covers.
func (v *Validator) parseSpan(s string) (time.Time, time.Time, error) {
	s = strings.TrimSpace(s)
	// The ISO day fast path stands for the built-in DateOnly layout, which configured
	// layouts come before (a configured YYYY-DD-MM must win); parseTime still reads
	// ISO days after them.
	if !v.custom {
		if d, ok := ParseDay(s); ok {
			return d, d, nil
		}
	}
	for _, layout := range []string{"2006-01", "01/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			from := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
			return from, from.AddDate(0, 1, -1), nil
		}
	}
	t, err := v.parseTime(s)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	d := dayOf(t.In(v.loc))
	return d, d, nil
}

func (v *Validator) parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range v.layouts {
		if t, err := time.ParseInLocation(layout, s, v.loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date or time this service reads (e.g. 2024-03-31, 31/03/2024 14:05, 2024-03-31T14:05:00Z)", s)
}

// ParseDay parses a day written YYYY-MM-DD (time.DateOnly) as midnight UTC, without
// the generality of time.Parse: most dates in most files are written so, ingest
// parses millions of them and every tile request two.
func ParseDay(s string) (time.Time, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	num := func(b string) int {
		n := 0
		for i := 0; i < len(b); i++ {
			c := b[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, m, d := num(s[:4]), num(s[5:7]), num(s[8:])
	if y < 0 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 31 April rolls over: not a date
		return time.Time{}, false
	}
	return t, true
}

// dayOf returns the calendar day of t (in t's own zone) as midnight UTC.
func dayOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
