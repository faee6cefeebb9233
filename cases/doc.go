// Package cases holds the domain of victim cases: the case record and its
// checks and history, the working-day calendar the service standards count in,
// what a case officer owes on a case, the partnership's service-standard figures,
// the repeat victim and offender rule, and a seeded generator of cases for the
// demo. No SQL, no HTTP.
//
// # Working days
//
// A working day is Monday to Friday and not a bank holiday of England and Wales.
// The service ships the bank holidays of 2015 to 2030 (EnglandAndWales: New
// Year's Day, Good Friday, Easter Monday, the early May, spring and summer bank
// holidays, Christmas Day and Boxing Day, with their substitute days, the 2020
// early May holiday moved to VE day, the 2022 spring holiday moved to 2 June with
// the Platinum Jubilee on 3 June and the state funeral on 19 September, and the
// coronation on 8 May 2023). A partnership adds its own closure days, or takes a
// table day out when a holiday is moved by proclamation, with a small CSV read by
// ReadHolidays. Outside the table's years only weekends are known.
//
// A day is a calendar date; a moment (a contact at 10:15) falls on the day of its
// date in the calendar's zone (Europe/London for the service). Counting:
//
//   - WorkingDaysBetween(from, to) counts the working days after from, up to and
//     including to. The start does not count; the end does. From a day to itself
//     is 0; Friday to the next Monday is 1.
//   - AddWorkingDays(d, n) is the day the n-th working day after d falls on, d
//     itself not counted: the first day by which n working days have passed.
//     WorkingDaysBetween(d, AddWorkingDays(d, n)) is n.
//
// # The standards
//
// With the default Standards:
//
//   - First contact within one working day: the first contact falls on or
//     before AddWorkingDays(day opened, 1). A case opened on Friday 30 December
//     2022, or over that weekend, or on the bank holiday of Monday 2 January,
//     is due a first contact by Tuesday 3 January 2023.
//   - Contact every ten working days: between the day of opening, the day of each
//     contact and the day of closure (or, while open, the day the count is taken),
//     no gap is more than ten working days.
//   - Victims' Code at first contact: the offer is recorded on or before the day
//     of the first contact.
//   - Survey within six weeks: the survey is taken by the day of closure plus 42
//     calendar days.
//
// Due lists, for a worklist, each obligation of a case with the last day it is on
// time: it is due up to and on that day, overdue after it.
//
// # The figures
//
// Measure counts, for a period (days From to To) taken on a day (Today), each
// figure's numerator and denominator. The figures of a period follow cohorts:
// cases opened in it (first contact, Victims' Code), cases open on any of its
// days (kept in contact), cases closed in it (resolved, satisfaction, survey on
// time, median days to closure). An obligation enters a denominator when it was
// met or its last day is before Today, so a figure taken mid-period leaves out
// what is not yet due; nothing recorded after Today counts.
//
//   - First contact: of the cases opened in the period whose first contact was
//     made or was due before Today, those contacted on time.
//   - Kept in contact: of the cases open on some day of the period up to Today,
//     those whose gaps (as above, ending at the closure or at the earlier of To
//     and Today) are all at most ten working days; only gaps that end in the
//     period count, so a lapse in an earlier quarter is that quarter's.
//   - Victims' Code: of the cases opened in the period with a first contact,
//     those offered the Code by it.
//   - Resolved: of the cases closed in the period, those resolved; withdrawn
//     cases are left out of the denominator and counted on their own.
//   - Satisfied with the outcome, with the handling: of the cases closed in the
//     period that were surveyed, those satisfied.
//   - Survey on time: of the cases closed in the period that were surveyed or
//     whose survey was due before Today, those surveyed within six weeks.
//
// A complainant may decline the survey. A declined survey was offered: it counts
// in "survey on time" by the day it was offered, as a survey taken, and in
// neither satisfaction figure, whose denominators are the surveys answered; the
// figures count the declined on their own (Figures.Declined).
//   - Median days to closure: calendar days from the day of opening to the day
//     of closure, over the cases closed in the period.
//
// Targets default to 100% (first contact, kept in contact, Victims' Code), 80%
// (resolved) and 70% (satisfied with the outcome, with the handling); surveys on
// time have none unless set. Counts are exact: suppressing small counts is the
// caller's, as for every figure the strategic group sees.
//
// # Repeats
//
// A repeat victim (or offender) is a pseudonym named by at least MinReports (2)
// reports whose days fall in the WindowMonths (12) calendar months ending on the
// day asked about: from the day after the same date that many months before (the
// month's last day when it has no such date) to that day, both included. This
// rather than "two reports within twelve months of each other" because a
// worklist and a review ask who is a repeat now or at the end of a period, and
// a window ending on a day answers that the same way each time; a chain of
// reports each within a year of the last would keep someone a repeat forever.
// Pseudonyms are keyed by the reporting source, so one person reported through
// two sources counts as two, as in the review.
//
// # Privacy
//
// A case stores the complainant's pseudonymous victim key, never a name. Its
// free text (contact notes, action text, the closure reason) is short, for the
// owning partner's eyes, and kept out of the history, so Erase can remove it on
// the complainant's request and leave every date and count.
package cases
