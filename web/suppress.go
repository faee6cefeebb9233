package web

import (
	"math"

	"github.com/tensionmap/tensionmap/access"
)

// disclosure decides how counts are shown to a role. Police, council and admin see
// them as they are. Strategic users see aggregates only: a count from 1 to k-1 is
// withheld, and every other count is rounded to a multiple of RoundTo, so that no
// small number can be recovered by differencing two answers (the difference of two
// rounded counts only bounds the true one). Zero stays zero.
type disclosure struct {
	exact   bool
	k       int
	roundTo int
}

func (s *Server) disclosureFor(p *access.Principal) disclosure {
	return disclosure{exact: p != nil && p.Role.SeesSmallCounts(), k: s.opts.SuppressBelow, roundTo: s.opts.RoundTo}
}

// count returns the count to show, nil when withheld.
func (d disclosure) count(n int) *int {
	if d.exact || n == 0 {
		return &n
	}
	if n < d.k {
		return nil
	}
	if d.roundTo > 1 {
		r := int(math.Round(float64(n)/float64(d.roundTo))) * d.roundTo
		if r == 0 {
			r = d.roundTo
		}
		return &r
	}
	return &n
}

// rate returns the rate per 1,000 population of a shown count, nil when the count
// is withheld or the population unknown.
func (d disclosure) rate(shown *int, population int) *float64 {
	if shown == nil || population <= 0 {
		return nil
	}
	r := math.Round(float64(*shown)/float64(population)*1000*100) / 100
	return &r
}

// counts applies count to each value of a breakdown.
func (d disclosure) counts(m map[string]int, keys []string) map[string]*int {
	out := make(map[string]*int, len(keys))
	for _, k := range keys {
		out[k] = d.count(m[k])
	}
	return out
}
