package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
)

// caller holds the principal of a request for the access log. The log's middleware
// runs before authentication, whose principal travels down the chain in a context the
// log never sees: so the log puts an empty holder in the context first, and
// authentication (or a sign-in) fills it. Atomic: a handler may run in a goroutine of
// its own (a time-out), and the log reads the holder after the chain returns.
type caller struct {
	p atomic.Pointer[access.Principal]
	// quiet marks a routine answer (a tile from the cache): logged at debug level,
	// one in quietSample at info, and counted in the metrics like any other.
	quiet atomic.Bool
	// The request's id: the one a proxy gave in X-Request-Id, or the server's prefix
	// and the request's number, written out only when something logs it.
	given, prefix string
	n             uint64
	// w is the answer's writer as the chain below the log sees it: one allocation
	// with the holder.
	w loggedWriter
}

// loggedWriter passes an answer on and records its status and size for the access
// log and the metrics, as chi's WrapResponseWriter does, without the allocations of
// its own: a cached tile's answer is a few microseconds of the server's work.
type loggedWriter struct {
	http.ResponseWriter
	status      int
	bytes       int
	wroteHeader bool
}

// WriteHeader records the first final status (1xx answers are passed on, not kept).
func (w *loggedWriter) WriteHeader(code int) {
	if !w.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *loggedWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// ReadFrom keeps the server's own copy (sendfile for a file) when it has one.
func (w *loggedWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(w.ResponseWriter, r)
	}
	w.bytes += int(n)
	return n, err
}

// Flush sends what is buffered, when the server's writer can.
func (w *loggedWriter) Flush() {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the server's writer.
func (w *loggedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status is the answer's status, 0 before anything was written.
func (w *loggedWriter) Status() int { return w.status }

// BytesWritten is the size of the answer's body so far.
func (w *loggedWriter) BytesWritten() int { return w.bytes }

// maxGivenRequestID is the longest X-Request-Id taken as the request's id.
const maxGivenRequestID = 128

// requestID returns the id of the request whose context is ctx ("" outside
// accessLog): the X-Request-Id it came with, else host/random-000042 as chi's
// RequestID writes them.
func requestID(ctx context.Context) string {
	if c, ok := ctx.Value(callerKey{}).(*caller); ok {
		return c.id()
	}
	return ""
}

func (c *caller) id() string {
	if c.given != "" {
		return c.given
	}
	return fmt.Sprintf("%s-%06d", c.prefix, c.n)
}

// newRequestPrefix returns the prefix of a server's request ids: the host's name and
// a random part, so that ids stay apart across servers and restarts.
func newRequestPrefix() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	var b [6]byte
	rand.Read(b[:])
	return host + "/" + base64.RawURLEncoding.EncodeToString(b[:])
}

// quietSample is how many quiet answers one info line stands for.
const quietSample = 1000

// quietLog marks the request of ctx as routine for the access log.
func quietLog(ctx context.Context) {
	if c, ok := ctx.Value(callerKey{}).(*caller); ok {
		c.quiet.Store(true)
	}
}

type callerKey struct{}

// noteCaller records p as the caller of the request whose context is ctx, for its
// access log line. Outside accessLog it does nothing.
func noteCaller(ctx context.Context, p *access.Principal) {
	if c, ok := ctx.Value(callerKey{}).(*caller); ok && p != nil {
		c.p.Store(p)
	}
}

// callerAttrs names the caller in an access log line: who ("user:jsmith",
// "token:7:nightly feed" or "anonymous"), the user's or token's id and the role.
func callerAttrs(p *access.Principal) []slog.Attr {
	if p == nil {
		return []slog.Attr{slog.String("who", "anonymous")}
	}
	attrs := []slog.Attr{slog.String("who", p.Actor())}
	if p.TokenID != 0 {
		attrs = append(attrs, slog.Int64("token_id", p.TokenID))
	} else {
		attrs = append(attrs, slog.Int64("user_id", p.UserID))
	}
	return append(attrs, slog.String("role", string(p.Role)))
}

// accessLog logs one structured line a request, naming its caller, and counts it in
// the metrics, by route pattern so that ids in paths do not explode the label space.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		who := &caller{given: r.Header.Get("X-Request-Id"), prefix: s.requestPrefix}
		who.w.ResponseWriter = w
		ww := &who.w
		if len(who.given) > maxGivenRequestID {
			who.given = "" // not a proxy's id: numbered as the server's own
		}
		if who.given == "" {
			who.n = s.requests.Add(1)
		}
		next.ServeHTTP(ww, r.WithContext(context.WithValue(r.Context(), callerKey{}, who)))
		took := time.Since(start)
		pattern := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			pattern = rc.RoutePattern()
		}
		s.metrics.observe(r.Method, pattern, ww.Status(), took)
		level, sampled := slog.LevelInfo, false
		if who.quiet.Load() && ww.Status() < 400 {
			level = slog.LevelDebug
			if n := s.quiet.Add(1); n%quietSample == 1 {
				level, sampled = slog.LevelInfo, true
			}
		}
		if !s.log.Enabled(r.Context(), level) {
			// Not logged at this level: the line is not built either.
			return
		}
		attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", pattern),
			slog.Int("status", ww.Status()), slog.Int("bytes", ww.BytesWritten()), slog.Duration("took", took)}
		attrs = append(attrs, callerAttrs(who.p.Load())...)
		attrs = append(attrs, slog.String("ip", clientIP(r)), slog.String("request_id", who.id()))
		if sampled {
			attrs = append(attrs, slog.Int("sampled", quietSample))
		}
		s.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// recoverer turns a panic into a 500 and a logged stack, so no request brings the
// server down.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "value", fmt.Sprint(v), "path", r.URL.Path, "stack", string(debug.Stack()),
					"request_id", requestID(r.Context()))
				s.fail(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows scripts, styles and connections from the service
// itself only: no inline script, no CDN.
// securityHeaderValues are the headers every answer carries, keys canonical.
var securityHeaderValues = []struct {
	key   string
	value []string
}{
	{"Content-Security-Policy", []string{contentSecurityPolicy}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"Referrer-Policy", []string{"same-origin"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
	{"Permissions-Policy", []string{"geolocation=(), camera=(), microphone=()"}},
}

// tileSecurityHeaderValues are those of a vector tile (a binary answer the map's
// script fetches, never a document a browser shows or frames): the headers OWASP asks
// of API answers, nosniff and a policy that lets nothing load or frame it. A tile
// is the most frequent answer by far; the policies of documents (referrer, opener,
// permissions) would only add to each.
var tileSecurityHeaderValues = []struct {
	key   string
	value []string
}{
	{"Content-Security-Policy", []string{"default-src 'none'; frame-ancestors 'none'"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
}

// isTile reports whether a request asks for a vector tile (not a layer's TileJSON).
func isTile(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/tiles/") && strings.HasSuffix(r.URL.Path, ".mvt")
}

var hstsValue = []string{"max-age=31536000"}

const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; " +
	"form-action 'self'; frame-ancestors 'none'"

func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The values are shared, never written to (each slice is full: an Add copies it),
		// so a response sets them without allocating.
		h := w.Header()
		values := securityHeaderValues
		if isTile(r) {
			values = tileSecurityHeaderValues
		}
		for _, kv := range values {
			h[kv.key] = kv.value
		}
		if s.opts.SecureCookies {
			h["Strict-Transport-Security"] = hstsValue
		}
		next.ServeHTTP(w, r)
	})
}

// compress compresses the answers of the types named, as chi's Compress does; the
// vector tiles pass by it, stored gzipped already (writeTile).
func compress(types ...string) func(http.Handler) http.Handler {
	c := middleware.Compress(5, types...)
	return func(next http.Handler) http.Handler {
		compressed := c(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isTile(r) {
				next.ServeHTTP(w, r)
				return
			}
			compressed.ServeHTTP(w, r)
		})
	}
}

// cors answers browsers calling the API from the configured origins; with none
// configured it adds nothing and the browser's same-origin policy stands.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !strings.HasPrefix(r.URL.Path, "/api/") || !slices.Contains(s.opts.CORSOrigins, origin) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Vary", "Origin")
		h.Set("Access-Control-Allow-Credentials", "true")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sessionCookie is the name of the session cookie.
const sessionCookie = "tm_session"

// sessionCookieValue returns the value of the first session cookie the request
// carries, "" when none: found in the Cookie headers as Request.Cookie finds it,
// without making a Cookie of every cookie on the way (most requests are tiles, each
// with the session).
func sessionCookieValue(r *http.Request) string {
	for _, line := range r.Header["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			name, val, ok := strings.Cut(textproto.TrimString(part), "=")
			if !ok || name != sessionCookie {
				continue
			}
			if len(val) > 1 && val[0] == '"' && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			}
			return val
		}
	}
	return ""
}

// authenticate puts the caller's principal in the request's context: from an
// Authorization: Bearer token, else from the session cookie. A bad token is refused
// at once; a stale cookie is cleared. It never refuses a request for lack of
// credentials: route policies do.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		now := s.opts.Now()
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, tok, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") {
				s.fail(w, r, geo.Errorf(geo.EUNAUTHORIZED, "the Authorization header must be Bearer <token>"))
				return
			}
			t, err := s.tokenPrincipal(r, strings.TrimSpace(tok), now)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			noteCaller(ctx, t)
			next.ServeHTTP(w, r.WithContext(access.WithPrincipal(ctx, t)))
			return
		}
		session := sessionCookieValue(r)
		if session == "" {
			next.ServeHTTP(w, r)
			return
		}
		hash := access.HashSecret(session)
		if p := s.auth.get(string(hash), now); p != nil {
			noteCaller(ctx, p)
			next.ServeHTTP(w, r.WithContext(access.WithPrincipal(ctx, p)))
			return
		}
		sess, u, err := s.store.SessionUser(ctx, hash, now)
		if err != nil {
			if geo.ErrorCode(err) == geo.ENOTFOUND {
				s.clearSessionCookie(w)
				next.ServeHTTP(w, r)
				return
			}
			s.fail(w, r, err)
			return
		}
		// Slide the expiry at most once a minute, not on every request.
		if now.Sub(sess.LastSeen) > time.Minute {
			if err := s.store.TouchSession(ctx, hash, now, now.Add(s.opts.SessionTTL)); err != nil {
				s.log.Warn("touching a session", "err", err)
			}
		}
		p := access.FromUser(u)
		// Kept until the session ends or its expiry is next due to slide.
		s.auth.put(string(hash), p, u.ID, 0, earliest(sess.ExpiresAt, now.Add(time.Minute)))
		noteCaller(ctx, p)
		next.ServeHTTP(w, r.WithContext(access.WithPrincipal(ctx, p)))
	})
}

func (s *Server) tokenPrincipal(r *http.Request, tok string, now time.Time) (*access.Principal, error) {
	key := "token:" + string(access.HashSecret(tok))
	if p := s.auth.get(key, now); p != nil {
		return p, nil
	}
	id, secret, err := access.ParseToken(tok)
	if err != nil {
		return nil, err
	}
	t, err := s.store.TokenByID(r.Context(), id)
	if geo.ErrorCode(err) == geo.ENOTFOUND {
		return nil, geo.Errorf(geo.EUNAUTHORIZED, "unknown API token")
	} else if err != nil {
		return nil, err
	}
	if !access.SecretMatches(secret, t.Hash) {
		return nil, geo.Errorf(geo.EUNAUTHORIZED, "unknown API token")
	}
	if !t.RevokedAt.IsZero() {
		return nil, geo.Errorf(geo.EUNAUTHORIZED, "this API token was revoked")
	}
	if !t.Live(now) {
		return nil, geo.Errorf(geo.EUNAUTHORIZED, "this API token expired")
	}
	if now.Sub(t.LastUsed) > time.Minute {
		if err := s.store.TouchToken(r.Context(), t.ID, now); err != nil {
			s.log.Warn("touching a token", "err", err)
		}
	}
	p := access.FromToken(t)
	s.auth.put(key, p, 0, t.ID, earliest(t.ExpiresAt, now.Add(time.Minute)))
	return p, nil
}

func (s *Server) setSessionCookie(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", HttpOnly: true,
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(s.opts.SessionTTL.Seconds())})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// clientIP is the request's client address (the proxy's, unless TrustProxy let
// RealIP rewrite it).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// render writes a page with status 200. The data map gets the principal and the
// version.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	s.renderStatus(w, r, http.StatusOK, name, data)
}

// renderStatus writes a page with a status. The headers are set before the status
// is written: after it they would be dropped.
func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["Who"] = access.PrincipalFrom(r.Context())
	data["Version"] = s.opts.Version
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := s.pages.ExecuteTemplate(w, name, data); err != nil {
		s.log.Error("rendering a page", "page", name, "err", err)
	}
}

// earliest returns the earlier of two times, a zero one counting as never.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}
