package geo

import (
	"math"

	"github.com/uber/h3-go/v4"
)

// An H3 lookup (LatLngToCell) projects a point onto the nearest face of the
// icosahedron (the trigonometry: the point on the unit sphere, the nearest face centre,
// the azimuth and the gnomonic distance from it) and only then finds the cell at the
// resolution asked for, from the face's hex coordinates scaled by sqrt(7) per
// resolution and rotated on Class III (odd) resolutions. A place counts at several
// resolutions, so CellsAtResolutions projects it once and derives every cell from that
// one projection, by the same steps as the H3 library.
//
// The library computes in C with the C maths library and, in places, long double; Go's
// trigonometry may differ from it in the last bit or two. A cell only depends on those
// bits when the point lies within about 1e-12 of a cell's width (less than a nanometre
// at resolution 10) of a boundary between cells, or the point is within a few metres of
// a face centre, or equally near two faces. The projection measures how near the point
// is to every decision the library makes and, where the margin is smaller than a bound
// a thousand times the possible difference, asks the library itself (LatLngToCell), so
// every cell equals the library's.

const (
	h3Sqrt7         = 2.6457513110645905905016157536392604257102
	h3Res0UGnomonic = 0.38196601125010500003
	h3AP7Rot        = 0.333473172251832115336090755351601070065900389
	h3Sin60         = 0.8660254037844386467637231707529361834714
	h3TwoPi         = 6.28318530717958647692528676655900576839433
	// h3Slack bounds, relative to the scale of the hex coordinates, how far this
	// projection may stray from the library's (see projection.slack).
	h3Slack = 1e-12
	// h3MinR is the smallest distance from a face centre (radians, about 6 m) that
	// this projection handles itself; nearer, the distance loses too many bits.
	h3MinR = 1e-6
	// h3FaceMargin is the smallest gap between the squared distances to the nearest
	// and the next face for the nearest face to be certain.
	h3FaceMargin = 1e-12
)

// h3Scale is sqrt(7)^res / RES0_U_GNOMONIC, the hex coordinates' scale at each
// resolution, for the tolerance only.
var h3Scale = func() (s [16]float64) {
	for r := range s {
		s[r] = math.Pow(h3Sqrt7, float64(r)) / h3Res0UGnomonic
	}
	return s
}()

// projection is a place projected onto its icosahedron face.
type projection struct {
	face       int
	gnomonic   float64 // tan(distance from the face centre) / RES0_U_GNOMONIC
	cos2, sin2 float64 // the angle from the face's Class II i axis
	cos3, sin3 float64 // the same on Class III resolutions
	slack      float64 // the tolerance per unit of h3Scale
}

// CellsAtResolutions appends to out, for each resolution in res (0 to 15), the H3 cell
// at that resolution that contains ll, each equal to LatLngToCell's (CellAt), from one
// projection of the place. A resolution outside 0 to 15 gives 0, as LatLngToCell does.
func CellsAtResolutions(out []uint64, ll LatLon, res []int) []uint64 {
	var p projection
	ok := p.project(ll)
	for _, r := range res {
		var c uint64
		done := false
		if ok && r >= 0 && r <= 15 {
			c, done = p.cell(r)
		}
		if !done {
			c = CellAt(ll, r)
		}
		out = append(out, c)
	}
	return out
}

// project projects ll onto its face, as the library's _geoToHex2d does up to the
// resolution's scale; false when the place is outside the usual ranges of latitude
// and longitude, too near a face centre or equally near two faces.
func (p *projection) project(ll LatLon) bool {
	if !(math.Abs(ll.Lat) <= 90 && math.Abs(ll.Lon) <= 180) {
		return false
	}
	lat := h3.DegsToRads * ll.Lat
	lng := h3.DegsToRads * ll.Lon
	sinLat, cosLat := math.Sincos(lat)
	sinLng, cosLng := math.Sincos(lng)
	x, y, z := cosLng*cosLat, sinLng*cosLat, sinLat
	best, second, face := 5.0, 5.0, 0
	for f := range faceCenterPoint {
		c := &faceCenterPoint[f]
		dx, dy, dz := c[0]-x, c[1]-y, c[2]-z
		d := dx*dx + dy*dy + dz*dz
		if d < best {
			best, second, face = d, best, f
		} else if d < second {
			second = d
		}
	}
	if second-best < h3FaceMargin {
		return false
	}
	r := math.Acos(1 - best/2)
	if r < h3MinR {
		return false
	}
	fc := &faceCenterGeo[face]
	sinF, cosF := math.Sincos(fc[0])
	sinD, cosD := math.Sincos(lng - fc[1])
	az := math.Atan2(cosLat*sinD, cosF*sinLat-sinF*cosLat*cosD)
	theta := h3PosAngle(faceAxisAzimuth[face] - h3PosAngle(az))
	p.face = face
	p.sin2, p.cos2 = math.Sincos(theta)
	p.sin3, p.cos3 = math.Sincos(h3PosAngle(theta - h3AP7Rot))
	p.gnomonic = math.Tan(r) / h3Res0UGnomonic
	// The difference from the library's coordinates is at most a few units in the
	// last place of the distance (which, from 1 - sqd/2, is an absolute error of
	// about 1e-16 radians, large relative to a small distance) and of the angle,
	// times the scale: h3Slack is a thousand times that.
	p.slack = h3Slack * (1 + 1/r)
	return true
}

// h3PosAngle is the library's _posAngleRads.
func h3PosAngle(a float64) float64 {
	t := a
	if a < 0 {
		t = a + h3TwoPi
	}
	if a >= h3TwoPi {
		t -= h3TwoPi
	}
	return t
}

// cell returns the cell at res; false when the place is too near a boundary of the
// cells at res for the projection to be certain.
func (p *projection) cell(res int) (uint64, bool) {
	g := p.gnomonic
	for i := 0; i < res; i++ {
		g *= h3Sqrt7
	}
	c, s := p.cos2, p.sin2
	if res&1 == 1 {
		c, s = p.cos3, p.sin3
	}
	ijk, ok := h3Hex2dToIJK(g*c, g*s, p.slack*h3Scale[res])
	if !ok {
		return 0, false
	}
	return h3FaceIJKToCell(p.face, ijk, res)
}

type h3IJK struct{ i, j, k int }

// h3Hex2dToIJK is the library's _hex2dToCoordIJK, false when (x, y) is within tol of
// one of its decisions.
func h3Hex2dToIJK(x, y, tol float64) (h3IJK, bool) {
	if math.Abs(x) < tol || math.Abs(y) < tol {
		return h3IJK{}, false
	}
	a1, a2 := math.Abs(x), math.Abs(y)
	x2 := a2 / h3Sin60
	x1 := a1 + x2/2
	f1, f2 := math.Floor(x1), math.Floor(x2)
	r1, r2 := x1-f1, x2-f2
	// x1 and x2 are within about 1.6 tol of the library's; the comparisons below
	// move by at most three times that.
	t := 8 * tol
	if r1 < t || r1 > 1-t || r2 < t || r2 > 1-t ||
		math.Abs(r1-1.0/3) < t || math.Abs(r1-0.5) < t || math.Abs(r1-2.0/3) < t ||
		math.Abs(r2-(1+r1)/2) < t || math.Abs(r2-(1-r1)) < t || math.Abs(r2-2*r1) < t ||
		math.Abs(r2-(2*r1-1)) < t || math.Abs(r2-r1/2) < t {
		return h3IJK{}, false
	}
	m1, m2 := int(f1), int(f2)
	var h h3IJK
	if r1 < 0.5 {
		if r1 < 1.0/3 {
			h.i = m1
			if r2 < (1+r1)/2 {
				h.j = m2
			} else {
				h.j = m2 + 1
			}
		} else {
			if r2 < 1-r1 {
				h.j = m2
			} else {
				h.j = m2 + 1
			}
			if 1-r1 <= r2 && r2 < 2*r1 {
				h.i = m1 + 1
			} else {
				h.i = m1
			}
		}
	} else {
		if r1 < 2.0/3 {
			if r2 < 1-r1 {
				h.j = m2
			} else {
				h.j = m2 + 1
			}
			if 2*r1-1 < r2 && r2 < 1-r1 {
				h.i = m1
			} else {
				h.i = m1 + 1
			}
		} else {
			h.i = m1 + 1
			if r2 < r1/2 {
				h.j = m2
			} else {
				h.j = m2 + 1
			}
		}
	}
	// fold across the axes
	if x < 0 {
		if h.j%2 == 0 {
			diff := h.i - h.j/2
			h.i -= 2 * diff
		} else {
			diff := h.i - (h.j+1)/2
			h.i -= 2*diff + 1
		}
	}
	if y < 0 {
		h.i -= (2*h.j + 1) / 2
		h.j = -h.j
	}
	h.normalize()
	return h, true
}

func (c *h3IJK) normalize() {
	if c.i < 0 {
		c.j -= c.i
		c.k -= c.i
		c.i = 0
	}
	if c.j < 0 {
		c.i -= c.j
		c.k -= c.j
		c.j = 0
	}
	if c.k < 0 {
		c.i -= c.k
		c.j -= c.k
		c.k = 0
	}
	m := min(c.i, c.j, c.k)
	if m > 0 {
		c.i -= m
		c.j -= m
		c.k -= m
	}
}

// h3RoundDiv7 is lround(n / 7.0): n / 7 is never halfway between integers.
func h3RoundDiv7(n int) int {
	if n >= 0 {
		return (n + 3) / 7
	}
	return -((-n + 3) / 7)
}

// upAp7 is the library's _upAp7 (Class III parent, counter-clockwise).
func (c *h3IJK) upAp7() {
	i, j := c.i-c.k, c.j-c.k
	*c = h3IJK{h3RoundDiv7(3*i - j), h3RoundDiv7(i + 2*j), 0}
	c.normalize()
}

// upAp7r is the library's _upAp7r (Class II parent, clockwise).
func (c *h3IJK) upAp7r() {
	i, j := c.i-c.k, c.j-c.k
	*c = h3IJK{h3RoundDiv7(2*i + j), h3RoundDiv7(3*j - i), 0}
	c.normalize()
}

// downAp7 is the library's _downAp7.
func (c *h3IJK) downAp7() {
	*c = h3IJK{3*c.i + c.j, 3*c.j + c.k, c.i + 3*c.k}
	c.normalize()
}

// downAp7r is the library's _downAp7r.
func (c *h3IJK) downAp7r() {
	*c = h3IJK{3*c.i + c.k, c.i + 3*c.j, c.j + 3*c.k}
	c.normalize()
}

// h3UnitDigit is the library's _unitIjkToDigit: the digit of a unit vector, 7 if none.
func h3UnitDigit(c h3IJK) uint64 {
	c.normalize()
	if c.i < 0 || c.i > 1 || c.j < 0 || c.j > 1 || c.k < 0 || c.k > 1 || c.i+c.j+c.k == 3 {
		return 7
	}
	return uint64(4*c.i + 2*c.j + c.k)
}

const (
	h3DigitShift = 3
	h3MaxRes     = 15
)

func h3Digit(h uint64, r int) uint64 { return h >> ((h3MaxRes - r) * h3DigitShift) & 7 }

func h3SetDigit(h uint64, r int, d uint64) uint64 {
	s := (h3MaxRes - r) * h3DigitShift
	return h&^(7<<s) | d<<s
}

var (
	h3DigitCCW = [8]uint64{0, 5, 3, 1, 6, 4, 2, 7}
	h3DigitCW  = [8]uint64{0, 3, 6, 2, 5, 1, 4, 7}
)

func h3LeadingDigit(h uint64, res int) uint64 {
	for r := 1; r <= res; r++ {
		if d := h3Digit(h, r); d != 0 {
			return d
		}
	}
	return 0
}

func h3Rotate(h uint64, res int, table *[8]uint64) uint64 {
	for r := 1; r <= res; r++ {
		h = h3SetDigit(h, r, table[h3Digit(h, r)])
	}
	return h
}

// h3RotatePent60ccw is the library's _h3RotatePent60ccw.
func h3RotatePent60ccw(h uint64, res int) uint64 {
	found := false
	for r := 1; r <= res; r++ {
		h = h3SetDigit(h, r, h3DigitCCW[h3Digit(h, r)])
		if !found && h3Digit(h, r) != 0 {
			found = true
			if h3LeadingDigit(h, res) == 1 {
				h = h3Rotate(h, res, &h3DigitCCW)
			}
		}
	}
	return h
}

// h3FaceIJKToCell is the library's _faceIjkToH3; false where it gives no cell.
func h3FaceIJKToCell(face int, ijk h3IJK, res int) (uint64, bool) {
	h := uint64(1)<<45 - 1 // every digit unused (7)
	h |= 1 << 59           // cell mode
	h |= uint64(res) << 52
	for r := res - 1; r >= 0; r-- {
		last := ijk
		var center h3IJK
		if (r+1)&1 == 1 {
			ijk.upAp7()
			center = ijk
			center.downAp7()
		} else {
			ijk.upAp7r()
			center = ijk
			center.downAp7r()
		}
		h = h3SetDigit(h, r+1, h3UnitDigit(h3IJK{last.i - center.i, last.j - center.j, last.k - center.k}))
	}
	if ijk.i < 0 || ijk.i > 2 || ijk.j < 0 || ijk.j > 2 || ijk.k < 0 || ijk.k > 2 {
		return 0, false
	}
	bc := faceIJKBaseCell[face*27+ijk.i*9+ijk.j*3+ijk.k]
	base, rots := int(bc[0]), int(bc[1])
	h |= uint64(base) << 45
	if baseCellPentagon[base] {
		if h3LeadingDigit(h, res) == 1 {
			if off := baseCellCwOffset[base]; int(off[0]) == face || int(off[1]) == face {
				h = h3Rotate(h, res, &h3DigitCW)
			} else {
				h = h3Rotate(h, res, &h3DigitCCW)
			}
		}
		for i := 0; i < rots; i++ {
			h = h3RotatePent60ccw(h, res)
		}
	} else {
		for i := 0; i < rots; i++ {
			h = h3Rotate(h, res, &h3DigitCCW)
		}
	}
	return h, true
}
