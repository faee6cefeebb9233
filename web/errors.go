package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/tensionmap/tensionmap/geo"
)

// statusOf maps an error to its HTTP status, in one place.
func (s *Server) statusOf(err error) int {
	var tooBig *http.MaxBytesError
	var tooLarge *tooLargeError
	var throttled *throttledError
	switch {
	case errors.As(err, &tooBig), errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errTooManyRequests), errors.As(err, &throttled):
		return http.StatusTooManyRequests
	}
	switch geo.ErrorCode(err) {
	case geo.EINVALID:
		return http.StatusBadRequest
	case geo.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case geo.EFORBIDDEN:
		return http.StatusForbidden
	case geo.ENOTFOUND:
		return http.StatusNotFound
	case geo.ECONFLICT:
		return http.StatusConflict
	case geo.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	if s.opts.Unavailable(err) {
		return http.StatusServiceUnavailable
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

var errTooManyRequests = geo.Errorf("too_many_requests", "too many attempts: wait and try again")

// fail answers with an error: JSON for the API, a page for people. Only internal
// errors are logged in full; users see "internal error".
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := s.statusOf(err)
	code, msg := geo.ErrorCode(err), geo.ErrorMessage(err)
	var tooBig *http.MaxBytesError
	var tooLarge *tooLargeError
	var throttled *throttledError
	switch {
	case errors.As(err, &tooLarge):
		code, msg = "too_large", tooLarge.Error()
	case errors.As(err, &tooBig):
		code, msg = "too_large", (&tooLargeError{limit: tooBig.Limit}).Error()
	case errors.As(err, &throttled):
		code, msg = "too_many_requests", throttled.Error()
		w.Header().Set("Retry-After", throttled.retryAfter())
	case status == http.StatusServiceUnavailable:
		if geo.ErrorCode(err) != geo.EUNAVAILABLE {
			msg = "the database is unavailable; try again shortly"
		}
		code = geo.EUNAVAILABLE
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "5")
		}
	case status == http.StatusGatewayTimeout:
		code, msg = "timeout", "the request took too long"
	case status >= 500:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err, "request_id", requestID(r.Context()))
	}
	if isAPI(r) || wantsJSON(r) {
		writeJSON(w, status, map[string]string{"error": code, "message": msg})
		return
	}
	s.renderStatus(w, r, status, "error.html", map[string]any{"Status": status, "Title": http.StatusText(status), "Message": msg})
}

func wantsJSON(r *http.Request) bool {
	return r.Header.Get("Accept") == "application/json"
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, geo.Errorf(geo.ENOTFOUND, "no such page"))
}

func (s *Server) handleMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", strings.Join(s.allowedMethods(r), ", "))
	if isAPI(r) {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed", "message": r.Method + " is not allowed here"})
		return
	}
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// allowedMethods returns the methods the router takes for the request's path, for
// the Allow header of a 405.
func (s *Server) allowedMethods(r *http.Request) []string {
	path := r.URL.RawPath // what chi routes on, as it does
	if path == "" {
		path = r.URL.Path
	}
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if s.router.Match(chi.NewRouteContext(), m, path) {
			out = append(out, m)
		}
	}
	return out
}
