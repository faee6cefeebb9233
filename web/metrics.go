package web

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tensionmap/tensionmap/tiles"
)

// metrics are the server's Prometheus instruments.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	ingested *prometheus.CounterVec
	// The instruments of each (route, method, status) seen, found without building
	// and hashing their labels on every request.
	seen sync.Map // requestKey -> requestInstruments
}

type requestKey struct {
	route, method string
	status        int
}

type requestInstruments struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tensionmap_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tensionmap_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tensionmap_ingest_records_total", Help: "Records received through the intake API, by outcome.",
		}, []string{"outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.ingested)
	}
	return m
}

func (m *metrics) observe(method, route string, status int, took time.Duration) {
	switch method {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
	default:
		method = "other" // a client's own word: not a series of its own
	}
	k := requestKey{route, method, status}
	v, ok := m.seen.Load(k)
	if !ok {
		// Routes are the router's patterns, and methods and statuses few: the keys
		// are bounded.
		v, _ = m.seen.LoadOrStore(k, requestInstruments{m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			m.latency.WithLabelValues(route)})
	}
	in := v.(requestInstruments)
	in.count.Inc()
	in.latency.Observe(took.Seconds())
}

// tileCache registers the rendered-tile cache's counters: requests served from it or
// not, and the tiles a change of the data version kept or left to be drawn again.
func (m *metrics) tileCache(reg *prometheus.Registry, c *tiles.Cache) {
	stat := func(pick func(hits, misses, kept, redrawn int64) int64) func() float64 {
		return func() float64 {
			_, _, hits, misses := c.Stats()
			kept, redrawn := c.Changes()
			return float64(pick(hits, misses, kept, redrawn))
		}
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tensionmap_tile_cache_requests_total", Help: "Tile requests answered from the tile cache.",
			ConstLabels: prometheus.Labels{"result": "hit"}}, stat(func(h, _, _, _ int64) int64 { return h })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tensionmap_tile_cache_requests_total", Help: "Tile requests answered from the tile cache.",
			ConstLabels: prometheus.Labels{"result": "miss"}}, stat(func(_, m, _, _ int64) int64 { return m })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tensionmap_tile_cache_version_changes_total", Help: "Held tiles a change of the data version kept (untouched) or left to be drawn again.",
			ConstLabels: prometheus.Labels{"outcome": "kept"}}, stat(func(_, _, k, _ int64) int64 { return k })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tensionmap_tile_cache_version_changes_total", Help: "Held tiles a change of the data version kept (untouched) or left to be drawn again.",
			ConstLabels: prometheus.Labels{"outcome": "redrawn"}}, stat(func(_, _, _, r int64) int64 { return r })),
	)
}
