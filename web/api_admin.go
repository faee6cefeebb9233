package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
)

// decodeJSON reads a JSON object body into v, refusing unknown fields.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return geo.Errorf(geo.EINVALID, "the body is empty: want a JSON object")
		}
		return geo.Errorf(geo.EINVALID, "the body is not the JSON object this route takes: %v", err)
	}
	if dec.More() {
		return geo.Errorf(geo.EINVALID, "the body holds more than one JSON value")
	}
	return nil
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query()).err(); err != nil {
		return err
	}
	who := access.PrincipalFrom(r.Context())
	out := map[string]any{"name": who.Name, "role": who.Role, "areas": nonNil(who.Areas)}
	if who.TokenID != 0 {
		out["token_id"], out["source"] = who.TokenID, who.Source
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type userJSON struct {
	Username   string      `json:"username"`
	Name       string      `json:"name"`
	Role       access.Role `json:"role"`
	Areas      []string    `json:"areas"`
	Disabled   bool        `json:"disabled"`
	CreatedAt  time.Time   `json:"created_at"`
	LastSignIn *time.Time  `json:"last_sign_in"`
}

func toUserJSON(u *access.User) userJSON {
	j := userJSON{Username: u.Username, Name: u.Name, Role: u.Role, Areas: nonNil(u.Areas), Disabled: u.Disabled, CreatedAt: u.CreatedAt}
	if !u.LastSignIn.IsZero() {
		t := u.LastSignIn
		j.LastSignIn = &t
	}
	return j
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query()).err(); err != nil {
		return err
	}
	users, err := s.store.Users(r.Context())
	if err != nil {
		return err
	}
	out := make([]userJSON, len(users))
	for i, u := range users {
		out[i] = toUserJSON(u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
	return nil
}

// newUser is the body of POST /api/v1/users.
type newUser struct {
	Username string   `json:"username"`
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Areas    []string `json:"areas"`
	Password string   `json:"password"` // empty: one is generated and returned once
}

// createUser checks and stores a user, returning it and the password when one was
// generated.
func (s *Server) createUser(r *http.Request, in newUser) (*access.User, string, error) {
	role, err := access.ParseRole(in.Role)
	if err != nil {
		return nil, "", err
	}
	username := strings.TrimSpace(in.Username)
	if err := access.CheckUsername(username); err != nil {
		return nil, "", err
	}
	if err := access.CheckScope(role, in.Areas); err != nil {
		return nil, "", err
	}
	generated := ""
	pw := in.Password
	if pw == "" {
		pw = access.GeneratePassword()
		generated = pw
	} else if err := access.CheckPassword(pw); err != nil {
		return nil, "", err
	}
	hash, err := access.HashPassword(pw)
	if err != nil {
		return nil, "", err
	}
	u := &access.User{Username: username, Name: strings.TrimSpace(in.Name), Role: role, Areas: in.Areas, PasswordHash: hash}
	if err := s.store.CreateUser(r.Context(), u); err != nil {
		return nil, "", err
	}
	s.audit(r, "users.create", map[string]any{"username": u.Username, "role": u.Role, "areas": nonNil(u.Areas)}, 1)
	return u, generated, nil
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) error {
	var in newUser
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u, generated, err := s.createUser(r, in)
	if err != nil {
		return err
	}
	out := map[string]any{"user": toUserJSON(u)}
	if generated != "" {
		out["password"] = generated
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// userChange is the body of PATCH /api/v1/users/{username}: the fields to change.
type userChange struct {
	Name          *string   `json:"name"`
	Role          *string   `json:"role"`
	Areas         *[]string `json:"areas"`
	Disabled      *bool     `json:"disabled"`
	ResetPassword bool      `json:"reset_password"`
}

// updateUser applies a change, ends the user's sessions when rights changed, and
// returns the user and any new password.
func (s *Server) updateUser(r *http.Request, username string, c userChange) (*access.User, string, error) {
	u, err := s.store.UserByUsername(r.Context(), username)
	if err != nil {
		return nil, "", err
	}
	changed := map[string]any{"username": u.Username}
	endSessions := false
	if c.Name != nil {
		u.Name = strings.TrimSpace(*c.Name)
		changed["name"] = u.Name
	}
	if c.Role != nil {
		role, err := access.ParseRole(*c.Role)
		if err != nil {
			return nil, "", err
		}
		if role != u.Role {
			if who := access.PrincipalFrom(r.Context()); who.UserID == u.ID {
				return nil, "", geo.Errorf(geo.EINVALID, "you cannot change your own role")
			}
			endSessions = true
		}
		u.Role = role
		changed["role"] = role
	}
	if c.Areas != nil {
		u.Areas = *c.Areas
		changed["areas"] = nonNil(u.Areas)
		endSessions = true
	}
	if err := access.CheckScope(u.Role, u.Areas); err != nil {
		return nil, "", err
	}
	if c.Disabled != nil {
		if who := access.PrincipalFrom(r.Context()); *c.Disabled && who.UserID == u.ID {
			return nil, "", geo.Errorf(geo.EINVALID, "you cannot disable yourself")
		}
		u.Disabled = *c.Disabled
		changed["disabled"] = u.Disabled
		endSessions = endSessions || u.Disabled
	}
	password := ""
	if c.ResetPassword {
		password = access.GeneratePassword()
		if u.PasswordHash, err = access.HashPassword(password); err != nil {
			return nil, "", err
		}
		changed["password"] = "reset"
		endSessions = true
	}
	if err := s.store.UpdateUser(r.Context(), u); err != nil {
		return nil, "", err
	}
	s.auth.forgetUser(u.ID)
	if endSessions {
		if err := s.store.DeleteUserSessions(r.Context(), u.ID); err != nil {
			return nil, "", err
		}
	}
	s.audit(r, "users.update", changed, 1)
	return u, password, nil
}

func (s *Server) handleUpdateUser(w http.ResponseWriter, r *http.Request) error {
	var c userChange
	if err := decodeJSON(r, &c); err != nil {
		return err
	}
	u, password, err := s.updateUser(r, chi.URLParam(r, "username"), c)
	if err != nil {
		return err
	}
	out := map[string]any{"user": toUserJSON(u)}
	if password != "" {
		out["password"] = password
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type tokenJSON struct {
	ID        int64       `json:"id"`
	Name      string      `json:"name"`
	Role      access.Role `json:"role"`
	Source    string      `json:"source,omitempty"`
	Areas     []string    `json:"areas"`
	CreatedBy string      `json:"created_by"`
	CreatedAt time.Time   `json:"created_at"`
	ExpiresAt *time.Time  `json:"expires_at"`
	RevokedAt *time.Time  `json:"revoked_at"`
	LastUsed  *time.Time  `json:"last_used"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toTokenJSON(t *access.Token) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, Role: t.Role, Source: t.Source, Areas: nonNil(t.Areas), CreatedBy: t.CreatedBy,
		CreatedAt: t.CreatedAt, ExpiresAt: optTime(t.ExpiresAt), RevokedAt: optTime(t.RevokedAt), LastUsed: optTime(t.LastUsed)}
}

func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query()).err(); err != nil {
		return err
	}
	ts, err := s.store.Tokens(r.Context())
	if err != nil {
		return err
	}
	out := make([]tokenJSON, len(ts))
	for i, t := range ts {
		out[i] = toTokenJSON(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
	return nil
}

// newToken is the body of POST /api/v1/tokens.
type newToken struct {
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	Source    string   `json:"source"`
	Areas     []string `json:"areas"`
	ExpiresIn string   `json:"expires_in"` // e.g. "90d", "720h"; empty: never
}

// ParseExpiry reads a duration such as 90d, 12h or 30m.
func ParseExpiry(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 3650 {
			return 0, geo.Errorf(geo.EINVALID, "expires: %q is not a number of days from 1 to 3650", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, geo.Errorf(geo.EINVALID, "expires: %q is not a duration such as 90d or 12h", s)
	}
	return d, nil
}

// createToken checks and stores a token and returns it with its secret string,
// which is shown once.
func (s *Server) createToken(r *http.Request, in newToken) (*access.Token, string, error) {
	role, err := access.ParseRole(in.Role)
	if err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 100 {
		return nil, "", geo.Errorf(geo.EINVALID, "name: 1 to 100 characters, saying what the token is for")
	}
	source := geo.NormaliseName(in.Source)
	if source != "" && !contains(s.opts.Sources, source) {
		return nil, "", geo.Errorf(geo.EINVALID, "source: %q is not one of %s", in.Source, strings.Join(s.opts.Sources, ", "))
	}
	if role == access.Partner && source == "" {
		return nil, "", geo.Errorf(geo.EINVALID, "source: a partner token writes one source; say which")
	}
	t := &access.Token{Name: name, Role: role, Source: source, Areas: in.Areas, CreatedBy: access.PrincipalFrom(r.Context()).Actor()}
	if in.ExpiresIn != "" {
		d, err := ParseExpiry(in.ExpiresIn)
		if err != nil {
			return nil, "", err
		}
		t.ExpiresAt = s.opts.Now().Add(d)
	}
	var secret string
	err = s.store.CreateToken(r.Context(), t, func(id int64) []byte {
		tok, hash := access.NewToken(id)
		secret = tok
		return hash
	})
	if err != nil {
		return nil, "", err
	}
	s.audit(r, "tokens.create", map[string]any{"id": t.ID, "name": t.Name, "role": t.Role, "source": t.Source, "expires": optTime(t.ExpiresAt)}, 1)
	return t, secret, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) error {
	var in newToken
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, secret, err := s.createToken(r, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": secret, "details": toTokenJSON(t)})
	return nil
}

func (s *Server) revokeToken(r *http.Request, idText string) error {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return geo.Errorf(geo.EINVALID, "id: %q is not a token id", idText)
	}
	if err := s.store.RevokeToken(r.Context(), id, s.opts.Now()); err != nil {
		return err
	}
	s.auth.forgetToken(id)
	s.audit(r, "tokens.revoke", map[string]any{"id": id}, 1)
	return nil
}

func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.revokeToken(r, chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query(), "since", "until", "actor", "action", "limit")
	f := access.AuditFilter{Since: q.day("since"), Until: q.day("until"), Actor: q.single("actor"), Action: q.single("action"),
		Limit: q.intIn("limit", 100, 1, 10000)}
	if err := q.err(); err != nil {
		return err
	}
	if !f.Until.IsZero() {
		f.Until = f.Until.AddDate(0, 0, 1)
	}
	entries, err := s.store.AuditLog(r.Context(), f)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []access.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
	return nil
}
