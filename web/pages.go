package web

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
)

func (s *Server) handleSignInPage(w http.ResponseWriter, r *http.Request) error {
	if access.PrincipalFrom(r.Context()) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	s.render(w, r, "signin.html", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
	return nil
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return u.RequestURI()
}

// handleSignIn checks a username and password and starts a session. Failures are
// counted per client address and per username; past the limit the answer is 429
// until the oldest failure leaves the window.
func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r, "the sign-in form"); err != nil {
		return err
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	keys := []string{"ip:" + clientIP(r), "user:" + strings.ToLower(username)}
	// One attempt at a time for an address or a username: otherwise a burst of
	// concurrent guesses all pass the limiter before the first of them has failed.
	leave, err := s.signIns.enter(r.Context(), keys)
	if err != nil {
		return errTooManyRequests
	}
	defer leave()
	now := s.opts.Now()
	if ok, wait := s.limiter.Allow(now, keys...); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		s.audit(r, "signin.throttled", map[string]any{"username": username}, 0)
		s.renderStatus(w, r, http.StatusTooManyRequests, "signin.html", map[string]any{"Next": next, "Username": username,
			"Problem": "Too many failed attempts. Wait " + wait.Round(time.Second).String() + " and try again."})
		return nil
	}
	u, err := s.store.UserByUsername(r.Context(), username)
	switch {
	case geo.ErrorCode(err) == geo.ENOTFOUND:
		access.VerifyNoUser(password)
	case err != nil:
		return err
	}
	// A disabled account's password is checked all the same, so that the answer takes
	// as long as any other failure and does not tell that the account exists.
	if u == nil || !access.VerifyPassword(u.PasswordHash, password) || u.Disabled {
		s.limiter.Fail(now, keys...)
		s.audit(r, "signin.failed", map[string]any{"username": username}, 0)
		s.renderStatus(w, r, http.StatusUnauthorized, "signin.html", map[string]any{"Next": next, "Username": username,
			"Problem": "That username and password do not match an active account."})
		return nil
	}
	s.limiter.Succeed("user:" + strings.ToLower(username))
	id, hash := access.NewSessionID()
	sess := &access.Session{Hash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.opts.SessionTTL), LastSeen: now,
		IP: clientIP(r), UserAgent: truncate(r.UserAgent(), 200)}
	if err := s.store.CreateSession(r.Context(), sess); err != nil {
		return err
	}
	if err := s.store.RecordSignIn(r.Context(), u.ID, now); err != nil {
		s.log.Warn("recording a sign-in", "err", err)
	}
	s.setSessionCookie(w, id)
	p := access.FromUser(u)
	noteCaller(r.Context(), p) // the sign-in's log line names who signed in
	s.audit(r.WithContext(access.WithPrincipal(r.Context(), p)), "signin", nil, 0)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) error {
	// The session the caller was authenticated by, found as authenticate finds it.
	if session := sessionCookieValue(r); session != "" {
		hash := access.HashSecret(session)
		s.auth.forget(string(hash))
		if err := s.store.DeleteSession(r.Context(), hash); err != nil {
			return err
		}
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

func (s *Server) handleUsersPage(w http.ResponseWriter, r *http.Request) error {
	return s.usersPage(w, r, http.StatusOK, nil)
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, status int, data map[string]any) error {
	users, err := s.store.Users(r.Context())
	if err != nil {
		return err
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Users"] = users
	data["Roles"] = access.Roles
	s.renderStatus(w, r, status, "users.html", data)
	return nil
}

// handleUsersForm serves the forms of the users page: add, change role and areas,
// disable or enable, reset the password.
func (s *Server) handleUsersForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r, "the form"); err != nil {
		return err
	}
	f := r.PostForm
	areas := splitCodes(f.Get("areas"))
	var msg, password string
	var err error
	switch f.Get("action") {
	case "add":
		var u *access.User
		u, password, err = s.createUser(r, newUser{Username: f.Get("username"), Name: f.Get("name"), Role: f.Get("role"), Areas: areas})
		if err == nil {
			msg = "Added " + u.Username + "."
		}
	case "update":
		role := f.Get("role")
		_, _, err = s.updateUser(r, f.Get("username"), userChange{Role: &role, Areas: &areas})
		msg = "Saved " + f.Get("username") + "."
	case "disable", "enable":
		disabled := f.Get("action") == "disable"
		_, _, err = s.updateUser(r, f.Get("username"), userChange{Disabled: &disabled})
		msg = strings.ToUpper(f.Get("action")[:1]) + f.Get("action")[1:] + "d " + f.Get("username") + "."
	case "reset":
		_, password, err = s.updateUser(r, f.Get("username"), userChange{ResetPassword: true})
		msg = "Reset the password of " + f.Get("username") + "."
	default:
		err = geo.Errorf(geo.EINVALID, "unknown action")
	}
	data := map[string]any{}
	status := http.StatusOK
	if err != nil {
		if status = s.statusOf(err); status >= 500 {
			return err
		}
		data["Problem"] = geo.ErrorMessage(err)
	} else {
		data["Message"] = msg
		if password != "" {
			data["Password"] = password
			data["PasswordFor"] = f.Get("username")
		}
	}
	return s.usersPage(w, r, status, data)
}

func splitCodes(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' }) {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

func (s *Server) handleTokensPage(w http.ResponseWriter, r *http.Request) error {
	return s.tokensPage(w, r, http.StatusOK, nil)
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request, status int, data map[string]any) error {
	ts, err := s.store.Tokens(r.Context())
	if err != nil {
		return err
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Tokens"] = ts
	data["Roles"] = access.Roles
	data["Sources"] = s.opts.Sources
	data["Now"] = s.opts.Now()
	s.renderStatus(w, r, status, "tokens.html", data)
	return nil
}

// handleTokensForm creates or revokes a token; a new token is shown once.
func (s *Server) handleTokensForm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r, "the form"); err != nil {
		return err
	}
	f := r.PostForm
	data := map[string]any{}
	var err error
	switch f.Get("action") {
	case "create":
		var t *access.Token
		var secret string
		t, secret, err = s.createToken(r, newToken{Name: f.Get("name"), Role: f.Get("role"), Source: f.Get("source"), ExpiresIn: f.Get("expires")})
		if err == nil {
			data["Secret"], data["Message"] = secret, "Created token "+strconv.FormatInt(t.ID, 10)+". Copy it now: it is not shown again."
		}
	case "revoke":
		err = s.revokeToken(r, f.Get("id"))
		data["Message"] = "Revoked token " + f.Get("id") + "."
	default:
		err = geo.Errorf(geo.EINVALID, "unknown action")
	}
	status := http.StatusOK
	if err != nil {
		if status = s.statusOf(err); status >= 500 {
			return err
		}
		delete(data, "Message")
		data["Problem"] = geo.ErrorMessage(err)
	}
	return s.tokensPage(w, r, status, data)
}

func (s *Server) handleAuditPage(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), "actor", "action")
	f := access.AuditFilter{Actor: q.single("actor"), Action: q.single("action"), Limit: 500}
	if err := q.err(); err != nil {
		return err
	}
	entries, err := s.store.AuditLog(r.Context(), f)
	if err != nil {
		return err
	}
	s.render(w, r, "audit.html", map[string]any{"Entries": entries, "Filter": f})
	return nil
}

// parseForm reads a posted form: a body past the route's limit is answered 413,
// anything else unreadable 400.
func parseForm(r *http.Request, what string) error {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return geo.Errorf(geo.EINVALID, "%s could not be read", what)
	}
	return nil
}

// keyedGate lets one holder at a time have each key.
type keyedGate struct {
	mu    sync.Mutex
	slots map[string]*gateSlot
}

type gateSlot struct {
	held  chan struct{} // holds a value while the key is held
	users int           // holders and waiters, so that an idle slot is dropped
}

// enter waits until none of keys is held, holding each as it comes free, and
// returns the function that lets them all go; or the context's error, holding none.
func (g *keyedGate) enter(ctx context.Context, keys []string) (func(), error) {
	keys = slices.Compact(slices.Sorted(slices.Values(keys))) // one order: no deadlock
	var held []string
	leave := func() {
		for _, k := range held {
			<-g.slot(k, 0).held
			g.slot(k, -1)
		}
	}
	for _, k := range keys {
		sl := g.slot(k, 1)
		select {
		case sl.held <- struct{}{}:
			held = append(held, k)
		case <-ctx.Done():
			g.slot(k, -1)
			leave()
			return nil, ctx.Err()
		}
	}
	return leave, nil
}

// slot returns the slot of a key, adding delta to its users and dropping it when
// none are left.
func (g *keyedGate) slot(k string, delta int) *gateSlot {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.slots == nil {
		g.slots = map[string]*gateSlot{}
	}
	sl := g.slots[k]
	if sl == nil {
		sl = &gateSlot{held: make(chan struct{}, 1)}
		g.slots[k] = sl
	}
	sl.users += delta
	if sl.users == 0 {
		delete(g.slots, k)
	}
	return sl
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// handleMapPage serves the map. Its settings travel in the page as JSON read by the
// bundled script: what the caller may switch on, the filters' choices and where
// the basemap comes from.
func (s *Server) handleMapPage(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query(), mapViewParams...).err(); err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	// A local archive takes the place of a basemap style from elsewhere.
	style := s.opts.BasemapStyle
	if s.opts.Basemap != nil {
		style = ""
	}
	cfg := map[string]any{
		"role":          who.Role,
		"basemapStyle":  style,
		"basemap":       s.opts.Basemap != nil,
		"strands":       s.opts.Strands,
		"sources":       s.opts.Sources,
		"suppressBelow": s.opts.SuppressBelow,
		"exactCounts":   who.Role.SeesSmallCounts(),
		"incidents":     who.Is(access.IncidentReaders...),
		"nearRepeat":    who.Is(access.AlertHandlers...),
		"alertActions":  who.Is(access.AlertHandlers...),
	}
	levels, err := s.store.AreaLevels(r.Context())
	if err != nil {
		return err
	}
	cfg["levels"] = levels
	if st, err := s.store.Stats(r.Context()); err == nil && !st.LastDay.IsZero() {
		cfg["firstDay"] = st.FirstDay.Format(time.DateOnly)
		cfg["lastDay"] = st.LastDay.Format(time.DateOnly)
	}
	if style != "" {
		w.Header().Set("Content-Security-Policy", mapContentSecurityPolicy(style))
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	s.render(w, r, "map.html", map[string]any{"Config": template.JS(js), "BasemapStyle": style,
		"Strands": s.opts.Strands, "Sources": s.opts.Sources, "Levels": levels, "FirstDay": cfg["firstDay"], "LastDay": cfg["lastDay"]})
	return nil
}

// mapViewParams are the parameters the map keeps in its URL (the view and the
// filters), which the page accepts and its script reads.
var mapViewParams = append([]string{"z", "lat", "lon", "metric", "layers", "level", "week", "preset", "cell", "area", "alert"}, filterParams...)

// mapContentSecurityPolicy lets the map fetch a configured basemap: its style, tiles,
// glyphs and sprites from the style's origin.
func mapContentSecurityPolicy(style string) string {
	u, err := url.Parse(style)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return contentSecurityPolicy
	}
	origin := u.Scheme + "://" + u.Host
	p := strings.Replace(contentSecurityPolicy, "connect-src 'self'", "connect-src 'self' "+origin, 1)
	return strings.Replace(p, "img-src 'self' data: blob:", "img-src 'self' data: blob: "+origin, 1)
}
