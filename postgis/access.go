package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
)

var _ access.Store = (*DB)(nil)

const userColumns = `id, username, name, role, areas, disabled, password_hash, created_at, coalesce(last_sign_in, 'epoch')`

func scanUser(row pgx.Row) (*access.User, error) {
	u := &access.User{}
	var role string
	err := row.Scan(&u.ID, &u.Username, &u.Name, &role, &u.Areas, &u.Disabled, &u.PasswordHash, &u.CreatedAt, &u.LastSignIn)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geo.Errorf(geo.ENOTFOUND, "no such user")
	} else if err != nil {
		return nil, fmt.Errorf("postgis: user: %w", err)
	}
	u.Role = access.Role(role)
	if u.LastSignIn.Unix() == 0 {
		u.LastSignIn = time.Time{}
	}
	return u, nil
}

// CreateUser stores a new user and sets its ID; ECONFLICT when the username is taken.
func (db *DB) CreateUser(ctx context.Context, u *access.User) error {
	if u.Areas == nil {
		u.Areas = []string{}
	}
	err := db.Pool.QueryRow(ctx, `INSERT INTO users (username, name, role, areas, disabled, password_hash)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`,
		u.Username, u.Name, string(u.Role), u.Areas, u.Disabled, u.PasswordHash).Scan(&u.ID, &u.CreatedAt)
	if isUniqueViolation(err) {
		return geo.Errorf(geo.ECONFLICT, "the username %s is taken", u.Username)
	} else if err != nil {
		return fmt.Errorf("postgis: creating a user: %w", err)
	}
	return nil
}

// UserByID returns a user, ENOTFOUND if none.
func (db *DB) UserByID(ctx context.Context, id int64) (*access.User, error) {
	return scanUser(db.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

// UserByUsername returns a user by name, ignoring case; ENOTFOUND if none.
func (db *DB) UserByUsername(ctx context.Context, username string) (*access.User, error) {
	return scanUser(db.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(username) = lower($1)`, username))
}

// Users returns every user by username.
func (db *DB) Users(ctx context.Context) ([]*access.User, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY lower(username)`)
	if err != nil {
		return nil, fmt.Errorf("postgis: users: %w", err)
	}
	defer rows.Close()
	var out []*access.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UpdateUser saves a user's name, role, areas, disabled flag and password hash.
func (db *DB) UpdateUser(ctx context.Context, u *access.User) error {
	if u.Areas == nil {
		u.Areas = []string{}
	}
	tag, err := db.Pool.Exec(ctx, `UPDATE users SET name = $2, role = $3, areas = $4, disabled = $5, password_hash = $6 WHERE id = $1`,
		u.ID, u.Name, string(u.Role), u.Areas, u.Disabled, u.PasswordHash)
	if err != nil {
		return fmt.Errorf("postgis: updating a user: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return geo.Errorf(geo.ENOTFOUND, "no such user")
	}
	return nil
}

// RecordSignIn notes when a user last signed in.
func (db *DB) RecordSignIn(ctx context.Context, userID int64, at time.Time) error {
	_, err := db.Pool.Exec(ctx, `UPDATE users SET last_sign_in = $2 WHERE id = $1`, userID, at)
	return err
}

// Visit records that a user saw the home page at at and returns when their last
// visit was: the home page seen before this visit began, a visit ending after gap
// without one. It is zero on a first visit.
func (db *DB) Visit(ctx context.Context, userID int64, at time.Time, gap time.Duration) (time.Time, error) {
	var prev *time.Time
	err := db.Pool.QueryRow(ctx, `UPDATE users SET
		previous_visit_at = CASE WHEN last_visit_at IS NULL THEN NULL
			WHEN $2::timestamptz - last_visit_at > make_interval(secs => $3) THEN last_visit_at ELSE previous_visit_at END,
		last_visit_at = $2 WHERE id = $1 RETURNING previous_visit_at`, userID, at, gap.Seconds()).Scan(&prev)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, geo.Errorf(geo.ENOTFOUND, "no user %d", userID)
	} else if err != nil {
		return time.Time{}, fmt.Errorf("postgis: recording a visit: %w", err)
	}
	if prev == nil {
		return time.Time{}, nil
	}
	return *prev, nil
}

// ReportsLoadedSince counts the reports stored by the ingest runs that finished
// after since (runs of outcomes, whose summaries count no unlocated rows, aside).
func (db *DB) ReportsLoadedSince(ctx context.Context, since time.Time) (int64, error) {
	var n int64
	err := db.Pool.QueryRow(ctx, `SELECT coalesce(sum((summary->>'inserted')::bigint), 0)::bigint FROM ingest_runs
		WHERE status = 'done' AND finished_at > $1 AND summary ? 'unlocated'`, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgis: reports loaded since %s: %w", since.Format(time.RFC3339), err)
	}
	return n, nil
}

// CreateSession stores a session.
func (db *DB) CreateSession(ctx context.Context, s *access.Session) error {
	_, err := db.Pool.Exec(ctx, `INSERT INTO sessions (hash, user_id, created_at, expires_at, last_seen, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, s.Hash, s.UserID, s.CreatedAt, s.ExpiresAt, s.LastSeen, s.IP, s.UserAgent)
	if err != nil {
		return fmt.Errorf("postgis: creating a session: %w", err)
	}
	// Expired sessions are of no use to anyone: clear them out now and then.
	_, _ = db.Pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < now() - interval '1 day'`)
	return nil
}

// SessionUser returns a live session and its user; ENOTFOUND when the session is
// unknown or expired or the user disabled.
func (db *DB) SessionUser(ctx context.Context, hash []byte, now time.Time) (*access.Session, *access.User, error) {
	s := &access.Session{Hash: hash}
	u := &access.User{}
	var role string
	err := db.Pool.QueryRow(ctx, `SELECT s.user_id, s.created_at, s.expires_at, s.last_seen,
			u.username, u.name, u.role, u.areas, u.disabled
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.hash = $1 AND s.expires_at > $2 AND NOT u.disabled`, hash, now).
		Scan(&s.UserID, &s.CreatedAt, &s.ExpiresAt, &s.LastSeen, &u.Username, &u.Name, &role, &u.Areas, &u.Disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, geo.Errorf(geo.ENOTFOUND, "no such session")
	} else if err != nil {
		return nil, nil, fmt.Errorf("postgis: session: %w", err)
	}
	u.ID, u.Role = s.UserID, access.Role(role)
	return s, u, nil
}

// TouchSession records activity on a session and moves its expiry.
func (db *DB) TouchSession(ctx context.Context, hash []byte, seen, expires time.Time) error {
	_, err := db.Pool.Exec(ctx, `UPDATE sessions SET last_seen = $2, expires_at = least($3, created_at + interval '7 days') WHERE hash = $1`, hash, seen, expires)
	return err
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := db.Pool.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
	return err
}

// DeleteUserSessions ends every session of a user (disabled, reset or demoted).
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	_, err := db.Pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	return err
}

const tokenColumns = `id, name, role, source, areas, created_by, created_at, coalesce(expires_at, 'epoch'),
	coalesce(revoked_at, 'epoch'), coalesce(last_used, 'epoch'), hash`

func scanToken(row pgx.Row) (*access.Token, error) {
	t := &access.Token{}
	var role string
	err := row.Scan(&t.ID, &t.Name, &role, &t.Source, &t.Areas, &t.CreatedBy, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.LastUsed, &t.Hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geo.Errorf(geo.ENOTFOUND, "no such token")
	} else if err != nil {
		return nil, fmt.Errorf("postgis: token: %w", err)
	}
	t.Role = access.Role(role)
	for _, p := range []*time.Time{&t.ExpiresAt, &t.RevokedAt, &t.LastUsed} {
		if p.Unix() == 0 {
			*p = time.Time{}
		}
	}
	return t, nil
}

// CreateToken stores a token and its secret's hash, made from the new id.
func (db *DB) CreateToken(ctx context.Context, t *access.Token, hash func(id int64) []byte) error {
	if t.Areas == nil {
		t.Areas = []string{}
	}
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var expires any
		if !t.ExpiresAt.IsZero() {
			expires = t.ExpiresAt
		}
		err := tx.QueryRow(ctx, `INSERT INTO api_tokens (name, role, source, areas, hash, created_by, expires_at)
			VALUES ($1, $2, $3, $4, '', $5, $6) RETURNING id, created_at`,
			t.Name, string(t.Role), t.Source, t.Areas, t.CreatedBy, expires).Scan(&t.ID, &t.CreatedAt)
		if err != nil {
			return fmt.Errorf("postgis: creating a token: %w", err)
		}
		t.Hash = hash(t.ID)
		_, err = tx.Exec(ctx, `UPDATE api_tokens SET hash = $2 WHERE id = $1`, t.ID, t.Hash)
		return err
	})
}

// TokenByID returns a token, ENOTFOUND if none.
func (db *DB) TokenByID(ctx context.Context, id int64) (*access.Token, error) {
	return scanToken(db.Pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = $1`, id))
}

// Tokens returns every token, newest first.
func (db *DB) Tokens(ctx context.Context) ([]*access.Token, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("postgis: tokens: %w", err)
	}
	defer rows.Close()
	var out []*access.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token; ENOTFOUND if none, a no-op if already revoked.
func (db *DB) RevokeToken(ctx context.Context, id int64, at time.Time) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, at)
	if err != nil {
		return fmt.Errorf("postgis: revoking a token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return geo.Errorf(geo.ENOTFOUND, "no token %d", id)
	}
	return nil
}

// TouchToken records a token's use.
func (db *DB) TouchToken(ctx context.Context, id int64, at time.Time) error {
	_, err := db.Pool.Exec(ctx, `UPDATE api_tokens SET last_used = $2 WHERE id = $1`, id, at)
	return err
}

// Audit appends an entry to the audit log.
func (db *DB) Audit(ctx context.Context, e *access.AuditEntry) error {
	params := e.Params
	if params == nil {
		params = map[string]any{}
	}
	js, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("postgis: audit params: %w", err)
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	err = db.Pool.QueryRow(ctx, `INSERT INTO audit_log (at, actor, role, action, route, params, rows, ip, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		e.At, e.Actor, string(e.Role), e.Action, e.Route, js, e.Rows, e.IP, e.RequestID).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("postgis: audit: %w", err)
	}
	return nil
}

// AuditLog returns audit entries matching f, newest first.
func (db *DB) AuditLog(ctx context.Context, f access.AuditFilter) ([]access.AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 100
	}
	var since, until any
	if !f.Since.IsZero() {
		since = f.Since
	}
	if !f.Until.IsZero() {
		until = f.Until
	}
	rows, err := db.Pool.Query(ctx, `SELECT id, at, actor, role, action, route, params, rows, ip, request_id FROM audit_log
		WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2)
		AND ($3 = '' OR actor = $3) AND ($4 = '' OR action = $4)
		ORDER BY id DESC LIMIT $5`, since, until, f.Actor, f.Action, limit)
	if err != nil {
		return nil, fmt.Errorf("postgis: audit log: %w", err)
	}
	defer rows.Close()
	var out []access.AuditEntry
	for rows.Next() {
		var e access.AuditEntry
		var role string
		var params []byte
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &role, &e.Action, &e.Route, &params, &e.Rows, &e.IP, &e.RequestID); err != nil {
			return nil, err
		}
		e.Role = access.Role(role)
		if err := json.Unmarshal(params, &e.Params); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
