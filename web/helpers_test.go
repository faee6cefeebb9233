package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/postgis/pgtest"
	"github.com/tensionmap/tensionmap/web"
	"github.com/uber/h3-go/v4"
)

// The synthetic town ends on testEnd; the server's clock stands still at testNow,
// the morning after.
var (
	testEnd = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	testNow = time.Date(2026, 7, 1, 9, 30, 0, 0, time.UTC)
)

// testRows is the size of the synthetic town each environment loads.
const testRows = 3000

// testSessionTTL is long because the server's clock stands still while the
// database's does not: postgis.CreateSession clears sessions that expired a day
// before the database's now(), and a session made at testNow with the default 8h
// would count as long expired.
const testSessionTTL = 20 * 365 * 24 * time.Hour

// testPassword is every seeded user's password.
const testPassword = "correct horse battery staple"

// testKey pseudonymises victim and offender references.
var testKey = []byte("web test pseudonymisation key of more than 32 bytes")

// passwordHash is testPassword's hash, made once: argon2id takes a while.
var passwordHash = sync.OnceValue(func() string {
	h, err := access.HashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// ingester is the intake pipeline as the server's command wires it: the configured
// vocabulary, the stored areas, the postgis writer and geo.Ingest, as one recorded
// ingest run.
type ingester struct {
	db     *postgis.DB
	vocab  *postgis.Vocab
	binner *geo.Binner
}

var _ web.Ingester = (*ingester)(nil)

func newIngester(tb testing.TB, db *postgis.DB) *ingester {
	tb.Helper()
	ctx := context.Background()
	vocab, err := db.EnsureVocab(ctx, geo.DefaultStrands, geo.DefaultSources)
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.EnsureResolutions(ctx, geo.DefaultResolutions); err != nil {
		tb.Fatal(err)
	}
	binner, err := geo.NewBinner(geo.DefaultResolutions, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &ingester{db: db, vocab: vocab, binner: binner}
}

func (ing *ingester) Ingest(ctx context.Context, r geo.Reader, defaults geo.Defaults, actor string, onReject func(*geo.RowError)) (geo.Summary, error) {
	v, err := geo.NewValidator(geo.ValidatorOptions{Strands: geo.DefaultStrands, Sources: geo.DefaultSources, Key: testKey,
		Defaults: defaults, Now: func() time.Time { return testNow }})
	if err != nil {
		return geo.Summary{}, err
	}
	areas, err := ing.db.LoadAreas(ctx)
	if err != nil {
		return geo.Summary{}, err
	}
	w, err := ing.db.NewIncidentWriter(ctx, ing.vocab, ing.binner)
	if err != nil {
		return geo.Summary{}, err
	}
	defer w.Close()
	runID, err := ing.db.StartRun(ctx, "api", actor, []string{"web test"})
	if err != nil {
		return geo.Summary{}, err
	}
	w.SetRun(runID)
	sum, err := geo.Ingest(ctx, r, w, geo.IngestOptions{Validator: v, Binner: ing.binner, Areas: geo.NewAreaIndex(areas), Writers: 2,
		OnReject: func(_ *geo.RawIncident, e *geo.RowError) error {
			if onReject != nil {
				onReject(e)
			}
			return nil
		}})
	if ferr := ing.db.FinishRun(context.WithoutCancel(ctx), runID, sum, err); ferr != nil && err == nil {
		err = ferr
	}
	return sum, err
}

// env is a server over a database of its own holding a small synthetic town and one
// user per role, each named after the role.
type env struct {
	t      testing.TB
	ctx    context.Context
	db     *postgis.DB
	srv    *web.Server
	ts     *httptest.Server
	opts   web.Options
	gen    *synth.Generator
	loaded geo.Summary
	users  map[access.Role]*access.User
	client *http.Client
}

// newEnv builds an environment; opts adjust the server's options.
func newEnv(t testing.TB, opts ...func(*web.Options)) *env {
	t.Helper()
	ctx := context.Background()
	db, err := postgis.Open(ctx, pgtest.NewDatabase(t), postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	g, err := synth.New(synth.Options{Seed: 11, Rows: testRows, Years: 2, End: testEnd})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportAreas(ctx, g.GeoAreas()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetPopulation(ctx, g.Populations()); err != nil {
		t.Fatal(err)
	}
	ing := newIngester(t, db)
	sum, err := ing.Ingest(ctx, g.Reader(), geo.Defaults{}, "cli:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Inserted != testRows {
		t.Fatalf("loading the synthetic town: %s; want %d inserted", sum, testRows)
	}
	o := web.Options{Version: "test", Strands: geo.DefaultStrands, Sources: geo.DefaultSources, SecureCookies: false,
		SessionTTL: testSessionTTL, Unavailable: postgis.Unavailable, Now: func() time.Time { return testNow }}
	for _, f := range opts {
		f(&o)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := web.New(o, db, ing, log, prometheus.NewRegistry())
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{t: t, ctx: ctx, db: db, srv: srv, ts: ts, opts: o, gen: g, loaded: sum, users: map[access.Role]*access.User{},
		client: &http.Client{CheckRedirect: noRedirect}}
	for _, r := range access.Roles {
		e.users[r] = e.createUser(string(r), r)
	}
	return e
}

// noRedirect makes a client return a redirect as it is.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// testWriter sends the server's warnings and errors to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// createUser stores a user with testPassword.
func (e *env) createUser(username string, role access.Role, areas ...string) *access.User {
	e.t.Helper()
	u := &access.User{Username: username, Name: "Test " + username, Role: role, Areas: areas, PasswordHash: passwordHash()}
	if err := e.db.CreateUser(e.ctx, u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// caller is who a request is sent as: nobody, a session cookie or an API token.
type caller struct {
	name   string
	cookie string
	token  string
}

var nobody = caller{name: "nobody"}

// as returns a new session of the user of a role.
func (e *env) as(r access.Role) caller { return e.sessionOf(e.users[r]) }

// sessionOf stores a new session for u, as signing in would.
func (e *env) sessionOf(u *access.User) caller {
	e.t.Helper()
	id, hash := access.NewSessionID()
	s := &access.Session{Hash: hash, UserID: u.ID, CreatedAt: testNow, ExpiresAt: testNow.Add(testSessionTTL), LastSeen: testNow, IP: "127.0.0.1"}
	if err := e.db.CreateSession(e.ctx, s); err != nil {
		e.t.Fatal(err)
	}
	return caller{name: string(u.Role) + " session", cookie: id}
}

// token stores an API token and returns a caller sending it. mod may set expiry,
// revocation or areas before it is stored.
func (e *env) token(role access.Role, source string, mod ...func(*access.Token)) (caller, *access.Token) {
	e.t.Helper()
	t := &access.Token{Name: string(role) + " test token", Role: role, Source: source, CreatedBy: "test"}
	for _, m := range mod {
		m(t)
	}
	var secret string
	err := e.db.CreateToken(e.ctx, t, func(id int64) []byte {
		tok, hash := access.NewToken(id)
		secret = tok
		return hash
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return caller{name: string(role) + " token", token: secret}, t
}

// resp is an answer read whole.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r *resp) String() string {
	b := r.body
	if len(b) > 400 {
		b = b[:400]
	}
	return http.StatusText(r.status) + " " + strings.TrimSpace(string(b))
}

// json decodes the body into v, failing the test if it is not JSON.
func (r *resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r, err)
	}
}

// message returns the message of a JSON error answer.
func (r *resp) message(t testing.TB) string {
	t.Helper()
	var m struct{ Error, Message string }
	r.json(t, &m)
	return m.Message
}

// do sends a request as c. headers are name, value pairs.
func (e *env) do(c caller, method, path string, body io.Reader, headers ...string) *resp {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, e.ts.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "tm_session", Value: c.cookie})
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return &resp{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) get(c caller, path string, headers ...string) *resp {
	e.t.Helper()
	return e.do(c, "GET", path, nil, headers...)
}

// send sends v as a JSON body.
func (e *env) send(c caller, method, path string, v any, headers ...string) *resp {
	e.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(c, method, path, bytes.NewReader(b), append([]string{"Content-Type", "application/json"}, headers...)...)
}

// postForm sends a form, as a browser does.
func (e *env) postForm(c caller, path string, form url.Values, headers ...string) *resp {
	e.t.Helper()
	return e.do(c, "POST", path, strings.NewReader(form.Encode()),
		append([]string{"Content-Type", "application/x-www-form-urlencoded"}, headers...)...)
}

// getJSON gets path as c, wants 200 and decodes the answer into v.
func (e *env) getJSON(c caller, path string, v any) {
	e.t.Helper()
	r := e.get(c, path)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET %s as %s: %s; want 200", path, c.name, r)
	}
	r.json(e.t, v)
}

// count runs a counting query.
func (e *env) count(sql string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.db.Pool.QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// auditEntries returns the audit log's entries for an action, newest first.
func (e *env) auditEntries(action string) []access.AuditEntry {
	e.t.Helper()
	es, err := e.db.AuditLog(e.ctx, access.AuditFilter{Action: action, Limit: 10000})
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}

// cookie returns the Set-Cookie of a name in an answer, nil if none.
func (r *resp) cookie(name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// townCell is the H3 cell at res holding the synthetic town's centre.
func townCell(res int) string {
	return h3.LatLngToCell(h3.NewLatLng(52.04, -0.76), res).String()
}

// townTile is "z/x/y" of the tile at zoom z holding the synthetic town's centre.
func townTile(z int) string {
	t := maptile.At(orb.Point{-0.76, 52.04}, maptile.Zoom(z))
	return fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y)
}
