// Package geo holds the domain of located reports: incidents, their validation
// and pseudonymisation, coordinates (WGS84 and British National Grid), H3
// binning, areas and the streaming readers for every supported input format.
//
// It imports no database or HTTP library; the postgis and web packages adapt it.
package geo
