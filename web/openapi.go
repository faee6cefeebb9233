package web

import (
	"github.com/tensionmap/tensionmap/tension"
	"net/http"
)

// obj is a JSON object of the OpenAPI document.
type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func param(name, in, desc string, schema obj, required bool) obj {
	return obj{"name": name, "in": in, "description": desc, "schema": schema, "required": required}
}

var (
	str     = obj{"type": "string"}
	integer = obj{"type": "integer"}
	day     = obj{"type": "string", "format": "date"}
	strs    = obj{"type": "array", "items": str}
	count   = obj{"type": "integer", "nullable": true, "description": "null when withheld: strategic users see no count from 1 to k-1, and others rounded"}
)

// filterParameters are the parameters of every count.
func filterParameters() []any {
	return []any{
		param("from", "query", "first day (inclusive)", day, false),
		param("to", "query", "last day (inclusive)", day, false),
		param("strand", "query", "any of these strands (repeat or comma-separate)", strs, false),
		param("kind", "query", "crime or incident", strs, false),
		param("source", "query", "any of these sources", strs, false),
	}
}

// countParameters are filterParameters for the count listings, whose period is the
// last 28 days unless given.
func countParameters() []any {
	return append([]any{
		param("from", "query", "first day (inclusive); default 27 days before to", day, false),
		param("to", "query", "last day (inclusive); default today (or open when from is after today)", day, false),
	}, filterParameters()[2:]...)
}

func jsonResponse(desc string, schema obj) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": schema}}}
}

func errorResponses(codes ...string) obj {
	out := obj{}
	texts := map[string]string{"400": "invalid parameters or body", "401": "no or bad credentials", "403": "the role may not do this",
		"404": "not found", "409": "conflict", "413": "body too large, raw or decompressed", "429": "too many requests: wait as Retry-After says",
		"503": "database unavailable, or a tile still being drawn: try again as Retry-After says"}
	for _, c := range codes {
		out[c] = jsonResponse(texts[c], ref("Error"))
	}
	return out
}

func merge(a, b obj) obj {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// openAPI returns the OpenAPI 3 description of /api/v1. A test checks its paths
// against the routes the router knows.
func (s *Server) openAPI() obj {
	countProps := obj{"count": count, "suppressed": obj{"type": "boolean"}, "crimes": count, "incidents": count,
		"by_strand": obj{"type": "object", "additionalProperties": count}}
	incidentInput := obj{"type": "object", "required": []string{"source_ref"}, "properties": obj{
		"source": str, "source_ref": str, "kind": obj{"type": "string", "enum": []string{"crime", "incident"}},
		"strands": obj{"oneOf": []any{str, strs}}, "offence": str, "occurred": str, "occurred_from": str, "occurred_to": str,
		"reported_at": str, "lat": obj{"type": "number"}, "lon": obj{"type": "number"}, "easting": obj{"type": "number"},
		"northing": obj{"type": "number"}, "precision": obj{"type": "string", "enum": []string{"exact", "street", "postcode", "area_centroid", "online", "none"}},
		"victim_ref":   obj{"type": "string", "description": "pseudonymised at ingest; never stored"},
		"offender_ref": obj{"type": "string", "description": "pseudonymised at ingest; never stored"},
	}}
	schemas := obj{
		"Run": obj{"type": "object", "properties": obj{"id": integer, "as_of": str, "trigger": obj{"type": "string", "description": "schedule, ingest, cli, api, backfill (a backfill's record), backfill_day (a day it replayed)"},
			"started_at": str, "finished_at": str, "duration_ns": integer,
			"status": obj{"type": "string", "enum": []string{"running", "done", "partial", "failed", "cleared"}},
			"params": obj{"type": "object"}, "counts": obj{"type": "object", "additionalProperties": integer}, "error": str,
			"failures":    obj{"type": "array", "items": obj{"type": "object", "properties": obj{"detector": str, "error": str}}},
			"seconds":     obj{"type": "object", "additionalProperties": obj{"type": "number"}},
			"nulls":       obj{"type": "array", "items": obj{"type": "object", "properties": obj{"part": str, "path": str, "reason": str}}},
			"backfill_id": integer}},
		"Error": obj{"type": "object", "properties": obj{"error": str, "message": str}},
		"Cell":  obj{"type": "object", "properties": merge(obj{"cell": str, "lat": obj{"type": "number"}, "lon": obj{"type": "number"}}, countProps)},
		"Area": obj{"type": "object", "properties": merge(obj{"code": str, "name": str, "level": str,
			"population": obj{"type": "integer", "nullable": true}, "rate_per_1000": obj{"type": "number", "nullable": true},
			"by_source": obj{"type": "object", "additionalProperties": count}}, countProps)},
		"Incident": obj{"type": "object", "properties": obj{"id": integer, "source": str, "source_ref": str, "kind": str, "strands": strs,
			"offence": str, "occurred_from": day, "occurred_to": day, "reported_at": obj{"type": "string", "format": "date-time", "nullable": true},
			"precision": str, "lat": obj{"type": "number", "nullable": true}, "lon": obj{"type": "number", "nullable": true},
			"cell": str, "areas": strs, "victim_key": str, "offender_key": str}},
		"IncidentInput": incidentInput,
		"IntakeResult": obj{"type": "object", "properties": obj{"read": integer, "inserted": integer, "duplicates": integer,
			"rejected": integer, "unlocated": integer, "rejections": obj{"type": "array", "items": obj{"type": "object",
				"properties": obj{"index": integer, "line": integer, "field": str, "reason": str}}}}},
		"User": obj{"type": "object", "properties": obj{"username": str, "name": str, "role": str, "areas": strs, "disabled": obj{"type": "boolean"},
			"created_at": obj{"type": "string", "format": "date-time"}, "last_sign_in": obj{"type": "string", "format": "date-time", "nullable": true}}},
		"Token": obj{"type": "object", "properties": obj{"id": integer, "name": str, "role": str, "source": str, "areas": strs, "created_by": str,
			"created_at": obj{"type": "string", "format": "date-time"}, "expires_at": obj{"type": "string", "nullable": true},
			"revoked_at": obj{"type": "string", "nullable": true}, "last_used": obj{"type": "string", "nullable": true}}},
		"Alert": obj{"type": "object", "properties": obj{"id": integer, "method": str, "detail": str, "status": str, "tension_level": str,
			"first_seen": day, "last_seen": day, "window_from": day, "window_to": day, "area_level": str, "areas": strs, "cells": strs, "strands": strs,
			"observed": count, "expected": obj{"type": "number"}, "upper": obj{"type": "number", "nullable": true}, "ratio": obj{"type": "number", "nullable": true},
			"p_value":         obj{"type": "number", "nullable": true, "description": "exact, not rounded: a very small p-value stays above 0"},
			"p_text":          obj{"type": "string", "description": "the p-value with two significant figures, as the pages write it: 0.043, 2.0e-12"},
			"method_name":     obj{"type": "string", "description": "the method by name, e.g. Farrington-flexible (baseline exceedance)"},
			"days":            obj{"type": "integer", "description": "the days the window covers"},
			"window_text":     obj{"type": "string", "description": "the window as dates and days covered, e.g. 7 days, 1–7 Jul 2016"},
			"baseline_text":   obj{"type": "string", "description": "where the expected count comes from, in words, e.g. the same weeks of the five years before"},
			"recurrence_days": obj{"type": "number", "nullable": true},
			"assessment_id":   obj{"type": "integer", "nullable": true}, "event_id": obj{"type": "integer", "description": "the trigger event an uplift alert measured, or a widespread alert took in"},
			"scale": obj{"type": "string", "description": "a baseline alert's time scale: week or 4 weeks"}, "baseline_from": obj{"type": "string", "format": "date"},
			"baseline_to": obj{"type": "string", "format": "date"}, "breadth": obj{"type": "number", "description": "the share of the level's areas a widespread rise covers"}, "backfill_id": obj{"type": "integer", "description": "the backfill that raised it"}, "series": obj{"type": "array", "items": obj{"type": "object"}},
			"events": obj{"type": "array", "items": obj{"type": "object"}},
			"bbox":   obj{"type": "array", "items": obj{"type": "number"}, "description": "west, south, east, north of the alert's cells or areas"}}},
		"Weekly": obj{"type": "object", "description": "weeks ending on the filter's last day, or the last day with data; expected is the mean of the 12 weeks before each",
			"properties": obj{"end": day, "expected": str, "weeks": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
				"start": day, "end": day, "observed": count, "expected": obj{"type": "number", "nullable": true}}}}}},
		"AssessmentSummary": obj{"type": "object", "description": "what every reader sees, strategic users included",
			"properties": obj{"id": integer, "title": str, "status": obj{"type": "string", "enum": tension.AssessmentStatuses}, "trigger_kind": str,
				"tension_level": str, "alert_id": integer, "event_ids": obj{"type": "array", "items": integer}, "area_level": str, "areas": strs,
				"strands": strs, "created_at": obj{"type": "string", "format": "date-time"}, "opened_at": obj{"type": "string", "nullable": true},
				"closed_at": obj{"type": "string", "nullable": true}, "review_date": obj{"type": "string", "nullable": true},
				"review_overdue": obj{"type": "boolean"}, "actions": integer, "actions_done": integer, "actions_overdue": integer}},
		"Assessment": obj{"type": "object", "description": "the whole record (police, council, admin): the summary's fields and these",
			"allOf": []any{ref("AssessmentSummary"), obj{"type": "object", "properties": obj{"trigger": str, "incident_id": integer,
				"communities": str, "summary": str,
				"intelligence": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"grade": obj{"type": "string", "enum": tension.Grades}, "text": str, "source": str}}},
				"risks":        obj{"type": "array", "items": obj{"type": "object", "properties": obj{"text": str, "rating": obj{"type": "string", "enum": tension.RiskRatings}, "mitigation": str}}},
				"partners":     strs, "bbox": obj{"type": "array", "items": obj{"type": "number"}}, "cells": strs, "evidence": obj{"type": "object"},
				"closed_reason": str, "created_by": str, "version": integer,
				"action_list": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"id": integer, "description": str, "owner": str,
					"due": day, "done": obj{"type": "boolean"}, "done_at": obj{"type": "string", "nullable": true}, "done_by": str, "overdue": obj{"type": "boolean"}}}},
				"history": obj{"type": "array", "items": obj{"type": "object", "properties": obj{"at": obj{"type": "string", "format": "date-time"},
					"actor": str, "action": str, "changes": obj{"type": "object"}}}},
				"next": strs}}}},
		"AssessmentInput": obj{"type": "object", "description": "on creation every field is optional (an alert_id fills the rest from the alert); on a change only the fields sent are replaced, and version is required",
			"properties": obj{"version": integer, "alert_id": integer, "incident_id": integer, "event_ids": obj{"type": "array", "items": integer},
				"title": str, "trigger_kind": obj{"type": "string", "enum": []string{"alert", "incident", "event", "other"}}, "trigger": str,
				"area_level": str, "areas": strs, "strands": strs, "communities": str, "tension_level": str, "summary": str,
				"intelligence": obj{"type": "array", "items": obj{"type": "object"}}, "risks": obj{"type": "array", "items": obj{"type": "object"}},
				"partners": strs, "review_date": day, "bbox": obj{"type": "array", "items": obj{"type": "number"}}}},
		"TriggerEvent": obj{"type": "object", "properties": obj{"id": integer, "day": day, "scope": obj{"type": "string", "enum": []string{"local", "national", "international"}},
			"description": str, "strands": strs, "created_by": str, "created_at": obj{"type": "string", "format": "date-time"},
			"assessments": obj{"type": "array", "items": integer}}},
		"AuditEntry": obj{"type": "object", "properties": obj{"id": integer, "at": obj{"type": "string", "format": "date-time"}, "actor": str,
			"role": str, "action": str, "route": str, "params": obj{"type": "object"}, "rows": integer, "ip": str, "request_id": str}},
	}
	array := func(item string) obj { return obj{"type": "array", "items": ref(item)} }
	paths := obj{
		"/api/v1/openapi.json": obj{"get": obj{"summary": "This description", "responses": obj{"200": obj{"description": "OpenAPI 3 document"}}}},
		"/api/v1/me": obj{"get": obj{"summary": "Who the caller is",
			"responses": merge(obj{"200": jsonResponse("the caller", obj{"type": "object", "properties": obj{"name": str, "role": str, "areas": strs}})}, errorResponses("401"))}},
		"/api/v1/incidents": obj{
			"post": obj{"summary": "Partner intake: push reports in the project's schema (partner: own source only)",
				"requestBody": obj{"required": true, "content": obj{
					"application/json":     obj{"schema": obj{"type": "array", "items": ref("IncidentInput")}},
					"application/x-ndjson": obj{"schema": ref("IncidentInput")}}},
				"responses": merge(obj{"200": jsonResponse("what was stored and each rejected record", ref("IntakeResult"))}, errorResponses("400", "401", "403", "413", "429", "503"))},
			"get": obj{"summary": "Incident records, newest first, a page at a time (police in their areas, admin); audited",
				"parameters": append(filterParameters(),
					param("bbox", "query", "west,south,east,north in degrees", str, false),
					param("area", "query", "area codes", strs, false),
					param("limit", "query", "records a page, 1 to 1000", integer, false),
					param("after", "query", "the next cursor of the previous page", str, false)),
				"responses": merge(obj{"200": jsonResponse("a page", obj{"type": "object", "properties": obj{"incidents": array("Incident"), "next": obj{"type": "string", "nullable": true}}})},
					errorResponses("400", "401", "403", "503"))},
		},
		"/api/v1/cells": obj{"get": obj{"summary": "Per-cell counts at an H3 resolution",
			"parameters": append(countParameters(), param("res", "query", "H3 resolution (a roll-up resolution)", integer, false),
				param("bbox", "query", "west,south,east,north in degrees", str, false)),
			"responses": merge(obj{"200": jsonResponse("cells", obj{"type": "object", "properties": obj{"resolution": integer, "cells": array("Cell")}})},
				errorResponses("400", "401", "403", "503"))}},
		"/api/v1/areas": obj{"get": obj{"summary": "Areas of a level with counts, rates per 1,000 and split by strand",
			"parameters": append(countParameters(), param("level", "query", "area level, e.g. lsoa", str, false)),
			"responses": merge(obj{"200": jsonResponse("areas", obj{"type": "object", "properties": obj{"level": str, "levels": strs, "areas": array("Area")}})},
				errorResponses("400", "401", "403", "503"))}},
		"/api/v1/areas/{code}": obj{"get": obj{"summary": "One area with counts by strand and source",
			"parameters": append(countParameters(), param("code", "path", "area code", str, true)),
			"responses": merge(obj{"200": jsonResponse("the area", obj{"type": "object", "properties": obj{"area": ref("Area"), "weekly": ref("Weekly")}})},
				errorResponses("400", "401", "403", "404", "503"))}},
		"/api/v1/cells/{cell}": obj{"get": obj{"summary": "One H3 cell: counts by strand, estimated population and rate, hot spot analysis, weekly series",
			"parameters": append(countParameters(), param("cell", "path", "H3 cell at a roll-up resolution, as hex", str, true)),
			"responses": merge(obj{"200": jsonResponse("the cell", obj{"type": "object", "properties": obj{"cell": str, "res": integer,
				"lat": obj{"type": "number"}, "lon": obj{"type": "number"}, "counts": ref("Cell"),
				"population_estimate": obj{"type": "integer", "description": "the finest populated level's people spread over the cell (an estimate)"},
				"rate_per_1000":       obj{"type": "number", "nullable": true}, "hotspot": obj{"type": "object"}, "weekly": ref("Weekly")}})},
				errorResponses("400", "401", "403", "503"))}},
		"/api/v1/users": obj{
			"get": obj{"summary": "Users (admin)", "responses": merge(obj{"200": jsonResponse("users", obj{"type": "object", "properties": obj{"users": array("User")}})}, errorResponses("401", "403"))},
			"post": obj{"summary": "Create a user (admin); a generated password is returned once",
				"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "object", "required": []string{"username", "role"},
					"properties": obj{"username": str, "name": str, "role": str, "areas": strs, "password": str}}}}},
				"responses": merge(obj{"201": jsonResponse("the user", obj{"type": "object", "properties": obj{"user": ref("User"), "password": str}})}, errorResponses("400", "401", "403", "409"))},
		},
		"/api/v1/users/{username}": obj{"patch": obj{"summary": "Change a user (admin): name, role, areas, disabled, reset_password",
			"parameters": []any{param("username", "path", "", str, true)},
			"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "object",
				"properties": obj{"name": str, "role": str, "areas": strs, "disabled": obj{"type": "boolean"}, "reset_password": obj{"type": "boolean"}}}}}},
			"responses": merge(obj{"200": jsonResponse("the user", obj{"type": "object", "properties": obj{"user": ref("User"), "password": str}})}, errorResponses("400", "401", "403", "404"))}},
		"/api/v1/tokens": obj{
			"get": obj{"summary": "API tokens (admin); never their secrets", "responses": merge(obj{"200": jsonResponse("tokens", obj{"type": "object", "properties": obj{"tokens": array("Token")}})}, errorResponses("401", "403"))},
			"post": obj{"summary": "Create a token (admin); the token is returned once",
				"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "object", "required": []string{"name", "role"},
					"properties": obj{"name": str, "role": str, "source": str, "areas": strs, "expires_in": obj{"type": "string", "example": "90d"}}}}}},
				"responses": merge(obj{"201": jsonResponse("the token", obj{"type": "object", "properties": obj{"token": str, "details": ref("Token")}})}, errorResponses("400", "401", "403"))},
		},
		"/api/v1/tokens/{id}": obj{"delete": obj{"summary": "Revoke a token (admin)", "parameters": []any{param("id", "path", "", integer, true)},
			"responses": merge(obj{"204": obj{"description": "revoked"}}, errorResponses("400", "401", "403", "404"))}},
		"/api/v1/alerts": obj{"get": obj{"summary": "The tension engine's alerts, most recently seen first",
			"parameters": []any{param("status", "query", "new, acknowledged, assessment_opened, dismissed", strs, false),
				param("method", "query", "farrington, widespread, ears, scan, uplift", strs, false), param("level", "query", "tension levels", strs, false),
				param("since", "query", "last seen on or after", day, false), param("limit", "query", "", integer, false),
				param("backfill", "query", "a backfill's id: its alerts instead of the live ones", integer, false)},
			"responses": merge(obj{"200": jsonResponse("alerts", obj{"type": "object", "properties": obj{"alerts": array("Alert")}})}, errorResponses("400", "401", "403", "503"))}},
		"/api/v1/alerts/{id}": obj{"get": obj{"summary": "An alert with its evidence series and history",
			"parameters": []any{param("id", "path", "", integer, true)},
			"responses":  merge(obj{"200": jsonResponse("the alert", obj{"type": "object", "properties": obj{"alert": ref("Alert")}})}, errorResponses("400", "401", "403", "404"))}},
		"/api/v1/alerts/{id}/acknowledge": obj{"post": obj{"summary": "Acknowledge a new alert (police, council, admin)",
			"parameters":  []any{param("id", "path", "", integer, true)},
			"requestBody": obj{"content": obj{"application/json": obj{"schema": obj{"type": "object", "properties": obj{"reason": str}}}}},
			"responses":   merge(obj{"200": jsonResponse("the alert", obj{"type": "object", "properties": obj{"alert": ref("Alert")}})}, errorResponses("400", "401", "403", "404", "409"))}},
		"/api/v1/alerts/{id}/dismiss": obj{"post": obj{"summary": "Dismiss an alert, saying why (police, council, admin)",
			"parameters":  []any{param("id", "path", "", integer, true)},
			"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "object", "required": []string{"reason"}, "properties": obj{"reason": str}}}}},
			"responses":   merge(obj{"200": jsonResponse("the alert", obj{"type": "object", "properties": obj{"alert": ref("Alert")}})}, errorResponses("400", "401", "403", "404", "409"))}},
		"/api/v1/hotspots": obj{"get": obj{"summary": "The latest Gi* hot spots and emerging hot spot categories per cell",
			"parameters": []any{param("res", "query", "H3 resolution of the analysis", integer, false), param("bbox", "query", "west,south,east,north", str, false),
				param("significant", "query", "only cells with a significant z or an emerging pattern", obj{"type": "boolean"}, false)},
			"responses": merge(obj{"200": jsonResponse("hot spots", obj{"type": "object", "properties": obj{"resolution": integer, "hotspots": obj{"type": "array", "items": obj{"type": "object"}}}})}, errorResponses("400", "401", "403"))}},
		"/api/v1/near-repeat": obj{"get": obj{"summary": "The latest near-repeat analysis: Knox table, risk extent, risk-zone cells (police, council, admin)",
			"responses": merge(obj{"200": obj{"description": "the analysis"}}, errorResponses("401", "403", "404"))}},
		"/api/v1/runs": obj{"get": obj{"summary": "The tension engine's latest runs and backfills, newest first (status running, done, partial: some detectors failed, see failures; failed; cleared: a backfill whose alerts were cleared)",
			"parameters": []any{param("limit", "query", "", integer, false), param("backfill", "query", "a backfill's id: that backfill and the days it replayed", integer, false)},
			"responses":  merge(obj{"200": jsonResponse("runs", obj{"type": "object", "properties": obj{"runs": obj{"type": "array", "items": ref("Run")}}})}, errorResponses("400", "401", "403"))}},
		"/api/v1/runs/{id}": obj{"get": obj{"summary": "One engine run: its status, failed detectors and why, seconds per detector, values stored as null",
			"parameters": []any{param("id", "path", "", integer, true)},
			"responses":  merge(obj{"200": jsonResponse("the run", obj{"type": "object", "properties": obj{"run": ref("Run")}})}, errorResponses("400", "401", "403", "404"))}},
		"/api/v1/assessments": obj{
			"get": obj{"summary": "Impact assessments, the latest changed first: whole records for police, council and admin, summaries for strategic users",
				"parameters": []any{param("status", "query", "draft, open, under_review, closed", strs, false), param("overdue", "query", "true: only those with a review or an action overdue", str, false),
					param("alert", "query", "the alert's", integer, false), param("event", "query", "linked to this trigger event", integer, false), param("limit", "query", "", integer, false)},
				"responses": merge(obj{"200": jsonResponse("assessments", obj{"type": "object", "properties": obj{"assessments": obj{"type": "array", "items": ref("AssessmentSummary")}}})}, errorResponses("400", "401", "403"))},
			"post": obj{"summary": "Create a draft assessment, from an alert (prefilled with its evidence, places and strands) or from scratch (police, council, admin)",
				"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": ref("AssessmentInput")}}},
				"responses":   merge(obj{"201": jsonResponse("the assessment", obj{"type": "object", "properties": obj{"assessment": ref("Assessment")}})}, errorResponses("400", "401", "403", "409"))}},
		"/api/v1/assessments/{id}": obj{
			"get": obj{"summary": "One assessment with its actions and history (a summary for strategic users)", "parameters": []any{param("id", "path", "", integer, true)},
				"responses": merge(obj{"200": jsonResponse("the assessment", obj{"type": "object", "properties": obj{"assessment": ref("Assessment")}})}, errorResponses("400", "401", "403", "404"))},
			"patch": obj{"summary": "Change an assessment's fields over the version edited (409 if someone changed it since; a closed one is not changed)",
				"parameters":  []any{param("id", "path", "", integer, true)},
				"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": ref("AssessmentInput")}}},
				"responses":   merge(obj{"200": jsonResponse("the assessment", obj{"type": "object", "properties": obj{"assessment": ref("Assessment")}})}, errorResponses("400", "401", "403", "404", "409"))}},
		"/api/v1/assessments/{id}/status": obj{"post": obj{"summary": "Move an assessment: draft → open or closed; open → under_review; under_review → open or closed; closed → open. Closing and reopening a closed one need a reason; its alert follows",
			"parameters":  []any{param("id", "path", "", integer, true)},
			"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "object", "required": []string{"to"}, "properties": obj{"to": str, "reason": str, "version": integer}}}}},
			"responses":   merge(obj{"200": jsonResponse("the assessment", obj{"type": "object", "properties": obj{"assessment": ref("Assessment")}})}, errorResponses("400", "401", "403", "404", "409"))}},
		"/api/v1/assessments/{id}/actions": obj{"post": obj{"summary": "Add an action with its owner and due date",
			"parameters":  []any{param("id", "path", "", integer, true)},
			"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "object", "required": []string{"description", "owner", "due"}, "properties": obj{"description": str, "owner": str, "due": day}}}}},
			"responses":   merge(obj{"201": jsonResponse("the assessment", obj{"type": "object", "properties": obj{"assessment": ref("Assessment")}})}, errorResponses("400", "401", "403", "404", "409"))}},
		"/api/v1/assessments/{id}/actions/{action}": obj{"patch": obj{"summary": "Mark an action done or not done",
			"parameters":  []any{param("id", "path", "", integer, true), param("action", "path", "", integer, true)},
			"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "object", "required": []string{"done"}, "properties": obj{"done": obj{"type": "boolean"}}}}}},
			"responses":   merge(obj{"200": jsonResponse("the assessment", obj{"type": "object", "properties": obj{"assessment": ref("Assessment")}})}, errorResponses("400", "401", "403", "404", "409"))}},
		"/api/v1/assessments/{id}/events": obj{"post": obj{"summary": "Link trigger events to an assessment, or unlink them",
			"parameters":  []any{param("id", "path", "", integer, true)},
			"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "object", "properties": obj{"link": obj{"type": "array", "items": integer}, "unlink": obj{"type": "array", "items": integer}}}}}},
			"responses":   merge(obj{"200": jsonResponse("the assessment", obj{"type": "object", "properties": obj{"assessment": ref("Assessment")}})}, errorResponses("400", "401", "403", "404"))}},
		"/api/v1/trigger-events": obj{
			"get": obj{"summary": "Trigger events, the latest first", "parameters": []any{param("limit", "query", "", integer, false)},
				"responses": merge(obj{"200": jsonResponse("events", obj{"type": "object", "properties": obj{"events": array("TriggerEvent")}})}, errorResponses("400", "401", "403"))},
			"post": obj{"summary": "Record a trigger event (police, council, admin); the engine measures the rise after it on its next run",
				"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "object", "required": []string{"day", "scope", "description"},
					"properties": obj{"day": day, "scope": str, "description": str, "strands": strs}}}}},
				"responses": merge(obj{"201": jsonResponse("the event", obj{"type": "object", "properties": obj{"event": ref("TriggerEvent")}})}, errorResponses("400", "401", "403"))}},
		"/api/v1/trigger-events/{id}": obj{"get": obj{"summary": "A trigger event, the rise the engine measured after it, and its daily counts from four weeks before to four weeks after",
			"parameters": []any{param("id", "path", "", integer, true)},
			"responses":  merge(obj{"200": jsonResponse("the event", obj{"type": "object", "properties": obj{"event": ref("TriggerEvent"), "uplifts": obj{"type": "array", "items": obj{"type": "object"}}, "daily": obj{"type": "object"}}})}, errorResponses("400", "401", "403", "404"))}},
		"/api/v1/review": obj{"get": obj{"summary": "The strategic review of a period beside the same period a year earlier: totals, strands, sources, repeats, months, areas (rates, rises), alerts, assessments, outcomes; small counts withheld from strategic users",
			"parameters": []any{param("preset", "query", "quarter (the last complete one, the default), year (the last twelve complete months), ytd, custom", str, false),
				param("from", "query", "first day (custom)", day, false), param("to", "query", "last day (custom)", day, false),
				param("level", "query", "area level of the area tables; the finest by default", str, false)},
			"responses": merge(obj{"200": jsonResponse("the review", obj{"type": "object", "properties": obj{"review": obj{"type": "object"}}})}, errorResponses("400", "401", "403"))}},
		"/api/v1/audit": obj{"get": obj{"summary": "The audit log, newest first (admin)",
			"parameters": []any{param("since", "query", "", day, false), param("until", "query", "", day, false), param("actor", "query", "", str, false),
				param("action", "query", "", str, false), param("limit", "query", "", integer, false)},
			"responses": merge(obj{"200": jsonResponse("entries", obj{"type": "object", "properties": obj{"entries": array("AuditEntry")}})}, errorResponses("400", "401", "403"))}},
	}
	for _, l := range []struct{ name, who string }{{layerHotspots, "police, council, strategic, admin"}, {layerAreas, "police, council, strategic, admin"},
		{layerAlerts, "police, council, strategic, admin"}, {layerIncidents, "police, admin; audited"}, {layerNearRepeat, "police, council, admin"}} {
		var params []any
		switch l.name {
		case layerHotspots:
			params = append(filterParameters(), param("metric", "query", "count, rate, z or category: carry that measure only (all when absent)", str, false))
		case layerIncidents:
			params = filterParameters()
		case layerAreas:
			params = append(filterParameters(), param("level", "query", "area level; the finest when absent", str, false),
				param("metric", "query", "count or rate: carry that measure only (both when absent)", str, false))
		case layerAlerts:
			params = []any{param("status", "query", "new, acknowledged, assessment_opened, dismissed; open ones when absent", strs, false)}
		}
		params = append(params, param("z", "path", "zoom", integer, true), param("x", "path", "", integer, true), param("y", "path", "", integer, true))
		paths["/tiles/"+l.name+"/{z}/{x}/{y}.mvt"] = obj{"get": obj{"summary": "Vector tile (MVT 2.1) of the " + l.name + " layer: " + tileDescriptions[l.name] + " (" + l.who + ")",
			"parameters": params,
			"responses": merge(obj{"200": obj{"description": "the tile, gzipped when asked", "content": obj{"application/vnd.mapbox-vector-tile": obj{}}},
				"204": obj{"description": "nothing in the tile"}, "304": obj{"description": "not modified (If-None-Match)"}},
				errorResponses("400", "401", "403", "503"))}}
		paths["/tiles/"+l.name+".json"] = obj{"get": obj{"summary": "TileJSON 3.0.0 of the " + l.name + " layer",
			"responses": merge(obj{"200": obj{"description": "TileJSON"}}, errorResponses("401", "403"))}}
	}
	if s.cases != nil {
		caseOpenAPI(paths)
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{"title": "tensionmap API", "version": s.opts.Version,
			"description": "Hate crime and hate incident counts, incident records and the partner intake. Every route checks the caller's role; counts for strategic users withhold small numbers."},
		"servers":    []any{obj{"url": "/"}},
		"security":   []any{obj{"bearer": []string{}}, obj{"session": []string{}}},
		"paths":      paths,
		"components": obj{"schemas": schemas, "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}, "session": obj{"type": "apiKey", "in": "cookie", "name": sessionCookie}}},
	}
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	if err := newQuery(r.URL.Query()).err(); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.openAPI())
	return nil
}
