package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/web"
)

// BenchmarkTileRequest serves a hotspot tile of the last 28 days in process, without the network: from
// the cache, rendered afresh (counts held), and a handler writing fixed bytes, the
// floor.
func BenchmarkTileRequest(b *testing.B) {
	e := newEnv(b)
	police := e.as(access.Police)
	_, path := tileAt("hotspots", -0.76, 52.04, 13)
	// As the map asks: its period always written as days.
	path += "?from=" + testEnd.AddDate(0, 0, -27).Format(time.DateOnly) + "&to=" + testEnd.Format(time.DateOnly)
	// The render's own answer is the tile as encoded; the cache then holds it
	// gzipped, compressed in the background: the answer compared is the one that
	// comes gzipped, its body and head.
	first := e.get(police, path, "Accept-Encoding", "gzip")
	for deadline := time.Now().Add(time.Minute); first.header.Get("Content-Encoding") != "gzip"; first = e.get(police, path, "Accept-Encoding", "gzip") {
		if time.Now().After(deadline) {
			b.Fatal("the tile is not held gzipped a minute after its render")
		}
		time.Sleep(10 * time.Millisecond)
	}
	body, head := first.body, first.header
	req := func() *http.Request {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Accept-Encoding", "gzip")
		r.AddCookie(&http.Cookie{Name: "tm_session", Value: police.cookie})
		return r
	}
	serve := func(b *testing.B, h http.Handler) {
		r := req()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatal(w.Code)
			}
		}
	}
	fixed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.mapbox-vector-tile")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(body)
	})
	b.Run("fixed", func(b *testing.B) { serve(b, fixed) })
	b.Run("cached", func(b *testing.B) { serve(b, e.srv) })
	// The same two over loopback HTTP, one client: what a browser's request costs the
	// server beyond the handler's work (connection, head, cookie).
	overHTTP := func(b *testing.B, h http.Handler) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		r := req()
		r.URL, r.RequestURI, r.Host = mustParse(b, srv.URL+path), "", ""
		// The process's CPU a request, client and server: less moved by the machine's
		// other work than the time.
		cpu0 := processCPU()
		defer func() { b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op") }()
		for b.Loop() {
			res, err := srv.Client().Do(r)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Fatal(res.StatusCode)
			}
		}
	}
	b.Run("fixed-http", func(b *testing.B) { overHTTP(b, fixed) })
	b.Run("cached-http", func(b *testing.B) { overHTTP(b, e.srv) })
	// The bare handler with the head of a cached tile's answer, the same nine
	// headers: what of the gap over HTTP is the head (net/http's header map past
	// eight keys, on both sides) and what is the server's work.
	sameHead := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range head {
			if k != "Date" {
				h[k] = v
			}
		}
		w.Write(body)
	})
	b.Run("fixed-same-head-http", func(b *testing.B) { overHTTP(b, sameHead) })
	// The access log as served (JSON at info: cached tiles at debug, one in a thousand
	// at info), and at debug, where every cached tile writes its line as each did at
	// info before.
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		logged := web.New(e.opts, e.db, nil, slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: level})), nil)
		b.Run("cached-log-"+strings.ToLower(level.String()), func(b *testing.B) { serve(b, logged) })
	}
	uncached := web.New(web.Options{Version: "bench", Strands: e.opts.Strands, Sources: e.opts.Sources, TileCacheBytes: -1,
		SessionTTL: e.opts.SessionTTL, Now: e.opts.Now}, e.db, nil, nil, nil)
	b.Run("uncached", func(b *testing.B) { serve(b, uncached) })
}

func mustParse(tb testing.TB, raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
