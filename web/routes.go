package web

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/tension"
)

// routes registers every route with its policy.
func (s *Server) routes() {
	// Operations.
	s.handle("GET", "/healthz", public, s.handleHealthz)
	s.handle("GET", "/readyz", public, s.handleReadyz)
	s.handle("GET", "/metrics", allow(access.Admin), s.handleMetrics)
	s.handle("GET", "/static/*", public, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		s.staticFiles().ServeHTTP(w, r)
		return nil
	})

	s.handle("GET", "/favicon.ico", public, func(w http.ResponseWriter, r *http.Request) error {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
		return nil
	})

	// Pages.
	s.handle("GET", "/signin", public, s.handleSignInPage)
	s.handle("POST", "/signin", public, s.handleSignIn, withBody(16<<10))
	s.handle("POST", "/signout", anyRole, s.handleSignOut, withBody(16<<10))
	s.handle("GET", "/", anyRole, s.handleHome)
	s.handle("GET", "/admin/users", allow(access.Admins...), s.handleUsersPage)
	s.handle("POST", "/admin/users", allow(access.Admins...), s.handleUsersForm, withBody(64<<10))
	s.handle("GET", "/admin/tokens", allow(access.Admins...), s.handleTokensPage)
	s.handle("POST", "/admin/tokens", allow(access.Admins...), s.handleTokensForm, withBody(64<<10))
	s.handle("GET", "/admin/audit", allow(access.Admins...), s.handleAuditPage)

	s.handle("GET", "/map", allow(access.Readers...), s.handleMapPage)
	s.handle("GET", "/assessments", allow(access.Readers...), s.handleAssessmentsPage)
	s.handle("POST", "/assessments", allow(access.AssessmentEditors...), s.handleCreateAssessmentForm, withBody(256<<10))
	s.handle("GET", "/assessments/new", allow(access.AssessmentEditors...), s.handleNewAssessmentPage)
	s.handle("GET", "/assessments/{id}", allow(access.Readers...), s.handleAssessmentPage)
	s.handle("POST", "/assessments/{id}", allow(access.AssessmentEditors...), s.handleSaveAssessmentForm, withBody(256<<10))
	s.handle("POST", "/assessments/{id}/status", allow(access.AssessmentEditors...), s.handleMoveAssessmentForm, withBody(16<<10))
	s.handle("POST", "/assessments/{id}/actions", allow(access.AssessmentEditors...), s.handleAddActionForm, withBody(16<<10))
	s.handle("POST", "/assessments/{id}/actions/{action}", allow(access.AssessmentEditors...), s.handleActionForm, withBody(16<<10))
	s.handle("POST", "/assessments/{id}/events", allow(access.AssessmentEditors...), s.handleLinkEventsForm, withBody(16<<10))
	s.handle("GET", "/events", allow(access.Readers...), s.handleEventsPage)
	s.handle("POST", "/events", allow(access.AssessmentEditors...), s.handleCreateEventForm, withBody(16<<10))
	s.handle("GET", "/events/{id}", allow(access.Readers...), s.handleEventPage)
	s.handle("GET", "/review", allow(access.Readers...), s.handleReviewPage)
	for _, name := range []string{"areas.csv", "strands.csv", "months.csv", "hotspots.geojson"} {
		s.handle("GET", "/review/"+name, allow(access.Readers...), s.handleReviewExport(name))
	}

	// Tiles: one route per layer, so that each carries its own policy.
	for _, l := range []struct {
		name  string
		roles []access.Role
	}{
		{layerHotspots, access.Readers},
		{layerAreas, access.Readers},
		{layerAlerts, access.Readers},
		{layerIncidents, access.IncidentReaders},
		{layerNearRepeat, access.AlertHandlers},
	} {
		s.handle("GET", "/tiles/"+l.name+"/{z}/{x}/{file}", allow(l.roles...), s.handleTile(l.name), boundsItsOwnWaits)
		s.handle("GET", "/tiles/"+l.name+".json", allow(l.roles...), s.handleTileJSON(l.name))
	}

	// The basemap, for whoever may see the map.
	s.handle("GET", "/basemap.json", allow(access.Readers...), s.handleBasemapJSON)
	s.handle("GET", "/basemap/{z}/{x}/{file}", allow(access.Readers...), s.handleBasemapTile)

	// API.
	s.handle("GET", "/api/v1/openapi.json", anyRole, s.handleOpenAPI)
	s.handle("GET", "/api/v1/me", anyRole, s.handleMe)
	s.handle("POST", "/api/v1/incidents", allow(access.Intake...), s.handleIntake,
		withBody(s.opts.MaxIntakeBody), withTimeout(s.opts.IntakeTimeout))
	s.handle("GET", "/api/v1/incidents", allow(access.IncidentReaders...), s.handleIncidents)
	s.handle("GET", "/api/v1/cells", allow(access.Readers...), s.handleCells)
	s.handle("GET", "/api/v1/cells/{cell}", allow(access.Readers...), s.handleCell)
	s.handle("GET", "/api/v1/areas", allow(access.Readers...), s.handleAreas)
	s.handle("GET", "/api/v1/areas/{code}", allow(access.Readers...), s.handleArea)
	s.handle("GET", "/api/v1/users", allow(access.Admins...), s.handleListUsers)
	s.handle("POST", "/api/v1/users", allow(access.Admins...), s.handleCreateUser)
	s.handle("PATCH", "/api/v1/users/{username}", allow(access.Admins...), s.handleUpdateUser)
	s.handle("GET", "/api/v1/tokens", allow(access.Admins...), s.handleListTokens)
	s.handle("POST", "/api/v1/tokens", allow(access.Admins...), s.handleCreateToken)
	s.handle("DELETE", "/api/v1/tokens/{id}", allow(access.Admins...), s.handleRevokeToken)
	s.handle("GET", "/api/v1/audit", allow(access.Admins...), s.handleAudit)
	s.handle("GET", "/api/v1/alerts", allow(access.Readers...), s.handleAlerts)
	s.handle("GET", "/api/v1/alerts/{id}", allow(access.Readers...), s.handleAlert)
	s.handle("POST", "/api/v1/alerts/{id}/acknowledge", allow(access.AlertHandlers...), s.handleAlertMove(tension.StatusAcknowledged), withBody(16<<10))
	s.handle("POST", "/api/v1/alerts/{id}/dismiss", allow(access.AlertHandlers...), s.handleAlertMove(tension.StatusDismissed), withBody(16<<10))
	s.handle("GET", "/api/v1/hotspots", allow(access.Readers...), s.handleHotspots)
	s.handle("GET", "/api/v1/near-repeat", allow(access.AlertHandlers...), s.handleNearRepeat)
	s.handle("GET", "/api/v1/runs", allow(access.Readers...), s.handleRuns)
	s.handle("GET", "/api/v1/runs/{id}", allow(access.Readers...), s.handleRun)
	s.handle("GET", "/api/v1/assessments", allow(access.Readers...), s.handleAssessments)
	s.handle("POST", "/api/v1/assessments", allow(access.AssessmentEditors...), s.handleCreateAssessment, withBody(256<<10))
	s.handle("GET", "/api/v1/assessments/{id}", allow(access.Readers...), s.handleAssessment)
	s.handle("PATCH", "/api/v1/assessments/{id}", allow(access.AssessmentEditors...), s.handleUpdateAssessment, withBody(256<<10))
	s.handle("POST", "/api/v1/assessments/{id}/status", allow(access.AssessmentEditors...), s.handleMoveAssessment, withBody(16<<10))
	s.handle("POST", "/api/v1/assessments/{id}/actions", allow(access.AssessmentEditors...), s.handleAddAction, withBody(16<<10))
	s.handle("PATCH", "/api/v1/assessments/{id}/actions/{action}", allow(access.AssessmentEditors...), s.handleUpdateAction, withBody(16<<10))
	s.handle("POST", "/api/v1/assessments/{id}/events", allow(access.AssessmentEditors...), s.handleLinkEvents, withBody(16<<10))
	s.handle("GET", "/api/v1/trigger-events", allow(access.Readers...), s.handleTriggerEvents)
	s.handle("POST", "/api/v1/trigger-events", allow(access.AssessmentEditors...), s.handleCreateTriggerEvent, withBody(16<<10))
	s.handle("GET", "/api/v1/trigger-events/{id}", allow(access.Readers...), s.handleTriggerEvent)
	s.handle("GET", "/api/v1/review", allow(access.Readers...), s.handleReviewAPI)
	s.caseRoutes()
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	if s.gatherer == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}
