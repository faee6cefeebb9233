package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
)

// policy says who may call a route: anybody, or a principal with one of the roles.
type policy struct {
	public bool
	roles  []access.Role
}

// public is the policy of routes anyone may call: health checks, sign-in, assets.
var public = policy{public: true}

// allow returns the policy of a route the given roles may call.
func allow(roles ...access.Role) policy { return policy{roles: roles} }

// anyRole is every signed-in principal.
var anyRole = allow(access.Roles...)

// handlerFunc is a handler that returns its error, answered in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route carries per-route limits.
type route struct {
	maxBody int64
	timeout time.Duration
}

type routeOption func(*route)

func withBody(n int64) routeOption            { return func(r *route) { r.maxBody = n } }
func withTimeout(d time.Duration) routeOption { return func(r *route) { r.timeout = d } }

// boundsItsOwnWaits is the option of a route whose handler bounds every wait it
// makes (a tile: the cache needs none, the wait for a render has the tile wait, the
// render its own timeout): no deadline of the route's, which would copy every request
// and start a timer for the most frequent answer of all.
func boundsItsOwnWaits(r *route) { r.timeout = 0 }

// handle registers a handler with its policy. Every route goes through here, so
// that no route exists without one.
func (s *Server) handle(method, pattern string, p policy, h handlerFunc, opts ...routeOption) {
	rt := route{maxBody: s.opts.MaxBody, timeout: s.opts.RequestTimeout}
	for _, o := range opts {
		o(&rt)
	}
	s.policies[method+" "+pattern] = p
	cop := http.NewCrossOriginProtection()
	for _, o := range s.opts.CORSOrigins {
		cop.AddTrustedOrigin(o)
	}
	s.router.Method(method, pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.public {
			who := access.PrincipalFrom(r.Context())
			if who == nil {
				s.unauthenticated(w, r)
				return
			}
			if !slices.Contains(p.roles, who.Role) {
				s.fail(w, r, geo.Errorf(geo.EFORBIDDEN, "your role (%s) may not do this", who.Role))
				return
			}
		}
		if err := cop.Check(r); err != nil {
			s.fail(w, r, geo.Errorf(geo.EFORBIDDEN, "cross-origin request refused"))
			return
		}
		if r.Body != nil && r.Body != http.NoBody && rt.maxBody > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, rt.maxBody)
		}
		if rt.timeout > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), rt.timeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	}))
}

// Policy returns the policy registered for a route, and whether there is one; for
// tests that walk the router.
func (s *Server) Policy(method, pattern string) (public bool, roles []access.Role, ok bool) {
	p, ok := s.policies[method+" "+pattern]
	return p.public, p.roles, ok
}

// unauthenticated answers a request that needs a principal and has none: 401 for
// the API, a redirect to the sign-in page for people.
func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) || r.Method != http.MethodGet {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tensionmap"`)
		s.fail(w, r, geo.Errorf(geo.EUNAUTHORIZED, "sign in, or send an API token as Authorization: Bearer"))
		return
	}
	next := r.URL.RequestURI()
	http.Redirect(w, r, "/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// isAPI reports whether a request is for a program rather than a page: the API,
// the metrics and the tiles, answered with JSON errors and 401 rather than pages
// and redirects.
func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/tiles/") ||
		strings.HasPrefix(r.URL.Path, "/basemap/") || r.URL.Path == "/basemap.json" || r.URL.Path == "/metrics"
}
