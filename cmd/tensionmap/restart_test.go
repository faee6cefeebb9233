package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/postgis/localpg"
)

// TestServerRidesOutDatabaseRestart stops PostgreSQL under a running server: the
// server keeps answering, with 503 while the database is down, and recovers by itself
// when it is back. The database is a cluster of the test's own, not the shared test
// server.
func TestServerRidesOutDatabaseRestart(t *testing.T) {
	dir := t.TempDir()
	o := localpg.Options{Dir: filepath.Join(dir, "pg"), Port: freePort(t), Database: "restart"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	url, err := localpg.Ensure(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { localpg.Stop(context.Background(), o) })

	cfg := DefaultConfig()
	cfg.DatabaseURL = url
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.LogLevel = "error"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	base, stopServer := startServe(t, ctx, cfg)

	status := func(path string) int {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: the server stopped answering: %v", path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor := func(path string, want int) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			got := status(path)
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: still %d, want %d", path, got, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor("/readyz", 200)

	// A partner token, used once while the database is up (so the server knows it).
	db, err := postgis.Open(ctx, url, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var secret string
	tok := &access.Token{Name: "restart partner", Role: access.Partner, Source: "third_party", CreatedBy: "test"}
	err = db.CreateToken(ctx, tok, func(id int64) []byte {
		s, hash := access.NewToken(id)
		secret = s
		return hash
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	intake := func(ref string) (int, string, string) {
		body := `[{"source_ref": "` + ref + `", "kind": "crime", "strands": "race", "occurred": "2026-06-01", "lat": 52.04, "lon": -0.76}]`
		req, _ := http.NewRequest("POST", base+"/api/v1/incidents", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("intake: the server stopped answering: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
	}
	if st, _, body := intake("R-1"); st != 200 {
		t.Fatalf("intake with the database up: %d %s", st, body)
	}

	if err := localpg.Stop(ctx, o); err != nil {
		t.Fatal(err)
	}
	waitFor("/readyz", 503)
	if got := status("/healthz"); got != 200 {
		t.Errorf("/healthz with the database down: %d, want 200", got)
	}
	// A signed-in route that needs the database answers 503, not 500.
	req, _ := http.NewRequest("GET", base+"/api/v1/cells", nil)
	req.Header.Set("Authorization", "Bearer tmk_000000000001_"+strings.Repeat("x", 43))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("API call with the database down: %d %s, want 503 with Retry-After", resp.StatusCode, body)
	}

	// An intake with the database down answers 503 with Retry-After, never 500.
	if st, retry, body := intake("R-2"); st != 503 || retry == "" {
		t.Errorf("intake with the database down: %d %s (Retry-After %q), want 503 with Retry-After", st, body, retry)
	}

	if _, err := localpg.Ensure(ctx, o); err != nil {
		t.Fatal(err)
	}
	waitFor("/readyz", 200)
	if got := status("/healthz"); got != 200 {
		t.Errorf("/healthz after the restart: %d", got)
	}
	// The same body again once the database is back is stored.
	var st int
	for range 50 {
		if st, _, _ = intake("R-2"); st != 503 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st != 200 {
		t.Errorf("intake after the restart: %d, want 200", st)
	}
	if err := stopServer(); err != nil {
		t.Errorf("serve: %v", err)
	}
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
