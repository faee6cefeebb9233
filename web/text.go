package web

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/tension"
)

// The words the pages use for figures, people and records, one function each, so that
// a p-value, an area level or a history line reads the same on every page.

// pValue writes a p-value with two significant figures (tension.FormatP): a float64
// or a *float64; nil reads "–".
func pValue(v any) string {
	switch p := v.(type) {
	case float64:
		return tension.FormatP(p)
	case *float64:
		if p != nil {
			return tension.FormatP(*p)
		}
	}
	return "–"
}

// acronymLevels are the area levels named by their acronyms: the census and
// administrative geographies.
var acronymLevels = []string{"oa", "lsoa", "msoa", "lad", "ltla", "utla", "csp", "pfa"}

// levelName names an area level as a person reads it: "LSOA" for lsoa, "Ward" for
// ward, "Police beat" for police_beat. The map's levelLabel (web/ui/src/style.js)
// names them the same way.
func levelName(level string) string {
	if level == "" {
		return "Area"
	}
	if slices.Contains(acronymLevels, strings.ToLower(level)) {
		return strings.ToUpper(level)
	}
	return upperFirst(strings.ReplaceAll(level, "_", " "))
}

// upperFirst writes s with its first letter in capitals.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// actorName names who did something, from the actor recorded: "jsmith" for a user,
// "alice at the command line", "the API token “feed”", "the tension engine".
func actorName(actor string) string {
	kind, rest, _ := strings.Cut(actor, ":")
	switch kind {
	case "user":
		return rest
	case "cli":
		if rest == "" || rest == "unknown" {
			return "the command line"
		}
		return rest + " at the command line"
	case "token":
		if _, name, ok := strings.Cut(rest, ":"); ok && name != "" {
			return "the API token “" + name + "”"
		}
		return "an API token"
	case "engine":
		return "the tension engine"
	case "":
		return "–"
	}
	return actor
}

// historyLine says one entry of an assessment's history as a sentence: "Opened the
// assessment.", "Created the assessment as a draft from alert 2, for trigger event 27."
func historyLine(h tension.HistoryEntry) string {
	c := h.Changes
	str := func(k string) string { s, _ := c[k].(string); return s }
	quoted := func(k string) string { return "“" + shortValue(c[k]) + "”" }
	reason := func(s string) string {
		if r := str("reason"); r != "" {
			return s + ": " + r + "."
		}
		return s + "."
	}
	switch h.Action {
	case "created":
		s := "Created the assessment"
		if st := str("status"); st == tension.AssessmentDraft {
			s += " as a draft"
		} else if st != "" {
			s += " as " + words(st)
		}
		if id := idOf(c["alert_id"]); id != 0 {
			s += fmt.Sprintf(" from alert %d", id)
		} else if k := str("trigger_kind"); k != "" && k != tension.TriggerKindOther {
			s += " for " + map[string]string{tension.TriggerKindIncident: "an incident", tension.TriggerKindEvent: "a trigger event", tension.TriggerKindAlert: "an alert"}[k]
		}
		if ids := idsOf(c["event_ids"]); len(ids) > 0 {
			s += ", answering " + plural(len(ids), "trigger event", "trigger events") + " " + joinIDs(ids)
		}
		return s + "."
	case "edited":
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return fieldOrder(a) - fieldOrder(b) })
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fieldChange(k, c[k]))
		}
		if len(parts) == 0 {
			return "Edited the assessment."
		}
		return "Changed " + joinWords(parts) + "."
	case "opened":
		return "Opened the assessment."
	case "under_review":
		return "Put the assessment under review."
	case "reopened":
		return reason("Reopened the assessment")
	case "closed":
		return reason("Closed the assessment")
	case "action_added":
		s := "Added the action " + quoted("description")
		var who []string
		if o := str("owner"); o != "" {
			who = append(who, "owner "+o)
		}
		if d := dayWords(str("due")); d != "" {
			who = append(who, "due "+d)
		}
		if len(who) > 0 {
			s += " (" + strings.Join(who, ", ") + ")"
		}
		return s + "."
	case "action_done":
		return "Marked the action " + quoted("description") + " done."
	case "action_undone":
		return "Marked the action " + quoted("description") + " not done."
	case "event_linked":
		return fmt.Sprintf("Linked trigger event %d.", idOf(c["event_id"]))
	case "event_unlinked":
		return fmt.Sprintf("Unlinked trigger event %d.", idOf(c["event_id"]))
	}
	s := upperFirst(words(h.Action))
	if len(c) > 0 {
		var parts []string
		for k, v := range c {
			if _, ok := v.(map[string]any); ok {
				parts = append(parts, fieldChange(k, v))
			} else {
				parts = append(parts, words(k)+" "+shortValue(v))
			}
		}
		slices.Sort(parts)
		s += ": " + strings.Join(parts, "; ")
	}
	return s + "."
}

// editOrder is the order of an assessment's fields on its page, for listing changes.
var editOrder = []string{"title", "trigger", "tension_level", "areas", "area_level", "strands", "communities", "summary",
	"intelligence", "risks", "partners", "review_date", "bbox"}

func fieldOrder(k string) int {
	if i := slices.Index(editOrder, k); i >= 0 {
		return i
	}
	return len(editOrder)
}

// fieldChange says how one field changed: "the title from “A” to “B”", "the review
// date to 12 Jul 2026", "the summary".
func fieldChange(k string, v any) string {
	name := map[string]string{"bbox": "the map's extent", "area_level": "the area level", "review_date": "the review date",
		"tension_level": "the tension level", "summary": "the situation", "intelligence": "the intelligence", "risks": "the risks"}[k]
	if name == "" {
		name = "the " + words(k)
	}
	m, ok := v.(map[string]any)
	if !ok || k == "bbox" || k == "summary" || k == "intelligence" || k == "risks" {
		return name // long or unreadable values: the page shows them as they are now
	}
	val := func(x any) string {
		if k == "review_date" {
			s, _ := x.(string)
			return dayWords(s)
		}
		if k == "area_level" {
			if s, _ := x.(string); s != "" {
				return levelName(s)
			}
			return ""
		}
		s := shortValue(x)
		if k == "tension_level" || k == "strands" {
			return strings.ReplaceAll(s, "_", " ")
		}
		if s == "" {
			return ""
		}
		return "“" + s + "”"
	}
	from, to := val(m["from"]), val(m["to"])
	switch {
	case from == "" && to == "":
		return name
	case from == "":
		return name + " to " + to
	case to == "":
		return name + " (" + from + " removed)"
	}
	return name + " from " + from + " to " + to
}

// dayWords writes a YYYY-MM-DD day as "12 Jul 2026"; other text as it is.
func dayWords(s string) string {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Format("2 Jan 2006")
	}
	return s
}

func idOf(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case int64:
		return n
	case int:
		return int64(n)
	}
	return 0
}

func idsOf(v any) []int64 {
	var out []int64
	switch l := v.(type) {
	case []any:
		for _, x := range l {
			if id := idOf(x); id != 0 {
				out = append(out, id)
			}
		}
	case []int64:
		out = l
	}
	return out
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return joinWords(s)
}

// joinWords joins a list as a sentence does: "a", "a and b", "a, b and c".
func joinWords(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// expectedText writes an expected count with the baseline it comes from:
// "12.4 (the same weeks of the five years before)".
func expectedText(f *tension.Finding) string {
	if math.IsNaN(f.Expected) || math.IsInf(f.Expected, 0) {
		return "–"
	}
	s := formatExpected(f.Expected)
	if b := f.BaselineText(); b != "" {
		s += " (" + b + ")"
	}
	return s
}

// formatExpected writes an expected count: one decimal from 1 up, two significant
// figures below, so that a small expectation never reads as 0.0.
func formatExpected(v float64) string {
	if v >= 1 || v == 0 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}
