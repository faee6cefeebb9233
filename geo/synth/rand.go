package synth

import (
	"math"
	"math/bits"
)

// rng is a small xoshiro256** generator. The generator keeps its own source and
// helpers (rather than math/rand/v2) so that a seed yields the same demo data on
// every Go release; the stream is fixed by the algorithm below.
type rng struct{ s0, s1, s2, s3 uint64 }

// splitmix64 advances x and returns the next output; it seeds xoshiro.
func splitmix64(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newRNG returns a generator for the given seed and stream: different streams of
// one seed are independent, so planning the town does not shift the incidents.
func newRNG(seed int64, stream uint64) *rng {
	x := uint64(seed) ^ (stream * 0xd1342543de82ef95)
	r := &rng{splitmix64(&x), splitmix64(&x), splitmix64(&x), splitmix64(&x)}
	return r
}

func rotl(x uint64, k uint) uint64 { return (x << k) | (x >> (64 - k)) }

// Uint64 returns 64 random bits.
func (r *rng) Uint64() uint64 {
	out := rotl(r.s1*5, 7) * 9
	t := r.s1 << 17
	r.s2 ^= r.s0
	r.s3 ^= r.s1
	r.s1 ^= r.s2
	r.s0 ^= r.s3
	r.s2 ^= t
	r.s3 = rotl(r.s3, 45)
	return out
}

// Float64 returns a uniform number in [0, 1).
func (r *rng) Float64() float64 { return float64(r.Uint64()>>11) * (1.0 / (1 << 53)) }

// IntN returns a uniform integer in [0, n), n > 0 (multiply-shift; the bias is below
// 2^-32 for the sizes used here).
func (r *rng) IntN(n int) int {
	hi, _ := bits.Mul64(r.Uint64(), uint64(n))
	return int(hi)
}

// Bool returns true with probability p.
func (r *rng) Bool(p float64) bool { return r.Float64() < p }

// Uniform returns a uniform number in [a, b).
func (r *rng) Uniform(a, b float64) float64 { return a + (b-a)*r.Float64() }

// Norm returns a standard normal deviate (Marsaglia's polar method).
func (r *rng) Norm() float64 {
	for {
		u := 2*r.Float64() - 1
		v := 2*r.Float64() - 1
		s := u*u + v*v
		if s > 0 && s < 1 {
			return u * math.Sqrt(-2*math.Log(s)/s)
		}
	}
}

// Binomial returns a draw of Binomial(n, p): by inversion when the mean is small,
// by a rounded normal approximation otherwise (clamped to [0, n]). Exactness of the
// tails does not matter here; what matters is that the draws sum as planned.
func (r *rng) Binomial(n int, p float64) int {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	}
	mean := float64(n) * p
	if mean < 30 {
		// Inversion: walk the pmf from 0.
		q := 1 - p
		pmf := math.Exp(float64(n) * math.Log1p(-p))
		u := r.Float64()
		k := 0
		for u > pmf && k < n {
			u -= pmf
			pmf *= float64(n-k) / float64(k+1) * p / q
			k++
			if pmf <= 0 {
				break
			}
		}
		return k
	}
	k := int(math.Round(mean + math.Sqrt(mean*(1-p))*r.Norm()))
	return max(0, min(n, k))
}

// categorical picks an index with probability proportional to weights, by a linear
// scan of the cumulative sums (the tables here have a handful of entries).
type categorical struct{ cum []float64 }

func newCategorical(w []float64) categorical {
	c := categorical{cum: make([]float64, len(w))}
	s := 0.0
	for i, x := range w {
		s += x
		c.cum[i] = s
	}
	for i := range c.cum {
		c.cum[i] /= s
	}
	return c
}

func (c categorical) pick(r *rng) int {
	u := r.Float64()
	for i, x := range c.cum {
		if u < x {
			return i
		}
	}
	return len(c.cum) - 1
}

// alias is Walker's alias table, for O(1) draws from the ~150 areas.
type alias struct {
	prob  []float64
	alias []int32
}

func newAlias(w []float64) alias {
	n := len(w)
	a := alias{prob: make([]float64, n), alias: make([]int32, n)}
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	scaled := make([]float64, n)
	var small, large []int
	for i, x := range w {
		scaled[i] = x * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.prob[s], a.alias[s] = scaled[s], int32(l)
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range append(small, large...) {
		a.prob[i], a.alias[i] = 1, int32(i)
	}
	return a
}

func (a alias) pick(r *rng) int {
	i := r.IntN(len(a.prob))
	if r.Float64() < a.prob[i] {
		return i
	}
	return int(a.alias[i])
}
