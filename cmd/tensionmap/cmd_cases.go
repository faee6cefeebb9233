package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/cases"
	"github.com/tensionmap/tensionmap/geo"
)

const casesUsage = `Usage:
  tensionmap cases load [--partner P] [--map field=Column ...] FILE.csv|-
  tensionmap cases erase (--victim-key KEY | --partner P --victim-ref REF)

Loads a CSV export of victim cases (E-CINS, a housing ASB system), one case a
row. Columns: ` + "ref, opened_at, victim_ref (pseudonymised with the service's key) or victim_key, and optionally partner, reports, first_contact_at, contacts, victims_code_at, risk, referral, closed_at, outcome, survey_at, satisfied_outcome, satisfied_handling, survey_declined" + `.
--map names the export's own column for a field: --map opened_at='Date opened'.
A bad row is reported with its line, field and reason and the good ones are
stored; a case already stored (the partner's reference) is left as it is.

erase removes a complainant's free text (contact notes, action text, closure
reasons) from every case of their victim key, on their request, as
POST /api/v1/cases/erase does; dates, outcomes and survey answers stay. The
key is given, or made from the partner's own reference for the complainant
with the pseudonymisation key, as loading does. It is audited (cases.erase).`

func runCases(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "erase" {
		return runCasesErase(ctx, env, args[1:])
	}
	if len(args) == 0 || args[0] != "load" {
		fmt.Fprintln(env.Stderr, casesUsage)
		return usageError("want a cases command: load or erase")
	}
	var mapping multiFlag
	var partner string
	fs := newFlagSet(env, "cases load", "cases load [--partner P] [--map field=Column] FILE.csv|-")
	fs.StringVar(&partner, "partner", "", "the owning partner of rows without a partner column (one of the sources)")
	fs.Var(&mapping, "map", "field=Column: read a field from a column of another name (repeatable)")
	if err := parse(env, fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("name one CSV file to load (- for standard input)")
	}
	cfg := &env.Config
	if err := cfg.needDatabase(); err != nil {
		return err
	}
	m := map[string]string{}
	for _, x := range mapping {
		field, col, ok := strings.Cut(x, "=")
		if !ok {
			return usageError("--map %q: want field=Column", x)
		}
		m[strings.TrimSpace(field)] = col
	}
	in, _, done, err := openInput(env, fs.Arg(0))
	if err != nil {
		return err
	}
	defer done()
	now := time.Now()
	o := cases.CSVOptions{Mapping: m, Partner: geo.NormaliseName(partner), Today: now, Now: now, Actor: cliActor(env),
		Rules: cases.Rules{Partners: cfg.Sources, Sources: cfg.Sources, Calendar: cfg.cases.Calendar}}
	if len(cfg.key) > 0 {
		o.Pseudonymise = func(p, ref string) string { return geo.Pseudonym(cfg.key, p, ref) }
	}
	cs, rejects, err := cases.ReadCSV(in, o)
	if err != nil {
		return fmt.Errorf("%s: %s", fs.Arg(0), userMessage(err))
	}
	db, err := openDB(ctx, cfg, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	stored, err := db.CreateCases(ctx, cs)
	if aerr := recordAudit(context.WithoutCancel(ctx), db, env, "cases.load", map[string]any{"input": fs.Arg(0), "read": len(cs) + len(rejects),
		"stored": stored, "rejected": len(rejects), "failed": err != nil}); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "read %d cases: %d stored, %d already stored, %d rejected\n", len(cs)+len(rejects), stored, len(cs)-stored, len(rejects))
	for i, r := range rejects {
		if i == 20 {
			fmt.Fprintf(env.Stdout, "  and %d more rejected rows\n", len(rejects)-20)
			break
		}
		fmt.Fprintf(env.Stdout, "  line %d: %s: %s\n", r.Line, r.Field, r.Reason)
	}
	return nil
}

// runCasesErase is "tensionmap cases erase": a complainant's erasure from the
// command line, audited as the API's is.
func runCasesErase(ctx context.Context, env *Env, args []string) error {
	var key, ref, partner string
	fs := newFlagSet(env, "cases erase", "cases erase (--victim-key KEY | --partner P --victim-ref REF)")
	fs.StringVar(&key, "victim-key", "", "the complainant's victim key: 32 hexadecimal digits")
	fs.StringVar(&ref, "victim-ref", "", "the partner's own reference for the complainant, pseudonymised as loading does (with --partner)")
	fs.StringVar(&partner, "partner", "", "the partner whose reference --victim-ref is")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("cases erase takes no arguments, only --victim-key or --partner and --victim-ref")
	}
	cfg := &env.Config
	switch key, ref, partner = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(ref), geo.NormaliseName(partner); {
	case key != "" && (ref != "" || partner != ""):
		return usageError("give --victim-key or --partner with --victim-ref, not both")
	case key != "":
		if !cases.IsVictimKey(key) {
			return usageError("--victim-key %q: want the 32 hexadecimal digits of the complainant's pseudonym", key)
		}
	case ref == "" || partner == "":
		return usageError("name the complainant: --victim-key KEY, or --partner P and --victim-ref REF")
	case len(cfg.key) == 0:
		return usageError("--victim-ref needs the pseudonymisation key (TENSIONMAP_PSEUDONYM_KEY_FILE) to find the victim key")
	default:
		key = geo.Pseudonym(cfg.key, partner, ref)
	}
	if err := cfg.needDatabase(); err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	erased, err := db.EraseVictimCases(ctx, key, cliActor(env), time.Now())
	if err != nil {
		return err
	}
	ids := make([]int64, 0, len(erased))
	for _, x := range erased {
		ids = append(ids, x.ID)
	}
	if err := recordAudit(context.WithoutCancel(ctx), db, env, "cases.erase", map[string]any{"cases": ids}); err != nil {
		return err
	}
	if len(erased) == 0 {
		fmt.Fprintln(env.Stdout, "no case of this complainant: nothing erased")
		return nil
	}
	fmt.Fprintf(env.Stdout, "erased the complainant's text from %d %s; dates, outcomes and survey answers stay:\n", len(erased),
		map[bool]string{true: "case", false: "cases"}[len(erased) == 1])
	for _, x := range erased {
		fmt.Fprintf(env.Stdout, "  %s\n", x)
	}
	return nil
}
