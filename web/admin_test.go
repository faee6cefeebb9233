package web_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tensionmap/tensionmap/access"
)

type userAnswer struct {
	User struct {
		Username, Name string
		Role           access.Role
		Areas          []string
		Disabled       bool
	}
	Password string
}

// TestUsersAPI creates, changes, disables and resets users through the API and checks
// the sessions that end and the audit entries written.
func TestUsersAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.as(access.Admin)

	// Create with a generated password, shown once.
	r := e.send(admin, "POST", "/api/v1/users", map[string]any{"username": "jo.bloggs", "name": "Jo Bloggs", "role": "council"})
	if r.status != 201 {
		t.Fatalf("creating a user: %s", r)
	}
	var created userAnswer
	r.json(t, &created)
	if created.User.Username != "jo.bloggs" || created.User.Role != access.Council || len(created.Password) < 12 {
		t.Fatalf("created %+v", created)
	}
	if r := e.signIn("jo.bloggs", created.Password, ""); r.status != 303 {
		t.Errorf("signing in with the generated password: %s", r)
	}
	var list struct{ Users []userAnswer }
	r = e.get(admin, "/api/v1/users")
	if r.status != 200 || strings.Contains(string(r.body), created.Password) || strings.Contains(string(r.body), "argon2") {
		t.Errorf("the users list: %s; want no password or hash", r)
	}
	r.json(t, &list)
	if len(list.Users) != len(access.Roles)+1 {
		t.Errorf("%d users listed; want %d", len(list.Users), len(access.Roles)+1)
	}

	for _, bad := range []map[string]any{
		{"username": "jo.bloggs", "role": "council"},                        // taken
		{"username": "JO.BLOGGS", "role": "council"},                        // taken, ignoring case
		{"username": "x y", "role": "council"},                              // a space
		{"username": "", "role": "council"},                                 // empty
		{"username": "ok", "role": "superuser"},                             // no such role
		{"username": "ok", "role": "council", "areas": []string{"DEMOW01"}}, // areas are for police
		{"username": "ok", "role": "police", "password": "short"},           // weak
		{"username": "ok", "role": "police", "admin": true},                 // unknown field
	} {
		r := e.send(admin, "POST", "/api/v1/users", bad)
		if r.status != 400 && r.status != 409 {
			t.Errorf("POST /api/v1/users %v: %s; want 400 or 409", bad, r)
		}
	}
	if n := e.count("SELECT count(*) FROM users WHERE username = 'ok'"); n != 0 {
		t.Errorf("a refused user was stored")
	}

	// A police user with areas and a password of their own.
	r = e.send(admin, "POST", "/api/v1/users", map[string]any{"username": "pc1", "role": "police", "areas": []string{"DEMOW01"}, "password": "a long enough password"})
	if r.status != 201 || strings.Contains(string(r.body), `"password"`) {
		t.Errorf("creating a police user with a password: %s; want 201 without a password echoed", r)
	}

	// A change of role ends the user's sessions.
	u, err := e.db.UserByUsername(e.ctx, "jo.bloggs")
	if err != nil {
		t.Fatal(err)
	}
	jo := e.sessionOf(u)
	if r := e.get(jo, "/api/v1/me"); r.status != 200 {
		t.Fatalf("jo's session: %s", r)
	}
	r = e.send(admin, "PATCH", "/api/v1/users/jo.bloggs", map[string]any{"role": "strategic", "name": "Jo B."})
	var changed userAnswer
	r.json(t, &changed)
	if r.status != 200 || changed.User.Role != access.Strategic || changed.User.Name != "Jo B." || changed.Password != "" {
		t.Errorf("changing the role: %s", r)
	}
	if r := e.get(jo, "/api/v1/me"); r.status != 401 {
		t.Errorf("a session after a change of role: %s; want 401", r)
	}
	// A change of name alone keeps them.
	jo = e.sessionOf(u)
	e.send(admin, "PATCH", "/api/v1/users/jo.bloggs", map[string]any{"name": "Jo Bloggs"})
	if r := e.get(jo, "/api/v1/me"); r.status != 200 {
		t.Errorf("a session after a change of name: %s; want it alive", r)
	}

	// Disabling ends sessions and sign-ins; enabling allows sign-in again.
	r = e.send(admin, "PATCH", "/api/v1/users/jo.bloggs", map[string]any{"disabled": true})
	if r.status != 200 {
		t.Fatalf("disabling: %s", r)
	}
	if r := e.get(jo, "/api/v1/me"); r.status != 401 {
		t.Errorf("a session after disabling: %s; want 401", r)
	}
	if r := e.signIn("jo.bloggs", created.Password, ""); r.status != 401 {
		t.Errorf("a disabled user signing in: %s; want 401", r)
	}
	if r := e.send(admin, "PATCH", "/api/v1/users/jo.bloggs", map[string]any{"disabled": false}); r.status != 200 {
		t.Errorf("enabling: %s", r)
	}
	if r := e.signIn("jo.bloggs", created.Password, ""); r.status != 303 {
		t.Errorf("an enabled user signing in: %s", r)
	}

	// A reset gives a new password once and ends sessions; the old one stops working.
	jo = e.sessionOf(u)
	r = e.send(admin, "PATCH", "/api/v1/users/jo.bloggs", map[string]any{"reset_password": true})
	var reset userAnswer
	r.json(t, &reset)
	if r.status != 200 || len(reset.Password) < 12 || reset.Password == created.Password {
		t.Fatalf("resetting: %s", r)
	}
	if r := e.get(jo, "/api/v1/me"); r.status != 401 {
		t.Errorf("a session after a reset: %s; want 401", r)
	}
	if r := e.signIn("jo.bloggs", created.Password, ""); r.status != 401 {
		t.Errorf("the old password after a reset: %s; want 401", r)
	}
	if r := e.signIn("jo.bloggs", reset.Password, ""); r.status != 303 {
		t.Errorf("the new password: %s; want 303", r)
	}

	// An admin cannot lock themself out.
	self := e.users[access.Admin].Username
	for _, change := range []map[string]any{{"disabled": true}, {"role": "council"}} {
		r := e.send(admin, "PATCH", "/api/v1/users/"+self, change)
		if r.status != 400 {
			t.Errorf("an admin changing themself %v: %s; want 400", change, r)
		}
	}
	if r := e.send(admin, "PATCH", "/api/v1/users/"+self, map[string]any{"role": "admin", "name": "Still admin"}); r.status != 200 {
		t.Errorf("an admin keeping their own role: %s; want 200", r)
	}
	if r := e.get(admin, "/api/v1/me"); r.status != 200 {
		t.Errorf("the admin's own session: %s", r)
	}
	if r := e.send(admin, "PATCH", "/api/v1/users/nobody-here", map[string]any{"name": "x"}); r.status != 404 {
		t.Errorf("changing an unknown user: %s; want 404", r)
	}
	if r := e.send(admin, "PATCH", "/api/v1/users/jo.bloggs", map[string]any{"areas": []string{"DEMOW01"}}); r.status != 400 {
		t.Errorf("areas for a strategic user: %s; want 400", r)
	}

	// The audit log has each change, and no password.
	creates, updates := e.auditEntries("users.create"), e.auditEntries("users.update")
	// Updates: role and name, name, disable, enable, reset, the admin's own name.
	if len(creates) != 2 || len(updates) != 6 {
		t.Errorf("%d users.create and %d users.update entries; want 2 and 6", len(creates), len(updates))
	}
	for _, en := range append(creates, updates...) {
		if en.Actor != "user:admin" || strings.Contains(fmt.Sprint(en.Params), created.Password) || strings.Contains(fmt.Sprint(en.Params), reset.Password) {
			t.Errorf("audit entry %+v", en)
		}
	}
}

// TestTokensAPI: a token is shown once, works, is listed without its secret, and
// stops working once revoked.
func TestTokensAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.as(access.Admin)
	r := e.send(admin, "POST", "/api/v1/tokens", map[string]any{"name": "hate crime charity feed", "role": "partner", "source": "Third Party", "expires_in": "90d"})
	if r.status != 201 {
		t.Fatalf("creating a token: %s", r)
	}
	var created struct {
		Token   string
		Details struct {
			ID        int64
			Role      access.Role
			Source    string
			CreatedBy string  `json:"created_by"`
			ExpiresAt *string `json:"expires_at"`
		}
	}
	r.json(t, &created)
	if !strings.HasPrefix(created.Token, "tmk_") || created.Details.Source != "third_party" || created.Details.Role != access.Partner ||
		created.Details.CreatedBy != "user:admin" || created.Details.ExpiresAt == nil || !strings.HasPrefix(*created.Details.ExpiresAt, "2026-09-29") {
		t.Fatalf("created %+v", created)
	}
	feed := caller{name: "feed", token: created.Token}
	var me struct {
		Name, Source string
		Role         access.Role
		TokenID      int64 `json:"token_id"`
	}
	e.getJSON(feed, "/api/v1/me", &me)
	if me.Role != access.Partner || me.Source != "third_party" || me.TokenID != created.Details.ID {
		t.Errorf("/api/v1/me with the token: %+v", me)
	}
	if r := e.send(feed, "POST", "/api/v1/incidents", []any{intakeRecord("FEED-1")}); r.status != 200 {
		t.Errorf("the token pushing: %s", r)
	}

	r = e.get(admin, "/api/v1/tokens")
	_, secret := splitToken(t, created.Token)
	if r.status != 200 || strings.Contains(string(r.body), secret) || !strings.Contains(string(r.body), "hate crime charity feed") {
		t.Errorf("the token list: %s; want the token without its secret", r)
	}

	for _, bad := range []map[string]any{
		{"name": "x", "role": "partner"},                        // a partner needs a source
		{"name": "x", "role": "partner", "source": "facebook"},  // not a source
		{"name": "", "role": "police"},                          // no name
		{"name": "x", "role": "root"},                           // no such role
		{"name": "x", "role": "police", "expires_in": "soon"},   // not a duration
		{"name": "x", "role": "police", "expires_in": "-5d"},    // negative
		{"name": "x", "role": "police", "expires_in": "99999d"}, // too far
	} {
		if r := e.send(admin, "POST", "/api/v1/tokens", bad); r.status != 400 {
			t.Errorf("POST /api/v1/tokens %v: %s; want 400", bad, r)
		}
	}

	path := fmt.Sprintf("/api/v1/tokens/%d", created.Details.ID)
	if r := e.do(admin, "DELETE", path, nil); r.status != 204 {
		t.Fatalf("revoking: %s", r)
	}
	r = e.get(feed, "/api/v1/me")
	if r.status != 401 || !strings.Contains(r.message(t), "revoked") {
		t.Errorf("a revoked token: %s; want 401 saying revoked", r)
	}
	if r := e.do(admin, "DELETE", path, nil); r.status != 204 {
		t.Errorf("revoking again: %s; want 204", r)
	}
	for _, id := range []string{"999999", "0", "-1", "abc", "1e3"} {
		if r := e.do(admin, "DELETE", "/api/v1/tokens/"+id, nil); r.status != 404 && r.status != 400 {
			t.Errorf("revoking token %s: %s; want 404 or 400", id, r)
		}
	}

	if es := e.auditEntries("tokens.create"); len(es) != 1 || es[0].Params["source"] != "third_party" || strings.Contains(fmt.Sprint(es[0].Params), secret) {
		t.Errorf("tokens.create entries %+v", es)
	}
	if es := e.auditEntries("tokens.revoke"); len(es) != 2 || es[0].Params["id"] != float64(created.Details.ID) {
		t.Errorf("tokens.revoke entries %+v", es)
	}

	// The audit API lists them, filtered.
	var audit struct{ Entries []access.AuditEntry }
	e.getJSON(admin, "/api/v1/audit?action=tokens.revoke&since=2026-07-01&until=2026-07-01", &audit)
	if len(audit.Entries) != 2 || audit.Entries[0].Actor != "user:admin" || audit.Entries[0].Route != "DELETE "+path ||
		!audit.Entries[0].At.Equal(testNow) || audit.Entries[0].ID <= audit.Entries[1].ID {
		t.Errorf("the audit API: %+v", audit.Entries)
	}
	e.getJSON(admin, "/api/v1/audit?until=2026-06-30", &audit)
	if len(audit.Entries) != 0 {
		t.Errorf("entries until the day before: %d; want none", len(audit.Entries))
	}
	e.getJSON(admin, "/api/v1/audit?actor=user:admin&limit=2", &audit)
	if len(audit.Entries) != 2 {
		t.Errorf("two entries of user:admin: %d", len(audit.Entries))
	}
	e.getJSON(admin, "/api/v1/audit?limit=10000", &audit)
	actions := map[string]bool{}
	for _, en := range audit.Entries {
		actions[en.Action] = true
	}
	for _, a := range []string{"tokens.create", "tokens.revoke", "incidents.ingest"} {
		if !actions[a] {
			t.Errorf("the audit API lists no %s", a)
		}
	}
	// The log refuses changes even from the database's own user.
	if _, err := e.db.Pool.Exec(e.ctx, "DELETE FROM audit_log"); err == nil {
		t.Errorf("the audit log could be emptied")
	}
}

// TestAdminPages: the admin forms add a user, create and revoke a token, and the
// pages show them; a token's secret is shown once.
func TestAdminPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.as(access.Admin)
	r := e.postForm(admin, "/admin/users", url.Values{"action": {"add"}, "username": {"pc.smith"}, "name": {"PC Smith"}, "role": {"police"}, "areas": {"DEMOW01, DEMOW02"}})
	if r.status != 200 || !strings.Contains(string(r.body), "Added pc.smith.") {
		t.Fatalf("adding a user by the form: %s", r)
	}
	u, err := e.db.UserByUsername(e.ctx, "pc.smith")
	if err != nil || u.Role != access.Police || !slices.Equal(u.Areas, []string{"DEMOW01", "DEMOW02"}) {
		t.Fatalf("the added user: %+v, %v", u, err)
	}
	r = e.postForm(admin, "/admin/users", url.Values{"action": {"disable"}, "username": {"admin"}})
	if r.status != 400 || !strings.Contains(string(r.body), "cannot disable yourself") {
		t.Errorf("an admin disabling themself by the form: %s; want 400", r)
	}
	r = e.postForm(admin, "/admin/tokens", url.Values{"action": {"create"}, "name": {"<script>alert(1)</script>"}, "role": {"police"}, "expires": {"30d"}})
	if r.status != 200 || !strings.Contains(string(r.body), "tmk_") || strings.Contains(string(r.body), "<script>alert") {
		t.Errorf("creating a token by the form: %s; want the secret shown and the name escaped", r)
	}
	r = e.get(admin, "/admin/tokens")
	if r.status != 200 || strings.Contains(string(r.body), "tmk_") {
		t.Errorf("the tokens page shows a secret again: %s", r)
	}
	if r := e.postForm(admin, "/admin/tokens", url.Values{"action": {"revoke"}, "id": {"1"}}); r.status != 200 {
		t.Errorf("revoking by the form: %s", r)
	}
	r = e.get(admin, "/admin/audit?action=tokens.revoke")
	if r.status != 200 || !strings.Contains(string(r.body), "tokens.revoke") {
		t.Errorf("the audit page: %s", r)
	}
	if r := e.get(admin, "/admin/audit?colour=red"); r.status != 400 {
		t.Errorf("the audit page with an unknown parameter: %s; want 400", r)
	}
}

// TestOperations: health, readiness, metrics.
func TestOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if r := e.get(nobody, "/healthz"); r.status != 200 || !strings.Contains(string(r.body), `"ok"`) {
		t.Errorf("/healthz: %s", r)
	}
	if r := e.get(nobody, "/readyz"); r.status != 200 || !strings.Contains(string(r.body), `"ready"`) {
		t.Errorf("/readyz: %s", r)
	}
	e.get(e.as(access.Police), "/api/v1/cells?res=8")
	admin, _ := e.token(access.Admin, "")
	e.send(admin, "POST", "/api/v1/incidents", []any{intakeRecord("M-1", "source", "police"), intakeRecord("M-2", "source", "police", "kind", "x")})
	r := e.get(admin, "/metrics")
	body := string(r.body)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %s", r)
	}
	for _, want := range []string{
		`tensionmap_http_requests_total{method="GET",route="/api/v1/cells",status="200"} 1`,
		`tensionmap_http_request_duration_seconds_bucket{route="/api/v1/cells"`,
		`tensionmap_ingest_records_total{outcome="inserted"} 1`,
		`tensionmap_ingest_records_total{outcome="rejected"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Paths with ids are counted by their pattern; unknown paths under one label.
	e.get(admin, "/api/v1/areas/DEMOW01")
	e.get(admin, "/api/v1/areas/DEMOW02")
	e.get(nobody, "/no/such/page/1")
	body = string(e.get(admin, "/metrics").body)
	if !strings.Contains(body, `route="/api/v1/areas/{code}",status="200"} 2`) || strings.Contains(body, "DEMOW01") ||
		!strings.Contains(body, `route="unmatched"`) || strings.Contains(body, "/no/such") {
		t.Errorf("/metrics labels routes by path: %s", body)
	}
	// A method of the client's own making is counted as "other", never a series of
	// its own.
	for _, m := range []string{"BREW", "WHEN"} {
		e.send(admin, m, "/api/v1/areas", nil)
	}
	body = string(e.get(admin, "/metrics").body)
	if strings.Contains(body, "BREW") || strings.Contains(body, "WHEN") || !strings.Contains(body, `method="other",route="unmatched",status="405"} 2`) {
		t.Errorf("/metrics labels unknown methods as their own: %s", body)
	}
}
