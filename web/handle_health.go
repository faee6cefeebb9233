package web

import (
	"context"
	"net/http"
	"time"
)

// handleHealthz answers while the process runs, whatever the database does.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.opts.Version})
}

// handleReadyz answers 200 when the database is reachable and migrated, 503 otherwise.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.store.Ready(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// handleStatus renders a plain page of what the service holds.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	data := map[string]any{"Version": s.opts.Version}
	if err := s.store.Ready(ctx); err != nil {
		data["Problem"] = err.Error()
		w.WriteHeader(http.StatusServiceUnavailable)
	} else if st, err := s.store.Stats(ctx); err != nil {
		s.log.Error("status page", "err", err)
		data["Problem"] = "the database did not answer"
		w.WriteHeader(http.StatusServiceUnavailable)
	} else {
		data["Stats"] = st
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.pages.ExecuteTemplate(w, "status.html", data); err != nil {
		s.log.Error("rendering the status page", "err", err)
	}
}
