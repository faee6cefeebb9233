package web

import (
	"math"
	"testing"

	"github.com/tensionmap/tensionmap/tension"
)

func TestPValueText(t *testing.T) {
	small := 2e-12
	for _, c := range []struct {
		name string
		v    any
		want string
	}{
		{"a float", 0.0432, "0.043"},
		{"p 2e-12 reads 2.0e-12, not 0 or 0.000", 2e-12, "2.0e-12"},
		{"a pointer", &small, "2.0e-12"},
		{"a nil pointer", (*float64)(nil), "–"},
		{"not a number", math.NaN(), "–"},
		{"something else", "0.5", "–"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := pValue(c.v); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestLevelName(t *testing.T) {
	for _, c := range []struct{ level, want string }{
		{"lsoa", "LSOA"}, {"LSOA", "LSOA"}, {"msoa", "MSOA"}, {"lad", "LAD"}, {"ward", "Ward"},
		{"police_beat", "Police beat"}, {"", "Area"},
	} {
		if got := levelName(c.level); got != c.want {
			t.Errorf("levelName(%q) = %q, want %q", c.level, got, c.want)
		}
	}
}

func TestActorName(t *testing.T) {
	for _, c := range []struct{ actor, want string }{
		{"user:jsmith", "jsmith"},
		{"cli:alice", "alice at the command line"},
		{"cli", "the command line"},
		{"cli:unknown", "the command line"},
		{"token:7:feed", "the API token “feed”"},
		{"engine", "the tension engine"},
		{"", "–"},
	} {
		if got := actorName(c.actor); got != c.want {
			t.Errorf("actorName(%q) = %q, want %q", c.actor, got, c.want)
		}
	}
}

// TestHistoryLine: an assessment's history reads as sentences, not as raw field names
// ("alert id: 2 event ids: 27 trigger kind: alert").
func TestHistoryLine(t *testing.T) {
	for _, c := range []struct {
		name string
		h    tension.HistoryEntry
		want string
	}{
		{"the engine's draft of an uplift alert",
			tension.HistoryEntry{Action: "created", Changes: map[string]any{"status": "draft", "title": "High rise", "trigger_kind": "alert",
				"alert_id": float64(2), "event_ids": []any{float64(27)}}},
			"Created the assessment as a draft from alert 2, answering trigger event 27."},
		{"a person's, for an incident",
			tension.HistoryEntry{Action: "created", Changes: map[string]any{"status": "draft", "trigger_kind": "incident", "alert_id": float64(0)}},
			"Created the assessment as a draft for an incident."},
		{"answering two events",
			tension.HistoryEntry{Action: "created", Changes: map[string]any{"status": "draft", "trigger_kind": "event", "event_ids": []any{float64(3), float64(4)}}},
			"Created the assessment as a draft for a trigger event, answering trigger events 3 and 4."},
		{"an edit, in the page's order of fields",
			tension.HistoryEntry{Action: "edited", Changes: map[string]any{
				"summary":       map[string]any{"from": "", "to": "Shops targeted"},
				"tension_level": map[string]any{"from": "medium", "to": "high"},
				"review_date":   map[string]any{"from": "", "to": "2026-07-14"},
				"title":         map[string]any{"from": "Old", "to": "New"},
				"area_level":    map[string]any{"from": "lsoa", "to": "ward"},
			}},
			"Changed the title from “Old” to “New”, the tension level from medium to high, the area level from LSOA to Ward, the situation and the review date to 14 Jul 2026."},
		{"a field cleared",
			tension.HistoryEntry{Action: "edited", Changes: map[string]any{"communities": map[string]any{"from": "Somali", "to": ""}}},
			"Changed the communities (“Somali” removed)."},
		{"opened", tension.HistoryEntry{Action: "opened", Changes: map[string]any{"status": map[string]any{"from": "draft", "to": "open"}}}, "Opened the assessment."},
		{"under review", tension.HistoryEntry{Action: "under_review"}, "Put the assessment under review."},
		{"closed with a reason", tension.HistoryEntry{Action: "closed", Changes: map[string]any{"reason": "tension eased"}}, "Closed the assessment: tension eased."},
		{"reopened", tension.HistoryEntry{Action: "reopened"}, "Reopened the assessment."},
		{"an action added",
			tension.HistoryEntry{Action: "action_added", Changes: map[string]any{"action_id": float64(5), "description": "Visit the shops", "owner": "PCSO Khan", "due": "2026-07-14"}},
			"Added the action “Visit the shops” (owner PCSO Khan, due 14 Jul 2026)."},
		{"an action done", tension.HistoryEntry{Action: "action_done", Changes: map[string]any{"description": "Visit the shops"}}, "Marked the action “Visit the shops” done."},
		{"an action undone", tension.HistoryEntry{Action: "action_undone", Changes: map[string]any{"description": "Visit the shops"}}, "Marked the action “Visit the shops” not done."},
		{"an event linked", tension.HistoryEntry{Action: "event_linked", Changes: map[string]any{"event_id": float64(27)}}, "Linked trigger event 27."},
		{"an event unlinked", tension.HistoryEntry{Action: "event_unlinked", Changes: map[string]any{"event_id": float64(27)}}, "Unlinked trigger event 27."},
		{"an action this page does not know", tension.HistoryEntry{Action: "merged_into", Changes: map[string]any{"into": float64(9)}}, "Merged into: into 9."},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := historyLine(c.h); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestEvidenceRows: an assessment's evidence says the method by name, the window as
// dates and days covered, the expected count with its baseline and the p-value with
// two significant figures.
func TestEvidenceRows(t *testing.T) {
	ev := map[string]any{"alert_id": float64(2), "method": "farrington", "detail": "Farrington-flexible, 5 years of baseline",
		"observed": float64(31), "expected": 12.43, "p_value": 2e-12, "window_from": "2016-07-01", "window_to": "2016-07-07"}
	want := [][2]string{
		{"Method", "Farrington-flexible (baseline exceedance)"},
		{"Finding", "Farrington-flexible, 5 years of baseline"},
		{"Window", "7 days, 1–7 Jul 2016"},
		{"Observed", "31"},
		{"Expected", "12.4 (the same weeks of the five years before)"},
		{"p-value", "2.0e-12"},
	}
	got := evidenceRows(ev)
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %q, want %q", i, got[i], want[i])
		}
	}
	if rows := evidenceRows(nil); rows != nil {
		t.Errorf("no evidence: got %q", rows)
	}
}

// TestAlertFigures: the alert's JSON keeps a small p-value exact and a small expected
// count above 0 (both were rounded to 0).
func TestAlertFigures(t *testing.T) {
	for _, c := range []struct {
		name          string
		v, wantExpect float64
	}{
		{"a count", 12.434, 12.43},
		{"below one, two significant figures", 0.0123, 0.012},
		{"a sparse series' expectation", 1.23e-8, 1.2e-8},
		{"nothing", 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := roundExpected(c.v); got != c.wantExpect {
				t.Errorf("roundExpected(%g) = %g, want %g", c.v, got, c.wantExpect)
			}
		})
	}
	if p := exactFloat(2e-12); p == nil || *p != 2e-12 {
		t.Errorf("exactFloat(2e-12) = %v", p)
	}
	for _, v := range []float64{math.NaN(), math.Inf(1)} {
		if p := exactFloat(v); p != nil {
			t.Errorf("exactFloat(%g) = %v, want nil", v, *p)
		}
	}
}
