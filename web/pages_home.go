package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

// visitGap ends a visit: a home page seen later than this after the one before
// starts a new visit, and "since your last visit" counts from the one before.
const visitGap = 30 * time.Minute

// homeAlert is an open alert as the home page lists it, in words.
type homeAlert struct {
	ID       int64
	Level    string
	Headline string // "Citywide rise after National: referendum result (national)"
	Facts    string // "Trigger-event uplift · 6 days, 27 Nov – 2 Dec 2026 · 171 reports where 105.9 were expected · p 1.3e-7"
	Status   string
	New      bool // raised since the user's last visit
	Link     string
}

// homeReview is an assessment whose review is due within a week, or overdue.
type homeReview struct {
	ID      int64
	Title   string
	Status  string
	Due     time.Time
	When    string // "overdue by 3 days", "due today", "due in 4 days"
	Overdue bool
}

// homeChange is an assessment changed since the user's last visit.
type homeChange struct {
	ID     int64
	Title  string
	Status string
	At     time.Time
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) error {
	data := map[string]any{}
	who := access.PrincipalFrom(r.Context())
	if who.Role == access.Partner {
		s.render(w, r, "home.html", data)
		return nil
	}
	if err := s.store.Ready(r.Context()); err != nil {
		data["Problem"] = geo.ErrorMessage(err)
		s.render(w, r, "home.html", data)
		return nil
	}
	st, err := s.store.Stats(r.Context())
	if err != nil {
		return err
	}
	now := s.opts.Now()
	d := s.disclosureFor(who).in("all time", s.filterScope(geo.Filter{}))
	data["Stats"] = st
	data["Reports"] = d.count(int(st.Incidents), "reports")
	data["Located"] = d.count(int(st.Located), "located")

	// When the user was last here: the changes are counted from then, or over the
	// last week on a first visit.
	var last time.Time
	if who.UserID != 0 {
		if last, err = s.store.Visit(r.Context(), who.UserID, now, visitGap); err != nil {
			return err
		}
	}
	since := last
	if since.IsZero() {
		since = now.AddDate(0, 0, -7)
		data["FirstVisit"] = true
	}
	data["LastVisit"] = last
	data["Since"] = since

	alerts, err := s.homeAlerts(r.Context(), who, since)
	if err != nil {
		return err
	}
	data["Alerts"] = alerts
	newAlerts := 0
	for _, a := range alerts {
		if a.New {
			newAlerts++
		}
	}
	data["NewAlerts"] = newAlerts

	reviews, changes, err := s.homeAssessments(r.Context(), who, since)
	if err != nil {
		return err
	}
	data["Reviews"] = reviews
	data["Changes"] = changes

	loaded, err := s.store.ReportsLoadedSince(r.Context(), since)
	if err != nil {
		return err
	}
	data["Loaded"] = loadedText(s.disclosureFor(who).in("loaded since", since.UTC().Format(time.RFC3339)).count(int(loaded), "reports"))
	s.render(w, r, "home.html", data)
	return nil
}

// homeAlerts lists the open alerts, the highest tension first, each in words.
func (s *Server) homeAlerts(ctx context.Context, who *access.Principal, since time.Time) ([]homeAlert, error) {
	alerts, err := s.store.Alerts(ctx, tension.AlertFilter{Status: openStatuses, Limit: 100})
	if err != nil {
		return nil, err
	}
	version, err := s.dataVersion(ctx)
	if err != nil {
		return nil, err
	}
	areas, err := s.areasOf(ctx, version)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, a := range areas {
		names[a.Code] = a.Name
	}
	scale := tension.Scale(s.opts.TensionScale)
	slices.SortStableFunc(alerts, func(a, b tension.StoredAlert) int {
		if x, y := scale.Rank(a.TensionLevel), scale.Rank(b.TensionLevel); x != y {
			return y - x
		}
		return b.LastSeen.Compare(a.LastSeen)
	})
	d := s.disclosureFor(who)
	out := make([]homeAlert, 0, len(alerts))
	for i := range alerts {
		a := &alerts[i]
		j := s.alertJSON(d, a, false, nil)
		h := homeAlert{ID: a.ID, Level: a.TensionLevel, Status: a.Status, New: a.CreatedAt.After(since),
			Link: "/map?" + url.Values{"alert": {fmt.Sprint(a.ID)}}.Encode()}
		h.Headline = alertHeadline(a, names)
		facts := []string{upperFirst(j.MethodName), j.WindowText}
		obs := "a withheld number of"
		if j.Observed != nil {
			obs = fmt.Sprint(*j.Observed)
		}
		facts = append(facts, fmt.Sprintf("%s reports where %.1f were expected", obs, a.Expected))
		if j.PText != "" {
			facts = append(facts, "p "+j.PText)
		}
		h.Facts = strings.Join(facts, " · ")
		out = append(out, h)
	}
	return out, nil
}

// alertHeadline says where an alert is and what it is about: "Citywide rise in race
// hate reports after National: referendum result (national)", "Rise in all hate
// reports in Ward 3, Ward 4", "Rise in all hate reports in a cluster of 7 hexagons".
func alertHeadline(a *tension.StoredAlert, names map[string]string) string {
	what := "Rise in all hate reports"
	if len(a.Strands) > 0 {
		what = "Rise in " + strings.ReplaceAll(strings.Join(a.Strands, " and "), "_", " ") + " hate reports"
	}
	if a.Method == tension.MethodUplift {
		if i := strings.Index(a.Detail, ", the "); strings.HasPrefix(a.Detail, "After ") && i > 0 {
			what += " " + strings.ToLower(a.Detail[:1]) + a.Detail[1:i]
		}
	}
	switch {
	case len(a.Cells) > 0:
		n := len(a.Cells)
		if n == 1 {
			return what + " in one hexagon"
		}
		return fmt.Sprintf("%s in a cluster of %d hexagons", what, n)
	case a.Method == tension.MethodWidespread:
		return fmt.Sprintf("Widespread %s across %d areas", strings.ToLower(what), len(a.Areas))
	case len(a.Areas) > 0:
		var shown []string
		for _, c := range a.Areas[:min(3, len(a.Areas))] {
			if n := names[c]; n != "" {
				shown = append(shown, n)
			} else {
				shown = append(shown, c)
			}
		}
		place := strings.Join(shown, ", ")
		if len(a.Areas) > 3 {
			place += fmt.Sprintf(" and %d more", len(a.Areas)-3)
		}
		return what + " in " + place
	}
	return "Citywide " + strings.ToLower(what[:1]) + what[1:]
}

// homeAssessments returns the assessments due for review within a week (or past
// their date) and those changed since the user's last visit, in the user's scope.
func (s *Server) homeAssessments(ctx context.Context, who *access.Principal, since time.Time) ([]homeReview, []homeChange, error) {
	f := tension.AssessmentFilter{Limit: 500}
	scopeFilter(who, &f)
	list, err := s.store.Assessments(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	now := s.opts.Now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	var reviews []homeReview
	var changes []homeChange
	for _, a := range list {
		if a.UpdatedAt.After(since) {
			changes = append(changes, homeChange{ID: a.ID, Title: a.Title, Status: a.Status, At: a.UpdatedAt})
		}
		if a.Status == tension.AssessmentClosed || a.ReviewDate.IsZero() {
			continue
		}
		due := time.Date(a.ReviewDate.Year(), a.ReviewDate.Month(), a.ReviewDate.Day(), 0, 0, 0, 0, time.UTC)
		days := int(due.Sub(today).Hours() / 24)
		if days > 7 {
			continue
		}
		rv := homeReview{ID: a.ID, Title: a.Title, Status: a.Status, Due: a.ReviewDate, Overdue: days < 0}
		switch {
		case days < 0:
			rv.When = "overdue by " + tension.DaysWord(-days)
		case days == 0:
			rv.When = "due today"
		case days == 1:
			rv.When = "due tomorrow"
		default:
			rv.When = "due in " + tension.DaysWord(days)
		}
		reviews = append(reviews, rv)
	}
	slices.SortStableFunc(reviews, func(a, b homeReview) int { return a.Due.Compare(b.Due) })
	slices.SortStableFunc(changes, func(a, b homeChange) int { return b.At.Compare(a.At) })
	if len(changes) > 20 {
		changes = changes[:20]
	}
	return reviews, changes, nil
}

// loadedText says how many reports were loaded, as shown to the user: "No reports
// loaded", "1 report loaded", "a few reports loaded (withheld)".
func loadedText(n *int) string {
	switch {
	case n == nil:
		return "A few reports loaded (the number is withheld)"
	case *n == 0:
		return "No reports loaded"
	case *n == 1:
		return "1 report loaded"
	}
	return fmt.Sprintf("%d reports loaded", *n)
}
