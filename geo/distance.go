package geo

import "math"

// EarthRadius is the mean radius of the earth in metres, as H3 uses it.
const EarthRadius = 6371007.180918475

// Distance returns the great-circle distance in metres between two WGS84 positions,
// on a sphere of EarthRadius (haversine).
func Distance(a, b LatLon) float64 {
	const rad = math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	s := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * EarthRadius * math.Asin(math.Min(1, math.Sqrt(s)))
}
