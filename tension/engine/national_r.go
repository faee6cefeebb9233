package engine

import (
	"context"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

//go:embed national.R
var nationalR []byte

// labelR is the R column's name in the national scenario's table.
const labelR = "R farringtonFlexible, month"

// findRscript returns the R interpreter's command, or an error when R is not
// installed (or left out with "none").
func findRscript(cmd string) (string, error) {
	if cmd == "none" {
		return "", errors.New("R left out")
	}
	if cmd == "" {
		cmd = "Rscript"
	}
	return exec.LookPath(cmd)
}

// RunR scores R's farringtonFlexible on the town's calendar months: every area, all
// strands and each strand, the Noufaily settings (national.R), through a temporary
// CSV. R is needed only here, in the evaluation.
func (t *NationalTown) RunR(ctx context.Context, rscript string, strands []string) (NationalScore, error) {
	dir, err := os.MkdirTemp("", "tensionmap-eval-")
	if err != nil {
		return NationalScore{}, err
	}
	defer os.RemoveAll(dir)
	months := t.months()
	index := map[string]int{}
	for i, m := range months {
		index[m.Format("2006-01")] = i
	}
	type key struct{ area, strand string }
	counts := map[key][]int{}
	areaCode := map[int32]string{}
	for _, a := range t.Areas {
		areaCode[a.ID] = a.Code
		for _, s := range append([]string{"all"}, strands...) {
			counts[key{a.Code, s}] = make([]int, len(months))
		}
	}
	for _, in := range t.Incidents {
		m, ok := index[in.Day.Format("2006-01")]
		if !ok {
			continue
		}
		for _, id := range in.Areas {
			counts[key{areaCode[id], "all"}][m]++
			for _, s := range in.Strands {
				if c, ok := counts[key{areaCode[id], s}]; ok {
					c[m]++
				}
			}
		}
	}
	write := func(name string, rows [][]string) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		w := csv.NewWriter(f)
		w.WriteAll(rows)
		if err := w.Error(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	rows := [][]string{{"area", "strand", "month", "count"}}
	for _, a := range t.Areas {
		for _, s := range append([]string{"all"}, strands...) {
			for m, n := range counts[key{a.Code, s}] {
				rows = append(rows, []string{a.Code, s, strconv.Itoa(m + 1), strconv.Itoa(n)})
			}
		}
	}
	ev := t.evalMonths()
	meta := [][]string{{"start_year", "start_month", "eval_from", "eval_to"},
		{strconv.Itoa(months[0].Year()), strconv.Itoa(int(months[0].Month())),
			strconv.Itoa(index[ev[0].Format("2006-01")] + 1), strconv.Itoa(index[ev[len(ev)-1].Format("2006-01")] + 1)}}
	if err := write("counts.csv", rows); err != nil {
		return NationalScore{}, err
	}
	if err := write("meta.csv", meta); err != nil {
		return NationalScore{}, err
	}
	script := filepath.Join(dir, "national.R")
	if err := os.WriteFile(script, nationalR, 0o600); err != nil {
		return NationalScore{}, err
	}
	cmd := exec.CommandContext(ctx, rscript, script, filepath.Join(dir, "counts.csv"), filepath.Join(dir, "meta.csv"), filepath.Join(dir, "alarms.csv"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return NationalScore{}, fmt.Errorf("eval: R farringtonFlexible: %w: %s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "alarms.csv"))
	if err != nil {
		return NationalScore{}, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return NationalScore{}, fmt.Errorf("eval: R's alarms: %w", err)
	}
	var alarms []alarm
	for _, rec := range recs[1:] {
		m, err := strconv.Atoi(rec[2])
		if err != nil || m < 1 || m > len(months) {
			return NationalScore{}, fmt.Errorf("eval: R's alarms: month %q", rec[2])
		}
		a := alarm{label: labelR, area: rec[0], day: months[m-1]}
		if rec[1] != "all" {
			a.strands = []string{rec[1]}
		}
		alarms = append(alarms, a)
	}
	return t.scoreMonthly(alarms), nil
}

// months are the town's whole calendar months.
func (t *NationalTown) months() []time.Time {
	var out []time.Time
	for m := t.monthStart; !m.AddDate(0, 1, -1).After(t.To); m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	return out
}

// scoreMonthly scores alarms on calendar months (their day is the month's first):
// a risen area is flagged when the event's month alarmed for it.
func (t *NationalTown) scoreMonthly(alarms []alarm) NationalScore {
	// An alarm for a month is as if raised on every day of it: the event's month
	// alarming flags the area within the month, as the engine's alarms are scored.
	var days []alarm
	for _, a := range alarms {
		for d := a.day; d.Month() == a.day.Month(); d = d.AddDate(0, 0, 1) {
			b := a
			b.day = d
			days = append(days, b)
		}
	}
	return t.score(labelR, days)
}
