package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/tensionmap/tensionmap/access"
)

// routesOf returns every "METHOD pattern" the router knows.
func routesOf(t *testing.T, e *env) []string {
	t.Helper()
	var out []string
	err := chi.Walk(e.srv.Router(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestEveryRouteHasAPolicy walks the router: a route registered without
// Server.handle would have no policy and so no access check.
func TestEveryRouteHasAPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	routes := routesOf(t, e)
	if len(routes) < 20 {
		t.Fatalf("the router knows only %d routes: %v", len(routes), routes)
	}
	for _, r := range routes {
		method, pattern, _ := strings.Cut(r, " ")
		public, roles, ok := e.srv.Policy(method, pattern)
		if !ok {
			t.Errorf("%s has no policy", r)
			continue
		}
		if public == (len(roles) > 0) {
			t.Errorf("%s: public=%v with roles %v: a policy is either public or names roles", r, public, roles)
		}
	}
}

// routeCase is one route called with sample input.
type routeCase struct {
	method, pattern string
	path            string // the pattern with sample parameters
	body            string
	ctype           string
	// ok is the status an allowed caller gets with this sample input; 0 accepts any
	// 2xx or 3xx.
	ok int
}

// routeCases lists every route of routes.go with sample input.
func routeCases() []routeCase {
	signin := url.Values{"username": {"council"}, "password": {testPassword}}.Encode()
	const form = "application/x-www-form-urlencoded"
	cases := []routeCase{
		{method: "GET", pattern: "/healthz", path: "/healthz", ok: 200},
		{method: "GET", pattern: "/readyz", path: "/readyz", ok: 200},
		{method: "GET", pattern: "/metrics", path: "/metrics", ok: 200},
		{method: "GET", pattern: "/static/*", path: "/static/app.css", ok: 200},
		{method: "GET", pattern: "/signin", path: "/signin"}, // 200, or 303 home when signed in
		{method: "GET", pattern: "/favicon.ico", path: "/favicon.ico", ok: 301},
		{method: "POST", pattern: "/signin", path: "/signin", body: signin, ctype: form, ok: 303},
		{method: "POST", pattern: "/signout", path: "/signout", ctype: form, ok: 303},
		{method: "GET", pattern: "/", path: "/", ok: 200},
		{method: "GET", pattern: "/admin/users", path: "/admin/users", ok: 200},
		{method: "POST", pattern: "/admin/users", path: "/admin/users", body: "action=nothing", ctype: form, ok: 400},
		{method: "GET", pattern: "/admin/tokens", path: "/admin/tokens", ok: 200},
		{method: "POST", pattern: "/admin/tokens", path: "/admin/tokens", body: "action=nothing", ctype: form, ok: 400},
		{method: "GET", pattern: "/admin/audit", path: "/admin/audit", ok: 200},
		{method: "GET", pattern: "/api/v1/openapi.json", path: "/api/v1/openapi.json", ok: 200},
		{method: "GET", pattern: "/api/v1/me", path: "/api/v1/me", ok: 200},
		{method: "POST", pattern: "/api/v1/incidents", path: "/api/v1/incidents", body: "[]", ctype: "application/json", ok: 200},
		{method: "GET", pattern: "/api/v1/incidents", path: "/api/v1/incidents?limit=5", ok: 200},
		{method: "GET", pattern: "/api/v1/cells", path: "/api/v1/cells?res=7", ok: 200},
		{method: "GET", pattern: "/api/v1/areas", path: "/api/v1/areas?level=ward", ok: 200},
		{method: "GET", pattern: "/api/v1/areas/{code}", path: "/api/v1/areas/DEMOW01", ok: 200},
		{method: "GET", pattern: "/api/v1/users", path: "/api/v1/users", ok: 200},
		{method: "POST", pattern: "/api/v1/users", path: "/api/v1/users", body: "{}", ctype: "application/json", ok: 400},
		{method: "PATCH", pattern: "/api/v1/users/{username}", path: "/api/v1/users/no-such-user", body: "{}", ctype: "application/json", ok: 404},
		{method: "GET", pattern: "/api/v1/tokens", path: "/api/v1/tokens", ok: 200},
		{method: "POST", pattern: "/api/v1/tokens", path: "/api/v1/tokens", body: "{}", ctype: "application/json", ok: 400},
		{method: "DELETE", pattern: "/api/v1/tokens/{id}", path: "/api/v1/tokens/999999", ok: 404},
		{method: "GET", pattern: "/api/v1/audit", path: "/api/v1/audit?limit=3", ok: 200},
		{method: "GET", pattern: "/api/v1/alerts", path: "/api/v1/alerts?status=new", ok: 200},
		{method: "GET", pattern: "/api/v1/alerts/{id}", path: "/api/v1/alerts/999999", ok: 404},
		{method: "POST", pattern: "/api/v1/alerts/{id}/acknowledge", path: "/api/v1/alerts/999999/acknowledge", ok: 404},
		{method: "POST", pattern: "/api/v1/alerts/{id}/dismiss", path: "/api/v1/alerts/999999/dismiss", body: `{"reason":"seen before"}`, ctype: "application/json", ok: 404},
		{method: "GET", pattern: "/api/v1/hotspots", path: "/api/v1/hotspots?res=8", ok: 200},
		{method: "GET", pattern: "/api/v1/near-repeat", path: "/api/v1/near-repeat", ok: 404},
		{method: "GET", pattern: "/api/v1/runs", path: "/api/v1/runs", ok: 200},
		{method: "GET", pattern: "/api/v1/runs/{id}", path: "/api/v1/runs/999999", ok: 404},
		{method: "GET", pattern: "/api/v1/cells/{cell}", path: "/api/v1/cells/" + townCell(8), ok: 200},
		{method: "GET", pattern: "/map", path: "/map", ok: 200},
		{method: "GET", pattern: "/api/v1/assessments", path: "/api/v1/assessments?status=open", ok: 200},
		{method: "POST", pattern: "/api/v1/assessments", path: "/api/v1/assessments", body: `{"trigger_kind":"rumour"}`, ctype: "application/json", ok: 400},
		{method: "GET", pattern: "/api/v1/assessments/{id}", path: "/api/v1/assessments/999999", ok: 404},
		{method: "PATCH", pattern: "/api/v1/assessments/{id}", path: "/api/v1/assessments/999999", body: `{"version":1}`, ctype: "application/json", ok: 404},
		{method: "POST", pattern: "/api/v1/assessments/{id}/status", path: "/api/v1/assessments/999999/status", body: `{"to":"open"}`, ctype: "application/json", ok: 404},
		{method: "POST", pattern: "/api/v1/assessments/{id}/actions", path: "/api/v1/assessments/999999/actions", body: `{"description":"x","owner":"y","due":"2026-07-01"}`, ctype: "application/json", ok: 404},
		{method: "PATCH", pattern: "/api/v1/assessments/{id}/actions/{action}", path: "/api/v1/assessments/999999/actions/1", body: `{"done":true}`, ctype: "application/json", ok: 404},
		{method: "POST", pattern: "/api/v1/assessments/{id}/events", path: "/api/v1/assessments/999999/events", body: `{"link":[1]}`, ctype: "application/json", ok: 404},
		{method: "GET", pattern: "/api/v1/trigger-events", path: "/api/v1/trigger-events", ok: 200},
		{method: "POST", pattern: "/api/v1/trigger-events", path: "/api/v1/trigger-events", body: `{"scope":"galactic"}`, ctype: "application/json", ok: 400},
		{method: "GET", pattern: "/api/v1/trigger-events/{id}", path: "/api/v1/trigger-events/999999", ok: 404},
		{method: "GET", pattern: "/assessments", path: "/assessments", ok: 200},
		{method: "POST", pattern: "/assessments", path: "/assessments", body: "alert_id=999999", ctype: form, ok: 400},
		{method: "GET", pattern: "/assessments/new", path: "/assessments/new", ok: 200},
		{method: "GET", pattern: "/assessments/{id}", path: "/assessments/999999", ok: 404},
		{method: "POST", pattern: "/assessments/{id}", path: "/assessments/999999", body: "title=x", ctype: form, ok: 404},
		{method: "POST", pattern: "/assessments/{id}/status", path: "/assessments/999999/status", body: "to=open", ctype: form, ok: 404},
		{method: "POST", pattern: "/assessments/{id}/actions", path: "/assessments/999999/actions", body: "description=x&owner=y&due=2026-07-01", ctype: form, ok: 404},
		{method: "POST", pattern: "/assessments/{id}/actions/{action}", path: "/assessments/999999/actions/1", body: "done=true", ctype: form, ok: 404},
		{method: "POST", pattern: "/assessments/{id}/events", path: "/assessments/999999/events", body: "link=1", ctype: form, ok: 404},
		{method: "GET", pattern: "/events", path: "/events", ok: 200},
		{method: "POST", pattern: "/events", path: "/events", body: "scope=galactic", ctype: form, ok: 400},
		{method: "GET", pattern: "/events/{id}", path: "/events/999999", ok: 404},
		{method: "GET", pattern: "/review", path: "/review", ok: 200},
		{method: "GET", pattern: "/api/v1/review", path: "/api/v1/review?preset=year", ok: 200},
		{method: "GET", pattern: "/review/areas.csv", path: "/review/areas.csv", ok: 200},
		{method: "GET", pattern: "/review/strands.csv", path: "/review/strands.csv", ok: 200},
		{method: "GET", pattern: "/review/months.csv", path: "/review/months.csv", ok: 200},
		{method: "GET", pattern: "/review/hotspots.geojson", path: "/review/hotspots.geojson", ok: 200},
		{method: "GET", pattern: "/api/v1/cases", path: "/api/v1/cases?open=true", ok: 200},
		{method: "POST", pattern: "/api/v1/cases", path: "/api/v1/cases", body: `{"ref":"x","victim_key":"a name"}`, ctype: "application/json", ok: 400},
		{method: "POST", pattern: "/api/v1/cases/intake", path: "/api/v1/cases/intake", body: "[]", ctype: "application/json", ok: 200},
		{method: "POST", pattern: "/api/v1/cases/erase", path: "/api/v1/cases/erase", body: `{"victim_key":"` + strings.Repeat("0", 32) + `"}`, ctype: "application/json", ok: 200},
		{method: "GET", pattern: "/api/v1/cases/figures", path: "/api/v1/cases/figures?preset=year", ok: 200},
		{method: "GET", pattern: "/api/v1/cases/{id}", path: "/api/v1/cases/999999", ok: 404},
		{method: "PATCH", pattern: "/api/v1/cases/{id}", path: "/api/v1/cases/999999", body: `{"risk":"high"}`, ctype: "application/json", ok: 404},
		{method: "POST", pattern: "/api/v1/cases/{id}/contacts", path: "/api/v1/cases/999999/contacts", body: `{"how":"phone"}`, ctype: "application/json", ok: 404},
		{method: "POST", pattern: "/api/v1/cases/{id}/actions", path: "/api/v1/cases/999999/actions", body: `{"text":"x","owner":"y","due":"2026-07-01"}`, ctype: "application/json", ok: 404},
		{method: "POST", pattern: "/api/v1/cases/{id}/actions/{n}", path: "/api/v1/cases/999999/actions/1", body: `{"done":true}`, ctype: "application/json", ok: 404},
		{method: "POST", pattern: "/api/v1/cases/{id}/close", path: "/api/v1/cases/999999/close", body: `{"outcome":"resolved"}`, ctype: "application/json", ok: 404},
		{method: "POST", pattern: "/api/v1/cases/{id}/survey", path: "/api/v1/cases/999999/survey", body: `{"declined":true}`, ctype: "application/json", ok: 404},
		{method: "GET", pattern: "/api/v1/worklist", path: "/api/v1/worklist", ok: 200},
		{method: "GET", pattern: "/cases", path: "/cases", ok: 200},
		{method: "GET", pattern: "/cases/new", path: "/cases/new", ok: 200},
		{method: "POST", pattern: "/cases", path: "/cases", body: "ref=x&victim_key=a+name", ctype: form, ok: 400},
		{method: "GET", pattern: "/cases/{id}", path: "/cases/999999", ok: 404},
		{method: "POST", pattern: "/cases/{id}/{what}", path: "/cases/999999/contact", body: "how=phone", ctype: form, ok: 404},
		{method: "GET", pattern: "/repeats", path: "/repeats", ok: 200},
		{method: "GET", pattern: "/api/v1/repeats", path: "/api/v1/repeats?who=offender", ok: 200},
	}
	tile := townTile(12)
	for _, l := range []string{"hotspots", "areas", "alerts", "incidents", "near_repeat"} {
		status := 200
		if l == "alerts" || l == "near_repeat" {
			status = 0 // 204 before the engine has run
		}
		cases = append(cases,
			routeCase{method: "GET", pattern: "/tiles/" + l + "/{z}/{x}/{file}", path: "/tiles/" + l + "/" + tile + ".mvt", ok: status},
			routeCase{method: "GET", pattern: "/tiles/" + l + ".json", path: "/tiles/" + l + ".json", ok: 200})
	}
	// The test server has no basemap archive: an allowed caller is told how to add
	// one (basemap_test.go serves one).
	cases = append(cases,
		routeCase{method: "GET", pattern: "/basemap.json", path: "/basemap.json", ok: 404},
		routeCase{method: "GET", pattern: "/basemap/{z}/{x}/{file}", path: "/basemap/" + tile + ".mvt", ok: 404})
	return cases
}

// TestEveryRouteAsEveryRole calls every route as nobody, as a session of each role
// and with a partner token, and checks the answer against the route's policy.
func TestEveryRouteAsEveryRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := routeCases()

	// The table covers every route, so that a new route cannot go untested.
	var listed []string
	for _, c := range cases {
		listed = append(listed, c.method+" "+c.pattern)
	}
	slices.Sort(listed)
	if routes := routesOf(t, e); !slices.Equal(listed, routes) {
		t.Fatalf("the table lists\n%v\nthe router knows\n%v", listed, routes)
	}

	// Hard-coded expectations for the routes that matter most, so that a policy
	// loosened by mistake fails here and not only in review.
	want := map[string][]access.Role{
		"GET /api/v1/incidents":                 {access.Police, access.Admin},
		"POST /api/v1/incidents":                {access.Partner, access.Admin},
		"GET /metrics":                          {access.Admin},
		"GET /admin/users":                      {access.Admin},
		"POST /admin/users":                     {access.Admin},
		"GET /admin/tokens":                     {access.Admin},
		"POST /admin/tokens":                    {access.Admin},
		"GET /admin/audit":                      {access.Admin},
		"GET /api/v1/users":                     {access.Admin},
		"POST /api/v1/users":                    {access.Admin},
		"PATCH /api/v1/users/{username}":        {access.Admin},
		"GET /api/v1/tokens":                    {access.Admin},
		"POST /api/v1/tokens":                   {access.Admin},
		"DELETE /api/v1/tokens/{id}":            {access.Admin},
		"GET /api/v1/audit":                     {access.Admin},
		"GET /api/v1/cells":                     {access.Police, access.Council, access.Strategic, access.Admin},
		"GET /api/v1/areas":                     {access.Police, access.Council, access.Strategic, access.Admin},
		"GET /api/v1/areas/{code}":              {access.Police, access.Council, access.Strategic, access.Admin},
		"GET /api/v1/alerts":                    {access.Police, access.Council, access.Strategic, access.Admin},
		"POST /api/v1/alerts/{id}/dismiss":      {access.Police, access.Council, access.Admin},
		"GET /api/v1/near-repeat":               {access.Police, access.Council, access.Admin},
		"GET /api/v1/cells/{cell}":              {access.Police, access.Council, access.Strategic, access.Admin},
		"GET /map":                              {access.Police, access.Council, access.Strategic, access.Admin},
		"POST /api/v1/assessments":              {access.Police, access.Council, access.Admin},
		"PATCH /api/v1/assessments/{id}":        {access.Police, access.Council, access.Admin},
		"GET /api/v1/assessments/{id}":          {access.Police, access.Council, access.Strategic, access.Admin},
		"POST /assessments/{id}":                {access.Police, access.Council, access.Admin},
		"POST /api/v1/trigger-events":           {access.Police, access.Council, access.Admin},
		"GET /tiles/hotspots/{z}/{x}/{file}":    {access.Police, access.Council, access.Strategic, access.Admin},
		"GET /tiles/areas/{z}/{x}/{file}":       {access.Police, access.Council, access.Strategic, access.Admin},
		"GET /tiles/alerts/{z}/{x}/{file}":      {access.Police, access.Council, access.Strategic, access.Admin},
		"GET /tiles/incidents/{z}/{x}/{file}":   {access.Police, access.Admin},
		"GET /tiles/incidents.json":             {access.Police, access.Admin},
		"GET /tiles/near_repeat/{z}/{x}/{file}": {access.Police, access.Council, access.Admin},
		"GET /basemap.json":                     {access.Police, access.Council, access.Strategic, access.Admin},
		"GET /basemap/{z}/{x}/{file}":           {access.Police, access.Council, access.Strategic, access.Admin},
		"GET /api/v1/cases/{id}":                {access.Police, access.Council, access.Admin},
		"POST /api/v1/cases/intake":             {access.Partner, access.Admin},
		"POST /api/v1/cases/erase":              {access.Admin},
		"GET /api/v1/worklist":                  {access.Police, access.Council, access.Admin},
		"GET /api/v1/cases/figures":             {access.Police, access.Council, access.Strategic, access.Admin},
	}
	for route, roles := range want {
		method, pattern, _ := strings.Cut(route, " ")
		public, got, ok := e.srv.Policy(method, pattern)
		if !ok || public || !sameRoles(got, roles) {
			t.Errorf("%s: policy public=%v roles=%v; want roles %v", route, public, got, roles)
		}
	}
	for _, public := range []string{"GET /healthz", "GET /readyz", "GET /signin", "POST /signin", "GET /static/*", "GET /favicon.ico"} {
		method, pattern, _ := strings.Cut(public, " ")
		if p, _, _ := e.srv.Policy(method, pattern); !p {
			t.Errorf("%s is not public", public)
		}
	}

	partnerToken, _ := e.token(access.Partner, "third_party")
	partnerToken.name = "partner token"
	for _, c := range cases {
		public, roles, _ := e.srv.Policy(c.method, c.pattern)
		// Callers: nobody, a fresh session of each role (sign-out and user changes
		// end sessions), and a partner token.
		type who struct {
			caller
			role access.Role
		}
		callers := []who{{nobody, ""}}
		for _, r := range access.Roles {
			callers = append(callers, who{e.as(r), r})
		}
		callers = append(callers, who{partnerToken, access.Partner})

		for _, w := range callers {
			var body *strings.Reader
			if c.body != "" || c.method != "GET" {
				body = strings.NewReader(c.body)
			}
			var r *resp
			if body != nil {
				r = e.do(w.caller, c.method, c.path, body, "Content-Type", c.ctype)
			} else {
				r = e.do(w.caller, c.method, c.path, nil)
			}
			label := c.method + " " + c.path + " as " + w.name
			allowed := public || slices.Contains(roles, w.role)
			// A partner user has no source: the intake takes reports from partner
			// tokens only, each bound to its source.
			partnerSessionIntake := (c.pattern == "/api/v1/incidents" || c.pattern == "/api/v1/cases/intake") && c.method == "POST" &&
				w.role == access.Partner && w.token == ""
			api := strings.HasPrefix(c.path, "/api/") || strings.HasPrefix(c.path, "/tiles/") || strings.HasPrefix(c.path, "/basemap") || c.path == "/metrics"
			switch {
			case allowed && !partnerSessionIntake:
				if r.status == 401 || r.status == 403 || r.status >= 500 {
					t.Errorf("%s: %s; the policy allows it", label, r)
				} else if c.ok != 0 && r.status != c.ok {
					t.Errorf("%s: %s; want %d", label, r, c.ok)
				} else if c.ok == 0 && (r.status < 200 || r.status >= 400) {
					t.Errorf("%s: %s; want 2xx or 3xx", label, r)
				}
			case w.role == "" && (api || c.method != "GET"):
				if r.status != 401 {
					t.Errorf("%s: %s; want 401", label, r)
				}
				if api && r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: 401 without WWW-Authenticate", label)
				}
			case w.role == "":
				if loc := r.header.Get("Location"); r.status != 303 || !strings.HasPrefix(loc, "/signin?next=") {
					t.Errorf("%s: %s, Location %q; want 303 to /signin?next=", label, r, loc)
				}
			default:
				if r.status != 403 {
					t.Errorf("%s: %s; want 403 (allowed: %v)", label, r, roles)
				}
			}
		}
	}
}

func sameRoles(a, b []access.Role) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestNoRouteChangesTheAuditLog: the audit log has no route that writes or deletes.
func TestNoRouteChangesTheAuditLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin, _ := e.token(access.Admin, "")
	before := e.count("SELECT count(*) FROM audit_log")
	e.get(admin, "/api/v1/audit") // an entry to aim at
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		for _, path := range []string{"/api/v1/audit", "/api/v1/audit/1"} {
			r := e.do(admin, m, path, strings.NewReader("{}"), "Content-Type", "application/json")
			if r.status != 405 && r.status != 404 {
				t.Errorf("%s %s: %s; want 405 or 404", m, path, r)
			}
			if r.status == 405 {
				if allow := r.header.Get("Allow"); allow != "GET" {
					t.Errorf("%s %s: Allow %q; want GET", m, path, allow)
				}
			}
		}
	}
	if after := e.count("SELECT count(*) FROM audit_log"); after != before {
		t.Errorf("the audit log went from %d to %d entries", before, after)
	}
}

// TestMethodNotAllowedNamesTheMethods: a 405 says which methods the path takes.
func TestMethodNotAllowedNamesTheMethods(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin, _ := e.token(access.Admin, "")
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/api/v1/users", "GET, POST"},
		{"GET", "/api/v1/tokens/3", "DELETE"},
		{"PUT", "/api/v1/incidents", "GET, POST"},
		{"POST", "/api/v1/cells", "GET"},
		{"GET", "/signout", "POST"},
		{"POST", "/healthz", "GET"},
	} {
		r := e.do(admin, c.method, c.path, nil)
		if r.status != 405 || r.header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %s, Allow %q; want 405 with Allow %q", c.method, c.path, r, r.header.Get("Allow"), c.allow)
		}
	}
}
