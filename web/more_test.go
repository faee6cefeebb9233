package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/web"
)

// TestSessionExpiry: a session lives SessionTTL past its last use, slid at most once
// a minute, and never more than 7 days from sign-in. The clock starts at the real
// time: the database clears sessions that expired by its own clock.
func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	e := newEnv(t, func(o *web.Options) { o.Now = c.Now; o.SessionTTL = 8 * time.Hour })
	r := e.signIn("council", testPassword, "")
	ck := r.cookie("tm_session")
	if r.status != 303 || ck == nil || ck.MaxAge != 8*3600 {
		t.Fatalf("signing in: %s, cookie %v; want a cookie of 8 hours", r, ck)
	}
	me := caller{name: "council", cookie: ck.Value}
	expiry := func() time.Time {
		var at time.Time
		if err := e.db.Pool.QueryRow(e.ctx, "SELECT expires_at FROM sessions WHERE hash = $1", access.HashSecret(ck.Value)).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	signedIn := c.Now()
	if got := expiry(); !got.Equal(signedIn.Add(8 * time.Hour)) {
		t.Errorf("expires %s; want 8h after signing in", got)
	}
	// Within a minute of the last use: not slid.
	c.Add(30 * time.Second)
	e.getJSON(me, "/api/v1/me", &struct{}{})
	if got := expiry(); !got.Equal(signedIn.Add(8 * time.Hour)) {
		t.Errorf("slid after 30s: expires %s", got)
	}
	// Used every 7 hours, it lives on, up to 7 days from signing in.
	for i := 0; i < 23; i++ {
		c.Add(7 * time.Hour)
		if r := e.get(me, "/api/v1/me"); r.status != 200 {
			t.Fatalf("after %d uses %d hours apart: %s", i+1, 7, r)
		}
	}
	c.Add(7 * time.Hour) // 7 days and 30s after signing in
	if r := e.get(me, "/api/v1/me"); r.status != 401 {
		t.Errorf("past 7 days from signing in: %s; want 401", r)
	}

	// Unused for longer than SessionTTL, it ends.
	r = e.signIn("council", testPassword, "")
	me = caller{name: "council", cookie: r.cookie("tm_session").Value}
	c.Add(8*time.Hour + time.Second)
	if r := e.get(me, "/"); r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/signin") {
		t.Errorf("a page after 8 idle hours: %s; want 303 to sign in", r)
	}
}

// TestCORS: the API answers a configured origin's browser, preflight included, and
// no other.
func TestCORS(t *testing.T) {
	t.Parallel()
	const dashboard = "https://dashboard.example"
	e := newEnv(t, func(o *web.Options) { o.CORSOrigins = []string{dashboard} })
	r := e.do(nobody, "OPTIONS", "/api/v1/cells", nil, "Origin", dashboard, "Access-Control-Request-Method", "GET")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != dashboard || !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("a preflight from %s: %s %v", dashboard, r, r.header)
	}
	r = e.do(nobody, "OPTIONS", "/api/v1/cells", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a preflight from another origin was allowed: %v", r.header)
	}
	police, _ := e.token(access.Police, "")
	r = e.get(police, "/api/v1/cells?res=7", "Origin", dashboard)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != dashboard || r.header.Get("Vary") != "Origin" {
		t.Errorf("GET from %s: %s %v", dashboard, r, r.header)
	}
	if r := e.get(police, "/api/v1/cells?res=7", "Origin", "https://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET from another origin got CORS headers: %v", r.header)
	}
	// Pages are never shared.
	if r := e.get(e.as(access.Admin), "/admin/users", "Origin", dashboard); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a page got CORS headers: %v", r.header)
	}
	// The configured origin may post; another may not.
	admin, _ := e.token(access.Admin, "")
	if r := e.send(admin, "POST", "/api/v1/incidents", []any{intakeRecord("C-1", "source", "police")}, "Origin", dashboard, "Sec-Fetch-Site", "cross-site"); r.status != 200 {
		t.Errorf("a POST from %s: %s; want 200", dashboard, r)
	}
	if r := e.send(admin, "POST", "/api/v1/incidents", []any{intakeRecord("C-2", "source", "police")}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); r.status != 403 {
		t.Errorf("a POST from another origin: %s; want 403", r)
	}
}

// TestDatabaseDown: with the database unreachable, the server still starts and
// answers: health yes, readiness no, and every request that needs the database 503
// with Retry-After, not 500.
func TestDatabaseDown(t *testing.T) {
	t.Parallel()
	// Port 1 on the loopback: nothing listens there.
	db, err := postgis.OpenLazy("postgres://tensionmap@127.0.0.1:1/tensionmap?sslmode=disable&connect_timeout=2", postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := web.New(web.Options{Strands: geo.DefaultStrands, Sources: geo.DefaultSources, Unavailable: postgis.Unavailable,
		Now: func() time.Time { return testNow }}, db, &ingester{db: db}, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	ts := httptest.NewServer(srv)
	defer ts.Close()
	e := &env{t: t, ctx: context.Background(), ts: ts, client: ts.Client()}
	e.client.CheckRedirect = noRedirect

	if r := e.get(nobody, "/healthz"); r.status != 200 {
		t.Errorf("/healthz: %s", r)
	}
	if r := e.get(nobody, "/readyz"); r.status != 503 || !strings.Contains(string(r.body), "unavailable") {
		t.Errorf("/readyz: %s; want 503", r)
	}
	if r := e.get(nobody, "/signin"); r.status != 200 {
		t.Errorf("the sign-in page: %s", r)
	}
	tok, _ := access.NewToken(1)
	for _, c := range []struct {
		method, path string
		who          caller
		body         string
	}{
		{"GET", "/api/v1/me", caller{name: "a token", token: tok}, ""},
		{"GET", "/api/v1/cells", caller{name: "a session", cookie: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}, ""},
		{"POST", "/signin", nobody, url.Values{"username": {"a"}, "password": {"b"}}.Encode()},
	} {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		r := e.do(c.who, c.method, c.path, body, "Content-Type", "application/x-www-form-urlencoded")
		if r.status != 503 || r.header.Get("Retry-After") == "" {
			t.Errorf("%s %s as %s: %s, Retry-After %q; want 503 with Retry-After", c.method, c.path, c.who.name, r, r.header.Get("Retry-After"))
		}
	}
}

// TestIncidentReadThatCannotBeAuditedIsNotAnswered: if the audit log refuses the
// entry, the listing is not given.
func TestIncidentReadThatCannotBeAuditedIsNotAnswered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.as(access.Admin)
	if r := e.get(admin, "/api/v1/incidents?limit=5"); r.status != 200 {
		t.Fatalf("before: %s", r)
	}
	_, err := e.db.Pool.Exec(e.ctx, `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$;
		CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()`)
	if err != nil {
		t.Fatal(err)
	}
	r := e.get(admin, "/api/v1/incidents?limit=5")
	if r.status != 500 || strings.Contains(string(r.body), "source_ref") || strings.Contains(string(r.body), "audit refused") {
		t.Errorf("a listing that cannot be audited: %s; want 500 with no incident and no database message", r)
	}
}
