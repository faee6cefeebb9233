// Package synth generates a self-contained, seeded synthetic demo of the service: a
// town with its small areas, years of hate crime and hate incident reports, the
// trigger events that raised community tension, and the ground truth of the spikes
// injected after them, for the demo and for scoring spike detectors.
//
// Everything is a function of Options: the same seed, rows, years, end day and town
// give the same areas, the same records in the same order and byte-identical files.
//
// # Real towns
//
// With Options.Town the records are put in real boundaries: MiltonKeynes (the
// demo's town, embedded: 152 LSOAs with their mid-2015 populations and the 32 MSOAs
// dissolved from them) or any small areas with populations (ReadTown). Background
// records fall in an area with probability proportional to its population times its
// risk, at a uniform point inside its polygon; the areas near the town centre and the
// named hot spots (or, without named places, two to four random areas) have a raised
// risk; local events happen at the named places (or anywhere), citywide ones are
// centred on the centre. Near repeats stay inside the town's areas.
//
// # The grid town (Options.Town nil)
//
// A town the size of Milton Keynes on its real coordinates (about 52.04 N 0.76 W),
// drawn from the seed, kept for tests whose expectations rest on its layout.
//
// About 150 lsoas of 1,000 to 3,000 people (290,000 in all, denser towards the
// centre) tile the town as a jittered grid whose corners neighbouring cells share;
// 16 to 18 wards group neighbouring lsoas, each written as one counter-clockwise
// ring traced along the shared corners. The town centre and two to four hotspot
// lsoas have a raised rate (Generator.Hotspots).
//
// # Records
//
// Incidents streams exactly Options.Rows records in date order with flat memory,
// as geo.RawIncident in the project's CSV layout (geo.Columns). Background records
// follow population times risk, weekly (Fridays and weekends higher) and yearly
// (summer higher) seasonality and a mild upward trend, with day-to-day
// overdispersion. They carry the Home Office strand mix (a tenth with two strands),
// a crime/incident split by source, offences per kind, four sources with per-source
// references, five location precisions, occurrence days or ranges, report times,
// repeat victims and offenders from bounded per-area pools, and near repeats placed
// 50-400 m and 0-14 days from an earlier record.
//
// # Spikes
//
// Four to six trigger events a year (local, national or international) each inject
// records of their strands: citywide for 7-14 days, front-loaded, for national and
// international events; in a disc of 300-900 m for 2-10 days for local ones. The
// injected counts scale with the background rate (see the constants in plan.go) and
// are part of Rows. Generator.Spikes is the ground truth; its Refs name every
// injected record once a stream has run to its end.
//
// # Outcomes
//
// Generator.Outcomes gives the police-recorded crimes their outcomes as police.uk
// publishes them, from a random stream of their own so that the records stay as
// they are: about 15% of crimes end in a sanction detection, some have two
// months of outcomes (under investigation, then closed; charged, then the court's
// result), outcomes that would fall after the last day are not yet known, and a few
// outcomes belong to crimes reported before the data begin. WriteDir writes them
// as outcomes.csv in police.uk's layout.
package synth
