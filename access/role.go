package access

import (
	"regexp"
	"slices"
	"strings"

	"github.com/tensionmap/tensionmap/geo"
)

// Role is what a user or token may see and do.
type Role string

// The roles of the design: police see incident-level data in their areas, council
// see counts, alerts and assessments, strategic see aggregates with small counts
// suppressed, partners only push reports for their own source, admins run the service
// and see data as police do.
const (
	Police    Role = "police"
	Council   Role = "council"
	Strategic Role = "strategic"
	Partner   Role = "partner"
	Admin     Role = "admin"
)

// Roles lists every role.
var Roles = []Role{Police, Council, Strategic, Partner, Admin}

// ParseRole returns the role named s, or an EINVALID error listing the roles.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Roles, r) {
		return "", geo.Errorf(geo.EINVALID, "%q is not a role: want one of police, council, strategic, partner, admin", s)
	}
	return r, nil
}

// SeesIncidents reports whether the role may read incident-level data (subject to a
// police user's areas).
func (r Role) SeesIncidents() bool { return r == Police || r == Admin }

// SeesSmallCounts reports whether the role sees counts below the suppression
// threshold as they are.
func (r Role) SeesSmallCounts() bool { return r == Police || r == Admin || r == Council }

// Role groups for route policies.
var (
	// Everyone signed in, partners excepted: they only push reports.
	Readers = []Role{Police, Council, Strategic, Admin}
	// Those who see incident-level data.
	IncidentReaders = []Role{Police, Admin}
	// Administrators only.
	Admins = []Role{Admin}
	// Partners and administrators may push reports.
	Intake = []Role{Partner, Admin}
	// Those who act on alerts and see near-repeat risk zones, which trace recent
	// incidents' places: police, council, admin; strategic users only read alerts.
	AlertHandlers = []Role{Police, Council, Admin}
	// Those who create and edit impact assessments and record trigger events;
	// strategic users read assessments' summaries.
	AssessmentEditors = []Role{Police, Council, Admin}
	// Those who work victim cases: police and council officers their own
	// service's, administrators every partner's without their free text. The
	// strategic group sees the cases' figures only.
	CaseWorkers = []Role{Police, Council, Admin}
	// Partner systems post their cases; administrators may too.
	CaseIntake = []Role{Partner, Admin}
)

// usernamePattern is what a username may be: up to 64 letters, digits and . _ @ -,
// starting with a letter or digit.
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// CheckUsername returns an EINVALID error when a username is not acceptable.
func CheckUsername(u string) error {
	if !usernamePattern.MatchString(u) {
		return geo.Errorf(geo.EINVALID, "%q is not a username: use up to 64 letters, digits and . _ @ -, starting with a letter or digit", u)
	}
	return nil
}

// CheckScope returns an EINVALID error when areas are given to a role other than
// police: only a neighbourhood team is scoped to the areas it covers.
func CheckScope(r Role, areas []string) error {
	if len(areas) > 0 && r != Police {
		return geo.Errorf(geo.EINVALID, "areas apply to the police role only (the areas a neighbourhood team covers), not to %s", r)
	}
	return nil
}
