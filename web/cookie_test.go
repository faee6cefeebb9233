package web

import (
	"net/http"
	"testing"
)

// TestSessionCookieValue: the session cookie is found as Request.Cookie finds it,
// among other cookies, quoted or not, over several Cookie headers.
func TestSessionCookieValue(t *testing.T) {
	for _, lines := range [][]string{
		nil,
		{""},
		{"tm_session=abc"},
		{"a=1; tm_session=abc; b=2"},
		{"a=1;tm_session=abc"},
		{`tm_session="abc"`},
		{"a=1", "b=2; tm_session=xyz"},
		{"tm_session=first; tm_session=second"},
		{"tm_sessionx=no; xtm_session=no"},
		{"tm_session="},
		{"  tm_session=spaced  ; a=b"},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header["Cookie"] = lines
		want := ""
		if c, err := r.Cookie(sessionCookie); err == nil {
			want = c.Value
		}
		if got := sessionCookieValue(r); got != want {
			t.Errorf("Cookie %q: session %q; Request.Cookie finds %q", lines, got, want)
		}
	}
}
