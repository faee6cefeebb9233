package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/postgis"
)

func runAudit(ctx context.Context, env *Env, args []string) error {
	var since, until string
	var f access.AuditFilter
	var asJSON bool
	fs := newFlagSet(env, "audit", "audit [--since DURATION|DATE] [--until DATE] [--actor A] [--action A] [--limit N] [--json]")
	fs.StringVar(&since, "since", "", "entries from this long ago (24h, 7d) or from this day or time (2025-04-01, RFC 3339)")
	fs.StringVar(&until, "until", "", "entries before this day or time (2025-04-01, RFC 3339), or this long ago")
	fs.StringVar(&f.Actor, "actor", "", "only this actor, e.g. user:jsmith, token:7:feed, cli:root")
	fs.StringVar(&f.Action, "action", "", "only this action, e.g. users.create, incidents.read")
	fs.IntVar(&f.Limit, "limit", 100, "at most this many entries, the newest (1 to 10000)")
	fs.BoolVar(&asJSON, "json", false, "print the entries as a JSON array")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if f.Limit < 1 || f.Limit > 10000 {
		return usageError("--limit %d: want 1 to 10000", f.Limit)
	}
	now := time.Now()
	var err error
	if f.Since, err = parseMoment(since, now, env.Config.location); err != nil {
		return usageError("--since: %v", err)
	}
	if f.Until, err = parseMoment(until, now, env.Config.location); err != nil {
		return usageError("--until: %v", err)
	}
	db, err := openDB(ctx, &env.Config, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	entries, err := db.AuditLog(ctx, f)
	if err != nil {
		return err
	}
	if asJSON {
		if entries == nil {
			entries = []access.AuditEntry{}
		}
		return json.NewEncoder(env.Stdout).Encode(entries)
	}
	if len(entries) == 0 {
		fmt.Fprintln(env.Stderr, "no audit entries match")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTOR\tROLE\tACTION\tROUTE\tROWS\tPARAMS")
	for _, e := range entries {
		params := "{}"
		if len(e.Params) > 0 {
			b, err := json.Marshal(e.Params)
			if err != nil {
				return err
			}
			params = string(b)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.At.In(env.Config.location).Format("2006-01-02 15:04:05"),
			tableCell(e.Actor), tableCell(string(e.Role)), tableCell(e.Action), tableCell(e.Route), e.Rows, params)
	}
	return tw.Flush()
}

// parseMoment reads a moment as a duration before now (90m, 24h, 7d), a day
// (2025-04-01, midnight in loc) or an RFC 3339 time; "" is the zero time.
func parseMoment(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := parseDaysDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration such as 24h or 7d nor a day such as 2025-04-01", s)
}

// parseDaysDuration reads a Go duration (36h, 90m) or a whole number of days (90d).
// It refuses negative and zero durations.
func parseDaysDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n > 100*366 {
			return 0, fmt.Errorf("%q is not a number of days such as 90d", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 90d or 36h", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: want a duration above zero", s)
	}
	return d, nil
}

// cliActor names the person at the command line in the audit log and the records
// they make: "cli:alice" for the login $USER names, else the OS user that runs the
// command (os/user: $USER is unset under make, cron and containers), else "cli".
func cliActor(env *Env) string {
	name := strings.TrimSpace(env.Getenv("USER"))
	if name == "" {
		lookup := env.User
		if lookup == nil {
			lookup = osUser
		}
		name = strings.TrimSpace(lookup())
	}
	if name == "" {
		return "cli"
	}
	return "cli:" + name
}

// osUser is the name of the OS user running the process, "" when it cannot be told.
func osUser() string {
	u, err := user.Current()
	if err != nil {
		return ""
	}
	return u.Username
}

// recordAudit appends an entry for a change made at the command line. The change is
// made already: if it cannot be recorded, the command fails saying so.
func recordAudit(ctx context.Context, db *postgis.DB, env *Env, action string, params map[string]any) error {
	e := &access.AuditEntry{Actor: cliActor(env), Action: action, Params: params}
	if err := db.Audit(ctx, e); err != nil {
		return fmt.Errorf("%s was done, but recording it in the audit log failed: %w", action, err)
	}
	return nil
}

// tableCell shows an empty table cell as "-", so that columns stay aligned for the eye
// and for awk.
func tableCell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Join(strings.Fields(s), " ")
}

// tableTime formats a moment for a table, "-" when it is the zero time.
func tableTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// jsonTime is a moment for JSON, null when it is the zero time.
func jsonTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
