package chart

// Point symbols of line series, in the order of Categorical: circle, square,
// triangle, diamond, triangle pointing down, hexagon, then a hollow circle and a
// hollow square.
const symbolCount = 8

// symbolPath appends the outline of symbol k centred at x, y to a path.
func symbolPath(b []byte, k int, x, y float64) []byte {
	k = ((k % symbolCount) + symbolCount) % symbolCount
	const r = 3.4
	switch k {
	case 0, 6: // circle
		b = append(b, 'M')
		b = appendPair(b, x-r, y)
		b = append(b, 'a')
		b = appendNums(b, r, r, 0, 1, 0, 2*r, 0)
		b = append(b, 'a')
		b = appendNums(b, r, r, 0, 1, 0, -2*r, 0)
		return append(b, 'z')
	case 1, 7: // square
		s := r * 0.9
		return polygonPath(b, x, y, [][2]float64{{-s, -s}, {s, -s}, {s, s}, {-s, s}})
	case 2: // triangle
		return polygonPath(b, x, y, [][2]float64{{0, -r * 1.15}, {r * 1.1, r * 0.8}, {-r * 1.1, r * 0.8}})
	case 3: // diamond
		d := r * 1.25
		return polygonPath(b, x, y, [][2]float64{{0, -d}, {d, 0}, {0, d}, {-d, 0}})
	case 4: // triangle pointing down
		return polygonPath(b, x, y, [][2]float64{{0, r * 1.15}, {r * 1.1, -r * 0.8}, {-r * 1.1, -r * 0.8}})
	default: // hexagon
		h := r * 1.1
		return polygonPath(b, x, y, [][2]float64{{-h, 0}, {-h / 2, -h * 0.87}, {h / 2, -h * 0.87}, {h, 0}, {h / 2, h * 0.87}, {-h / 2, h * 0.87}})
	}
}

// hollowSymbol reports whether symbol k is drawn as an outline.
func hollowSymbol(k int) bool {
	k = ((k % symbolCount) + symbolCount) % symbolCount
	return k >= 6
}

func polygonPath(b []byte, x, y float64, pts [][2]float64) []byte {
	for i, p := range pts {
		if i == 0 {
			b = append(b, 'M')
		} else {
			b = append(b, 'L')
		}
		b = appendPair(b, x+p[0], y+p[1])
	}
	return append(b, 'z')
}

// appendPair appends x and y to a path.
func appendPair(b []byte, x, y float64) []byte {
	return appendNums(b, x, y)
}

// appendNums appends numbers to a path, separated by a space or by the minus
// sign of the next.
func appendNums(b []byte, vs ...float64) []byte {
	for i, v := range vs {
		t := tenths(v)
		if i > 0 && t >= 0 {
			b = append(b, ' ')
		}
		b = appendTenths(b, t)
	}
	return b
}

// symbol draws symbol k of a series at x, y.
func (w *svg) symbol(k int, x, y float64, colour string) {
	d := symbolPath(nil, k, x, y)
	if hollowSymbol(k) {
		w.path(d, "fill", "#ffffff", "stroke", colour, "stroke-width", "1.5")
		return
	}
	w.path(d, "fill", colour, "stroke", "#ffffff", "stroke-width", "0.8")
}
