package cases

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// Profile is how a synthetic partnership works its cases: each share is a
// probability per case, and the figures of many cases come out near them.
type Profile struct {
	FirstContactOnTime float64 // first contact within one working day; the rest 2 to 5 working days late
	VictimsCodeAtFirst float64 // the Victims' Code offered at the first contact; half the rest later, half never
	KeptInContact      float64 // every gap at most 10 working days; the rest have one gap of 11 to 16
	Withdrawn          float64 // closures withdrawn by the complainant
	Resolved           float64 // closures not withdrawn that are resolved
	Surveyed           float64 // closed cases surveyed at all
	Declined           float64 // surveys offered that the complainant declined
	SurveyOnTime       float64 // surveys taken within six weeks of closure; the rest 7 to 10 weeks after
	SatisfiedResolved  float64 // satisfied with the outcome, when resolved
	SatisfiedOther     float64 // satisfied with the outcome, when not resolved or withdrawn
	SatisfiedHandling  float64 // satisfied with the handling
}

// DemoProfile is a partnership doing well but not perfectly: most first
// contacts on time and some late, a few cases without a survey and a few
// complainants declining the one offered.
func DemoProfile() Profile {
	return Profile{FirstContactOnTime: 0.88, VictimsCodeAtFirst: 0.9, KeptInContact: 0.85, Withdrawn: 0.08, Resolved: 0.8,
		Surveyed: 0.85, Declined: 0.07, SurveyOnTime: 0.9, SatisfiedResolved: 0.82, SatisfiedOther: 0.35, SatisfiedHandling: 0.78}
}

// SynthOptions say what cases to make up.
type SynthOptions struct {
	Seed     int64
	Now      time.Time // nothing happens after it
	Calendar *Calendar // working days and zone; England and Wales in UTC when nil
	Profile  Profile   // DemoProfile when zero

	// Reports, when given, are the reports the cases follow: for a share (Share,
	// 0.6 when 0) of the complainants a partner's reports name, a case of that
	// partner opens within two days of their first report and follows their
	// reports until it closes. Without reports, Cases cases open on days spread
	// over the Days days up to Now, for made-up complainants.
	Reports []Report
	Share   float64
	Cases   int
	Days    int

	Partners []string           // the partners that own cases; police, council and third_party when empty
	Officers map[string][]int64 // each partner's case officers (user ids); none means unassigned
	Actors   map[int64]string   // the history's actor for an officer ("user:jsmith"); "cli:demo" when missing
}

// Synthesize makes up cases as the options say, each built change by change
// through the Rules (so each is valid and has its history), in order of opening.
// The same options give the same cases. Contacts, offers, actions and surveys
// fall on working days during office hours; cases open on any day.
func Synthesize(o SynthOptions) ([]*Case, error) {
	cal := o.Calendar
	if cal == nil {
		cal = DefaultCalendar(time.UTC)
	}
	p := o.Profile
	if p == (Profile{}) {
		p = DemoProfile()
	}
	partners := o.Partners
	if len(partners) == 0 {
		partners = []string{"police", "council", "third_party"}
	}
	g := &synth{rng: newRNG(o.Seed), cal: cal, p: p, now: o.Now, today: cal.Day(o.Now), o: o,
		rules: Rules{Partners: partners, Calendar: cal}, std: DefaultStandards()}

	type opening struct {
		partner, key string
		day          time.Time
		reports      []Report
	}
	var opens []opening
	if len(o.Reports) > 0 {
		share := o.Share
		if share == 0 {
			share = 0.6
		}
		type pk struct{ partner, key string }
		by := map[pk][]Report{}
		for _, r := range o.Reports {
			if r.VictimKey != "" && slices.Contains(partners, r.Source) && !geo.Day(r.Day).After(g.today) {
				by[pk{r.Source, r.VictimKey}] = append(by[pk{r.Source, r.VictimKey}], r)
			}
		}
		keys := make([]pk, 0, len(by))
		for k := range by {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b pk) int { return cmp.Or(cmp.Compare(a.partner, b.partner), cmp.Compare(a.key, b.key)) })
		for _, k := range keys {
			rs := by[k]
			slices.SortFunc(rs, func(a, b Report) int { return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.SourceRef, b.SourceRef)) })
			if !g.rng.bool(share) {
				continue
			}
			opens = append(opens, opening{partner: k.partner, key: k.key, day: geo.Day(rs[0].Day).AddDate(0, 0, g.rng.intN(3)), reports: rs})
		}
	} else {
		if o.Cases < 0 || o.Days < 1 {
			return nil, geo.Errorf(geo.EINVALID, "synthetic cases: want reports, or a number of cases over at least one day")
		}
		for range o.Cases {
			var key [16]byte
			for i := range key {
				key[i] = byte(g.rng.next())
			}
			opens = append(opens, opening{partner: partners[g.rng.intN(len(partners))], key: fmt.Sprintf("%x", key),
				day: g.today.AddDate(0, 0, -g.rng.intN(o.Days))})
		}
	}
	slices.SortStableFunc(opens, func(a, b opening) int { return a.day.Compare(b.day) })
	seq := map[string]int{}
	var out []*Case
	for _, op := range opens {
		if op.day.After(g.today) {
			continue
		}
		seq[op.partner+fmt.Sprint(op.day.Year())]++
		ref := fmt.Sprintf("%s-%d-%05d", refPrefix(op.partner), op.day.Year(), seq[op.partner+fmt.Sprint(op.day.Year())])
		c, err := g.build(op.partner, ref, op.key, op.day, op.reports)
		if err != nil {
			return nil, fmt.Errorf("cases: synthetic case %s: %w", ref, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func refPrefix(partner string) string {
	var b strings.Builder
	for _, w := range strings.Split(partner, "_") {
		if w != "" {
			b.WriteByte(w[0])
		}
	}
	s := strings.ToUpper(b.String())
	if len(s) < 2 {
		s = strings.ToUpper(partner[:min(3, len(partner))])
	}
	return s
}

type synth struct {
	rng   *rng
	cal   *Calendar
	p     Profile
	now   time.Time
	today time.Time
	o     SynthOptions
	rules Rules
	std   Standards
}

// event is one change of a case at a moment; the changes are applied in time
// order through the Rules.
type event struct {
	at    time.Time
	order int
	apply func(c *Case, at time.Time) (HistoryEntry, error)
}

var contactBy = map[string][]string{
	"police":      {"Case officer", "Hate crime officer", "Neighbourhood PCSO"},
	"council":     {"Case officer", "Housing officer", "Community safety officer"},
	"third_party": {"Case worker", "Advocate", "Volunteer"},
}

var contactNotes = []string{
	"Checked in; no further incidents since the last contact.",
	"Updated on progress with the investigation.",
	"Discussed support options; referral to victim support accepted.",
	"Agreed the action plan and next contact.",
	"Complainant reports a further incident; advised to report it.",
	"Left a message; called back the same day.",
	"Home visit; security advice given.",
}

var actionTexts = []string{
	"Fit a door alarm and window locks",
	"Refer to victim support services",
	"Arrange a meeting with the housing officer",
	"Ask the neighbourhood team for extra patrols",
	"Write to the neighbour about their behaviour",
	"Check CCTV coverage near the home",
}

// at returns a moment during office hours on a day.
func (g *synth) at(day time.Time) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, 9+g.rng.intN(8), g.rng.intN(60), 0, 0, g.cal.Location())
}

// workingOnOrAfter returns the day itself when it is a working day, else the next one.
func (g *synth) workingOnOrAfter(d time.Time) time.Time {
	if g.cal.IsWorkingDay(d) {
		return d
	}
	return g.cal.AddWorkingDays(d, 1)
}

func (g *synth) build(partner, ref, key string, opened time.Time, reports []Report) (*Case, error) {
	cal, p, r := g.cal, g.p, g.rng
	y, mo, d := opened.Date()
	openedAt := time.Date(y, mo, d, 8+r.intN(10), r.intN(60), 0, 0, cal.Location())
	if openedAt.After(g.now) {
		openedAt = g.now
	}
	c := &Case{Partner: partner, Ref: ref, VictimKey: key, OpenedAt: openedAt, Risk: RiskStandard}
	switch x := r.float(); {
	case x < 0.08:
		c.Risk, c.Referral = RiskHigh, r.bool(0.6)
	case x < 0.3:
		c.Risk, c.Referral = RiskMedium, r.bool(0.1)
	}
	if officers := g.o.Officers[partner]; len(officers) > 0 {
		c.Officer = officers[r.intN(len(officers))]
	}
	actor := "cli:demo"
	if a := g.o.Actors[c.Officer]; a != "" {
		actor = a
	}

	// First contact: on the day of opening or the next working day, or late.
	var fc time.Time
	if r.bool(p.FirstContactOnTime) {
		fc = g.workingOnOrAfter(opened)
		if r.bool(0.5) || !cal.IsWorkingDay(opened) {
			fc = cal.AddWorkingDays(opened, 1)
		}
	} else {
		fc = cal.AddWorkingDays(opened, 2+r.intN(4))
	}
	// The case closes 3 to 17 weeks after opening, on a working day, and never
	// before the contact plan has had room for a lapse.
	closeDay := g.workingOnOrAfter(opened.AddDate(0, 0, 21+r.intN(100)))
	if minClose := cal.AddWorkingDays(fc, 20); closeDay.Before(minClose) {
		closeDay = minClose
	}
	lapse := !r.bool(p.KeptInContact)
	contacts := []time.Time{fc}
	for last := fc; ; {
		gap := 3 + r.intN(8) // 3 to 10 working days
		if lapse && len(contacts) == 1 {
			gap = 11 + r.intN(6)
		}
		next := cal.AddWorkingDays(last, gap)
		if !next.Before(closeDay) {
			break
		}
		contacts = append(contacts, next)
		last = next
	}

	var events []event
	// Each change happens during office hours on its day, and after the opening.
	add := func(day time.Time, order int, f func(c *Case, at time.Time) (HistoryEntry, error)) {
		at := g.at(day)
		if !at.After(openedAt) {
			at = openedAt.Add(time.Duration(order) * time.Minute)
		}
		events = append(events, event{at: at, order: order, apply: f})
	}
	ways := []string{ContactPhone, ContactPhone, ContactPhone, ContactPhone, ContactPhone, ContactPhone,
		ContactVisit, ContactVisit, ContactEmail, ContactEmail, ContactLetter, ContactOther}
	by := contactBy[partner]
	if len(by) == 0 {
		by = []string{"Case officer"}
	}
	var contactMoments []time.Time
	for i, day := range contacts {
		x := Contact{How: ways[r.intN(len(ways))], By: by[r.intN(len(by))], Note: contactNotes[r.intN(len(contactNotes))]}
		if i == 0 {
			x.How = ContactPhone
		}
		idx := len(contactMoments)
		contactMoments = append(contactMoments, time.Time{})
		add(day, 1, func(c *Case, at time.Time) (HistoryEntry, error) {
			x.At = at
			contactMoments[idx] = at
			return g.rules.AddContact(c, x, actor, at)
		})
	}
	// The Victims' Code: at the first contact, or a few working days later, or never.
	switch {
	case r.bool(p.VictimsCodeAtFirst):
		add(fc, 2, func(c *Case, at time.Time) (HistoryEntry, error) {
			u := c.Clone()
			u.VictimsCodeAt = contactMoments[0]
			return g.rules.Edit(c, u, actor, contactMoments[0])
		})
	case r.bool(0.5):
		add(cal.AddWorkingDays(fc, 1+r.intN(5)), 2, func(c *Case, at time.Time) (HistoryEntry, error) {
			u := c.Clone()
			u.VictimsCodeAt = at
			return g.rules.Edit(c, u, actor, at)
		})
	}
	// The action plan: agreed at the first contact, due in one to four weeks.
	owners := map[string][]string{"police": {"Case officer", "Neighbourhood team"}, "council": {"Housing", "Community safety team"},
		"third_party": {"Case worker", "Victim support"}}[partner]
	if len(owners) == 0 {
		owners = []string{"Case officer"}
	}
	for i := range 1 + r.intN(3) {
		a := Action{Text: actionTexts[r.intN(len(actionTexts))], Owner: owners[r.intN(len(owners))],
			Due: cal.AddWorkingDays(fc, 5+r.intN(16))}
		n := i + 1
		add(fc, 3, func(c *Case, at time.Time) (HistoryEntry, error) { return g.rules.AddAction(c, a, actor, at) })
		if r.bool(0.85) {
			done := cal.AddWorkingDays(a.Due, -r.intN(5))
			if done.Before(fc) {
				done = fc
			}
			if done.Before(closeDay) {
				add(done, 4, func(c *Case, at time.Time) (HistoryEntry, error) { return g.rules.SetActionDone(c, n, at, actor, at) })
			}
		}
	}
	// Closure and survey.
	outcome := OutcomeResolved
	switch {
	case r.bool(p.Withdrawn):
		outcome = OutcomeWithdrawn
	case !r.bool(p.Resolved):
		outcome = OutcomeNotResolved
	}
	reason := map[string]string{OutcomeResolved: "", OutcomeNotResolved: "No further action possible; complainant informed.",
		OutcomeWithdrawn: "Complainant asked for no further contact."}[outcome]
	add(closeDay, 5, func(c *Case, at time.Time) (HistoryEntry, error) {
		return g.rules.Close(c, Closure{At: at, Outcome: outcome, Reason: reason}, actor, at)
	})
	surveyed := r.bool(p.Surveyed)
	onTime := r.bool(p.SurveyOnTime)
	satOutcome := r.bool(map[bool]float64{true: p.SatisfiedResolved, false: p.SatisfiedOther}[outcome == OutcomeResolved])
	satHandling := r.bool(p.SatisfiedHandling)
	declined := r.bool(p.Declined)
	if surveyed {
		due := closeDay.AddDate(0, 0, 7*g.std.SurveyWeeks)
		var day time.Time
		if onTime {
			day = g.workingOnOrAfter(closeDay.AddDate(0, 0, 1+r.intN(38)))
			for day.After(due) {
				day = cal.AddWorkingDays(day, -1)
			}
		} else {
			day = g.workingOnOrAfter(due.AddDate(0, 0, 1+r.intN(28)))
		}
		add(day, 6, func(c *Case, at time.Time) (HistoryEntry, error) {
			sv := Survey{At: at, SatisfiedOutcome: satOutcome, SatisfiedHandling: satHandling}
			if declined {
				sv = Survey{At: at, Declined: true}
			}
			return g.rules.RecordSurvey(c, sv, actor, at)
		})
	}
	// The reports it follows: those up to the closure.
	for _, rep := range reports {
		if !geo.Day(rep.Day).After(closeDay) {
			c.Reports = append(c.Reports, ReportRef{Source: rep.Source, Ref: rep.SourceRef})
		}
	}

	e, err := g.rules.Open(c, actor, openedAt)
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt, c.Version = openedAt, openedAt, 1
	c.History = append(c.History, e)
	slices.SortStableFunc(events, func(a, b event) int {
		return cmp.Or(geo.Day(a.at).Compare(geo.Day(b.at)), cmp.Compare(a.order, b.order), a.at.Compare(b.at))
	})
	for _, ev := range events {
		if ev.at.After(g.now) {
			break // the rest is yet to happen
		}
		e, err := ev.apply(c, ev.at)
		if err != nil {
			return nil, err
		}
		c.History = append(c.History, e)
		c.UpdatedAt, c.Version = e.At, c.Version+1
	}
	return c, nil
}

// rng is a small splitmix64 generator: the demo's cases are a function of the
// seed on every Go release.
type rng struct{ s uint64 }

func newRNG(seed int64) *rng { return &rng{s: uint64(seed) ^ 0x6a09e667f3bcc909} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

func (r *rng) bool(p float64) bool { return r.float() < p }

func (r *rng) intN(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}
