package geo

import "math"

// British National Grid (EPSG:27700) to WGS84 (EPSG:4326), as PROJ does it without a
// grid file: inverse Transverse Mercator on the Airy 1830 ellipsoid, then the
// 7-parameter Helmert transformation "OSGB36 to WGS 84 (6)" (EPSG:1314, about 2 m).
// The formulas of the inverse projection are those of Ordnance Survey's "A guide to
// coordinate systems in Great Britain", Annexe C.

const (
	airyA   = 6377563.396
	airyB   = 6356256.909
	bngF0   = 0.9996012717
	bngE0   = 400000.0
	bngN0   = -100000.0
	wgs84A  = 6378137.0
	wgs84F  = 1 / 298.257223563
	arcsec  = math.Pi / (180 * 3600)
	bngLat0 = 49 * math.Pi / 180
	bngLon0 = -2 * math.Pi / 180
)

// Helmert parameters from OSGB36 to WGS84, position-vector convention.
var osgbToWGS84 = struct{ tx, ty, tz, rx, ry, rz, s float64 }{
	446.448, -125.157, 542.06, 0.15 * arcsec, 0.247 * arcsec, 0.842 * arcsec, -20.489e-6,
}

// BNGToWGS84 converts a British National Grid easting and northing in metres to WGS84
// latitude and longitude in degrees. It agrees with PROJ's EPSG:27700 to EPSG:4326
// transformation (without OSTN15) to well under a metre across Great Britain.
func BNGToWGS84(easting, northing float64) (lat, lon float64) {
	phi, lambda := bngInverseTM(easting, northing)
	x, y, z := toCartesian(phi, lambda, airyA, 1-airyB*airyB/(airyA*airyA))
	p := osgbToWGS84
	s1 := 1 + p.s
	x2 := p.tx + s1*(x-p.rz*y+p.ry*z)
	y2 := p.ty + s1*(p.rz*x+y-p.rx*z)
	z2 := p.tz + s1*(-p.ry*x+p.rx*y+z)
	phi, lambda = fromCartesian(x2, y2, z2, wgs84A, wgs84F*(2-wgs84F))
	return phi * 180 / math.Pi, lambda * 180 / math.Pi
}

// bngInverseTM returns OSGB36 geodetic latitude and longitude in radians.
func bngInverseTM(E, N float64) (phi, lambda float64) {
	a, b, F0 := airyA, airyB, bngF0
	e2 := 1 - b*b/(a*a)
	n := (a - b) / (a + b)
	n2, n3 := n*n, n*n*n
	meridional := func(phi float64) float64 {
		dp, sp := phi-bngLat0, phi+bngLat0
		return b * F0 * ((1+n+1.25*n2+1.25*n3)*dp -
			(3*n+3*n2+21.0/8*n3)*math.Sin(dp)*math.Cos(sp) +
			(15.0/8*n2+15.0/8*n3)*math.Sin(2*dp)*math.Cos(2*sp) -
			35.0/24*n3*math.Sin(3*dp)*math.Cos(3*sp))
	}
	phi = bngLat0
	M := 0.0
	for i := 0; i < 100; i++ {
		phi += (N - bngN0 - M) / (a * F0)
		M = meridional(phi)
		if math.Abs(N-bngN0-M) < 1e-6 {
			break
		}
	}
	sin, cos := math.Sin(phi), math.Cos(phi)
	tan := sin / cos
	nu := a * F0 / math.Sqrt(1-e2*sin*sin)
	rho := a * F0 * (1 - e2) / math.Pow(1-e2*sin*sin, 1.5)
	eta2 := nu/rho - 1
	t2, t4, t6 := tan*tan, math.Pow(tan, 4), math.Pow(tan, 6)
	VII := tan / (2 * rho * nu)
	VIII := tan / (24 * rho * nu * nu * nu) * (5 + 3*t2 + eta2 - 9*t2*eta2)
	IX := tan / (720 * rho * math.Pow(nu, 5)) * (61 + 90*t2 + 45*t4)
	sec := 1 / cos
	X := sec / nu
	XI := sec / (6 * nu * nu * nu) * (nu/rho + 2*t2)
	XII := sec / (120 * math.Pow(nu, 5)) * (5 + 28*t2 + 24*t4)
	XIIA := sec / (5040 * math.Pow(nu, 7)) * (61 + 662*t2 + 1320*t4 + 720*t6)
	dE := E - bngE0
	dE2 := dE * dE
	phi = phi - VII*dE2 + VIII*dE2*dE2 - IX*dE2*dE2*dE2
	lambda = bngLon0 + X*dE - XI*dE2*dE + XII*dE2*dE2*dE - XIIA*dE2*dE2*dE2*dE
	return phi, lambda
}

// toCartesian converts geodetic coordinates at zero ellipsoidal height to
// earth-centred cartesian metres.
func toCartesian(phi, lambda, a, e2 float64) (x, y, z float64) {
	sin := math.Sin(phi)
	nu := a / math.Sqrt(1-e2*sin*sin)
	return nu * math.Cos(phi) * math.Cos(lambda), nu * math.Cos(phi) * math.Sin(lambda), nu * (1 - e2) * sin
}

// fromCartesian converts earth-centred cartesian metres to geodetic latitude and
// longitude in radians, iterating to sub-millimetre convergence.
func fromCartesian(x, y, z, a, e2 float64) (phi, lambda float64) {
	lambda = math.Atan2(y, x)
	p := math.Hypot(x, y)
	phi = math.Atan2(z, p*(1-e2))
	for i := 0; i < 10; i++ {
		sin := math.Sin(phi)
		nu := a / math.Sqrt(1-e2*sin*sin)
		next := math.Atan2(z+e2*nu*sin, p)
		if math.Abs(next-phi) < 1e-12 {
			return next, lambda
		}
		phi = next
	}
	return phi, lambda
}
