// Package engine runs the tension engine: it reads a Store, runs the detectors of
// package tension as of a day, merges their findings into the recent alerts and
// saves the run; a Scheduler runs it daily and after new data, and the evaluation
// replays it over generated towns. It holds no SQL and no HTTP: package postgis
// provides the Store.
package engine
