package access

import (
	"context"
	"slices"
	"time"
)

// Principal is the caller of a request: a signed-in user or an API token.
type Principal struct {
	UserID  int64 // 0 for a token
	TokenID int64 // 0 for a user
	Name    string
	Role    Role
	Areas   []string // police: the area codes covered; empty = all
	Source  string   // token: the only source it may write; empty = any
}

// Actor names the principal in the audit log: "user:jsmith" or "token:7:nightly feed".
func (p *Principal) Actor() string {
	if p == nil {
		return "anonymous"
	}
	if p.TokenID != 0 {
		return "token:" + itoa(p.TokenID) + ":" + p.Name
	}
	return "user:" + p.Name
}

// Is reports whether the principal has one of the roles.
func (p *Principal) Is(roles ...Role) bool {
	return p != nil && slices.Contains(roles, p.Role)
}

// Scoped reports whether incident-level reads are limited to the principal's areas.
func (p *Principal) Scoped() bool { return p != nil && p.Role == Police && len(p.Areas) > 0 }

// FromUser returns the principal of a signed-in user.
func FromUser(u *User) *Principal {
	return &Principal{UserID: u.ID, Name: u.Username, Role: u.Role, Areas: u.Areas}
}

// FromToken returns the principal of an API token.
func FromToken(t *Token) *Principal {
	return &Principal{TokenID: t.ID, Name: t.Name, Role: t.Role, Source: t.Source, Areas: t.Areas}
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the context's principal, nil when nobody signed in.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Session is a signed-in browser. Only the hash of its cookie value is kept.
type Session struct {
	Hash      []byte
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
	LastSeen  time.Time
	IP        string
	UserAgent string
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
