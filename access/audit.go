package access

import (
	"context"
	"time"
)

// AuditEntry records who did what, when: every read or export of incident-level
// data, and every change to accounts, tokens and data. The log is append-only.
type AuditEntry struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	Actor     string         `json:"actor"` // user:jsmith, token:7:feed, cli:root
	Role      Role           `json:"role,omitempty"`
	Action    string         `json:"action"` // e.g. incidents.read, users.create, ingest
	Route     string         `json:"route,omitempty"`
	Params    map[string]any `json:"params,omitempty"` // the filters or the change, never secrets
	Rows      int64          `json:"rows"`
	IP        string         `json:"ip,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
}

// AuditFilter selects audit entries; zero fields match all.
type AuditFilter struct {
	Since, Until time.Time
	Actor        string
	Action       string
	Limit        int
}

// Store keeps accounts, sessions, tokens and the audit log. Lookups return an
// ENOTFOUND error when nothing matches.
type Store interface {
	CreateUser(ctx context.Context, u *User) error
	UserByID(ctx context.Context, id int64) (*User, error)
	UserByUsername(ctx context.Context, username string) (*User, error)
	Users(ctx context.Context) ([]*User, error)
	// UpdateUser saves name, role, areas, disabled and password hash.
	UpdateUser(ctx context.Context, u *User) error
	RecordSignIn(ctx context.Context, userID int64, at time.Time) error

	CreateSession(ctx context.Context, s *Session) error
	// SessionUser returns the live session with this hash and its user.
	SessionUser(ctx context.Context, hash []byte, now time.Time) (*Session, *User, error)
	TouchSession(ctx context.Context, hash []byte, seen, expires time.Time) error
	DeleteSession(ctx context.Context, hash []byte) error
	DeleteUserSessions(ctx context.Context, userID int64) error

	// CreateToken stores t and sets its ID; hash is called with that id and returns
	// the hash of the token's secret.
	CreateToken(ctx context.Context, t *Token, hash func(id int64) []byte) error
	TokenByID(ctx context.Context, id int64) (*Token, error)
	Tokens(ctx context.Context) ([]*Token, error)
	RevokeToken(ctx context.Context, id int64, at time.Time) error
	TouchToken(ctx context.Context, id int64, at time.Time) error

	Audit(ctx context.Context, e *AuditEntry) error
	AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}
