package web

import "testing"

// testShareKey is a disclosure key under which the counts of the fixture of
// TestStrategicStandardShares, perturbed separately, mislead: 54 of 60 is
// published as 60 of 60.
var testShareKey = []byte("service standards 0")

// TestCaseShareFromTrueCounts: a council's 54 of 60 first contacts on time
// (90%, below a 100% target), perturbed count by count as every other count,
// reads "60 of 60, 100%, met" under testShareKey; the share a strategic user is
// given is the true one rounded to 5 points, 90%, below. Under 20 cases no
// share is given, with the reason.
func TestCaseShareFromTrueCounts(t *testing.T) {
	d := disclosure{k: 3, roundTo: 5, noise: 4, key: testShareKey}
	dc := d.in("cases", "council", "2026-04-01", "2026-06-30")
	met, of := dc.count(54, "first_contact", "met"), dc.count(60, "first_contact", "of")
	if met == nil || of == nil || *met != 60 || *of != 60 {
		t.Fatalf("the fixture no longer misleads: 54 of 60 published separately as %v of %v", met, of)
	}
	if old := meets(shareOf(met, of), 100); old == nil || !*old {
		t.Fatalf("separately: %v", old)
	}
	share, why := d.caseShare(54, 60)
	if share == nil || *share != 90 || why != "" {
		t.Fatalf("54 of 60: %v %q, want 90", share, why)
	}
	if v := meets(share, 100); v == nil || *v {
		t.Errorf("90%% against 100%%: %v, want below", v)
	}
	for _, c := range []struct {
		met, of int
		want    float64
	}{{20, 20, 100}, {19, 20, 95}, {7, 40, 20}, {35, 40, 90}, {0, 25, 0}, {21, 24, 90}, {11, 24, 45}, {53, 60, 90}, {52, 60, 85}} {
		// 7/40 is 17.5%: halves go up. 21/24 is 87.5%; 11/24 is 45.8%; 53/60
		// 88.3%; 52/60 86.7%.
		got, why := d.caseShare(c.met, c.of)
		if got == nil || *got != c.want || why != "" {
			t.Errorf("%d of %d: %v %q, want %v", c.met, c.of, got, why, c.want)
		}
	}
	for _, of := range []int{0, 1, 19} {
		if got, why := d.caseShare(of, of); got != nil || why != "fewer than 20 cases" {
			t.Errorf("%d of %d: %v %q, want withheld with its reason", of, of, got, why)
		}
	}
	exact := disclosure{exact: true}
	if got, _ := exact.caseShare(54, 60); got == nil || *got != 90 {
		t.Errorf("exact 54 of 60: %v", got)
	}
	if got, _ := exact.caseShare(2, 3); got == nil || *got != 66.7 {
		t.Errorf("exact 2 of 3: %v", got)
	}
	if got, why := exact.caseShare(0, 0); got != nil || why != "" {
		t.Errorf("exact, no case: %v %q", got, why)
	}
}
