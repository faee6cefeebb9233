package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/web"
)

// clock is a server clock a test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// intakeRecord returns one valid intake record in the town.
func intakeRecord(ref string, extra ...string) map[string]any {
	m := map[string]any{"source_ref": ref, "kind": "crime", "strands": "race", "occurred": "2026-06-20",
		"lat": 52.04, "lon": -0.76, "precision": "street"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

// TestCrossOriginPostsAreRefused forges browser POSTs from another site, with the
// victim's session cookie: each is refused with 403 and changes nothing.
func TestCrossOriginPostsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.as(access.Admin)
	partner, _ := e.token(access.Partner, "third_party")
	forgeries := [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.example"}, // the Host is the test server's
	}
	counts := func() string {
		return fmt.Sprintf("incidents=%d users=%d sessions=%d",
			e.count("SELECT count(*) FROM incidents"), e.count("SELECT count(*) FROM users"), e.count("SELECT count(*) FROM sessions"))
	}
	for _, h := range forgeries {
		before := counts()
		label := h[0] + ": " + h[1]

		r := e.postForm(nobody, "/signin", url.Values{"username": {"admin"}, "password": {testPassword}}, h...)
		if r.status != 403 || r.cookie("tm_session") != nil {
			t.Errorf("%s: POST /signin: %s, cookie %v; want 403 and no session", label, r, r.cookie("tm_session"))
		}
		r = e.postForm(admin, "/signout", url.Values{}, h...)
		if r.status != 403 {
			t.Errorf("%s: POST /signout: %s; want 403", label, r)
		}
		if r := e.get(admin, "/api/v1/me"); r.status != 200 {
			t.Errorf("%s: after a forged sign-out the session answers %s; want it alive", label, r)
		}
		r = e.postForm(admin, "/admin/users", url.Values{"action": {"add"}, "username": {"mallory"}, "role": {"admin"}}, h...)
		if r.status != 403 {
			t.Errorf("%s: POST /admin/users: %s; want 403", label, r)
		}
		r = e.send(admin, "POST", "/api/v1/incidents", []any{intakeRecord("X-1", "source", "police")}, h...)
		if r.status != 403 {
			t.Errorf("%s: POST /api/v1/incidents with a session: %s; want 403", label, r)
		}
		r = e.send(partner, "POST", "/api/v1/incidents", []any{intakeRecord("X-2")}, h...)
		if r.status != 403 {
			t.Errorf("%s: POST /api/v1/incidents with a token: %s; want 403", label, r)
		}
		if after := counts(); after != before {
			t.Errorf("%s: the forged requests changed the database: %s, then %s", label, before, after)
		}
	}
	if n := e.count("SELECT count(*) FROM users WHERE username = 'mallory'"); n != 0 {
		t.Errorf("a forged form added a user")
	}

	// The same requests from the site itself go through.
	same := []string{"Sec-Fetch-Site", "same-origin"}
	if r := e.postForm(nobody, "/signin", url.Values{"username": {"admin"}, "password": {testPassword}}, same...); r.status != 303 {
		t.Errorf("same-origin POST /signin: %s; want 303", r)
	}
	if r := e.send(admin, "POST", "/api/v1/incidents", []any{intakeRecord("X-3", "source", "police")}, "Origin", e.ts.URL); r.status != 200 {
		t.Errorf("POST /api/v1/incidents with our own Origin: %s; want 200", r)
	}
	if r := e.postForm(admin, "/signout", url.Values{}, same...); r.status != 303 {
		t.Errorf("same-origin POST /signout: %s; want 303", r)
	}
}

// TestBadCredentials: a token that expired, was revoked, is malformed or unknown,
// and any scheme but Bearer, are refused with 401 and a message saying why.
func TestBadCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	expired, _ := e.token(access.Admin, "", func(t *access.Token) { t.ExpiresAt = testNow.Add(-time.Minute) })
	revoked, rt := e.token(access.Admin, "")
	if err := e.db.RevokeToken(e.ctx, rt.ID, testNow.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	live, _ := e.token(access.Admin, "")

	id, secret := splitToken(t, live.token)
	cases := []struct {
		name   string
		header string
		want   string // in the message
	}{
		{"expired", "Bearer " + expired.token, "expired"},
		{"revoked", "Bearer " + revoked.token, "revoked"},
		{"malformed", "Bearer tmk_nothex_" + strings.Repeat("a", 30), "not a valid API token"},
		{"not ours", "Bearer ghp_" + strings.Repeat("a", 36), "not a valid API token"},
		{"short secret", "Bearer tmk_" + id + "_short", "not a valid API token"},
		{"wrong secret", "Bearer tmk_" + id + "_" + strings.Repeat("b", len(secret)), "unknown API token"},
		{"unknown id", "Bearer tmk_00000000ffff_" + secret, "unknown API token"},
		{"empty bearer", "Bearer ", "not a valid API token"},
		{"basic", "Basic " + "YWRtaW46Y29ycmVjdCBob3JzZQ==", "Bearer"},
		{"no scheme", live.token, "Bearer"},
	}
	for _, c := range cases {
		for _, path := range []string{"/api/v1/me", "/api/v1/users"} {
			r := e.get(nobody, path, "Authorization", c.header)
			if r.status != 401 {
				t.Errorf("%s: GET %s: %s; want 401", c.name, path, r)
				continue
			}
			if msg := r.message(t); !strings.Contains(msg, c.want) {
				t.Errorf("%s: GET %s: message %q; want it to say %q", c.name, path, msg, c.want)
			}
		}
	}
	if r := e.get(live, "/api/v1/me"); r.status != 200 {
		t.Fatalf("a live token: %s", r)
	}
}

// splitToken returns the hex id and the secret of a token string.
func splitToken(t *testing.T, tok string) (string, string) {
	t.Helper()
	rest, ok := strings.CutPrefix(tok, "tmk_")
	id, secret, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 {
		t.Fatalf("token %q is not tmk_<id>_<secret>", tok)
	}
	return id, secret
}

// injections are strings that would change a query built by pasting text into SQL.
var injections = []string{`'; DROP TABLE incidents; --`, `1 OR 1=1`, `race') OR ('1'='1`, `%27`, `$1`, `1; DELETE FROM users`}

// TestSQLInjectionInEveryParameter sends injection strings in every query parameter
// of every GET route of the API, and in the area code of the path: each is refused as
// invalid (or found to name nothing), and no table loses or gains a row.
func TestSQLInjectionInEveryParameter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin, _ := e.token(access.Admin, "")
	tables := []string{"incidents", "users", "audit_log", "sessions", "api_tokens", "areas"}
	rows := func() map[string]int64 {
		m := map[string]int64{}
		for _, tb := range tables {
			m[tb] = e.count("SELECT count(*) FROM " + tb)
		}
		return m
	}
	before := rows()

	// Every parameter, with the routes that take it. area, actor and action are free
	// text matched as a whole (area codes are whatever the imported boundaries use),
	// so an injection string there finds nothing rather than being malformed.
	routes := []struct {
		path   string
		params []string
	}{
		{"/api/v1/cells", []string{"res", "bbox", "from", "to", "strand", "kind", "source"}},
		{"/api/v1/areas", []string{"level", "from", "to", "strand", "kind", "source"}},
		{"/api/v1/areas/DEMOW01", []string{"from", "to", "strand", "kind", "source"}},
		{"/api/v1/incidents", []string{"bbox", "area", "limit", "after", "from", "to", "strand", "kind", "source"}},
		{"/api/v1/audit", []string{"since", "until", "actor", "action", "limit"}},
		{"/api/v1/users", []string{"username"}},
		{"/api/v1/tokens", []string{"id"}},
		{"/api/v1/me", []string{"name"}},
		{"/api/v1/openapi.json", []string{"format"}},
	}
	freeText := map[string]string{"area": "incidents", "actor": "entries", "action": "entries"}
	audited := 0
	for _, rt := range routes {
		for _, p := range rt.params {
			for _, inj := range injections {
				path := rt.path + "?" + url.Values{p: {inj}}.Encode()
				r := e.get(admin, path)
				if list, ok := freeText[p]; ok {
					var out map[string]json.RawMessage
					if r.status != 200 {
						t.Errorf("GET %s: %s; want 200 finding nothing", path, r)
						continue
					}
					r.json(t, &out)
					if got := string(out[list]); got != "[]" {
						t.Errorf("GET %s: %s %s; want none", path, list, got)
					}
					if p == "area" {
						audited++
					}
					continue
				}
				if r.status != 400 {
					t.Errorf("GET %s: %s; want 400", path, r)
					continue
				}
				if msg := r.message(t); !strings.Contains(msg, p) {
					t.Errorf("GET %s: message %q does not name %s", path, msg, p)
				}
			}
		}
	}
	for _, inj := range injections {
		path := "/api/v1/areas/" + url.PathEscape(inj)
		if r := e.get(admin, path); r.status != 404 {
			t.Errorf("GET %s: %s; want 404", path, r)
		}
	}

	for _, tb := range tables {
		var exists bool
		if err := e.db.Pool.QueryRow(e.ctx, "SELECT to_regclass($1) IS NOT NULL", tb).Scan(&exists); err != nil || !exists {
			t.Fatalf("table %s is gone (%v)", tb, err)
		}
	}
	after := rows()
	// Every incident listing is audited, even one that found nothing.
	before["audit_log"] += int64(audited)
	for _, tb := range tables {
		if after[tb] != before[tb] {
			t.Errorf("%s: %d rows, want %d", tb, after[tb], before[tb])
		}
	}
	for _, en := range e.auditEntries("incidents.read") {
		if en.Rows != 0 {
			t.Errorf("an incident listing with an injection string returned %d rows", en.Rows)
		}
	}
}

// TestUnknownParameter: every GET route of the API refuses a parameter it does not
// take, naming it.
func TestUnknownParameter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin, _ := e.token(access.Admin, "")
	for _, path := range []string{"/api/v1/cells?res=7&colour=red", "/api/v1/areas?colour=red", "/api/v1/areas/DEMOW01?colour=red",
		"/api/v1/incidents?colour=red", "/api/v1/audit?colour=red", "/api/v1/users?colour=red", "/api/v1/tokens?colour=red",
		"/api/v1/me?colour=red", "/api/v1/openapi.json?colour=red", "/api/v1/cells?res=7&Res=7"} {
		r := e.get(admin, path)
		if r.status != 400 {
			t.Errorf("GET %s: %s; want 400", path, r)
			continue
		}
		name := path[strings.LastIndex(path, "&")+1:]
		name = name[strings.LastIndex(name, "?")+1:]
		name, _, _ = strings.Cut(name, "=")
		if msg := r.message(t); !strings.Contains(msg, `"`+name+`"`) {
			t.Errorf("GET %s: message %q does not name %q", path, msg, name)
		}
	}
	// A repeated single-valued parameter is refused too.
	if r := e.get(admin, "/api/v1/cells?res=7&res=8"); r.status != 400 || !strings.Contains(r.message(t), "res") {
		t.Errorf("res given twice: %s; want 400 naming res", r)
	}
}

// TestOversizedBodies: bodies above a route's limit are refused with 413.
func TestOversizedBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *web.Options) { o.MaxIntakeBody = 64 << 10 })
	admin, _ := e.token(access.Admin, "")
	var records []any
	for i := 0; len(records) < 1000; i++ {
		records = append(records, intakeRecord(fmt.Sprintf("BIG-%04d", i), "source", "police", "offence", strings.Repeat("x", 100)))
	}
	before := e.count("SELECT count(*) FROM incidents")
	if r := e.send(admin, "POST", "/api/v1/incidents", records); r.status != 413 {
		t.Errorf("a JSON array of %d records above the 64 KiB limit: %s; want 413", len(records), r)
	}
	var nd strings.Builder
	for _, rec := range records {
		b, _ := json.Marshal(rec)
		nd.Write(b)
		nd.WriteByte('\n')
	}
	r := e.do(admin, "POST", "/api/v1/incidents", strings.NewReader(nd.String()), "Content-Type", "application/x-ndjson")
	if r.status != 413 {
		t.Errorf("NDJSON above the 64 KiB limit: %s; want 413", r)
	}
	// What was read before the limit may be stored: a rerun of the records in smaller
	// parts stores each once.
	t.Logf("stored before the limit: %d", e.count("SELECT count(*) FROM incidents")-before)

	// Under the limit the same route answers.
	if r := e.send(admin, "POST", "/api/v1/incidents", records[:100]); r.status != 200 {
		t.Errorf("100 records under the limit: %s; want 200", r)
	}

	big := url.Values{"username": {"admin"}, "password": {strings.Repeat("p", 17<<10)}}
	if r := e.postForm(nobody, "/signin", big); r.status != 413 {
		t.Errorf("a sign-in body of 17 KiB: %s; want 413", r)
	}
	if r := e.postForm(e.as(access.Admin), "/admin/users", url.Values{"action": {"add"}, "name": {strings.Repeat("n", 65<<10)}}); r.status != 413 {
		t.Errorf("a users form of 65 KiB: %s; want 413", r)
	}
	if r := e.send(admin, "POST", "/api/v1/users", map[string]any{"username": "big", "role": "council", "name": strings.Repeat("n", 1<<20)}); r.status != 413 {
		t.Errorf("a JSON body of 1 MiB: %s; want 413", r)
	}
	if n := e.count("SELECT count(*) FROM users WHERE username = 'big'"); n != 0 {
		t.Errorf("an oversized body created a user")
	}
}

// signIn posts the sign-in form from an address (sent as X-Real-IP, which only a
// server with TrustProxy believes).
func (e *env) signIn(username, password, addr string) *resp {
	e.t.Helper()
	var h []string
	if addr != "" {
		h = []string{"X-Real-IP", addr}
	}
	return e.postForm(nobody, "/signin", url.Values{"username": {username}, "password": {password}}, h...)
}

// TestSignInThrottle: after SignInMax failures, further attempts are refused with 429
// and Retry-After until the window passes, even with the right password. Every
// request of a test comes from 127.0.0.1, so the per-address count trips as well and
// every username is refused from that address: that is what the limiter does for one
// address trying many accounts.
func TestSignInThrottle(t *testing.T) {
	t.Parallel()
	c := &clock{t: testNow}
	e := newEnv(t, func(o *web.Options) { o.Now = c.Now })
	for i := 0; i < 5; i++ {
		if r := e.signIn("police", "wrong password "+strconv.Itoa(i), ""); r.status != 401 {
			t.Fatalf("failure %d: %s; want 401", i+1, r)
		}
		c.Add(time.Second)
	}
	r := e.signIn("police", testPassword, "")
	if r.status != 429 || r.cookie("tm_session") != nil {
		t.Fatalf("the 6th attempt with the right password: %s; want 429 and no session", r)
	}
	wait, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || wait < 850 || wait > 901 {
		t.Errorf("Retry-After %q; want about 900 seconds", r.header.Get("Retry-After"))
	}
	if r := e.signIn("council", testPassword, ""); r.status != 429 {
		t.Errorf("another username from the same address: %s; want 429 (the address is throttled)", r)
	}
	if n := len(e.auditEntries("signin.failed")); n != 5 {
		t.Errorf("%d signin.failed entries; want 5", n)
	}
	if n := len(e.auditEntries("signin.throttled")); n != 2 {
		t.Errorf("%d signin.throttled entries; want 2", n)
	}
	// Once the first failure leaves the window, one more attempt is allowed.
	c.Add(15*time.Minute - 5*time.Second)
	if r := e.signIn("police", testPassword, ""); r.status != 303 {
		t.Errorf("after the window: %s; want 303", r)
	}
}

// TestSignInThrottleByAddress runs behind a trusted proxy, so that requests can come
// from several addresses: the username's count refuses it from everywhere, the
// address's count refuses every username from there, and other usernames from other
// addresses are unaffected.
func TestSignInThrottleByAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *web.Options) { o.TrustProxy = true })
	const a, b = "192.0.2.1", "192.0.2.2" // documentation addresses, sent as a header only
	for i := 0; i < 5; i++ {
		if r := e.signIn("police", "wrong", a); r.status != 401 {
			t.Fatalf("failure %d: %s; want 401", i+1, r)
		}
	}
	for _, c := range []struct {
		user, addr string
		want       int
	}{
		{"police", a, 429},  // both counts
		{"police", b, 429},  // the username's count
		{"council", b, 303}, // neither
		{"council", a, 429}, // the address's count
		{"POLICE", b, 429},  // usernames are counted ignoring case
	} {
		if r := e.signIn(c.user, testPassword, c.addr); r.status != c.want {
			t.Errorf("%s from %s: %s; want %d", c.user, c.addr, r, c.want)
		}
	}
	for _, en := range e.auditEntries("signin.failed") {
		if en.IP != a {
			t.Errorf("a failed sign-in is audited from %q; want %s", en.IP, a)
		}
	}
}

// TestSignInBurst sends a burst of concurrent wrong passwords for one account: no
// more than SignInMax of them are checked, however many arrive before the first has
// failed, whether they come from one address or from many.
func TestSignInBurst(t *testing.T) {
	t.Parallel()
	for _, spread := range []bool{false, true} {
		e := newEnv(t, func(o *web.Options) { o.TrustProxy = true })
		const n = 24
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				form := url.Values{"username": {"police"}, "password": {"guess " + strconv.Itoa(i)}}
				req, _ := http.NewRequest("POST", e.ts.URL+"/signin", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if spread {
					req.Header.Set("X-Real-IP", fmt.Sprintf("198.51.100.%d", i+1)) // a documentation range
				}
				res, err := e.client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				statuses[i] = res.StatusCode
			}()
		}
		wg.Wait()
		checked, throttled := 0, 0
		for _, st := range statuses {
			switch st {
			case 401:
				checked++
			case 429:
				throttled++
			}
		}
		if checked != 5 || throttled != n-5 {
			t.Errorf("spread over addresses %v: %d of %d concurrent guesses checked, %d throttled; want 5 and %d", spread, checked, n, throttled, n-5)
		}
		if got := len(e.auditEntries("signin.failed")); got != checked {
			t.Errorf("%d signin.failed entries for %d checked guesses", got, checked)
		}
	}
}

var scriptSrc = regexp.MustCompile(`(?:^|;)\s*script-src ([^;]*)`)

// TestSecurityHeaders: pages, API answers, errors and static files carry the
// security headers.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.as(access.Admin)
	for _, c := range []struct {
		who  caller
		path string
	}{
		{nobody, "/signin"}, {admin, "/"}, {admin, "/admin/users"}, {admin, "/api/v1/me"}, {admin, "/api/v1/cells?res=7"},
		{nobody, "/api/v1/me"}, {admin, "/no/such/page"}, {nobody, "/static/app.css"}, {nobody, "/healthz"}, {e.as(access.Council), "/admin/users"},
	} {
		r := e.get(c.who, c.path)
		h := r.header
		csp := h.Get("Content-Security-Policy")
		m := scriptSrc.FindStringSubmatch(csp)
		if m == nil || strings.Contains(m[1], "unsafe-inline") || strings.Contains(m[1], "unsafe-eval") || !strings.Contains(m[1], "'self'") {
			t.Errorf("GET %s (%d): CSP %q; want script-src 'self' without unsafe-inline", c.path, r.status, csp)
		}
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "object-src 'none'") {
			t.Errorf("GET %s: CSP %q; want frame-ancestors and object-src 'none'", c.path, csp)
		}
		for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
			if got := h.Get(name); got != want {
				t.Errorf("GET %s: %s %q; want %q", c.path, name, got, want)
			}
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("GET %s: HSTS sent without SecureCookies", c.path)
		}
		if strings.HasPrefix(c.path, "/api/") && r.status == 200 && h.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: Cache-Control %q; want no-store", c.path, h.Get("Cache-Control"))
		}
	}
	// A vector tile, never a document, carries the headers of an API answer: nosniff
	// and a policy that lets nothing load or frame it; it is not compressed by the
	// middleware (the cache gzips it once).
	_, path := tileAt("hotspots", -0.76, 52.04, 13)
	for _, who := range []caller{e.as(access.Police), nobody} {
		r := e.get(who, path, "Accept-Encoding", "gzip")
		h := r.header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s (%d): CSP %q; want default-src and frame-ancestors 'none'", path, r.status, csp)
		}
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s (%d): X-Content-Type-Options %q; want nosniff", path, r.status, got)
		}
		if r.status == 200 && h.Get("Content-Length") != strconv.Itoa(len(r.body)) {
			t.Errorf("GET %s: Content-Length %q of %d bytes; want the tile's bytes as written, with their length", path, h.Get("Content-Length"), len(r.body))
		}
	}
}

// TestSessionCookie signs in through the form and checks the cookie, then signs out.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		e := newEnv(t, func(o *web.Options) { o.SecureCookies = secure })
		r := e.signIn("Police", testPassword, "") // usernames ignore case
		if r.status != 303 || r.header.Get("Location") != "/" {
			t.Fatalf("signing in: %s, Location %q; want 303 to /", r, r.header.Get("Location"))
		}
		c := r.cookie("tm_session")
		if c == nil || c.Value == "" {
			t.Fatalf("signing in set no session cookie: %v", r.header)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != secure || c.MaxAge <= 0 {
			t.Errorf("secure=%v: cookie %s; want HttpOnly, SameSite=Lax, Path=/, Secure=%v, a Max-Age", secure, c, secure)
		}
		if secure && r.header.Get("Strict-Transport-Security") == "" {
			t.Errorf("SecureCookies without HSTS")
		}
		if n := e.count("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'police'"); n != 1 {
			t.Errorf("%d sessions stored for police; want 1", n)
		}
		// Only a hash is stored: the cookie value is nowhere in the table.
		if n := e.count("SELECT count(*) FROM sessions WHERE encode(hash, 'escape') LIKE '%' || $1 || '%'", c.Value); n != 0 {
			t.Errorf("the cookie value is stored as it is")
		}
		me := caller{name: "police (signed in)", cookie: c.Value}
		var who struct {
			Name string
			Role access.Role
		}
		e.getJSON(me, "/api/v1/me", &who)
		if who.Name != "police" || who.Role != access.Police {
			t.Errorf("/api/v1/me: %+v", who)
		}
		if es := e.auditEntries("signin"); len(es) != 1 || es[0].Actor != "user:police" {
			t.Errorf("signin audit entries: %+v", es)
		}

		r = e.postForm(me, "/signout", url.Values{})
		if out := r.cookie("tm_session"); r.status != 303 || out == nil || out.MaxAge >= 0 {
			t.Errorf("signing out: %s, cookie %v; want 303 clearing the cookie", r, out)
		}
		if r := e.get(me, "/api/v1/me"); r.status != 401 {
			t.Errorf("the session after signing out: %s; want 401", r)
		}
		if r := e.get(me, "/"); r.status != 303 || r.cookie("tm_session") == nil {
			t.Errorf("a stale cookie on a page: %s; want 303 to sign in, clearing it", r)
		}
	}
}

// TestSignInRedirectStaysOnSite: the page after signing in is on this site, whatever
// next says.
func TestSignInRedirectStaysOnSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for next, want := range map[string]string{
		"https://evil.example":        "/",
		"//evil.example":              "/",
		"///evil.example":             "/",
		`/\evil.example`:              "/",
		`\\evil.example`:              "/",
		"javascript:alert(1)":         "/",
		"http:evil.example":           "/",
		"evil.example":                "/",
		"":                            "/",
		"/admin/users":                "/admin/users",
		"/api/v1/cells?res=7":         "/api/v1/cells?res=7",
		"/./evil.example":             "/evil.example",
		"/%2F%2Fevil.example":         "/%2F%2Fevil.example",
		"https://evil.example/@x":     "/",
		"/\r\nSet-Cookie: a=b":        "/",
		" //evil.example":             "/",
		"https:/evil.example":         "/",
		"/%0d%0aSet-Cookie:%20a=b":    "/%0d%0aSet-Cookie:%20a=b",
		"//evil.example/%2F..":        "/",
		"/signin?next=//evil.example": "/signin?next=//evil.example",
		"HTTPS://EVIL.EXAMPLE":        "/",
		"/\t/evil.example":            "/",
	} {
		r := e.postForm(nobody, "/signin", url.Values{"username": {"council"}, "password": {testPassword}, "next": {next}})
		loc := r.header.Get("Location")
		if r.status != 303 {
			t.Errorf("next=%q: %s; want 303", next, r)
			continue
		}
		if loc != want {
			t.Errorf("next=%q: Location %q; want %q", next, loc, want)
		}
		if u, err := url.Parse(loc); err != nil || u.Host != "" || u.Scheme != "" || strings.HasPrefix(loc, "//") || strings.ContainsAny(loc, "\\\r\n") {
			t.Errorf("next=%q: Location %q leaves the site", next, loc)
		}
	}
	// Signed in, the sign-in page sends on the same way.
	c := e.as(access.Council)
	for _, next := range []string{"https://evil.example", "//evil.example"} {
		if r := e.get(c, "/signin?next="+url.QueryEscape(next)); r.status != 303 || r.header.Get("Location") != "/" {
			t.Errorf("GET /signin?next=%s signed in: %s, Location %q; want 303 to /", next, r, r.header.Get("Location"))
		}
	}
}

// TestPagesAreNotCached: every page, error pages and refused forms included, is
// HTML marked no-store: pages show accounts and counts.
func TestPagesAreNotCached(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.as(access.Admin)
	for _, c := range []struct {
		name string
		r    *resp
		want int
	}{
		{"the sign-in page", e.get(nobody, "/signin"), 200},
		{"a failed sign-in", e.signIn("police", "wrong", ""), 401},
		{"the users page", e.get(admin, "/admin/users"), 200},
		{"a refused users form", e.postForm(admin, "/admin/users", url.Values{"action": {"disable"}, "username": {"admin"}}), 400},
		{"a refused tokens form", e.postForm(admin, "/admin/tokens", url.Values{"action": {"create"}, "role": {"police"}}), 400},
		{"a page of another role", e.get(e.as(access.Council), "/admin/users"), 403},
		{"no such page", e.get(admin, "/no/such/page"), 404},
	} {
		if c.r.status != c.want || !strings.HasPrefix(c.r.header.Get("Content-Type"), "text/html") || c.r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d, Content-Type %q, Cache-Control %q; want %d, text/html, no-store", c.name, c.r.status,
				c.r.header.Get("Content-Type"), c.r.header.Get("Cache-Control"), c.want)
		}
	}
	for i := 0; i < 5; i++ {
		e.signIn("police", "wrong", "")
	}
	if r := e.signIn("police", testPassword, ""); r.status != 429 || r.header.Get("Cache-Control") != "no-store" || r.header.Get("Retry-After") == "" {
		t.Errorf("a throttled sign-in: %d, Cache-Control %q; want 429, no-store, Retry-After", r.status, r.header.Get("Cache-Control"))
	}
}
