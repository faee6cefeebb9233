package access_test

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
)

func TestPasswordRoundTrip(t *testing.T) {
	for _, pw := range []string{"correct horse battery staple", "ünïcødé pässwörd ✓", strings.Repeat("x", 1024)} {
		h, err := access.HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(h, pw) {
			t.Errorf("the hash holds the password")
		}
		if !access.VerifyPassword(h, pw) {
			t.Errorf("VerifyPassword(HashPassword(%.20q)) = false", pw)
		}
	}
}

func TestPasswordWrong(t *testing.T) {
	h, err := access.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"", "correct horse battery stapl", "correct horse battery staple ", "Correct horse battery staple"} {
		if access.VerifyPassword(h, pw) {
			t.Errorf("VerifyPassword accepted %q", pw)
		}
	}
	if access.VerifyNoUser("correct horse battery staple") {
		t.Error("VerifyNoUser returned true")
	}
}

func TestPasswordSaltedPHC(t *testing.T) {
	h1, _ := access.HashPassword("the same password")
	h2, _ := access.HashPassword("the same password")
	if h1 == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)
	m := phc.FindStringSubmatch(h1)
	if m == nil {
		t.Fatalf("%q is not in the PHC format $argon2id$v=19$m=…,t=…,p=…$salt$hash", h1)
	}
	if m[1] != "19456" || m[2] != "2" || m[3] != "1" {
		t.Errorf("parameters m=%s,t=%s,p=%s; want OWASP's m=19456,t=2,p=1", m[1], m[2], m[3])
	}
	salt, err := base64.RawStdEncoding.DecodeString(m[4])
	if err != nil || len(salt) != 16 {
		t.Errorf("salt %q: %d bytes, %v; want 16 bytes of unpadded base64", m[4], len(salt), err)
	}
	key, err := base64.RawStdEncoding.DecodeString(m[5])
	if err != nil || len(key) != 32 {
		t.Errorf("key %q: %d bytes, %v; want 32 bytes of unpadded base64", m[5], len(key), err)
	}
}

func TestPasswordTamperedHash(t *testing.T) {
	const pw = "correct horse battery staple"
	h, err := access.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$")
	flip := func(s string) string {
		b := []byte(s)
		if b[3] == 'A' {
			b[3] = 'B'
		} else {
			b[3] = 'A'
		}
		return string(b)
	}
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := map[string]string{
		"key changed":        with(5, flip(parts[5])),
		"salt changed":       with(4, flip(parts[4])),
		"fewer passes":       with(3, "m=19456,t=1,p=1"),
		"less memory":        with(3, "m=19455,t=2,p=1"),
		"argon2i":            with(1, "argon2i"),
		"other version":      with(2, "v=16"),
		"key truncated":      with(5, parts[5][:20]),
		"empty key":          with(5, ""),
		"key not base64":     with(5, "!!!!"+parts[5][4:]),
		"no parameters":      with(3, ""),
		"zero memory":        with(3, "m=0,t=2,p=1"),
		"huge memory":        with(3, "m=4194304,t=2,p=1"),
		"too many passes":    with(3, "m=19456,t=1000,p=1"),
		"missing a part":     strings.Join(parts[:5], "$"),
		"extra part":         h + "$x",
		"empty":              "",
		"plain text":         pw,
		"bcrypt":             "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"salt and key swap":  with(4, parts[5]),
		"hash of other text": func() string { h, _ := access.HashPassword("other"); return h }(),
	}
	for name, bad := range tests {
		if access.VerifyPassword(bad, pw) {
			t.Errorf("%s: VerifyPassword(%q) = true", name, bad)
		}
	}
	if !access.VerifyPassword(h, pw) {
		t.Error("the untouched hash no longer verifies")
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		pw string
		ok bool
	}{
		{"", false},
		{"short", false},
		{"elevenchars", false},
		{"twelve chars", true},
		{"ééééééééééé", false}, // 11 characters, 22 bytes: counted in characters
		{"éééééééééééé", true},
		{strings.Repeat("a", 1024), true},
		{strings.Repeat("a", 1025), false},
		{strings.Repeat("é", 600), false}, // 600 characters but 1200 bytes
	}
	for _, tt := range tests {
		err := access.CheckPassword(tt.pw)
		if (err == nil) != tt.ok {
			t.Errorf("CheckPassword(%.20q) (%d bytes) = %v, want ok=%v", tt.pw, len(tt.pw), err, tt.ok)
		}
		if err != nil && geo.ErrorCode(err) != geo.EINVALID {
			t.Errorf("CheckPassword(%.20q): code %s, want %s", tt.pw, geo.ErrorCode(err), geo.EINVALID)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw := access.GeneratePassword()
		if len(pw) != 20 {
			t.Fatalf("%q: %d characters, want 20", pw, len(pw))
		}
		if err := access.CheckPassword(pw); err != nil {
			t.Fatalf("a generated password is refused: %v", err)
		}
		if strings.ContainsAny(pw, "lIO01") {
			t.Errorf("%q holds a look-alike character", pw)
		}
		if seen[pw] {
			t.Fatalf("%q generated twice", pw)
		}
		seen[pw] = true
	}
}
