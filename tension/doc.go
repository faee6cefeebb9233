// Package tension holds the tension engine's statistics and rules: detectors over
// counts, alerts, Community Impact Assessments and trigger events. No SQL, no HTTP.
package tension
