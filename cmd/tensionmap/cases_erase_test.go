package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/cases"
)

// TestCasesErase loads two council cases of one complainant (client C-1) and one
// of another (C-3), gives the first complainant's cases notes, an action and a
// closure reason, and erases them by the council's reference for the
// complainant: their text goes, dates and outcomes stay, the other
// complainant's case is untouched, each case's history and the audit log say
// who erased (the OS user at the command line). Erasing again by victim key
// finds the cases with nothing left to remove.
func TestCasesErase(t *testing.T) {
	c := newCLI(t)
	c.env["USER"] = "dpo"
	file := writeFile(t, "cases.csv", "Case No,Date opened,Client,first_contact_at,closed_at,outcome\n"+
		"ASB-1,2026-03-02 10:00,C-1,2026-03-03 09:00,2026-03-20 12:00,resolved\n"+
		"ASB-2,2026-04-01 10:00,C-1,2026-04-01 11:00,,\n"+
		"ASB-3,2026-03-02 10:00,C-3,2026-03-02 11:00,,\n", false)
	if code, out, errOut := c.run("cases", "load", "--partner", "council", "--map", "ref=Case No", "--map", "opened_at=Date opened", "--map", "victim_ref=Client", file); code != 0 {
		t.Fatalf("load: exit %d: %s %s", code, out, errOut)
	}
	ctx := context.Background()
	db := c.db()
	texts := map[string]*cases.Case{}
	for _, ref := range []string{"ASB-1", "ASB-2", "ASB-3"} {
		k, err := db.CaseByRef(ctx, "council", ref)
		if err != nil {
			t.Fatal(err)
		}
		k.Contacts = append(k.Contacts, cases.Contact{At: k.OpenedAt.Add(2 * time.Hour), How: "phone", By: "Officer", Note: "Spoke to the complainant about " + ref},
			cases.Contact{At: k.OpenedAt.Add(3 * time.Hour), How: "visit", By: "Officer", Note: "Visited"})
		k.Actions = append(k.Actions, cases.Action{Text: "Fit a door camera", Owner: "council", Due: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)})
		if k.Closure != nil {
			k.Closure.Reason = "Neighbour moved away"
		}
		if err := db.UpdateCase(ctx, k); err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		texts[ref] = k
	}

	// Bad requests are refused before anything is done.
	for _, args := range [][]string{{}, {"--victim-ref", "C-1"}, {"--victim-key", "not-a-key"}, {"--victim-key", strings.Repeat("a", 32), "--partner", "council", "--victim-ref", "C-1"}} {
		if code, _, errOut := c.run(append([]string{"cases", "erase"}, args...)...); code != 2 || errOut == "" {
			t.Errorf("cases erase %v: exit %d %q, want a usage error", args, code, errOut)
		}
	}
	if n := c.count("SELECT count(*) FROM cases WHERE erased_at IS NOT NULL"); n != 0 {
		t.Fatalf("%d cases erased by refused commands", n)
	}

	code, out, errOut := c.run("cases", "erase", "--partner", "council", "--victim-ref", " C-1 ")
	if code != 0 {
		t.Fatalf("erase: exit %d: %s %s", code, out, errOut)
	}
	t.Logf("cases erase:\n%s", out)
	for _, want := range []string{"from 2 cases", "council case ASB-1: 2 contact notes, 1 action's text and the closure reason",
		"council case ASB-2: 2 contact notes and 1 action's text"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	for _, ref := range []string{"ASB-1", "ASB-2", "ASB-3"} {
		k, err := db.CaseByRef(ctx, "council", ref)
		if err != nil {
			t.Fatal(err)
		}
		was := texts[ref]
		erased := ref != "ASB-3"
		if got := !k.ErasedAt.IsZero(); got != erased {
			t.Errorf("%s: erased %v, want %v", ref, got, erased)
		}
		if len(k.Contacts) != len(was.Contacts) || len(k.Actions) != 1 || !k.Contacts[len(k.Contacts)-1].At.Equal(was.Contacts[len(was.Contacts)-1].At) {
			t.Errorf("%s: the contacts and actions changed: %+v %+v", ref, k.Contacts, k.Actions)
		}
		for i, x := range k.Contacts {
			if erased && x.Note != "" || !erased && x.Note != was.Contacts[i].Note {
				t.Errorf("%s: contact note %q", ref, x.Note)
			}
		}
		if erased != (k.Actions[0].Text == "") {
			t.Errorf("%s: action text %q", ref, k.Actions[0].Text)
		}
		if k.Closure != nil && (k.Closure.Reason != "" || k.Closure.Outcome != cases.OutcomeResolved) {
			t.Errorf("%s: closure %+v, want resolved without a reason", ref, k.Closure)
		}
		last := k.History[len(k.History)-1]
		if erased && (last.Action != cases.ActErased || last.Actor != "cli:dpo") {
			t.Errorf("%s: last history entry %+v, want erased by cli:dpo", ref, last)
		}
	}
	var actor, params string
	if err := db.Pool.QueryRow(ctx, `SELECT actor, params::text FROM audit_log WHERE action = 'cases.erase' ORDER BY id DESC LIMIT 1`).Scan(&actor, &params); err != nil {
		t.Fatal(err)
	}
	if actor != "cli:dpo" || !strings.Contains(params, `"cases"`) || strings.Contains(params, "C-1") {
		t.Errorf("audit: %s %s, want cli:dpo and the cases, not the complainant's reference", actor, params)
	}

	// By victim key, again: the cases are found, nothing is left to remove.
	k, _ := db.CaseByRef(ctx, "council", "ASB-2")
	code, out, _ = c.run("cases", "erase", "--victim-key", strings.ToUpper(k.VictimKey))
	if code != 0 || !strings.Contains(out, "council case ASB-2: no text left to remove") {
		t.Errorf("erasing again: exit %d %s", code, out)
	}
	code, out, _ = c.run("cases", "erase", "--victim-key", strings.Repeat("0", 32))
	if code != 0 || !strings.Contains(out, "nothing erased") {
		t.Errorf("an unknown key: exit %d %s", code, out)
	}
	if n := c.count("SELECT count(*) FROM audit_log WHERE action = 'cases.erase' AND actor = 'cli:dpo'"); n != 3 {
		t.Errorf("%d erasures audited, want 3", n)
	}
}
