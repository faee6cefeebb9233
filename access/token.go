package access

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// User is a person who signs in.
type User struct {
	ID           int64
	Username     string
	Name         string
	Role         Role
	Areas        []string // area codes a police team covers; empty = the whole force area
	Disabled     bool
	PasswordHash string
	CreatedAt    time.Time
	LastSignIn   time.Time
}

// Token is an API token for a machine: a role, an optional source it may write, and
// an expiry. Only the hash of its secret is kept.
type Token struct {
	ID        int64
	Name      string
	Role      Role
	Source    string // partners: the only source the token may write
	Areas     []string
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	RevokedAt time.Time // zero: live
	LastUsed  time.Time
	Hash      []byte
}

// Live reports whether the token may be used at now.
func (t *Token) Live(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// tokenPrefix marks tensionmap tokens, so that secret scanners recognise them.
const tokenPrefix = "tmk_"

// NewToken returns a fresh token string "tmk_<id>_<secret>" for a stored token id,
// and the hash of its secret to store.
func NewToken(id int64) (string, []byte) {
	secret := randomString(32)
	return tokenPrefix + encodeID(id) + "_" + secret, HashSecret(secret)
}

// ParseToken splits a token string into its id and secret, or returns an
// EUNAUTHORIZED error.
func ParseToken(s string) (int64, string, error) {
	bad := geo.Errorf(geo.EUNAUTHORIZED, "not a valid API token")
	rest, ok := strings.CutPrefix(s, tokenPrefix)
	if !ok {
		return 0, "", bad
	}
	idPart, secret, ok := strings.Cut(rest, "_")
	if !ok || len(secret) < 20 || len(secret) > 100 {
		return 0, "", bad
	}
	id, err := decodeID(idPart)
	if err != nil {
		return 0, "", bad
	}
	return id, secret, nil
}

// HashSecret returns the SHA-256 of a high-entropy secret (a token or session id):
// a slow hash buys nothing for 256 random bits.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// SecretMatches compares a secret with a stored hash in constant time.
func SecretMatches(secret string, hash []byte) bool {
	return subtle.ConstantTimeCompare(HashSecret(secret), hash) == 1
}

// NewSessionID returns a random session id for a cookie and the hash to store.
func NewSessionID() (string, []byte) {
	id := randomString(32)
	return id, HashSecret(id)
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func encodeID(id int64) string {
	return hex.EncodeToString([]byte{byte(id >> 40), byte(id >> 32), byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)})
}

func decodeID(s string) (int64, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 6 {
		return 0, geo.Errorf(geo.EUNAUTHORIZED, "not a valid API token")
	}
	var id int64
	for _, c := range b {
		id = id<<8 | int64(c)
	}
	return id, nil
}
