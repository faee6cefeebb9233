package access_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
)

func TestTokenRoundTrip(t *testing.T) {
	format := regexp.MustCompile(`^tmk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$`)
	for _, id := range []int64{1, 7, 255, 256, 1<<40 + 12345, 1<<48 - 1} {
		tok, hash := access.NewToken(id)
		if !format.MatchString(tok) {
			t.Errorf("NewToken(%d) = %q, not tmk_<12 hex digits>_<43 base64url characters>", id, tok)
		}
		gotID, secret, err := access.ParseToken(tok)
		if err != nil {
			t.Fatalf("ParseToken(%q): %v", tok, err)
		}
		if gotID != id {
			t.Errorf("ParseToken(NewToken(%d)) id = %d", id, gotID)
		}
		if !access.SecretMatches(secret, hash) {
			t.Errorf("the secret of NewToken(%d) does not match its hash", id)
		}
		if !bytes.Equal(hash, access.HashSecret(secret)) {
			t.Errorf("the hash of NewToken(%d) is not HashSecret of its secret", id)
		}
		if strings.Contains(string(hash), secret) {
			t.Error("the hash holds the secret")
		}
	}
	a, _ := access.NewToken(1)
	b, _ := access.NewToken(1)
	if a == b {
		t.Error("two tokens for one id are equal")
	}
}

func TestParseTokenMalformed(t *testing.T) {
	good, _ := access.NewToken(42)
	_, secret, _ := access.ParseToken(good)
	tests := map[string]string{
		"empty":             "",
		"no prefix":         strings.TrimPrefix(good, "tmk_"),
		"other prefix":      "ghp_" + strings.TrimPrefix(good, "tmk_"),
		"upper-case prefix": "TMK_" + strings.TrimPrefix(good, "tmk_"),
		// A secret may begin with "_" (base64url): without it the id runs into the secret.
		"no separator":    "tmk_00000000002a" + strings.TrimLeft(secret, "_"),
		"bad hex":         "tmk_00000000002g_" + secret,
		"short id":        "tmk_2a_" + secret,
		"long id":         "tmk_0000000000002a_" + secret,
		"empty id":        "tmk__" + secret,
		"short secret":    "tmk_00000000002a_" + secret[:19],
		"no secret":       "tmk_00000000002a_",
		"huge secret":     "tmk_00000000002a_" + strings.Repeat("a", 101),
		"just the prefix": "tmk_",
	}
	for name, s := range tests {
		id, sec, err := access.ParseToken(s)
		if err == nil {
			t.Errorf("%s: ParseToken(%q) = %d, %q; want an error", name, s, id, sec)
			continue
		}
		if geo.ErrorCode(err) != geo.EUNAUTHORIZED {
			t.Errorf("%s: code %s, want %s", name, geo.ErrorCode(err), geo.EUNAUTHORIZED)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error repeats the secret", name)
		}
	}
	// A secret of 20 characters is the shortest accepted.
	if _, _, err := access.ParseToken("tmk_00000000002a_" + secret[:20]); err != nil {
		t.Errorf("a 20-character secret is refused: %v", err)
	}
}

func TestSecretMatches(t *testing.T) {
	hash := access.HashSecret("the secret")
	if !access.SecretMatches("the secret", hash) {
		t.Error("the secret does not match its own hash")
	}
	for _, s := range []string{"", "the secret ", "The secret", "the secre"} {
		if access.SecretMatches(s, hash) {
			t.Errorf("%q matches the hash of %q", s, "the secret")
		}
	}
	if access.SecretMatches("the secret", nil) || access.SecretMatches("the secret", hash[:16]) {
		t.Error("a missing or truncated hash matches")
	}
	if len(hash) != 32 {
		t.Errorf("hash of %d bytes, want SHA-256's 32", len(hash))
	}
	id, h := access.NewSessionID()
	if len(id) < 40 || !access.SecretMatches(id, h) {
		t.Errorf("NewSessionID = %q and a hash it does not match", id)
	}
}

func TestTokenLive(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		tok  access.Token
		live bool
	}{
		{"no expiry", access.Token{}, true},
		{"expires later", access.Token{ExpiresAt: now.Add(time.Second)}, true},
		{"expires now", access.Token{ExpiresAt: now}, false},
		{"expired", access.Token{ExpiresAt: now.Add(-time.Hour)}, false},
		{"revoked", access.Token{RevokedAt: now.Add(-time.Hour)}, false},
		{"revoked later", access.Token{RevokedAt: now.Add(time.Hour)}, false},
		{"revoked, not expired", access.Token{RevokedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}, false},
	}
	for _, tt := range tests {
		if got := tt.tok.Live(now); got != tt.live {
			t.Errorf("%s: Live = %v, want %v", tt.name, got, tt.live)
		}
	}
}
