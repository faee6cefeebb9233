package geo

import (
	"strings"
	"time"
)

// Outcome is one outcome of a police-recorded crime, as police.uk publishes them
// in its monthly outcomes files: the crime (its Crime ID, which is the source_ref
// of the crime's police incident), the month the outcome was recorded in and the
// outcome type. A crime collects outcomes over the months; the latest is its
// current one.
type Outcome struct {
	Line, Index int // where the row is in its input, as for RawIncident

	CrimeRef string    // police.uk Crime ID
	Month    time.Time // first day of the month, midnight UTC
	Type     string    // the outcome type as published, space trimmed and runs of it made one
	Positive bool      // a sanction detection (see OutcomeTypes)
	Known    bool      // Type is one of OutcomeTypes
}

// OutcomeSource is the source of the incidents outcomes belong to: an outcome's
// CrimeRef is the source_ref of a crime of this source.
const OutcomeSource = "police"

// OutcomeType is one outcome type police.uk publishes, and whether it is a
// positive outcome.
type OutcomeType struct {
	Name string
	// Positive marks a sanction detection: the measure hate crime strategies report
	// as the share of crimes solved. A charge or summons, a caution, a penalty notice,
	// a drugs possession warning and an offence taken into consideration are
	// sanction detections; so is every outcome at the court stage, since a case
	// reaches court only after a charge, whatever the court then decides.
	Positive bool
	Stage    string // "investigation", "out of court", "charge" or "court"
}

// OutcomeTypes lists every outcome type police.uk has published, by stage. Local
// resolution (a community resolution) is an out-of-court outcome but not a sanction
// detection. Outcome types not listed here are stored as published, counted as
// unknown when loaded, and taken as not positive.
var OutcomeTypes = []OutcomeType{
	// Still open, or nothing known.
	{"Under investigation", false, "investigation"},
	{"Status update unavailable", false, "investigation"},

	// Closed without a sanction.
	{"Investigation complete; no suspect identified", false, "investigation"},
	{"Unable to prosecute suspect", false, "investigation"},
	{"Formal action is not in the public interest", false, "investigation"},
	{"Further action is not in the public interest", false, "investigation"},
	{"Further investigation is not in the public interest", false, "investigation"},
	{"Action to be taken by another organisation", false, "investigation"},

	// Out of court.
	{"Local resolution", false, "out of court"},
	{"Offender given a caution", true, "out of court"},
	{"Offender given penalty notice", true, "out of court"},
	{"Offender given a drugs possession warning", true, "out of court"},

	// Charge or summons; "as part of another case" is police.uk's name for an
	// offence taken into consideration.
	{"Suspect charged", true, "charge"},
	{"Suspect charged as part of another case", true, "charge"},

	// Court: every one follows a charge.
	{"Awaiting court outcome", true, "court"},
	{"Defendant sent to Crown Court", true, "court"},
	{"Court case unable to proceed", true, "court"},
	{"Court result unavailable", true, "court"},
	{"Defendant found not guilty", true, "court"},
	{"Offender sent to prison", true, "court"},
	{"Offender given suspended prison sentence", true, "court"},
	{"Offender given community sentence", true, "court"},
	{"Offender fined", true, "court"},
	{"Offender given conditional discharge", true, "court"},
	{"Offender given absolute discharge", true, "court"},
	{"Offender ordered to pay compensation", true, "court"},
	{"Offender deprived of property", true, "court"},
	{"Offender otherwise dealt with", true, "court"},
}

var outcomeTypesByKey = func() map[string]OutcomeType {
	m := make(map[string]OutcomeType, len(OutcomeTypes))
	for _, t := range OutcomeTypes {
		m[outcomeKey(t.Name)] = t
	}
	return m
}()

// outcomeKey folds case and runs of space, so that "Suspect  charged " is known.
func outcomeKey(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// ClassifyOutcome returns whether an outcome type is a sanction detection, and
// whether it is a known type at all (an unknown one is never positive). Case and
// runs of space do not matter.
func ClassifyOutcome(outcomeType string) (positive, known bool) {
	t, ok := outcomeTypesByKey[outcomeKey(outcomeType)]
	return t.Positive, ok
}

// OutcomeCounts are the outcomes of the crimes a filter selects: how many crimes,
// how many have an outcome, how many of those have a positive latest outcome, and
// the count of crimes by latest outcome type.
type OutcomeCounts struct {
	Crimes, WithOutcome, Positive int
	ByOutcome                     map[string]int
}

// PositiveRate returns the share of the crimes whose latest outcome is positive
// (the sanction detection rate), 0 when there are no crimes.
func (c OutcomeCounts) PositiveRate() float64 {
	if c.Crimes == 0 {
		return 0
	}
	return float64(c.Positive) / float64(c.Crimes)
}
