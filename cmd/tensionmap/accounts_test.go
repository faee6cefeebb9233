package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
)

// accounts is the cli with one connection pool kept for the checks, as the tests
// here look at the database after nearly every command.
type accounts struct {
	*cli
	store *postgis.DB
}

func newAccounts(tb testing.TB) *accounts {
	tb.Helper()
	c := newCLI(tb)
	return &accounts{cli: c, store: c.db()}
}

func (c *accounts) count(sql string) int64 {
	c.tb.Helper()
	var n int64
	if err := c.store.Pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		c.tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

// runIn is cli.run with stdin.
func (c *cli) runIn(stdin string, args ...string) (int, string, string) {
	c.tb.Helper()
	var out, errOut bytes.Buffer
	env := &Env{Config: DefaultConfig(), Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return c.env[k] }, User: c.osUser}
	code := Main(context.Background(), env, args)
	return code, out.String(), errOut.String()
}

// must runs a command that has to succeed and returns its stdout.
func (c *cli) must(args ...string) string {
	c.tb.Helper()
	code, out, errOut := c.run(args...)
	if code != 0 {
		c.tb.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// importWards stores square areas with these codes at level ward.
func importWards(tb testing.TB, c *accounts, codes ...string) {
	tb.Helper()
	var areas []geo.Area
	for i, code := range codes {
		x := -0.8 + float64(i)*0.01
		areas = append(areas, geo.Area{Level: "ward", Code: code, Name: "Ward " + code,
			Geometry: orb.MultiPolygon{{{{x, 52}, {x + 0.01, 52}, {x + 0.01, 52.01}, {x, 52.01}, {x, 52}}}}})
	}
	areas = append(areas, geo.Area{Level: "lsoa", Code: "A0000001", Name: "An LSOA",
		Geometry: orb.MultiPolygon{{{{-0.8, 52}, {-0.79, 52}, {-0.79, 52.01}, {-0.8, 52.01}, {-0.8, 52}}}}})
	if _, err := c.store.ImportAreas(context.Background(), areas); err != nil {
		tb.Fatal(err)
	}
}

func (c *accounts) user(name string) *access.User {
	c.tb.Helper()
	u, err := c.store.UserByUsername(context.Background(), name)
	if err != nil {
		c.tb.Fatalf("user %s: %v", name, err)
	}
	return u
}

// signIn gives a user a live session and returns its hash.
func (c *accounts) signIn(u *access.User) []byte {
	c.tb.Helper()
	_, hash := access.NewSessionID()
	now := time.Now()
	s := &access.Session{Hash: hash, UserID: u.ID, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)}
	if err := c.store.CreateSession(context.Background(), s); err != nil {
		c.tb.Fatal(err)
	}
	return hash
}

func (c *accounts) sessions(u *access.User) int64 {
	c.tb.Helper()
	return c.count("SELECT count(*) FROM sessions WHERE user_id = " + strconv.FormatInt(u.ID, 10))
}

// auditJSON returns the audit entries the audit command prints as JSON for args.
func (c *cli) auditJSON(args ...string) []access.AuditEntry {
	c.tb.Helper()
	out := c.must(append([]string{"audit", "--json"}, args...)...)
	var es []access.AuditEntry
	if err := json.Unmarshal([]byte(out), &es); err != nil {
		c.tb.Fatalf("audit --json: %v\n%s", err, out)
	}
	return es
}

// actions lists the actions of entries, oldest first.
func actions(es []access.AuditEntry) []string {
	var out []string
	for _, e := range slices.Backward(es) {
		out = append(out, e.Action)
	}
	return out
}

// generatedPassword returns the password a command printed alone on stdout.
func generatedPassword(tb testing.TB, out string) string {
	tb.Helper()
	pw := strings.TrimSpace(out)
	if strings.Count(out, "\n") != 1 || len(pw) != 20 || access.CheckPassword(pw) != nil {
		tb.Fatalf("stdout %q: want one generated password alone on a line", out)
	}
	return pw
}

func TestUsersCommands(t *testing.T) {
	c := newAccounts(t)
	c.env["USER"] = "alice"
	importWards(t, c, "W1", "W2")
	var passwords []string

	// add, with a generated password and a code that names no area.
	code, out, errOut := c.run("users", "add", "jsmith", "--role", "police", "--name", "John Smith", "--areas", "W1,X9")
	if code != 0 {
		t.Fatalf("users add: exit %d: %s", code, errOut)
	}
	pw := generatedPassword(t, out)
	passwords = append(passwords, pw)
	if warning, _, _ := strings.Cut(errOut, "\n"); !strings.HasPrefix(warning, "warning:") || !strings.Contains(warning, "X9") || strings.Contains(warning, "W1") {
		t.Errorf("users add: stderr %q; want a warning naming X9 only", errOut)
	}
	u := c.user("JSmith")
	if u.Username != "jsmith" || u.Name != "John Smith" || u.Role != access.Police || !slices.Equal(u.Areas, []string{"W1", "X9"}) || u.Disabled {
		t.Errorf("stored user %+v", u)
	}
	if !access.VerifyPassword(u.PasswordHash, pw) {
		t.Error("the printed password does not verify against the stored hash")
	}

	// add, with the password on stdin.
	code, out, errOut = c.runIn("short\n", "users", "add", "abrown", "--role", "council", "--password-stdin")
	if code != 1 || !strings.Contains(errOut, "12 characters") {
		t.Errorf("a short password on stdin: exit %d, %q; want 1 and the rule", code, errOut)
	}
	const given = "a long enough pass phrase"
	code, out, errOut = c.runIn(given+"\r\n", "users", "add", "--password-stdin", "abrown", "--role", "Council")
	if code != 0 || out != "" {
		t.Fatalf("users add --password-stdin: exit %d, stdout %q, stderr %s; want nothing on stdout", code, out, errOut)
	}
	passwords = append(passwords, given)
	ab := c.user("abrown")
	if ab.Role != access.Council || !access.VerifyPassword(ab.PasswordHash, given) {
		t.Errorf("abrown: role %s, password verifies %v", ab.Role, access.VerifyPassword(ab.PasswordHash, given))
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"users", "add", "JSMITH", "--role", "admin"}, 1, "taken"},
		{[]string{"users", "add", "cdavis", "--role", "council", "--areas", "W1"}, 2, "police"},
		{[]string{"users", "add", "cdavis", "--role", "wizard"}, 2, "police, council, strategic, partner, admin"},
		{[]string{"users", "add", "cdavis"}, 2, "--role"},
		{[]string{"users", "add", "--role", "admin"}, 2, "one user"},
		{[]string{"users", "add", "c davis", "--role", "admin"}, 2, "not a username"},
		{[]string{"users", "frob"}, 2, "unknown users command"},
		{[]string{"users"}, 2, "add, list"},
		{[]string{"users", "disable", "nobody"}, 1, "no user nobody"},
		{[]string{"users", "set-role", "nobody", "--role", "admin"}, 1, "no user nobody"},
		{[]string{"users", "set-role", "abrown"}, 2, "--role"},
		{[]string{"users", "set-role", "abrown", "--areas", "W1"}, 2, "police"},
		{[]string{"users", "reset-password", "nobody"}, 1, "no user nobody"},
	} {
		code, out, errOut := c.run(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d, %q; want %d mentioning %q", strings.Join(tt.args, " "), code, errOut, tt.code, tt.want)
		}
		if tt.code != 0 && out != "" {
			t.Errorf("%s failed but printed %q", strings.Join(tt.args, " "), out)
		}
	}
	if n := c.count("SELECT count(*) FROM users"); n != 2 {
		t.Errorf("%d users after the refused commands, want 2", n)
	}

	// list, as a table and as JSON.
	out = c.must("users", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "USERNAME") || !strings.HasPrefix(lines[1], "abrown") ||
		!strings.Contains(lines[2], "John Smith") || !strings.Contains(lines[2], "W1,X9") || !strings.Contains(lines[2], "police") {
		t.Errorf("users list:\n%s", out)
	}
	var listed []map[string]any
	if err := json.Unmarshal([]byte(c.must("users", "list", "--json")), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || listed[1]["username"] != "jsmith" || listed[1]["role"] != "police" || listed[1]["disabled"] != false ||
		listed[1]["last_sign_in"] != nil || len(listed[1]["areas"].([]any)) != 2 || len(listed[0]["areas"].([]any)) != 0 {
		t.Errorf("users list --json: %v", listed)
	}
	for _, l := range listed {
		for k := range l {
			if strings.Contains(k, "hash") || strings.Contains(k, "password") {
				t.Errorf("users list --json has the field %s", k)
			}
		}
	}

	// disable ends every session; enable does not bring them back.
	c.signIn(u)
	c.signIn(u)
	other := c.signIn(ab)
	c.must("users", "disable", "jsmith")
	if u = c.user("jsmith"); !u.Disabled || c.sessions(u) != 0 {
		t.Errorf("after disable: disabled %v, %d sessions; want disabled, none", u.Disabled, c.sessions(u))
	}
	if _, _, err := c.store.SessionUser(context.Background(), other, time.Now()); err != nil {
		t.Errorf("disabling jsmith ended abrown's session: %v", err)
	}
	if code, _, errOut := c.run("users", "disable", "jsmith"); code != 0 || !strings.Contains(errOut, "already") {
		t.Errorf("disabling twice: exit %d, %q", code, errOut)
	}
	if out := c.must("users", "list"); !strings.Contains(out, "yes") {
		t.Errorf("users list does not show jsmith disabled:\n%s", out)
	}
	c.must("users", "enable", "jsmith")
	if u = c.user("jsmith"); u.Disabled {
		t.Error("still disabled after enable")
	}

	// reset-password: generated, then from stdin; each ends the sessions.
	c.signIn(u)
	out = c.must("users", "reset-password", "jsmith")
	pw2 := generatedPassword(t, out)
	passwords = append(passwords, pw2)
	if u = c.user("jsmith"); !access.VerifyPassword(u.PasswordHash, pw2) || access.VerifyPassword(u.PasswordHash, pw) || c.sessions(u) != 0 {
		t.Errorf("after reset-password: new verifies %v, old verifies %v, %d sessions",
			access.VerifyPassword(u.PasswordHash, pw2), access.VerifyPassword(u.PasswordHash, pw), c.sessions(u))
	}
	hash := u.PasswordHash
	if code, _, _ := c.runIn("too short\n", "users", "reset-password", "jsmith", "--password-stdin"); code != 1 || c.user("jsmith").PasswordHash != hash {
		t.Errorf("a short reset password: exit %d; want 1 and the password unchanged", code)
	}
	const given2 = "another long pass phrase"
	c.signIn(u)
	if code, out, errOut := c.runIn(given2+"\n", "users", "reset-password", "jsmith", "--password-stdin"); code != 0 || out != "" {
		t.Errorf("reset-password --password-stdin: exit %d, %q %s", code, out, errOut)
	}
	passwords = append(passwords, given2)
	if u = c.user("jsmith"); !access.VerifyPassword(u.PasswordHash, given2) || c.sessions(u) != 0 {
		t.Error("reset-password --password-stdin did not set the password or end the sessions")
	}

	// set-role: role and areas change, sessions end.
	c.signIn(u)
	c.must("users", "set-role", "jsmith", "--role", "council")
	if u = c.user("jsmith"); u.Role != access.Council || len(u.Areas) != 0 || c.sessions(u) != 0 {
		t.Errorf("after set-role council: %s %v, %d sessions; want council, no areas, none", u.Role, u.Areas, c.sessions(u))
	}
	c.signIn(u)
	c.must("users", "set-role", "jsmith", "--role", "police", "--areas", "W2,W1")
	if u = c.user("jsmith"); u.Role != access.Police || !slices.Equal(u.Areas, []string{"W2", "W1"}) || c.sessions(u) != 0 {
		t.Errorf("after set-role police W2,W1: %s %v, %d sessions", u.Role, u.Areas, c.sessions(u))
	}
	c.must("users", "set-role", "jsmith", "--areas", "")
	if u = c.user("jsmith"); u.Role != access.Police || len(u.Areas) != 0 {
		t.Errorf(`after set-role --areas "": %s %v; want police over the whole force area`, u.Role, u.Areas)
	}
	if code, _, errOut := c.run("users", "set-role", "jsmith", "--role", "police"); code != 0 || !strings.Contains(errOut, "nothing changed") {
		t.Errorf("set-role to the same role: exit %d, %q", code, errOut)
	}

	// The audit log holds every change, by cli:alice, and never a password.
	es := c.auditJSON("--actor", "cli:alice")
	want := []string{"users.create", "users.create", "users.disable", "users.enable", "users.reset_password",
		"users.reset_password", "users.set_role", "users.set_role", "users.set_role"}
	if got := actions(es); !slices.Equal(got, want) {
		t.Errorf("audit actions %v, want %v", got, want)
	}
	for _, e := range es {
		if e.Actor != "cli:alice" || e.Params["username"] == nil {
			t.Errorf("audit entry %+v: want actor cli:alice and the username", e)
		}
	}
	if p := es[len(es)-1].Params; p["username"] != "jsmith" || p["role"] != "police" || p["name"] != "John Smith" {
		t.Errorf("users.create params %v", p)
	}
	if p := es[1].Params; p["role"] != "police" || p["previous_role"] != "council" {
		t.Errorf("users.set_role params %v; want the role and what it was", p)
	}
	textLog := c.must("audit", "--action", "users.disable")
	if !strings.Contains(textLog, "cli:alice") || !strings.Contains(textLog, `"username":"jsmith"`) || strings.Count(textLog, "\n") != 2 {
		t.Errorf("audit --action users.disable:\n%s", textLog)
	}
	var raw string
	if err := c.store.Pool.QueryRow(context.Background(), "SELECT string_agg(params::text, ' ') FROM audit_log").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	everything := raw + c.must("audit") + c.must("users", "list") + c.must("users", "list", "--json")
	for _, pw := range passwords {
		if strings.Contains(everything, pw) {
			t.Errorf("the password %q appears in the audit log or the users list", pw)
		}
	}
	if strings.Contains(everything, "$argon2id$") {
		t.Error("a password hash appears in the audit log or the users list")
	}

	// Without $USER the actor is the OS user, or plain cli when that cannot be told
	// (it was cli:unknown).
	delete(c.env, "USER")
	for _, tc := range []struct{ osUser, want string }{{"carol", "cli:carol"}, {"", "cli"}} {
		c.cli.osUser = func() string { return tc.osUser }
		c.must("users", "enable", "abrown")
		c.must("users", "disable", "abrown")
		if es := c.auditJSON("--action", "users.disable", "--limit", "1"); len(es) != 1 || es[0].Actor != tc.want {
			t.Errorf("without $USER, OS user %q: %+v; want actor %s", tc.osUser, es, tc.want)
		}
	}
	c.cli.osUser = nil
}

func TestUsersDemo(t *testing.T) {
	c := newAccounts(t)
	c.env["USER"] = "make"
	importWards(t, c, "E05000003", "E05000001", "E05000002")
	file := filepath.Join(c.env["TENSIONMAP_DATA_DIR"], "demo-logins.txt")

	readLogins := func() map[string][2]string { // username: role, password
		t.Helper()
		st, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", file, st.Mode().Perm())
		}
		b, _ := os.ReadFile(file)
		out := map[string][2]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 {
				t.Fatalf("line %q: want role username password", line)
			}
			out[f[1]] = [2]string{f[0], f[2]}
		}
		return out
	}
	check := func(stdout string, logins map[string][2]string) {
		t.Helper()
		if len(logins) != 5 {
			t.Errorf("%d logins in the file, want 5", len(logins))
		}
		for _, role := range access.Roles {
			l, ok := logins[string(role)]
			if !ok || l[0] != string(role) {
				t.Errorf("no %s login for the user %s: %v", role, role, logins)
				continue
			}
			u := c.user(string(role))
			if u.Role != role || !access.VerifyPassword(u.PasswordHash, l[1]) {
				t.Errorf("demo user %s: role %s, the file's password verifies %v", role, u.Role, access.VerifyPassword(u.PasswordHash, l[1]))
			}
			if !strings.Contains(stdout, l[1]) {
				t.Errorf("the output does not show the %s password", role)
			}
		}
		if !strings.Contains(stdout, "demo accounts") {
			t.Errorf("no reminder that these are demo accounts:\n%s", stdout)
		}
	}

	out := c.must("users", "demo")
	first := readLogins()
	check(out, first)
	if u := c.user("police"); !slices.Equal(u.Areas, []string{"E05000001", "E05000002"}) {
		t.Errorf("the demo police user covers %v, want the first two wards", u.Areas)
	}
	if u := c.user("admin"); len(u.Areas) != 0 {
		t.Errorf("the demo admin has areas %v", u.Areas)
	}

	// Again: nothing changes.
	out2 := c.must("users", "demo")
	if second := readLogins(); !maps.Equal(first, second) || out2 != out {
		t.Errorf("a second run changed the logins:\n%s\n%s", out, out2)
	}
	if n := c.count("SELECT count(*) FROM users"); n != 5 {
		t.Errorf("%d users after two runs, want 5", n)
	}
	if es := c.auditJSON("--action", "users.create"); len(es) != 5 || es[0].Actor != "cli:make" {
		t.Errorf("%d users.create entries after two runs, want 5 by cli:make", len(es))
	}

	// The file is lost: the passwords are reset and written anew.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	u := c.user("council")
	c.signIn(u)
	out3 := c.must("users", "demo")
	third := readLogins()
	check(out3, third)
	if third["council"][1] == first["council"][1] {
		t.Error("the lost file's password was kept: nobody knows it")
	}
	if c.sessions(u) != 0 {
		t.Error("the reset demo user kept its session")
	}
	if es := c.auditJSON("--action", "users.reset_password"); len(es) != 5 {
		t.Errorf("%d users.reset_password entries, want 5", len(es))
	}

	// A password changed by hand is reset too, and only that one.
	c.runIn("a password nobody wrote down\n", "users", "reset-password", "strategic", "--password-stdin")
	out4 := c.must("users", "demo")
	fourth := readLogins()
	check(out4, fourth)
	for name, l := range fourth {
		if changed := l[1] != third[name][1]; changed != (name == "strategic") {
			t.Errorf("%s: password changed %v", name, changed)
		}
	}

	// --file puts the logins elsewhere; the users stay the same.
	other := filepath.Join(t.TempDir(), "logins.txt")
	c.must("users", "demo", "--file", other)
	if st, err := os.Stat(other); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("--file: %v, %v", st, err)
	}
	if n := c.count("SELECT count(*) FROM users"); n != 5 {
		t.Errorf("%d users, want 5", n)
	}
}

func TestTokensCommands(t *testing.T) {
	c := newAccounts(t)
	c.env["USER"] = "bob"
	ctx := context.Background()

	code, out, errOut := c.run("tokens", "create", "--role", "partner", "--source", "Third Party", "--name", "victim support push", "--expires", "90d")
	if code != 0 {
		t.Fatalf("tokens create: exit %d: %s", code, errOut)
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("stdout %q: want the token alone on a line", out)
	}
	token := strings.TrimSpace(out)
	id, secret, err := access.ParseToken(token)
	if err != nil {
		t.Fatalf("the printed token %q does not parse: %v", token, err)
	}
	if !strings.Contains(errOut, "token "+strconv.FormatInt(id, 10)) || !strings.Contains(errOut, "expires") {
		t.Errorf("stderr %q: want the id and the expiry", errOut)
	}
	tok, err := c.store.TokenByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !access.SecretMatches(secret, tok.Hash) {
		t.Error("the printed token's secret does not match the stored hash")
	}
	if tok.Role != access.Partner || tok.Source != "third_party" || tok.Name != "victim support push" || tok.CreatedBy != "cli:bob" {
		t.Errorf("stored token %+v", tok)
	}
	if d := time.Until(tok.ExpiresAt) - 90*24*time.Hour; d > 0 || d < -time.Minute {
		t.Errorf("--expires 90d: expires %v, want 90 days from now", tok.ExpiresAt)
	}

	out = c.must("tokens", "create", "--role", "police", "--areas", "W1", "--expires", "36h")
	policeID, _, err := access.ParseToken(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	if pt, _ := c.store.TokenByID(ctx, policeID); pt == nil || pt.Name != "police" || !slices.Equal(pt.Areas, []string{"W1"}) ||
		time.Until(pt.ExpiresAt) > 36*time.Hour || time.Until(pt.ExpiresAt) < 35*time.Hour {
		t.Errorf("police token %+v", pt)
	}
	out = c.must("tokens", "create", "--role", "admin")
	adminID, _, _ := access.ParseToken(strings.TrimSpace(out))
	if at, _ := c.store.TokenByID(ctx, adminID); at == nil || !at.ExpiresAt.IsZero() || at.Name != "admin" {
		t.Errorf("a token without --expires: %+v; want no expiry", at)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"tokens", "create", "--role", "partner"}, "--source"},
		{[]string{"tokens", "create", "--role", "partner", "--source", "nowhere"}, "police, council, third_party"},
		{[]string{"tokens", "create", "--role", "council", "--source", "council"}, "partner, admin"},
		{[]string{"tokens", "create", "--role", "council", "--areas", "W1"}, "police"},
		{[]string{"tokens", "create", "--name", "x"}, "--role"},
		{[]string{"tokens", "create", "--role", "admin", "--expires", "soon"}, "90d"},
		{[]string{"tokens", "create", "--role", "admin", "--expires", "0d"}, "above zero"},
		{[]string{"tokens", "create", "--role", "admin", "--expires", "-5h"}, "above zero"},
		{[]string{"tokens", "revoke"}, "id"},
		{[]string{"tokens", "revoke", "seven"}, "not a token id"},
		{[]string{"tokens"}, "create, list or revoke"},
	} {
		code, out, errOut := c.run(tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 mentioning %q", strings.Join(tt.args, " "), code, out, errOut, tt.want)
		}
	}
	if n := c.count("SELECT count(*) FROM api_tokens"); n != 3 {
		t.Errorf("%d tokens after the refused commands, want 3", n)
	}

	// list never shows a token or its hash.
	out = c.must("tokens", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") || !strings.HasPrefix(lines[3], strconv.FormatInt(id, 10)+" ") ||
		!strings.Contains(lines[3], "victim support push") || !strings.Contains(lines[3], "third_party") || !strings.Contains(lines[1], "never") {
		t.Errorf("tokens list:\n%s", out)
	}
	jsonOut := c.must("tokens", "list", "--json")
	var listed []map[string]any
	if err := json.Unmarshal([]byte(jsonOut), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 3 || listed[2]["id"] != float64(id) || listed[2]["source"] != "third_party" || listed[2]["live"] != true ||
		listed[2]["revoked_at"] != nil || listed[2]["expires_at"] == nil || listed[0]["expires_at"] != nil {
		t.Errorf("tokens list --json: %v", listed)
	}
	for _, l := range listed {
		if _, ok := l["hash"]; ok {
			t.Error("tokens list --json shows the hash")
		}
	}

	// revoke, twice, and an unknown id.
	code, _, errOut = c.run("tokens", "revoke", strconv.FormatInt(id, 10))
	if code != 0 {
		t.Fatalf("revoke: exit %d %s", code, errOut)
	}
	tok, _ = c.store.TokenByID(ctx, id)
	if tok.RevokedAt.IsZero() || tok.Live(time.Now()) {
		t.Error("the revoked token is live")
	}
	revokedAt := tok.RevokedAt
	if code, _, errOut := c.run("tokens", "revoke", token); code != 0 || !strings.Contains(errOut, "already revoked") {
		t.Errorf("revoking again, by the token itself: exit %d %q", code, errOut)
	}
	if tok, _ = c.store.TokenByID(ctx, id); !tok.RevokedAt.Equal(revokedAt) {
		t.Error("revoking again moved the revocation time")
	}
	if code, _, errOut := c.run("tokens", "revoke", "999999"); code != 1 || !strings.Contains(errOut, "no token 999999") {
		t.Errorf("revoking an unknown id: exit %d %q; want 1 and a clear message", code, errOut)
	}
	if out := c.must("tokens", "list"); !strings.Contains(out, "cli:bob") {
		t.Errorf("tokens list does not show who created them:\n%s", out)
	}

	// The audit log: three creations and one revocation, by cli:bob, without secrets.
	es := c.auditJSON("--actor", "cli:bob")
	if got, want := actions(es), []string{"tokens.create", "tokens.create", "tokens.create", "tokens.revoke"}; !slices.Equal(got, want) {
		t.Errorf("audit actions %v, want %v", got, want)
	}
	if p := es[len(es)-1].Params; p["id"] != float64(id) || p["name"] != "victim support push" || p["role"] != "partner" ||
		p["source"] != "third_party" || !strings.HasPrefix(p["expires"].(string), tok.ExpiresAt.UTC().Format("2006-01-02T15:04")) {
		t.Errorf("tokens.create params %v", p)
	}
	if p := es[1].Params; p["expires"] != "never" {
		t.Errorf("tokens.create of a token without expiry: params %v", p)
	}
	if p := es[0].Params; p["id"] != float64(id) {
		t.Errorf("tokens.revoke params %v", p)
	}
	if all := c.must("audit", "--json"); strings.Contains(all, secret) || strings.Contains(all, "tmk_") {
		t.Error("a token appears in the audit log")
	}
}

func TestAuditCommand(t *testing.T) {
	c := newAccounts(t)
	ctx := context.Background()
	db := c.store
	now := time.Now()
	for _, e := range []*access.AuditEntry{
		{At: time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC), Actor: "user:jsmith", Role: access.Police, Action: "incidents.read",
			Route: "GET /api/incidents", Rows: 42, Params: map[string]any{"area": "W1"}},
		{At: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Actor: "token:3:feed", Role: access.Partner, Action: "reports.push", Rows: 5},
		{At: now.Add(-2 * time.Hour), Actor: "user:jsmith", Role: access.Police, Action: "incidents.export", Rows: 7},
		{At: now.Add(-time.Minute), Actor: "cli:root", Action: "users.create", Params: map[string]any{"username": "x"}},
	} {
		if err := db.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	out := c.must("audit")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[1], "users.create") ||
		!strings.Contains(lines[4], "incidents.read") || !strings.Contains(lines[4], "GET /api/incidents") ||
		!strings.Contains(lines[4], "42") || !strings.Contains(lines[4], `{"area":"W1"}`) || !strings.Contains(lines[4], "police") {
		t.Errorf("audit, newest first:\n%s", out)
	}
	count := func(args ...string) int {
		t.Helper()
		return len(c.auditJSON(args...))
	}
	for _, tt := range []struct {
		args []string
		want int
	}{
		{nil, 4},
		{[]string{"--since", "1h"}, 1},
		{[]string{"--since", "3h"}, 2},
		{[]string{"--since", "7d"}, 2},
		{[]string{"--since", "2025-02-01"}, 3},
		{[]string{"--since", "2025-01-01", "--until", "2025-02-01"}, 1},
		{[]string{"--since", "2025-03-01T11:00:00Z", "--until", "2025-03-01T13:00:00Z"}, 1},
		{[]string{"--actor", "user:jsmith"}, 2},
		{[]string{"--actor", "user:jsmith", "--action", "incidents.read"}, 1},
		{[]string{"--action", "nothing.like.it"}, 0},
		{[]string{"--limit", "3"}, 3},
	} {
		if got := count(tt.args...); got != tt.want {
			t.Errorf("audit %v: %d entries, want %d", tt.args, got, tt.want)
		}
	}
	if out := c.must("audit", "--json", "--action", "nothing"); strings.TrimSpace(out) != "[]" {
		t.Errorf("no entries as JSON: %q, want []", out)
	}
	if es := c.auditJSON("--limit", "1"); len(es) != 1 || es[0].Action != "users.create" {
		t.Errorf("--limit 1: %+v; want the newest", es)
	}
	for _, args := range [][]string{{"--since", "last week"}, {"--since", "2025-13-01"}, {"--limit", "0"}, {"--limit", "20000"}, {"extra"}} {
		if code, _, errOut := c.run(append([]string{"audit"}, args...)...); code != 2 || errOut == "" {
			t.Errorf("audit %v: exit %d %q; want 2", args, code, errOut)
		}
	}
}
