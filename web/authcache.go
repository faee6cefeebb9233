package web

import (
	"sync"
	"time"

	"github.com/tensionmap/tensionmap/access"
)

// authCache remembers who a session cookie or an API token stands for, for a few
// seconds: a map asks for dozens of tiles at once, and a database round trip for
// each would cost more than serving a cached tile. Sign-out, a user's change and a
// token's revocation through this server forget the entries at once; a change made
// elsewhere (the command line, another instance) takes effect within authCacheTTL.
type authCache struct {
	mu      sync.Mutex
	entries map[string]authEntry
}

type authEntry struct {
	principal *access.Principal
	userID    int64
	tokenID   int64
	until     time.Time // monotonic: the server's clock setting does not matter
	expires   time.Time // the session's or token's own end, by the server's clock; zero: none
}

const (
	authCacheTTL = 10 * time.Second
	authCacheMax = 10000
)

func newAuthCache() *authCache { return &authCache{entries: map[string]authEntry{}} }

func (c *authCache) get(key string, now time.Time) *access.Principal {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil
	}
	if time.Now().After(e.until) || !e.expires.IsZero() && !now.Before(e.expires) {
		delete(c.entries, key)
		return nil
	}
	return e.principal
}

func (c *authCache) put(key string, p *access.Principal, userID, tokenID int64, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= authCacheMax {
		clear(c.entries)
	}
	c.entries[key] = authEntry{principal: p, userID: userID, tokenID: tokenID, until: time.Now().Add(authCacheTTL), expires: expires}
}

func (c *authCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// forgetUser forgets every session and token of a user.
func (c *authCache) forgetUser(id int64) {
	c.forgetIf(func(e authEntry) bool { return e.userID == id })
}

func (c *authCache) forgetToken(id int64) {
	c.forgetIf(func(e authEntry) bool { return e.tokenID == id })
}

func (c *authCache) forgetIf(drop func(authEntry) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if drop(e) {
			delete(c.entries, k)
		}
	}
}
