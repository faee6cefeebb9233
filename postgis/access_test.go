package postgis_test

import (
	"bytes"
	"context"
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

func wantCode(tb testing.TB, what string, err error, code string) {
	tb.Helper()
	if geo.ErrorCode(err) != code {
		tb.Errorf("%s: error %v (code %q), want code %q", what, err, geo.ErrorCode(err), code)
	}
}

func newUser(tb testing.TB, db *postgis.DB, username string, role access.Role, areas ...string) *access.User {
	tb.Helper()
	u := &access.User{Username: username, Name: "Name of " + username, Role: role, Areas: areas, PasswordHash: "$argon2id$not-a-real-hash"}
	if err := db.CreateUser(context.Background(), u); err != nil {
		tb.Fatal(err)
	}
	return u
}

func TestUsersCRUD(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	before := time.Now().Add(-time.Minute)
	u := newUser(t, db, "JSmith", access.Police, "E05000001", "E05000002")
	if u.ID == 0 || u.CreatedAt.Before(before) {
		t.Errorf("CreateUser set ID %d, CreatedAt %v", u.ID, u.CreatedAt)
	}
	council := newUser(t, db, "abrown", access.Council)
	if council.Areas == nil {
		t.Error("CreateUser left nil areas: want an empty list")
	}

	got, err := db.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "JSmith" || got.Name != "Name of JSmith" || got.Role != access.Police ||
		!slices.Equal(got.Areas, []string{"E05000001", "E05000002"}) || got.Disabled ||
		got.PasswordHash != u.PasswordHash || !got.LastSignIn.IsZero() || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("UserByID = %+v, want what was created: %+v", got, u)
	}
	for _, name := range []string{"JSmith", "jsmith", "JSMITH"} {
		got, err := db.UserByUsername(ctx, name)
		if err != nil || got.ID != u.ID {
			t.Errorf("UserByUsername(%q) = %+v, %v; want user %d", name, got, err, u.ID)
		}
	}
	_, err = db.UserByUsername(ctx, "nobody")
	wantCode(t, "UserByUsername of an unknown name", err, geo.ENOTFOUND)
	_, err = db.UserByID(ctx, 999999)
	wantCode(t, "UserByID of an unknown id", err, geo.ENOTFOUND)

	dup := &access.User{Username: "jSMITH", Role: access.Admin, PasswordHash: "x"}
	err = db.CreateUser(ctx, dup)
	wantCode(t, "CreateUser of a taken username in other case", err, geo.ECONFLICT)
	if err != nil && !strings.Contains(geo.ErrorMessage(err), "jSMITH") {
		t.Errorf("conflict message %q does not name the username", geo.ErrorMessage(err))
	}
	err = db.CreateUser(ctx, &access.User{Username: "root", Role: "root", PasswordHash: "x"})
	if err == nil {
		t.Error("CreateUser stored an unknown role")
	}

	users, err := db.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	if !slices.Equal(names, []string{"abrown", "JSmith"}) {
		t.Errorf("Users = %v, want abrown, JSmith (by name, ignoring case)", names)
	}

	u.Name, u.Role, u.Areas, u.Disabled, u.PasswordHash = "John Smith", access.Strategic, nil, true, "$argon2id$another"
	if err := db.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, _ = db.UserByID(ctx, u.ID)
	if got.Name != "John Smith" || got.Role != access.Strategic || len(got.Areas) != 0 || !got.Disabled || got.PasswordHash != "$argon2id$another" {
		t.Errorf("after UpdateUser: %+v", got)
	}
	err = db.UpdateUser(ctx, &access.User{ID: 999999, Role: access.Admin})
	wantCode(t, "UpdateUser of an unknown id", err, geo.ENOTFOUND)

	at := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := db.RecordSignIn(ctx, council.ID, at); err != nil {
		t.Fatal(err)
	}
	got, _ = db.UserByID(ctx, council.ID)
	if !got.LastSignIn.Equal(at) {
		t.Errorf("LastSignIn %v, want %v", got.LastSignIn, at)
	}
}

func TestSessions(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	u := newUser(t, db, "jsmith", access.Police, "W1")
	other := newUser(t, db, "other", access.Council)
	now := time.Now().Truncate(time.Microsecond)
	session := func(user *access.User, expires time.Time) (string, []byte) {
		t.Helper()
		id, hash := access.NewSessionID()
		s := &access.Session{Hash: hash, UserID: user.ID, CreatedAt: now, ExpiresAt: expires, LastSeen: now, IP: "192.0.2.1", UserAgent: "test"}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		return id, hash
	}
	_, live := session(u, now.Add(time.Hour))
	s, su, err := db.SessionUser(ctx, live, now)
	if err != nil {
		t.Fatal(err)
	}
	if s.UserID != u.ID || !s.ExpiresAt.Equal(now.Add(time.Hour)) || !bytes.Equal(s.Hash, live) {
		t.Errorf("session %+v", s)
	}
	if su.ID != u.ID || su.Username != "jsmith" || su.Role != access.Police || !slices.Equal(su.Areas, []string{"W1"}) || su.Disabled {
		t.Errorf("session user %+v", su)
	}
	if su.PasswordHash != "" {
		t.Error("SessionUser returned the password hash")
	}

	_, _, err = db.SessionUser(ctx, access.HashSecret("never issued"), now)
	wantCode(t, "SessionUser of an unknown session", err, geo.ENOTFOUND)
	_, expired := session(u, now.Add(-time.Second))
	_, _, err = db.SessionUser(ctx, expired, now)
	wantCode(t, "SessionUser of an expired session", err, geo.ENOTFOUND)
	_, _, err = db.SessionUser(ctx, live, now.Add(time.Hour))
	wantCode(t, "SessionUser at the moment of expiry", err, geo.ENOTFOUND)

	// Touching moves the expiry, but never past a week from sign-in.
	if err := db.TouchSession(ctx, live, now.Add(time.Minute), now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	s, _, err = db.SessionUser(ctx, live, now)
	if err != nil || !s.ExpiresAt.Equal(now.Add(2*time.Hour)) || !s.LastSeen.Equal(now.Add(time.Minute)) {
		t.Errorf("after TouchSession: %+v, %v", s, err)
	}
	if err := db.TouchSession(ctx, live, now, now.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if s, _, _ = db.SessionUser(ctx, live, now); s == nil || !s.ExpiresAt.Equal(now.Add(7*24*time.Hour)) {
		t.Errorf("touched to 30 days: %+v; want a week from sign-in", s)
	}

	// A disabled user's sessions are not returned.
	u.Disabled = true
	if err := db.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	_, _, err = db.SessionUser(ctx, live, now)
	wantCode(t, "SessionUser of a disabled user", err, geo.ENOTFOUND)
	u.Disabled = false
	if err := db.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SessionUser(ctx, live, now); err != nil {
		t.Errorf("re-enabled user's session: %v", err)
	}

	if err := db.DeleteSession(ctx, live); err != nil {
		t.Fatal(err)
	}
	_, _, err = db.SessionUser(ctx, live, now)
	wantCode(t, "SessionUser of a deleted session", err, geo.ENOTFOUND)

	_, a := session(u, now.Add(time.Hour))
	_, b := session(u, now.Add(time.Hour))
	_, c := session(other, now.Add(time.Hour))
	if err := db.DeleteUserSessions(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, h := range [][]byte{a, b} {
		_, _, err = db.SessionUser(ctx, h, now)
		wantCode(t, "SessionUser after DeleteUserSessions", err, geo.ENOTFOUND)
	}
	if _, _, err := db.SessionUser(ctx, c, now); err != nil {
		t.Errorf("DeleteUserSessions ended another user's session: %v", err)
	}
	if n := count(t, db, "SELECT count(*) FROM sessions WHERE user_id = $1", u.ID); n != 0 {
		t.Errorf("%d sessions of the user left, want none (the expired one too)", n)
	}
}

func TestTokens(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	var secret string
	expires := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Microsecond)
	tok := &access.Token{Name: "nightly feed", Role: access.Partner, Source: "third_party", CreatedBy: "cli:test", ExpiresAt: expires}
	var hashedID int64
	err := db.CreateToken(ctx, tok, func(id int64) []byte {
		hashedID = id
		var h []byte
		secret, h = access.NewToken(id)
		return h
	})
	if err != nil {
		t.Fatal(err)
	}
	if tok.ID == 0 || hashedID != tok.ID || tok.CreatedAt.IsZero() || tok.Areas == nil {
		t.Errorf("CreateToken: id %d, hash made for id %d, created %v, areas %v", tok.ID, hashedID, tok.CreatedAt, tok.Areas)
	}
	id, sec, err := access.ParseToken(secret)
	if err != nil || id != tok.ID {
		t.Fatalf("ParseToken of the new token: %d, %v; want id %d", id, err, tok.ID)
	}
	got, err := db.TokenByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !access.SecretMatches(sec, got.Hash) {
		t.Error("the stored hash does not match the token's secret")
	}
	if got.Name != "nightly feed" || got.Role != access.Partner || got.Source != "third_party" || got.CreatedBy != "cli:test" ||
		!got.ExpiresAt.Equal(expires) || !got.RevokedAt.IsZero() || !got.LastUsed.IsZero() || !got.Live(time.Now()) {
		t.Errorf("TokenByID = %+v", got)
	}

	forever := &access.Token{Name: "police feed", Role: access.Police, Areas: []string{"W1"}}
	if err := db.CreateToken(ctx, forever, func(id int64) []byte { _, h := access.NewToken(id); return h }); err != nil {
		t.Fatal(err)
	}
	got, _ = db.TokenByID(ctx, forever.ID)
	if !got.ExpiresAt.IsZero() || !slices.Equal(got.Areas, []string{"W1"}) || len(got.Hash) != 32 {
		t.Errorf("token without expiry: %+v", got)
	}
	toks, err := db.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 2 || toks[0].ID != forever.ID || toks[1].ID != tok.ID {
		t.Errorf("Tokens: %d, want 2, newest first", len(toks))
	}

	used := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := db.TouchToken(ctx, tok.ID, used); err != nil {
		t.Fatal(err)
	}
	revoked := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	if err := db.RevokeToken(ctx, tok.ID, revoked); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeToken(ctx, tok.ID, revoked.Add(time.Hour)); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	got, _ = db.TokenByID(ctx, tok.ID)
	if !got.RevokedAt.Equal(revoked) || !got.LastUsed.Equal(used) || got.Live(time.Now()) {
		t.Errorf("after revoking twice: revoked %v (want the first, %v), last used %v, live %v", got.RevokedAt, revoked, got.LastUsed, got.Live(time.Now()))
	}
	err = db.RevokeToken(ctx, 999999, revoked)
	wantCode(t, "RevokeToken of an unknown id", err, geo.ENOTFOUND)
	_, err = db.TokenByID(ctx, 999999)
	wantCode(t, "TokenByID of an unknown id", err, geo.ENOTFOUND)

	// A failing hash function leaves no token behind.
	func() {
		defer func() { recover() }()
		db.CreateToken(ctx, &access.Token{Name: "broken", Role: access.Admin}, func(int64) []byte { panic("no hash") })
	}()
	if n := count(t, db, "SELECT count(*) FROM api_tokens WHERE name = 'broken' OR hash = ''"); n != 0 {
		t.Errorf("%d tokens without a hash stored", n)
	}
}

func TestAuditLog(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	base := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	entries := []*access.AuditEntry{
		{At: base, Actor: "user:jsmith", Role: access.Police, Action: "incidents.read", Route: "GET /api/incidents",
			Params: map[string]any{"area": "W1", "strands": []any{"race"}}, Rows: 42, IP: "192.0.2.1", RequestID: "r1"},
		{At: base.Add(time.Hour), Actor: "cli:root", Action: "users.create", Params: map[string]any{"username": "abrown", "role": "council"}},
		{At: base.Add(2 * time.Hour), Actor: "user:jsmith", Role: access.Police, Action: "incidents.export", Rows: 7},
		{At: base.Add(3 * time.Hour), Actor: "token:3:feed", Role: access.Partner, Action: "reports.push", Rows: 12},
	}
	for _, e := range entries {
		if err := db.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
		if e.ID == 0 {
			t.Fatal("Audit set no ID")
		}
	}
	noTime := &access.AuditEntry{Actor: "cli:root", Action: "migrate"}
	if err := db.Audit(ctx, noTime); err != nil {
		t.Fatal(err)
	}
	if time.Since(noTime.At) > time.Minute {
		t.Errorf("an entry without a time got %v, want now", noTime.At)
	}

	all, err := db.AuditLog(ctx, access.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 || all[0].ID != noTime.ID || all[4].ID != entries[0].ID {
		t.Fatalf("AuditLog: %d entries, want 5 newest first", len(all))
	}
	first := all[4]
	if !first.At.Equal(base) || first.Actor != "user:jsmith" || first.Role != access.Police || first.Action != "incidents.read" ||
		first.Route != "GET /api/incidents" || first.Rows != 42 || first.IP != "192.0.2.1" || first.RequestID != "r1" ||
		first.Params["area"] != "W1" || len(first.Params["strands"].([]any)) != 1 {
		t.Errorf("entry read back: %+v", first)
	}
	if all[0].Params == nil || len(all[0].Params) != 0 {
		t.Errorf("an entry without params reads back params %v, want an empty map", all[0].Params)
	}

	ids := func(f access.AuditFilter) []int64 {
		t.Helper()
		es, err := db.AuditLog(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	id := func(i int) int64 { return entries[i].ID }
	tests := []struct {
		name string
		f    access.AuditFilter
		want []int64
	}{
		{"actor", access.AuditFilter{Actor: "user:jsmith"}, []int64{id(2), id(0)}},
		{"action", access.AuditFilter{Action: "users.create"}, []int64{id(1)}},
		{"actor and action", access.AuditFilter{Actor: "user:jsmith", Action: "incidents.read"}, []int64{id(0)}},
		{"since", access.AuditFilter{Since: base.Add(time.Hour), Until: base.Add(24 * time.Hour)}, []int64{id(3), id(2), id(1)}},
		{"until (exclusive)", access.AuditFilter{Until: base.Add(2 * time.Hour)}, []int64{id(1), id(0)}},
		{"window", access.AuditFilter{Since: base.Add(30 * time.Minute), Until: base.Add(150 * time.Minute)}, []int64{id(2), id(1)}},
		{"limit", access.AuditFilter{Actor: "user:jsmith", Limit: 1}, []int64{id(2)}},
		{"no match", access.AuditFilter{Actor: "user:nobody"}, nil},
	}
	for _, tt := range tests {
		if got := ids(tt.f); !slices.Equal(got, tt.want) {
			t.Errorf("%s: ids %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAuditLogAppendOnly(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	e := &access.AuditEntry{Actor: "user:jsmith", Action: "incidents.export", Rows: 500}
	if err := db.Audit(ctx, e); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"UPDATE audit_log SET rows = 0",
		"UPDATE audit_log SET actor = 'user:someone_else' WHERE id = " + strconv.FormatInt(e.ID, 10),
		"DELETE FROM audit_log",
		"DELETE FROM audit_log WHERE id = " + strconv.FormatInt(e.ID, 10),
		"TRUNCATE audit_log",
		"TRUNCATE audit_log RESTART IDENTITY CASCADE",
	} {
		_, err := db.Pool.Exec(ctx, sql)
		if err == nil {
			t.Errorf("%s succeeded", sql)
		} else if !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v; want the append-only trigger's error", sql, err)
		}
	}
	es, err := db.AuditLog(ctx, access.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Actor != "user:jsmith" || es[0].Rows != 500 {
		t.Errorf("after the attempts the log holds %+v, want the one entry unchanged", es)
	}
	// Appending still works.
	if err := db.Audit(ctx, &access.AuditEntry{Actor: "cli:root", Action: "check"}); err != nil {
		t.Error(err)
	}
}

func TestAreaCodesExist(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	square := func(x float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{x, 52}, {x + 0.01, 52}, {x + 0.01, 52.01}, {x, 52.01}, {x, 52}}}}
	}
	_, err := db.ImportAreas(ctx, []geo.Area{
		{Level: "ward", Code: "W2", Name: "Ward two", Geometry: square(-0.8)},
		{Level: "ward", Code: "W1", Name: "Ward one", Geometry: square(-0.78)},
		{Level: "ward", Code: "W3", Name: "Ward three", Geometry: square(-0.76)},
		{Level: "lsoa", Code: "L1", Name: "LSOA one", Geometry: square(-0.8)},
	})
	if err != nil {
		t.Fatal(err)
	}
	missing, err := db.AreaCodesExist(ctx, []string{"W1", "X9", "L1", "w2", "A0"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(missing, []string{"X9", "w2", "A0"}) {
		t.Errorf("missing %v, want X9, w2, A0 in the order given", missing)
	}
	if missing, err := db.AreaCodesExist(ctx, nil); err != nil || len(missing) != 0 {
		t.Errorf("no codes: %v, %v", missing, err)
	}
	codes, err := db.AreaCodes(ctx, "ward", 2)
	if err != nil || !slices.Equal(codes, []string{"W1", "W2"}) {
		t.Errorf("AreaCodes(ward, 2) = %v, %v; want W1, W2", codes, err)
	}
	if codes, err := db.AreaCodes(ctx, "beat", 2); err != nil || len(codes) != 0 {
		t.Errorf("AreaCodes(beat) = %v, %v; want none", codes, err)
	}
}
