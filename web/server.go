package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/tensionmap/tensionmap/geo"
)

//go:embed templates/*.html
var templateFS embed.FS

// Store is what the web layer needs of the database.
type Store interface {
	// Ready returns nil when the database answers and its schema is current.
	Ready(ctx context.Context) error
	// Stats summarise the data held.
	Stats(ctx context.Context) (geo.Stats, error)
}

// Options configure the server.
type Options struct {
	Version string
}

// Server routes requests to handlers.
type Server struct {
	opts   Options
	store  Store
	log    *slog.Logger
	pages  *template.Template
	router chi.Router
}

// New returns a server over store.
func New(opts Options, store Store, log *slog.Logger) *Server {
	s := &Server{
		opts:  opts,
		store: store,
		log:   log,
		pages: template.Must(template.New("").Funcs(templateFuncs).ParseFS(templateFS, "templates/*.html")),
	}
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.RealIP, s.accessLog, middleware.Recoverer)
	r.Get("/healthz", s.handleHealthz)
	r.Get("/readyz", s.handleReadyz)
	r.Get("/", s.handleStatus)
	s.router = r
	return s
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

var templateFuncs = template.FuncMap{
	"day": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.Format("2 January 2006")
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Local().Format("2 Jan 2006 15:04")
	},
}

// accessLog logs one structured line a request.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", ww.Status()),
			slog.Int("bytes", ww.BytesWritten()), slog.Duration("took", time.Since(start)),
			slog.String("request_id", middleware.GetReqID(r.Context())))
	})
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// statusOf maps an error code to its HTTP status, in one place.
func statusOf(err error) int {
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
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// writeError answers with an error as JSON, logging internal errors in full.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status >= 500 {
		s.log.Error("request failed", "path", r.URL.Path, "err", err, "request_id", middleware.GetReqID(r.Context()))
	}
	writeJSON(w, status, map[string]string{"error": geo.ErrorCode(err), "message": geo.ErrorMessage(err)})
}
